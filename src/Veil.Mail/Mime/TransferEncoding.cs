// Content-Transfer-Encoding (RFC 2045 §6): base64 (§6.8) and quoted-printable (§6.7), decoded tolerantly
// (garbage skipped, bad escapes kept literally, soft line breaks with CRLF or bare LF) and encoded strictly
// (lines of at most 76 characters).
using System.Buffers;
using System.Buffers.Text;

namespace Veil.Mail.Mime;

/// <summary>A body's Content-Transfer-Encoding.</summary>
public enum MimeTransferEncoding
{
    /// <summary>7bit, the default.</summary>
    SevenBit,
    /// <summary>8bit (also what an unknown value is treated as).</summary>
    EightBit,
    /// <summary>binary.</summary>
    Binary,
    /// <summary>base64.</summary>
    Base64,
    /// <summary>quoted-printable.</summary>
    QuotedPrintable,
    /// <summary>A known non-standard value such as x-uuencode: kept, not decoded.</summary>
    Other,
}

/// <summary>Decoders and encoders for base64 and quoted-printable bodies.</summary>
public static class TransferEncodingCodec
{
    private const string HexDigits = "0123456789ABCDEF";

    private static readonly SearchValues<byte> Base64Alphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"u8);

    /// <summary>Parses a Content-Transfer-Encoding value; <paramref name="valid"/> is false for a bogus value (treated as 8bit).</summary>
    /// <param name="value">The header value, or null when absent.</param>
    /// <param name="valid">False when the value is not a known encoding.</param>
    public static MimeTransferEncoding Parse(string? value, out bool valid)
    {
        valid = true;
        var v = value?.Trim().ToLowerInvariant();
        switch (v)
        {
            case null or "" or "7bit":
                return MimeTransferEncoding.SevenBit;
            case "8bit":
                return MimeTransferEncoding.EightBit;
            case "binary":
                return MimeTransferEncoding.Binary;
            case "base64":
                return MimeTransferEncoding.Base64;
            case "quoted-printable":
                return MimeTransferEncoding.QuotedPrintable;
            case "x-uuencode" or "uuencode" or "x-uue":
                return MimeTransferEncoding.Other;
            default:
                valid = false;
                return MimeTransferEncoding.EightBit;
        }
    }

    /// <summary>
    /// Decodes base64 tolerantly: every byte outside the alphabet is skipped, '=' marks padding, and the alphabet
    /// characters that remain are decoded as one run (6 bits each, whole bytes only; a dangling 6-bit group is dropped).
    /// </summary>
    /// <param name="input">Encoded bytes.</param>
    /// <param name="clean">
    /// False when garbage (other than line breaks and spaces) or broken padding was skipped: a byte outside the alphabet
    /// other than CR, LF, SP, TAB and '='; alphabet data after '='; or a count of data characters that leaves 6 bits over.
    /// </param>
    public static byte[] DecodeBase64(ReadOnlySpan<byte> input, out bool clean)
    {
        // Two vectorised passes instead of a table lookup per byte: first the alphabet runs (a mail body's 76-character
        // lines) are gathered into one pooled buffer, classifying only the few bytes between runs; then the gathered
        // characters, all valid and without padding, go through the BCL's SIMD decoder in one call. The result is the
        // same as decoding byte by byte (see the reference decoder the tests compare against).
        clean = true;
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(input.Length, 4));
        try
        {
            var gathered = rented.AsSpan();
            var n = 0;
            var padded = false;
            var pos = 0;
            while (pos < input.Length)
            {
                var rest = input[pos..];
                var run = rest.IndexOfAnyExcept(Base64Alphabet);
                if (run < 0)
                {
                    run = rest.Length;
                }

                if (run > 0)
                {
                    if (padded)
                    {
                        // Data after padding: a concatenation of encodings, or garbage; keep decoding, but flag it.
                        clean = false;
                        padded = false;
                    }

                    rest[..run].CopyTo(gathered[n..]);
                    n += run;
                    pos += run;
                    if (pos == input.Length)
                    {
                        break;
                    }
                }

                var skipped = input[pos];
                if (skipped == (byte)'=')
                {
                    padded = true;
                }
                else if (skipped is not ((byte)'\r' or (byte)'\n' or (byte)' ' or (byte)'\t'))
                {
                    clean = false;
                }

                pos++;
            }

            var quads = n / 4 * 4;
            var tail = n - quads;
            if (tail == 1)
            {
                clean = false;
            }

            var output = new byte[(quads / 4 * 3) + (tail > 1 ? tail - 1 : 0)];
            var status = Base64.DecodeFromUtf8(gathered[..quads], output, out _, out var written);
            if (status != OperationStatus.Done || written != quads / 4 * 3)
            {
                throw new InvalidOperationException("Gathered base64 did not decode; the alphabet filter is wrong.");
            }

            if (tail > 1)
            {
                // Two or three characters left: 12 or 18 bits, giving one or two whole bytes.
                var bits = 0;
                for (var i = quads; i < n; i++)
                {
                    bits = (bits << 6) | Base64Value(gathered[i]);
                }

                bits <<= 6 * (4 - tail);
                output[written] = (byte)(bits >> 16);
                if (tail == 3)
                {
                    output[written + 1] = (byte)(bits >> 8);
                }
            }

            return output;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Decodes quoted-printable: soft line breaks (CRLF or LF), =XX (either case); a bad escape stays literal.</summary>
    /// <param name="input">Encoded bytes.</param>
    /// <param name="clean">False when a bad escape was found.</param>
    public static byte[] DecodeQuotedPrintable(ReadOnlySpan<byte> input, out bool clean)
    {
        clean = true;
        var output = new byte[input.Length];
        var n = 0;
        for (var i = 0; i < input.Length; i++)
        {
            var b = input[i];
            if (b == (byte)'=')
            {
                // Soft line break, allowing transport-added white space between '=' and the line end.
                var j = i + 1;
                while (j < input.Length && input[j] is (byte)' ' or (byte)'\t')
                {
                    j++;
                }

                if (j < input.Length && input[j] == (byte)'\n')
                {
                    i = j;
                    continue;
                }

                if (j + 1 < input.Length && input[j] == (byte)'\r' && input[j + 1] == (byte)'\n')
                {
                    i = j + 1;
                    continue;
                }

                if (j == input.Length)
                {
                    i = j;
                    continue;
                }

                if (i + 2 < input.Length && Hex(input[i + 1]) is var hi and >= 0 && Hex(input[i + 2]) is var lo and >= 0)
                {
                    output[n++] = (byte)((hi << 4) | lo);
                    i += 2;
                    continue;
                }

                clean = false;
                output[n++] = b;
                continue;
            }

            if (b is (byte)' ' or (byte)'\t')
            {
                // Trailing white space on a line was added in transport (RFC 2045 §6.7 rule 3): drop it.
                var j = i;
                while (j < input.Length && input[j] is (byte)' ' or (byte)'\t')
                {
                    j++;
                }

                if (j == input.Length || input[j] == (byte)'\n' || (input[j] == (byte)'\r' && j + 1 < input.Length && input[j + 1] == (byte)'\n'))
                {
                    i = j - 1;
                    continue;
                }
            }

            output[n++] = b;
        }

        return output.AsSpan(0, n).ToArray();
    }

    /// <summary>Encodes base64 in lines of 76 characters, each ended by <paramref name="lineEnding"/> (the last one too).</summary>
    /// <param name="input">Raw bytes.</param>
    /// <param name="lineEnding">"\r\n" or "\n".</param>
    public static byte[] EncodeBase64(ReadOnlySpan<byte> input, string lineEnding = "\r\n")
    {
        ArgumentNullException.ThrowIfNull(lineEnding);
        var text = Convert.ToBase64String(input);
        var sb = new System.Text.StringBuilder(text.Length + (text.Length / 76 * lineEnding.Length) + lineEnding.Length);
        for (var i = 0; i < text.Length; i += 76)
        {
            sb.Append(text, i, Math.Min(76, text.Length - i)).Append(lineEnding);
        }

        return System.Text.Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>
    /// Encodes quoted-printable (RFC 2045 §6.7) with lines of at most 76 characters. Line breaks in the input
    /// (CRLF or LF) are kept as hard line breaks written as <paramref name="lineEnding"/>.
    /// </summary>
    /// <param name="input">Raw bytes (text: its line breaks are significant).</param>
    /// <param name="lineEnding">"\r\n" or "\n".</param>
    public static byte[] EncodeQuotedPrintable(ReadOnlySpan<byte> input, string lineEnding = "\r\n")
    {
        ArgumentNullException.ThrowIfNull(lineEnding);
        var eol = System.Text.Encoding.ASCII.GetBytes(lineEnding);
        var output = new ArrayBufferWriter<byte>(input.Length + (input.Length / 2));
        var column = 0;
        for (var i = 0; i < input.Length; i++)
        {
            var b = input[i];
            if (b == (byte)'\r' && i + 1 < input.Length && input[i + 1] == (byte)'\n')
            {
                continue;
            }

            if (b == (byte)'\n')
            {
                output.Write(eol);
                column = 0;
                continue;
            }

            var atLineEnd = i + 1 == input.Length || input[i + 1] == (byte)'\n' || (input[i + 1] == (byte)'\r' && i + 2 < input.Length && input[i + 2] == (byte)'\n');
            var literal = (b >= 33 && b <= 126 && b != (byte)'=') || (b is (byte)' ' or (byte)'\t' && !atLineEnd);
            var width = literal ? 1 : 3;
            if (column + width > 75)
            {
                output.Write("="u8);
                output.Write(eol);
                column = 0;
            }

            if (literal)
            {
                output.Write([b]);
            }
            else
            {
                output.Write([(byte)'=', (byte)HexDigits[b >> 4], (byte)HexDigits[b & 0xF]]);
            }

            column += width;
        }

        return output.WrittenSpan.ToArray();
    }

    private static int Base64Value(byte b) => b switch
    {
        >= (byte)'A' and <= (byte)'Z' => b - 'A',
        >= (byte)'a' and <= (byte)'z' => b - 'a' + 26,
        >= (byte)'0' and <= (byte)'9' => b - '0' + 52,
        (byte)'+' => 62,
        _ => 63,
    };

    private static int Hex(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => -1,
    };
}
