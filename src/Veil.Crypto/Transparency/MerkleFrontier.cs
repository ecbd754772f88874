// The right frontier ("compact range") of an append-only Merkle tree: the roots of the complete subtrees
// that the binary decomposition of the tree size names, largest first. It is everything needed to append
// and to compute the root, so the log's sequencer keeps only log2(n) hashes in memory and reports every
// complete subtree an append completes, which is what the log stores (as tiles) for proofs.
//
// Reference: RFC 9162 §2.1.1 (the tree), the "compact range" of transparency-dev/merkle (the idea only).
namespace Veil.Crypto.Transparency;

/// <summary>The right frontier of an append-only RFC 6962 tree: append leaves, get the root.</summary>
public sealed class MerkleFrontier
{
    private readonly List<byte[]> _nodes = new(64);

    /// <summary>An empty tree.</summary>
    public MerkleFrontier()
    {
    }

    /// <summary>The number of leaves appended.</summary>
    public long Size { get; private set; }

    /// <summary>The frontier nodes of a tree of <paramref name="size"/> leaves, largest first (what <see cref="Restore"/> needs).</summary>
    public static IReadOnlyList<MerkleNodeId> NodesFor(long size)
        => size == 0 ? [] : MerkleProof.RangeNodes(0, size);

    /// <summary>Rebuilds the frontier of a tree of <paramref name="size"/> leaves from the hashes of <see cref="NodesFor"/>.</summary>
    /// <exception cref="ArgumentException">The hashes do not match the size's frontier in count or length.</exception>
    public static MerkleFrontier Restore(long size, IReadOnlyList<byte[]> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (hashes.Count != long.PopCount(size) || hashes.Any(h => h.Length != MerkleHasher.HashLength))
        {
            throw new ArgumentException("The frontier of a tree has one 32-byte hash per set bit of its size.", nameof(hashes));
        }

        var frontier = new MerkleFrontier { Size = size };
        frontier._nodes.AddRange(hashes.Select(h => (byte[])h.Clone()));
        return frontier;
    }

    /// <summary>
    /// Appends the leaf with hash <paramref name="leafHash"/>; <paramref name="completed"/>, when given, hears of the
    /// leaf itself (level 0) and of every larger subtree the append completes.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="leafHash"/> is not 32 bytes.</exception>
    public void Append(ReadOnlySpan<byte> leafHash, Action<MerkleNodeId, byte[]>? completed = null)
    {
        if (leafHash.Length != MerkleHasher.HashLength)
        {
            throw new ArgumentException($"A Merkle tree hash is {MerkleHasher.HashLength} bytes.", nameof(leafHash));
        }

        var hash = leafHash.ToArray();
        var level = 0;
        var index = Size;
        completed?.Invoke(new MerkleNodeId(level, index), hash);
        while ((index & 1) == 1)
        {
            var left = _nodes[^1];
            _nodes.RemoveAt(_nodes.Count - 1);
            hash = MerkleHasher.HashChildren(left, hash);
            level++;
            index >>= 1;
            completed?.Invoke(new MerkleNodeId(level, index), hash);
        }

        _nodes.Add(hash);
        Size++;
    }

    /// <summary>The current root (the empty-tree root for no leaves).</summary>
    public byte[] Root()
    {
        if (_nodes.Count == 0)
        {
            return MerkleHasher.EmptyRoot();
        }

        var root = (byte[])_nodes[^1].Clone();
        for (var i = _nodes.Count - 2; i >= 0; i--)
        {
            MerkleHasher.HashChildren(_nodes[i], root, root);
        }

        return root;
    }

    /// <summary>Copies of the frontier's hashes, largest subtree first (for storing beside the size).</summary>
    public IReadOnlyList<byte[]> Hashes => _nodes.Select(h => (byte[])h.Clone()).ToList();
}
