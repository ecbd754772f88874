// Content-Type (RFC 2045 §5, RFC 2046) and Content-Disposition (RFC 2183) values: a token, then parameters.
// Parameters follow RFC 2231: continuations (name*0, name*1*, …), charset'language'%XX values; quoted strings
// and, tolerantly, RFC 2047 encoded words inside quoted values (a common non-standard practice).
using System.Text;

namespace Veil.Mail.Mime;

/// <summary>A parsed Content-Type or Content-Disposition value.</summary>
public sealed class MimeParameterizedValue
{
    private MimeParameterizedValue(string value, IReadOnlyDictionary<string, string> parameters, bool valid)
    {
        Value = value;
        Parameters = parameters;
        IsValid = valid;
    }

    /// <summary>The lower-cased token: "text/plain", "multipart/mixed", "attachment", …</summary>
    public string Value { get; }

    /// <summary>The media type (before the slash), lower-cased; for a disposition, the whole token.</summary>
    public string MediaType => Value.Split('/')[0];

    /// <summary>The subtype (after the slash), lower-cased, or empty.</summary>
    public string MediaSubtype => Value.Contains('/', StringComparison.Ordinal) ? Value[(Value.IndexOf('/', StringComparison.Ordinal) + 1)..] : string.Empty;

    /// <summary>Decoded parameters, names lower-cased and compared case-insensitively.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>False when the value could not be parsed (a default was substituted).</summary>
    public bool IsValid { get; }

    /// <summary>A parameter's decoded value, or null.</summary>
    /// <param name="name">Parameter name (any case).</param>
    public string? this[string name] => Parameters.TryGetValue(name, out var v) ? v : null;

    /// <summary>Parses a Content-Type value; a missing or broken value gives <paramref name="fallback"/> with <see cref="IsValid"/> false.</summary>
    /// <param name="value">Unfolded header value, or null.</param>
    /// <param name="fallback">The default media type, e.g. "text/plain".</param>
    public static MimeParameterizedValue ParseContentType(string? value, string fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        if (value is null)
        {
            return new MimeParameterizedValue(fallback, Empty(), true);
        }

        var i = 0;
        SkipCfws(value, ref i);
        var type = ReadToken(value, ref i);
        SkipCfws(value, ref i);
        if (type.Length == 0 || i >= value.Length || value[i] != '/')
        {
            return new MimeParameterizedValue(fallback, ParseParameters(value, i), false);
        }

        i++;
        SkipCfws(value, ref i);
        var subtype = ReadToken(value, ref i);
        if (subtype.Length == 0)
        {
            return new MimeParameterizedValue(fallback, ParseParameters(value, i), false);
        }

        return new MimeParameterizedValue((type + "/" + subtype).ToLowerInvariant(), ParseParameters(value, i), true);
    }

    /// <summary>Parses a Content-Disposition value.</summary>
    /// <param name="value">Unfolded header value.</param>
    public static MimeParameterizedValue ParseDisposition(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var i = 0;
        SkipCfws(value, ref i);
        var token = ReadToken(value, ref i).ToLowerInvariant();
        return new MimeParameterizedValue(token, ParseParameters(value, i), token.Length > 0);
    }

    /// <summary>Writes the value back as a header value, replacing or adding one parameter (quoted; RFC 2231-encoded when not ASCII).</summary>
    /// <param name="name">Parameter name.</param>
    /// <param name="newValue">Its new value.</param>
    public string ToHeaderValue(string? name = null, string? newValue = null)
    {
        var sb = new StringBuilder(Value);
        var replaced = false;
        foreach (var (key, v) in Parameters)
        {
            var written = v;
            if (name is not null && key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                written = newValue ?? v;
                replaced = true;
            }

            AppendParameter(sb, key, written);
        }

        if (name is not null && !replaced && newValue is not null)
        {
            AppendParameter(sb, name.ToLowerInvariant(), newValue);
        }

        return sb.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => ToHeaderValue();

    private static void AppendParameter(StringBuilder sb, string key, string value)
    {
        if (value.Any(c => c > 126))
        {
            sb.Append("; ").Append(key).Append("*=utf-8''").Append(Uri.EscapeDataString(value));
            return;
        }

        sb.Append("; ").Append(key).Append("=\"").Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
    }

    private static Dictionary<string, string> Empty() => new(StringComparer.OrdinalIgnoreCase);

    private static Dictionary<string, string> ParseParameters(string s, int i)
    {
        var plain = Empty();
        // RFC 2231 pieces: name -> (index -> (value, extended))
        var pieces = new Dictionary<string, SortedDictionary<int, (string Value, bool Extended)>>(StringComparer.OrdinalIgnoreCase);
        var guard = 0;
        while (i < s.Length && guard++ < 1000)
        {
            SkipCfws(s, ref i);
            while (i < s.Length && s[i] == ';')
            {
                i++;
                SkipCfws(s, ref i);
            }

            var name = ReadToken(s, ref i, allowStar: true);
            SkipCfws(s, ref i);
            if (name.Length == 0 || i >= s.Length || s[i] != '=')
            {
                // Garbage: skip to the next ';'.
                var next = s.IndexOf(';', i);
                if (next < 0)
                {
                    break;
                }

                i = next;
                continue;
            }

            i++;
            SkipCfws(s, ref i);
            string value;
            var quoted = i < s.Length && s[i] == '"';
            if (quoted)
            {
                value = ReadQuoted(s, ref i);
            }
            else
            {
                var start = i;
                while (i < s.Length && s[i] != ';' && !char.IsWhiteSpace(s[i]))
                {
                    i++;
                }

                value = s[start..i];
            }

            name = name.ToLowerInvariant();
            var star = name.IndexOf('*', StringComparison.Ordinal);
            if (star < 0)
            {
                plain.TryAdd(name, quoted ? EncodedWords.Decode(value) : value);
                continue;
            }

            var baseName = name[..star];
            var rest = name[(star + 1)..];
            var extended = rest.EndsWith('*') || rest.Length == 0;
            var indexText = rest.TrimEnd('*');
            var index = 0;
            if (indexText.Length > 0 && !int.TryParse(indexText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index))
            {
                continue;
            }

            if (!pieces.TryGetValue(baseName, out var list))
            {
                list = [];
                pieces[baseName] = list;
            }

            if (list.Count < 256)
            {
                list.TryAdd(index, (value, extended));
            }
        }

        foreach (var (name, list) in pieces)
        {
            plain[name] = Join2231(list);
        }

        return plain;
    }

    private static string Join2231(SortedDictionary<int, (string Value, bool Extended)> list)
    {
        string? charset = null;
        var bytes = new List<byte>();
        var first = true;
        foreach (var (_, (value, extended)) in list)
        {
            var v = value;
            if (first && extended)
            {
                var q1 = v.IndexOf('\'', StringComparison.Ordinal);
                var q2 = q1 < 0 ? -1 : v.IndexOf('\'', q1 + 1);
                if (q2 > 0)
                {
                    charset = v[..q1];
                    v = v[(q2 + 1)..];
                }
            }

            first = false;
            if (extended)
            {
                for (var k = 0; k < v.Length; k++)
                {
                    if (v[k] == '%' && k + 2 < v.Length && char.IsAsciiHexDigit(v[k + 1]) && char.IsAsciiHexDigit(v[k + 2]))
                    {
                        bytes.Add(Convert.FromHexString(v.AsSpan(k + 1, 2))[0]);
                        k += 2;
                    }
                    else
                    {
                        bytes.AddRange(Encoding.UTF8.GetBytes(v[k].ToString()));
                    }
                }
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(v));
            }
        }

        return MimeCharsets.Decode(bytes.ToArray(), charset, out _);
    }

    private static void SkipCfws(string s, ref int i)
    {
        var depth = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (c == '(')
            {
                depth++;
            }
            else if (c == ')' && depth > 0)
            {
                depth--;
            }
            else if (c == '\\' && depth > 0)
            {
                i++;
            }
            else if (depth == 0 && !char.IsWhiteSpace(c))
            {
                return;
            }

            i++;
        }
    }

    private static string ReadToken(string s, ref int i, bool allowStar = false)
    {
        var start = i;
        while (i < s.Length)
        {
            var c = s[i];
            if (c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?=".Contains(c, StringComparison.Ordinal) || (c == '*' && !allowStar))
            {
                break;
            }

            i++;
        }

        return s[start..i];
    }

    private static string ReadQuoted(string s, ref int i)
    {
        var sb = new StringBuilder();
        i++;
        while (i < s.Length && s[i] != '"')
        {
            if (s[i] == '\\' && i + 1 < s.Length)
            {
                i++;
            }

            sb.Append(s[i]);
            i++;
        }

        if (i < s.Length)
        {
            i++;
        }

        return sb.ToString();
    }
}
