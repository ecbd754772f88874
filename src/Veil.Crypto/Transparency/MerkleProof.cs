// RFC 9162 §2.1.3 (inclusion) and §2.1.4 (consistency) proofs: generation over stored complete
// subtrees and verification.
//
// Verification follows the RFC's algorithms step by step and refuses, returning false, anything that is
// not exactly right: an index outside the tree, sizes that go backwards, a proof one element too long or
// too short, and every hash (leaf, roots, proof elements) that is not 32 bytes. Two edge cases the RFC
// leaves to the implementation are decided here:
//   * consistency between equal sizes holds only with an empty proof and equal roots;
//   * consistency from the empty tree holds only with an empty proof and the first root equal to the
//     empty-tree root (Veil never signs an empty checkpoint with another root).
//
// Generation walks the RFC's recursive PATH and SUBPROOF definitions over ranges of leaves. Each range
// [begin, end) is either a complete subtree (one stored node) or the right edge of the tree, whose hash
// is folded from the complete subtrees it decomposes into; so a proof needs at most 2·log2(n) stored
// nodes. InclusionNodes/ConsistencyNodes name them up front so a store can fetch them in one query.
//
// References: RFC 9162 §2.1; vectors from transparency-dev/merkle (tests/vectors/transparency/merkle).
namespace Veil.Crypto.Transparency;

/// <summary>Generates and verifies RFC 9162 inclusion and consistency proofs.</summary>
public static class MerkleProof
{
    /// <summary>
    /// Whether <paramref name="proof"/> proves that the leaf with hash <paramref name="leafHash"/> sits at
    /// <paramref name="index"/> in the tree of <paramref name="size"/> leaves with root <paramref name="root"/>.
    /// Any hash that is not 32 bytes, or an index outside the tree, returns <see langword="false"/>.
    /// </summary>
    public static bool VerifyInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (root.Length != MerkleHasher.HashLength)
        {
            return false;
        }

        Span<byte> computed = stackalloc byte[MerkleHasher.HashLength];
        return TryRootFromInclusion(index, size, leafHash, proof, computed) && computed.SequenceEqual(root);
    }

    /// <summary>
    /// Computes the root that <paramref name="proof"/> implies for the leaf (RFC 9162 §2.1.3.2 steps 1–5 without
    /// the final comparison). Returns <see langword="false"/> for a malformed proof, index or hash.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="root"/> is not 32 bytes.</exception>
    public static bool TryRootFromInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, Span<byte> root)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (root.Length != MerkleHasher.HashLength)
        {
            throw new ArgumentException($"A Merkle tree hash is {MerkleHasher.HashLength} bytes.", nameof(root));
        }

        if (index < 0 || index >= size || leafHash.Length != MerkleHasher.HashLength || !AllHashes(proof))
        {
            return false;
        }

        var fn = index;
        var sn = size - 1;
        leafHash.CopyTo(root);
        foreach (var p in proof)
        {
            if (sn == 0)
            {
                return false; // the proof is longer than the path to the root
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHasher.HashChildren(p, root, root);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                MerkleHasher.HashChildren(root, p, root);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0; // otherwise the proof is shorter than the path
    }

    /// <summary>
    /// Whether <paramref name="proof"/> proves that the tree of <paramref name="size1"/> leaves with root
    /// <paramref name="root1"/> is a prefix of the tree of <paramref name="size2"/> leaves with root
    /// <paramref name="root2"/> (RFC 9162 §2.1.4.2). Any hash that is not 32 bytes returns <see langword="false"/>.
    /// </summary>
    public static bool VerifyConsistency(long size1, long size2, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (size1 < 0 || size2 < size1 || root1.Length != MerkleHasher.HashLength || root2.Length != MerkleHasher.HashLength || !AllHashes(proof))
        {
            return false;
        }

        if (size1 == size2)
        {
            return proof.Count == 0 && root1.SequenceEqual(root2);
        }

        if (size1 == 0)
        {
            return proof.Count == 0 && root1.SequenceEqual(MerkleHasher.EmptyRoot());
        }

        if (proof.Count == 0)
        {
            return false;
        }

        // Step 2: when size1 is a power of two its root is itself a node on the path, so the proof omits it.
        var path = proof;
        if ((size1 & (size1 - 1)) == 0)
        {
            var withRoot = new List<byte[]>(proof.Count + 1) { root1.ToArray() };
            withRoot.AddRange(proof);
            path = withRoot;
        }

        var fn = size1 - 1;
        var sn = size2 - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        Span<byte> fr = stackalloc byte[MerkleHasher.HashLength];
        Span<byte> sr = stackalloc byte[MerkleHasher.HashLength];
        path[0].CopyTo(fr);
        path[0].CopyTo(sr);
        for (var i = 1; i < path.Count; i++)
        {
            var c = path[i];
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHasher.HashChildren(c, fr, fr);
                MerkleHasher.HashChildren(c, sr, sr);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                MerkleHasher.HashChildren(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && fr.SequenceEqual(root1) && sr.SequenceEqual(root2);
    }

    /// <summary>The inclusion proof (RFC 9162 PATH) of leaf <paramref name="index"/> in the tree of <paramref name="size"/> leaves.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not inside the tree.</exception>
    public static byte[][] Inclusion(long index, long size, IMerkleNodeSource nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        return InclusionRanges(index, size).Select(r => RangeHash(r.Begin, r.End, nodes)).ToArray();
    }

    /// <summary>The consistency proof (RFC 9162 PROOF) from the tree of <paramref name="size1"/> leaves to the one of <paramref name="size2"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The sizes are negative or go backwards.</exception>
    public static byte[][] Consistency(long size1, long size2, IMerkleNodeSource nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        return ConsistencyRanges(size1, size2).Select(r => RangeHash(r.Begin, r.End, nodes)).ToArray();
    }

    /// <summary>The root of the tree of the first <paramref name="size"/> leaves.</summary>
    public static byte[] Root(long size, IMerkleNodeSource nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return size == 0 ? MerkleHasher.EmptyRoot() : RangeHash(0, size, nodes);
    }

    /// <summary>The stored nodes <see cref="Inclusion"/> reads, for fetching them in one go.</summary>
    public static IReadOnlyCollection<MerkleNodeId> InclusionNodes(long index, long size)
        => InclusionRanges(index, size).SelectMany(r => RangeNodes(r.Begin, r.End)).ToHashSet();

    /// <summary>The stored nodes <see cref="Consistency"/> reads, for fetching them in one go.</summary>
    public static IReadOnlyCollection<MerkleNodeId> ConsistencyNodes(long size1, long size2)
        => ConsistencyRanges(size1, size2).SelectMany(r => RangeNodes(r.Begin, r.End)).ToHashSet();

    /// <summary>The stored nodes <see cref="Root"/> reads.</summary>
    public static IReadOnlyCollection<MerkleNodeId> RootNodes(long size)
        => size == 0 ? [] : RangeNodes(0, size);

    /// <summary>
    /// The complete subtrees that make up the leaf range [<paramref name="begin"/>, <paramref name="end"/>), left to
    /// right, largest first. The range must start on a multiple of the largest power of two not above its length,
    /// as every range of an RFC 9162 proof does.
    /// </summary>
    public static IReadOnlyList<MerkleNodeId> RangeNodes(long begin, long end)
    {
        if (begin < 0 || end <= begin)
        {
            throw new ArgumentOutOfRangeException(nameof(end), "The range is empty or negative.");
        }

        var nodes = new List<MerkleNodeId>(8);
        var at = begin;
        for (var level = 62; level >= 0; level--)
        {
            var width = 1L << level;
            if (end - at >= width)
            {
                if (at % width != 0)
                {
                    throw new ArgumentOutOfRangeException(nameof(begin), "The range does not start on a subtree boundary.");
                }

                nodes.Add(new MerkleNodeId(level, at >> level));
                at += width;
            }
        }

        return nodes;
    }

    /// <summary>The RFC 6962 hash of the leaf range [<paramref name="begin"/>, <paramref name="end"/>): its complete subtrees folded from the right.</summary>
    public static byte[] RangeHash(long begin, long end, IMerkleNodeSource nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var parts = RangeNodes(begin, end);
        var hash = new byte[MerkleHasher.HashLength];
        nodes.ReadNode(parts[^1], hash);
        Span<byte> left = stackalloc byte[MerkleHasher.HashLength];
        for (var i = parts.Count - 2; i >= 0; i--)
        {
            nodes.ReadNode(parts[i], left);
            MerkleHasher.HashChildren(left, hash, hash);
        }

        return hash;
    }

    private static List<(long Begin, long End)> InclusionRanges(long index, long size)
    {
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), "The leaf is not inside the tree.");
        }

        var ranges = new List<(long, long)>(64);
        Path(index, 0, size, ranges);
        return ranges;
    }

    private static List<(long Begin, long End)> ConsistencyRanges(long size1, long size2)
    {
        if (size1 < 0 || size2 < size1)
        {
            throw new ArgumentOutOfRangeException(nameof(size2), "The sizes are negative or go backwards.");
        }

        var ranges = new List<(long, long)>(64);
        if (size1 > 0 && size1 < size2)
        {
            SubProof(size1, 0, size2, true, ranges);
        }

        return ranges;
    }

    // RFC 9162 §2.1.3.1: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) or PATH(m - k, D[k:n]) : MTH(D[0:k]).
    private static void Path(long m, long begin, long end, List<(long, long)> ranges)
    {
        if (end - begin <= 1)
        {
            return;
        }

        var k = LargestPowerOfTwoBelow(end - begin);
        if (m < begin + k)
        {
            Path(m, begin, begin + k, ranges);
            ranges.Add((begin + k, end));
        }
        else
        {
            Path(m, begin + k, end, ranges);
            ranges.Add((begin, begin + k));
        }
    }

    // RFC 9162 §2.1.4.1: SUBPROOF(m, D[n], b), with m an absolute leaf count.
    private static void SubProof(long m, long begin, long end, bool complete, List<(long, long)> ranges)
    {
        if (m == end)
        {
            if (!complete)
            {
                ranges.Add((begin, end));
            }

            return;
        }

        var k = LargestPowerOfTwoBelow(end - begin);
        if (m <= begin + k)
        {
            SubProof(m, begin, begin + k, complete, ranges);
            ranges.Add((begin + k, end));
        }
        else
        {
            SubProof(m, begin + k, end, false, ranges);
            ranges.Add((begin, begin + k));
        }
    }

    private static long LargestPowerOfTwoBelow(long n) => 1L << (63 - (int)long.LeadingZeroCount(n - 1));

    private static bool AllHashes(IReadOnlyList<byte[]> proof)
    {
        foreach (var p in proof)
        {
            if (p is null || p.Length != MerkleHasher.HashLength)
            {
                return false;
            }
        }

        return true;
    }
}
