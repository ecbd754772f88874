// Charset lookup for MIME (RFC 2045 §5.1, RFC 2046 §4.1.2, IANA charset names).
// Registers System.Text.CodePagesEncodingProvider so windows-125x, iso-8859-x, euc-jp, gb2312, koi8-r, … decode.
// UTF-7 (RFC 2152) is disabled in .NET, so a small best-effort decoder lives here; it is never used to encode.
using System.Text;

namespace Veil.Mail.Mime;

/// <summary>Maps MIME charset names to decoders, tolerant of the aliases real mail uses.</summary>
public static class MimeCharsets
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    static MimeCharsets() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>The encoding for a MIME charset name, or <c>null</c> when unknown (UTF-7 also gives <c>null</c>: see <see cref="Decode"/>).</summary>
    /// <param name="charset">A charset name as found in a Content-Type parameter or an encoded word.</param>
    public static Encoding? GetEncoding(string? charset)
    {
        if (string.IsNullOrWhiteSpace(charset))
        {
            return null;
        }

        var name = charset.Trim().Trim('"').ToLowerInvariant();
        name = name switch
        {
            "utf8" => "utf-8",
            "latin1" or "latin-1" or "iso8859-1" or "iso_8859-1" => "iso-8859-1",
            "ascii" or "us_ascii" or "ansi_x3.4-1968" => "us-ascii",
            "ks_c_5601-1987" or "ks_c_5601" => "cp949",
            "x-sjis" or "shift-jis" or "sjis" => "shift_jis",
            "cp1252" or "win-1252" => "windows-1252",
            _ => name,
        };
        if (name is "utf-7" or "unicode-1-1-utf-7" or "x-unicode-2-0-utf-7")
        {
            return null;
        }

        try
        {
            return Encoding.GetEncoding(name);
        }
        catch (ArgumentException)
        {
            // Unknown names are expected in hostile or sloppy mail; the caller falls back.
            return null;
        }
    }

    /// <summary>
    /// Decodes bytes in a MIME charset. No charset, us-ascii or an unknown charset: UTF-8 if the bytes are valid UTF-8,
    /// otherwise windows-1252. UTF-7 is decoded best-effort. Never throws.
    /// </summary>
    /// <param name="bytes">The decoded (transfer-decoded) content.</param>
    /// <param name="charset">The declared charset, if any.</param>
    /// <param name="known">False when the charset was unknown, or the bytes were invalid in it.</param>
    public static string Decode(ReadOnlySpan<byte> bytes, string? charset, out bool known)
    {
        known = true;
        var lower = charset?.Trim().Trim('"').ToLowerInvariant();
        if (lower is "utf-7" or "unicode-1-1-utf-7")
        {
            return Utf7.Decode(bytes, out known);
        }

        var encoding = GetEncoding(charset);
        if (encoding is null || encoding.CodePage == 20127)
        {
            known = encoding is not null || string.IsNullOrWhiteSpace(charset);
            return DecodeUtf8OrLatin(bytes);
        }

        if (encoding.CodePage == 65001)
        {
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                known = false;
                return Encoding.UTF8.GetString(bytes);
            }
        }

        return encoding.GetString(bytes);
    }

    /// <summary>UTF-8 when valid, otherwise windows-1252 (the usual meaning of undeclared 8-bit mail).</summary>
    internal static string DecodeUtf8OrLatin(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return Encoding.UTF8.GetString(bytes);
        }

        return (GetEncoding("windows-1252") ?? Encoding.Latin1).GetString(bytes);
    }

    private static class Utf7
    {
        private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

        internal static string Decode(ReadOnlySpan<byte> bytes, out bool valid)
        {
            valid = true;
            var sb = new StringBuilder(bytes.Length);
            var i = 0;
            while (i < bytes.Length)
            {
                var b = bytes[i++];
                if (b != (byte)'+')
                {
                    sb.Append(b < 0x80 ? (char)b : '\uFFFD');
                    valid &= b < 0x80;
                    continue;
                }

                if (i < bytes.Length && bytes[i] == (byte)'-')
                {
                    sb.Append('+');
                    i++;
                    continue;
                }

                int bits = 0, buffer = 0;
                while (i < bytes.Length)
                {
                    var value = bytes[i] < 0x80 ? Alphabet.IndexOf((char)bytes[i], StringComparison.Ordinal) : -1;
                    if (value < 0)
                    {
                        if (bytes[i] == (byte)'-')
                        {
                            i++;
                        }

                        break;
                    }

                    buffer = (buffer << 6) | value;
                    bits += 6;
                    i++;
                    if (bits >= 16)
                    {
                        bits -= 16;
                        sb.Append((char)((buffer >> bits) & 0xFFFF));
                    }

                    buffer &= (1 << bits) - 1;
                }
            }

            return sb.ToString();
        }
    }
}
