// Hotp: HMAC-based one-time passwords (RFC 4226), the building block of TOTP.
//
//   HS    = HMAC-H(secret, counter as 8 bytes big-endian)         (H = SHA-1 unless chosen otherwise)
//   o     = HS[last] & 0x0F                                        (dynamic truncation, RFC 4226 §5.3)
//   value = (HS[o..o+4] as big-endian uint32 & 0x7FFFFFFF) mod 10^digits, left-padded with zeros
//
// Codes have 6 to 8 digits. Secrets must be at least 16 bytes (RFC 4226 §4 R6: "at least 128 bits";
// Veil generates 20). Codes a user typed are parsed strictly: ASCII digits only, exactly `digits`
// of them. ASCII spaces are removed first, because authenticator apps display "123 456" and users
// copy the gap; a space carries no information, so tolerating it cannot make a wrong code match.
// Anything else (tabs, dashes, full-width or Arabic-Indic digits, a sign) makes the code invalid.
// Comparison is constant-time over the ASCII digits. HMAC-SHA1 is what every authenticator app
// implements; HMAC's security does not rest on SHA-1's collision resistance (RFC 4226 Appendix A.4).
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Veil.Crypto.Otp;

/// <summary>RFC 4226 HOTP codes.</summary>
public static class Hotp
{
    /// <summary>The default code length: 6 digits.</summary>
    public const int DefaultDigits = 6;

    /// <summary>The shortest code: 6 digits (RFC 4226 §5.3).</summary>
    public const int MinimumDigits = 6;

    /// <summary>The longest code: 8 digits (RFC 6238 vectors; 10^8 &lt; 2^31).</summary>
    public const int MaximumDigits = 8;

    /// <summary>The shortest secret accepted: 16 bytes (RFC 4226 §4 R6).</summary>
    public const int MinimumSecretLength = 16;

    /// <summary>The longest secret accepted: 64 bytes, one HMAC-SHA512 block.</summary>
    public const int MaximumSecretLength = 64;

    /// <summary>The longest text <see cref="Verify"/> looks at; longer input is rejected without parsing.</summary>
    internal const int MaximumCodeInputLength = 32;

    /// <summary>The code for <paramref name="counter"/>, as <paramref name="digits"/> ASCII digits.</summary>
    /// <exception cref="ArgumentException">The secret is shorter than 16 or longer than 64 bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The counter is negative, the digits are outside 6–8, or the algorithm is undefined.</exception>
    public static string Generate(ReadOnlySpan<byte> secret, long counter, int digits = DefaultDigits, OtpAlgorithm algorithm = OtpAlgorithm.Sha1)
    {
        Span<byte> code = stackalloc byte[MaximumDigits];
        WriteCode(secret, counter, digits, algorithm, code[..digits]);
        return string.Create(digits, code[..digits].ToArray(), static (chars, ascii) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = (char)ascii[i];
            }
        });
    }

    /// <summary>
    /// Whether <paramref name="code"/> is the code for <paramref name="counter"/>, compared in constant
    /// time. A malformed code (see the file header: digits only, exact length, ASCII spaces ignored)
    /// returns <see langword="false"/>. The caller must advance its stored counter past a matched one.
    /// </summary>
    /// <exception cref="ArgumentException">The secret is shorter than 16 or longer than 64 bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The counter is negative, the digits are outside 6–8, or the algorithm is undefined.</exception>
    public static bool Verify(ReadOnlySpan<byte> secret, long counter, ReadOnlySpan<char> code, int digits = DefaultDigits, OtpAlgorithm algorithm = OtpAlgorithm.Sha1)
    {
        CheckDigits(digits);
        Span<byte> typed = stackalloc byte[MaximumDigits];
        Span<byte> expected = stackalloc byte[MaximumDigits];
        try
        {
            // Compute before parsing, so a malformed code costs the same HMAC as a wrong one.
            WriteCode(secret, counter, digits, algorithm, expected[..digits]);
            return TryParseCode(code, typed[..digits])
                & CryptographicOperations.FixedTimeEquals(typed[..digits], expected[..digits]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
            CryptographicOperations.ZeroMemory(typed);
        }
    }

    /// <summary>Writes the code for <paramref name="counter"/> as ASCII digits into <paramref name="code"/> (its length is the digit count).</summary>
    [SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms", Justification = "RFC 4226/6238 interoperability: authenticator apps use HMAC-SHA1, which is not weakened by SHA-1 collisions.")]
    internal static void WriteCode(ReadOnlySpan<byte> secret, long counter, int digits, OtpAlgorithm algorithm, Span<byte> code)
    {
        CheckSecret(secret);
        ArgumentOutOfRangeException.ThrowIfNegative(counter);
        CheckDigits(digits);
        CheckAlgorithm(algorithm);
        if (code.Length != digits)
        {
            throw new ArgumentException("The code buffer must hold exactly the digit count.", nameof(code));
        }

        Span<byte> message = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(message, counter);
        Span<byte> mac = stackalloc byte[64];
        try
        {
            var length = algorithm switch
            {
                OtpAlgorithm.Sha1 => HMACSHA1.HashData(secret, message, mac),
                OtpAlgorithm.Sha256 => HMACSHA256.HashData(secret, message, mac),
                _ => HMACSHA512.HashData(secret, message, mac),
            };
            var offset = mac[length - 1] & 0x0F;
            var value = BinaryPrimitives.ReadUInt32BigEndian(mac[offset..]) & 0x7FFF_FFFF;
            for (var i = digits - 1; i >= 0; i--)
            {
                code[i] = (byte)('0' + (value % 10));
                value /= 10;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(mac);
        }
    }

    /// <summary>
    /// Parses a typed code into ASCII digits: ASCII spaces are dropped; anything else must be an ASCII
    /// digit, and there must be exactly <paramref name="digits"/>.Length of them.
    /// </summary>
    internal static bool TryParseCode(ReadOnlySpan<char> input, Span<byte> digits)
    {
        if (input.Length > MaximumCodeInputLength)
        {
            return false;
        }

        var count = 0;
        foreach (var c in input)
        {
            if (c == ' ')
            {
                continue;
            }

            if (!char.IsAsciiDigit(c) || count == digits.Length)
            {
                return false;
            }

            digits[count++] = (byte)c;
        }

        return count == digits.Length;
    }

    internal static void CheckDigits(int digits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(digits, MinimumDigits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(digits, MaximumDigits);
    }

    internal static void CheckAlgorithm(OtpAlgorithm algorithm)
    {
        if (algorithm is not (OtpAlgorithm.Sha1 or OtpAlgorithm.Sha256 or OtpAlgorithm.Sha512))
        {
            throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown OTP algorithm.");
        }
    }

    internal static void CheckSecret(ReadOnlySpan<byte> secret)
    {
        if (secret.Length is < MinimumSecretLength or > MaximumSecretLength)
        {
            throw new ArgumentException($"An OTP secret must be {MinimumSecretLength} to {MaximumSecretLength} bytes.", nameof(secret));
        }
    }
}
