// CryptoRandom: random bytes and URL-safe tokens from the operating system's CSPRNG.
//
// Tokens (reply links, delivery links, API keys) are base64url without padding (RFC 4648 §5), so
// CryptoRandom.Token(32) gives 43 characters carrying 256 bits. Reference: RandomNumberGenerator.
using System.Buffers.Text;
using System.Security.Cryptography;

namespace Veil.Crypto.Primitives;

/// <summary>Random bytes and tokens from the operating system's cryptographically secure generator.</summary>
public static class CryptoRandom
{
    /// <summary>The largest token, in random bytes, that <see cref="Token"/> produces.</summary>
    public const int MaxTokenBytes = 1024;

    /// <summary>Fills <paramref name="destination"/> with random bytes.</summary>
    public static void Fill(Span<byte> destination) => RandomNumberGenerator.Fill(destination);

    /// <summary>Returns <paramref name="count"/> random bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public static byte[] Bytes(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return RandomNumberGenerator.GetBytes(count);
    }

    /// <summary>
    /// Returns a token of <paramref name="byteCount"/> random bytes as unpadded base64url
    /// (for 32 bytes: 43 characters).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="byteCount"/> is below 16 or above <see cref="MaxTokenBytes"/>.</exception>
    public static string Token(int byteCount = 32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(byteCount, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(byteCount, MaxTokenBytes);
        Span<byte> buffer = stackalloc byte[byteCount];
        RandomNumberGenerator.Fill(buffer);
        return Base64Url.EncodeToString(buffer);
    }

    /// <summary>Encodes bytes as unpadded base64url (RFC 4648 §5).</summary>
    public static string ToBase64Url(ReadOnlySpan<byte> bytes) => Base64Url.EncodeToString(bytes);

    /// <summary>Decodes unpadded base64url; returns <see langword="null"/> if the text is not valid base64url.</summary>
    public static byte[]? FromBase64Url(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!Base64Url.IsValid(text, out var length))
        {
            return null;
        }

        var bytes = new byte[length];
        return Base64Url.TryDecodeFromChars(text, bytes, out var written) && written == length ? bytes : null;
    }
}
