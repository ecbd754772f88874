// KeyFingerprint: the short, non-secret label that key types print in ToString().
using System.Security.Cryptography;

namespace Veil.Crypto.Primitives;

/// <summary>Short public-key fingerprints for diagnostics: the first 8 bytes of SHA-256, in hex.</summary>
internal static class KeyFingerprint
{
    internal static string Of(ReadOnlySpan<byte> publicKey)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(publicKey, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }
}
