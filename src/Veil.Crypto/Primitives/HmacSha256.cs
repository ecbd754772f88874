// HmacSha256: HMAC-SHA256 (RFC 2104, FIPS 198-1) computation and constant-time verification,
// wrapping .NET's HMACSHA256. Verification accepts tags truncated to at least 16 bytes (RFC 2104 §5
// allows truncation to no less than half the hash length); a shorter tag never verifies.
using System.Security.Cryptography;

namespace Veil.Crypto.Primitives;

/// <summary>HMAC-SHA256.</summary>
public static class HmacSha256
{
    /// <summary>The full tag length: 32 bytes.</summary>
    public const int TagLength = 32;

    /// <summary>The shortest truncated tag <see cref="Verify"/> accepts: 16 bytes.</summary>
    public const int MinimumTagLength = 16;

    /// <summary>Computes the 32-byte tag of <paramref name="data"/> into <paramref name="tag"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is not 32 bytes.</exception>
    public static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> tag)
    {
        if (tag.Length != TagLength)
        {
            throw new ArgumentException($"The tag buffer must be {TagLength} bytes.", nameof(tag));
        }

        HMACSHA256.HashData(key, data, tag);
    }

    /// <summary>Computes and returns the 32-byte tag of <paramref name="data"/>.</summary>
    public static byte[] Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => HMACSHA256.HashData(key, data);

    /// <summary>
    /// Whether <paramref name="tag"/> is the tag of <paramref name="data"/> under <paramref name="key"/>,
    /// or its first <paramref name="tag"/>.Length bytes (16 to 32). Compared in constant time; a tag of
    /// any other length returns <see langword="false"/>.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> tag)
    {
        if (tag.Length is < MinimumTagLength or > TagLength)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[TagLength];
        try
        {
            HMACSHA256.HashData(key, data, expected);
            return CryptographicOperations.FixedTimeEquals(expected[..tag.Length], tag);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
        }
    }
}
