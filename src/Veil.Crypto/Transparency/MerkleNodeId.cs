namespace Veil.Crypto.Transparency;

/// <summary>
/// A complete subtree of the log's Merkle tree: the node at <paramref name="Level"/> (0 = leaf) and
/// <paramref name="Index"/>, covering leaves [Index·2^Level, (Index+1)·2^Level). Only complete subtrees
/// have stable hashes; the right edge of a tree whose size is not a power of two is recomputed from them.
/// </summary>
public readonly record struct MerkleNodeId(int Level, long Index)
{
    /// <summary>The first leaf the node covers.</summary>
    public long FirstLeaf => Index << Level;

    /// <summary>The number of leaves the node covers.</summary>
    public long Width => 1L << Level;
}

/// <summary>Reads the hashes of complete subtrees, e.g. from the log's stored tiles or an in-memory tree.</summary>
public interface IMerkleNodeSource
{
    /// <summary>Copies the 32-byte hash of <paramref name="node"/> into <paramref name="destination"/>.</summary>
    /// <exception cref="KeyNotFoundException">The source does not hold the node (a caller's bug: ask only for nodes of a sequenced tree).</exception>
    void ReadNode(MerkleNodeId node, Span<byte> destination);
}
