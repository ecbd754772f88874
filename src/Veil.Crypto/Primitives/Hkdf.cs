// Hkdf: HMAC-based key derivation (RFC 5869) with SHA-256 and SHA-512, wrapping .NET's HKDF.
//
// Used for every subkey in Veil (client key hierarchy, per-purpose server subkeys). Output length is
// limited to 255 hash lengths by RFC 5869 §2.3; a longer request is misuse and throws.
using System.Security.Cryptography;

namespace Veil.Crypto.Primitives;

/// <summary>HKDF (RFC 5869) extract-and-expand key derivation.</summary>
public static class Hkdf
{
    /// <summary>The largest output of HKDF-SHA256: 255 × 32 bytes.</summary>
    public const int MaxOutputSha256 = 255 * 32;

    /// <summary>The largest output of HKDF-SHA512: 255 × 64 bytes.</summary>
    public const int MaxOutputSha512 = 255 * 64;

    /// <summary>Derives <paramref name="output"/>.Length bytes with HKDF-SHA256.</summary>
    /// <param name="inputKeyMaterial">The secret input (IKM).</param>
    /// <param name="salt">The optional salt; empty means a string of zeros (RFC 5869 §2.2).</param>
    /// <param name="info">The context and purpose label.</param>
    /// <param name="output">Receives the output keying material; 1 to <see cref="MaxOutputSha256"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="output"/> is empty or too long.</exception>
    public static void DeriveSha256(ReadOnlySpan<byte> inputKeyMaterial, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> info, Span<byte> output) =>
        Derive(HashAlgorithmName.SHA256, MaxOutputSha256, inputKeyMaterial, salt, info, output);

    /// <summary>Derives <paramref name="output"/>.Length bytes with HKDF-SHA512.</summary>
    /// <param name="inputKeyMaterial">The secret input (IKM).</param>
    /// <param name="salt">The optional salt; empty means a string of zeros (RFC 5869 §2.2).</param>
    /// <param name="info">The context and purpose label.</param>
    /// <param name="output">Receives the output keying material; 1 to <see cref="MaxOutputSha512"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="output"/> is empty or too long.</exception>
    public static void DeriveSha512(ReadOnlySpan<byte> inputKeyMaterial, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> info, Span<byte> output) =>
        Derive(HashAlgorithmName.SHA512, MaxOutputSha512, inputKeyMaterial, salt, info, output);

    private static void Derive(
        HashAlgorithmName hash, int maxOutput, ReadOnlySpan<byte> ikm, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> info, Span<byte> output)
    {
        if (output.IsEmpty || output.Length > maxOutput)
        {
            throw new ArgumentException($"HKDF output must be 1 to {maxOutput} bytes.", nameof(output));
        }

        HKDF.DeriveKey(hash, ikm, output, salt, info);
    }
}
