// Base32: the RFC 4648 §6 alphabet (A–Z, 2–7) without padding, the encoding of OTP secrets in
// otpauth:// URIs and in the "enter this key manually" text of authenticator apps.
//
// Decoding is strict so that one secret has exactly one spelling: letters of either case are
// accepted, but no padding, no spaces, no length that cannot come from whole bytes (length mod 8
// of 1, 3 or 6) and no non-zero bits after the last whole byte. Anything else returns null.
namespace Veil.Crypto.Otp;

/// <summary>RFC 4648 base32 without padding.</summary>
public static class Base32
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// <summary>Encodes <paramref name="bytes"/> as upper-case base32 without padding (20 bytes give 32 characters).</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var length = ((bytes.Length * 8) + 4) / 5;
        return string.Create(length, bytes.ToArray(), static (chars, data) =>
        {
            int buffer = 0, bits = 0, written = 0;
            foreach (var b in data)
            {
                buffer = (buffer << 8) | b;
                bits += 8;
                while (bits >= 5)
                {
                    bits -= 5;
                    chars[written++] = Alphabet[(buffer >> bits) & 0x1F];
                }
            }

            if (bits > 0)
            {
                chars[written] = Alphabet[(buffer << (5 - bits)) & 0x1F];
            }

            System.Security.Cryptography.CryptographicOperations.ZeroMemory(data);
        });
    }

    /// <summary>
    /// Decodes unpadded base32 (either letter case); returns <see langword="null"/> if the text is not
    /// the canonical encoding of some byte string.
    /// </summary>
    public static byte[]? Decode(ReadOnlySpan<char> text)
    {
        if (text.Length % 8 is 1 or 3 or 6)
        {
            return null;
        }

        var bytes = new byte[text.Length * 5 / 8];
        int buffer = 0, bits = 0, written = 0;
        foreach (var c in text)
        {
            var value = c switch
            {
                >= 'A' and <= 'Z' => c - 'A',
                >= 'a' and <= 'z' => c - 'a',
                >= '2' and <= '7' => c - '2' + 26,
                _ => -1,
            };
            if (value < 0)
            {
                return null;
            }

            buffer = ((buffer << 5) | value) & 0xFFF;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes[written++] = (byte)(buffer >> bits);
            }
        }

        // The bits left over must be zero padding, or two texts would decode to the same bytes.
        return (buffer & ((1 << bits) - 1)) == 0 ? bytes : null;
    }
}
