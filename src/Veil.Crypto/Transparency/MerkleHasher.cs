// The RFC 6962 / RFC 9162 §2.1.1 Merkle tree hash over SHA-256, the hash of Veil's key transparency log.
//
//   empty tree  MTH({})   = SHA-256("")
//   leaf        MTH({d})  = SHA-256(0x00 || d)
//   node        MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two < n
//
// The 0x00/0x01 prefixes separate leaves from interior nodes, so a leaf can never be passed off as a
// node (second-preimage attack on the tree). Hashes are always 32 bytes; the proof verifiers refuse any
// other length (a 0- or 12-byte "hash" is a malformed input, not a hash that happens not to match).
//
// References: RFC 6962 §2.1, RFC 9162 §2.1.1; test vectors from transparency-dev/merkle (tests/vectors/transparency).
using System.Security.Cryptography;

namespace Veil.Crypto.Transparency;

/// <summary>The RFC 6962/9162 Merkle tree hasher (SHA-256, leaf prefix 0x00, node prefix 0x01).</summary>
public static class MerkleHasher
{
    /// <summary>Every tree hash is 32 bytes.</summary>
    public const int HashLength = 32;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    /// <summary>The root of the empty tree, SHA-256 of the empty string.</summary>
    public static byte[] EmptyRoot() => SHA256.HashData(ReadOnlySpan<byte>.Empty);

    /// <summary>The leaf hash SHA-256(0x00 || <paramref name="leaf"/>) into <paramref name="destination"/> (32 bytes).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not 32 bytes.</exception>
    public static void HashLeaf(ReadOnlySpan<byte> leaf, Span<byte> destination)
    {
        RequireHashLength(destination, nameof(destination));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData([LeafPrefix]);
        hash.AppendData(leaf);
        hash.GetHashAndReset(destination);
    }

    /// <summary>The leaf hash SHA-256(0x00 || <paramref name="leaf"/>).</summary>
    public static byte[] HashLeaf(ReadOnlySpan<byte> leaf)
    {
        var result = new byte[HashLength];
        HashLeaf(leaf, result);
        return result;
    }

    /// <summary>
    /// The interior node hash SHA-256(0x01 || <paramref name="left"/> || <paramref name="right"/>) into
    /// <paramref name="destination"/>. The children are taken as given (RFC 6962 hashes any byte strings);
    /// the proof verifiers are the ones that insist on 32-byte hashes.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not 32 bytes.</exception>
    public static void HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        RequireHashLength(destination, nameof(destination));
        if (left.Length == HashLength && right.Length == HashLength)
        {
            // The hot path of every proof and of the sequencer: one 65-byte block on the stack.
            Span<byte> block = stackalloc byte[1 + 2 * HashLength];
            block[0] = NodePrefix;
            left.CopyTo(block[1..]);
            right.CopyTo(block[(1 + HashLength)..]);
            SHA256.HashData(block, destination);
            return;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData([NodePrefix]);
        hash.AppendData(left);
        hash.AppendData(right);
        hash.GetHashAndReset(destination);
    }

    /// <summary>The interior node hash SHA-256(0x01 || <paramref name="left"/> || <paramref name="right"/>).</summary>
    public static byte[] HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var result = new byte[HashLength];
        HashChildren(left, right, result);
        return result;
    }

    private static void RequireHashLength(ReadOnlySpan<byte> span, string name)
    {
        if (span.Length != HashLength)
        {
            throw new ArgumentException($"A Merkle tree hash is {HashLength} bytes.", name);
        }
    }
}
