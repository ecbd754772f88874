using Veil.Crypto.Transparency;

namespace Veil.Crypto.Tests.Transparency;

public sealed class MerkleProofTests
{
    [Fact]
    public void FrontierRoot_EverySizeTo70_EqualsTheRfcDefinition()
    {
        var tree = new InMemoryMerkleTree();
        var leaves = new List<byte[]>();
        Assert.Equal(MerkleHasher.EmptyRoot(), tree.Root());
        for (var i = 0; i < 70; i++)
        {
            tree.Append(InMemoryMerkleTree.Leaf(i));
            leaves.Add(InMemoryMerkleTree.Leaf(i));

            Assert.Equal(InMemoryMerkleTree.ReferenceRoot(leaves), tree.Root());
            Assert.Equal(tree.Root(), MerkleProof.Root(tree.Size, tree));
        }
    }

    [Fact]
    public void Inclusion_EveryLeafOfEverySizeTo40_Verifies()
    {
        var tree = new InMemoryMerkleTree();
        for (var size = 1; size <= 40; size++)
        {
            tree.Append(InMemoryMerkleTree.Leaf(size - 1));
            var root = tree.Root();
            for (var index = 0; index < size; index++)
            {
                var proof = MerkleProof.Inclusion(index, size, tree);
                var leafHash = MerkleHasher.HashLeaf(InMemoryMerkleTree.Leaf(index));

                Assert.True(MerkleProof.VerifyInclusion(index, size, leafHash, proof, root), $"leaf {index} of {size}");
                Assert.False(MerkleProof.VerifyInclusion(index, size, MerkleHasher.HashLeaf("other"u8), proof, root));
                if (size > 1)
                {
                    Assert.False(MerkleProof.VerifyInclusion((index + 1) % size, size, leafHash, proof, root));
                }
            }
        }
    }

    [Fact]
    public void Consistency_EveryPairOfSizesTo40_Verifies()
    {
        var tree = InMemoryMerkleTree.WithLeaves(40);
        var roots = Enumerable.Range(0, 41).Select(n => MerkleProof.Root(n, tree)).ToArray();
        for (var size2 = 0; size2 <= 40; size2++)
        {
            for (var size1 = 0; size1 <= size2; size1++)
            {
                var proof = MerkleProof.Consistency(size1, size2, tree);

                Assert.True(MerkleProof.VerifyConsistency(size1, size2, proof, roots[size1], roots[size2]), $"{size1} -> {size2}");
                if (size1 > 0 && size1 < size2)
                {
                    Assert.False(MerkleProof.VerifyConsistency(size1, size2, proof, roots[size1 - 1], roots[size2]));
                    Assert.False(MerkleProof.VerifyConsistency(size1, size2, proof, roots[size1], roots[size2 - 1]));
                }
            }
        }
    }

    [Fact]
    public void Proofs_AtAMillionLeaves_AreShortAndVerify()
    {
        // A tree of 2^20 + 12,345 leaves, built through the frontier; only the nodes a proof needs are kept.
        const long size = (1 << 20) + 12_345;
        var tree = InMemoryMerkleTree.WithLeaves((int)size);
        var root = tree.Root();

        var inclusion = MerkleProof.Inclusion(777_777, size, tree);
        var consistency = MerkleProof.Consistency(999_999, size, tree);

        Assert.InRange(inclusion.Length, 1, 21);
        Assert.True(MerkleProof.VerifyInclusion(777_777, size, MerkleHasher.HashLeaf(InMemoryMerkleTree.Leaf(777_777)), inclusion, root));
        Assert.True(MerkleProof.VerifyConsistency(999_999, size, consistency, MerkleProof.Root(999_999, tree), root));
        Assert.True(MerkleProof.InclusionNodes(777_777, size).Count <= 2 * 21);
    }

    [Fact]
    public void Verify_TamperedOrResizedProofs_AreRefused()
    {
        var tree = InMemoryMerkleTree.WithLeaves(13);
        var root = tree.Root();
        var leaf = MerkleHasher.HashLeaf(InMemoryMerkleTree.Leaf(5));
        var proof = MerkleProof.Inclusion(5, 13, tree);
        var flipped = proof.Select(p => (byte[])p.Clone()).ToArray();
        flipped[1][0] ^= 1;

        Assert.True(MerkleProof.VerifyInclusion(5, 13, leaf, proof, root));
        Assert.False(MerkleProof.VerifyInclusion(5, 13, leaf, flipped, root));
        Assert.False(MerkleProof.VerifyInclusion(5, 13, leaf, proof[..^1], root));
        Assert.False(MerkleProof.VerifyInclusion(5, 13, leaf, [.. proof, proof[0]], root));
        Assert.False(MerkleProof.VerifyInclusion(5, 13, leaf, proof, root.AsSpan(..31)));
        Assert.False(MerkleProof.VerifyInclusion(5, 13, leaf.AsSpan(..31), proof, root));
        Assert.False(MerkleProof.VerifyInclusion(-1, 13, leaf, proof, root));
        Assert.False(MerkleProof.VerifyInclusion(13, 13, leaf, proof, root));
        Assert.False(MerkleProof.VerifyConsistency(7, 5, [], root, root));
    }

    [Fact]
    public void Frontier_RestoredFromItsHashes_ContinuesTheSameTree()
    {
        var tree = InMemoryMerkleTree.WithLeaves(300);
        var partial = new MerkleFrontier();
        for (var i = 0; i < 137; i++)
        {
            partial.Append(MerkleHasher.HashLeaf(InMemoryMerkleTree.Leaf(i)));
        }

        var restored = MerkleFrontier.Restore(137, MerkleFrontier.NodesFor(137).Select(id => tree.Nodes[id]).ToList());
        for (var i = 137; i < 300; i++)
        {
            restored.Append(MerkleHasher.HashLeaf(InMemoryMerkleTree.Leaf(i)));
        }

        Assert.Equal(partial.Hashes, MerkleFrontier.Restore(137, partial.Hashes).Hashes);
        Assert.Equal(tree.Root(), restored.Root());
        Assert.Throws<ArgumentException>(() => MerkleFrontier.Restore(137, partial.Hashes.Take(2).ToList()));
    }
}
