using Veil.Crypto.Transparency;

namespace Veil.Crypto.Tests.Transparency;

/// <summary>A tree that keeps every complete subtree in a dictionary: the node source the proof tests generate from.</summary>
internal sealed class InMemoryMerkleTree : IMerkleNodeSource
{
    private readonly Dictionary<MerkleNodeId, byte[]> _nodes = [];
    private readonly MerkleFrontier _frontier = new();

    public long Size => _frontier.Size;

    public IReadOnlyDictionary<MerkleNodeId, byte[]> Nodes => _nodes;

    public byte[] Root() => _frontier.Root();

    public void Append(ReadOnlySpan<byte> leaf) => _frontier.Append(MerkleHasher.HashLeaf(leaf), (id, hash) => _nodes[id] = hash);

    public void ReadNode(MerkleNodeId node, Span<byte> destination) => _nodes[node].CopyTo(destination);

    public static InMemoryMerkleTree WithLeaves(int count)
    {
        var tree = new InMemoryMerkleTree();
        for (var i = 0; i < count; i++)
        {
            tree.Append(Leaf(i));
        }

        return tree;
    }

    public static byte[] Leaf(long i) => System.Text.Encoding.ASCII.GetBytes("leaf " + i);

    /// <summary>RFC 9162's MTH, written out recursively as the RFC states it: the reference the fast paths are checked against.</summary>
    public static byte[] ReferenceRoot(IReadOnlyList<byte[]> leaves)
    {
        if (leaves.Count == 0)
        {
            return MerkleHasher.EmptyRoot();
        }

        if (leaves.Count == 1)
        {
            return MerkleHasher.HashLeaf(leaves[0]);
        }

        var k = 1;
        while (k * 2 < leaves.Count)
        {
            k *= 2;
        }

        return MerkleHasher.HashChildren(ReferenceRoot(leaves.Take(k).ToList()), ReferenceRoot(leaves.Skip(k).ToList()));
    }
}
