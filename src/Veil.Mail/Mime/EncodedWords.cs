// RFC 2047 encoded words: "=?charset[*lang]?B|Q?text?=". Decoding is tolerant (adjacent words joined across the
// white space between them and, when they share a charset, across split multi-byte characters; unknown charsets
// left as written). Encoding emits UTF-8 B-words of at most 75 characters, never splitting a character.
using System.Text;

namespace Veil.Mail.Mime;

/// <summary>Decodes and encodes RFC 2047 encoded words.</summary>
public static class EncodedWords
{
    private const int MaxWordLength = 75;

    /// <summary>Decodes every encoded word in an unstructured header value. Never throws.</summary>
    /// <param name="value">An unfolded header value.</param>
    public static string Decode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.Contains("=?", StringComparison.Ordinal))
        {
            return value;
        }

        var sb = new StringBuilder(value.Length);
        var pending = new List<byte>();
        string? pendingCharset = null;
        var i = 0;
        while (i < value.Length)
        {
            if (TryReadWord(value, i, out var end, out var charset, out var bytes))
            {
                if (pendingCharset is not null && !string.Equals(pendingCharset, charset, StringComparison.OrdinalIgnoreCase))
                {
                    Flush(sb, pending, pendingCharset);
                }

                // White space between two encoded words is dropped (RFC 2047 §6.2).
                pendingCharset = charset;
                pending.AddRange(bytes);
                i = end;
                continue;
            }

            if (pendingCharset is not null && value[i] is ' ' or '\t')
            {
                var j = i;
                while (j < value.Length && value[j] is ' ' or '\t')
                {
                    j++;
                }

                if (TryReadWord(value, j, out _, out _, out _))
                {
                    i = j;
                    continue;
                }
            }

            if (pendingCharset is not null)
            {
                Flush(sb, pending, pendingCharset);
                pendingCharset = null;
            }

            sb.Append(value[i]);
            i++;
        }

        if (pendingCharset is not null)
        {
            Flush(sb, pending, pendingCharset);
        }

        return sb.ToString();
    }

    /// <summary>
    /// Encodes a header value for a field named <paramref name="name"/>: runs of words with non-ASCII characters
    /// become UTF-8 B-words, ASCII words stay as they are (so addresses survive), and the field is folded at
    /// white space to lines of at most 78 characters. Returns "Name: value" without the final line ending.
    /// </summary>
    /// <param name="name">Field name.</param>
    /// <param name="value">Unicode value.</param>
    /// <param name="lineEnding">"\r\n" or "\n", used between folded lines.</param>
    public static string EncodeHeaderField(string name, string value, string lineEnding = "\r\n")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        var tokens = new List<string>();
        var words = value.Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal).Split(' ');
        var run = new StringBuilder();
        foreach (var word in words)
        {
            var needs = NeedsEncoding(word);
            if (needs)
            {
                if (run.Length > 0)
                {
                    run.Append(' ');
                }

                run.Append(word);
                continue;
            }

            if (run.Length > 0)
            {
                tokens.AddRange(EncodeRun(run.ToString()));
                run.Clear();
            }

            tokens.Add(word);
        }

        if (run.Length > 0)
        {
            tokens.AddRange(EncodeRun(run.ToString()));
        }

        var sb = new StringBuilder(name).Append(':');
        var column = sb.Length;
        foreach (var token in tokens)
        {
            if (column + 1 + token.Length > 78 && column > name.Length + 1)
            {
                sb.Append(lineEnding);
                column = 0;
            }

            sb.Append(' ').Append(token);
            column += 1 + token.Length;
        }

        return sb.ToString();
    }

    private static bool NeedsEncoding(string word)
    {
        foreach (var c in word)
        {
            if (c > 126 || (c < 32 && c != '\t'))
            {
                return true;
            }
        }

        return word.Contains("=?", StringComparison.Ordinal);
    }

    private static IEnumerable<string> EncodeRun(string text)
    {
        const string Prefix = "=?utf-8?B?";
        var maxBytes = (MaxWordLength - Prefix.Length - 2) / 4 * 3;
        var chunk = new StringBuilder();
        var chunkBytes = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var size = rune.Utf8SequenceLength;
            if (chunkBytes + size > maxBytes)
            {
                yield return Prefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(chunk.ToString())) + "?=";
                chunk.Clear();
                chunkBytes = 0;
            }

            chunk.Append(rune.ToString());
            chunkBytes += size;
        }

        if (chunk.Length > 0)
        {
            yield return Prefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(chunk.ToString())) + "?=";
        }
    }

    private static void Flush(StringBuilder sb, List<byte> pending, string charset)
    {
        sb.Append(MimeCharsets.Decode(pending.ToArray(), charset, out _));
        pending.Clear();
    }

    private static byte[] DecodeQ(byte[] text)
    {
        var output = new List<byte>(text.Length);
        for (var k = 0; k < text.Length; k++)
        {
            var b = text[k];
            if (b == (byte)'_')
            {
                output.Add((byte)' ');
            }
            else if (b == (byte)'=' && k + 2 < text.Length && IsHex(text[k + 1]) && IsHex(text[k + 2]))
            {
                output.Add(Convert.FromHexString(Encoding.ASCII.GetString(text, k + 1, 2))[0]);
                k += 2;
            }
            else
            {
                output.Add(b);
            }
        }

        return [.. output];
    }

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    private static bool TryReadWord(string s, int start, out int end, out string charset, out byte[] bytes)
    {
        end = start;
        charset = string.Empty;
        bytes = [];
        if (start + 1 >= s.Length || s[start] != '=' || s[start + 1] != '?')
        {
            return false;
        }

        var q1 = s.IndexOf('?', start + 2);
        if (q1 < 0 || q1 + 2 >= s.Length || s[q1 + 2] != '?')
        {
            return false;
        }

        var close = s.IndexOf("?=", q1 + 3, StringComparison.Ordinal);
        if (close < 0)
        {
            return false;
        }

        var cs = s[(start + 2)..q1];
        if (cs.Length == 0 || cs.Contains(' ', StringComparison.Ordinal))
        {
            return false;
        }

        var star = cs.IndexOf('*', StringComparison.Ordinal);
        if (star >= 0)
        {
            cs = cs[..star]; // RFC 2231 §5 language suffix
        }

        if (MimeCharsets.GetEncoding(cs) is null && !cs.Equals("utf-7", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var text = s[(q1 + 3)..close];
        if (text.Contains(' ', StringComparison.Ordinal))
        {
            return false;
        }

        var latin = Encoding.Latin1.GetBytes(text);
        switch (s[q1 + 1])
        {
            case 'B' or 'b':
                bytes = TransferEncodingCodec.DecodeBase64(latin, out _);
                break;
            case 'Q' or 'q':
                bytes = DecodeQ(latin);
                break;
            default:
                return false;
        }

        charset = cs;
        end = close + 2;
        return true;
    }
}
