// RFC 5322 §2.2 header fields. Each field keeps its raw bytes (name, colon, folded value, line ending) so an
// unmodified header block writes back byte for byte; the value is unfolded and decoded on demand.
using System.Text;

namespace Veil.Mail.Mime;

/// <summary>One header field as found in the source.</summary>
public sealed class MimeHeader
{
    private readonly ReadOnlyMemory<byte> _raw;
    private readonly int _valueLimit;
    private string? _value;

    internal MimeHeader(string name, ReadOnlyMemory<byte> raw, int offset, int length, int valueLimit)
    {
        Name = name;
        _raw = raw;
        Offset = offset;
        Length = length;
        _valueLimit = valueLimit;
    }

    /// <summary>The field name as written (compare case-insensitively).</summary>
    public string Name { get; }

    /// <summary>
    /// The raw field bytes, from the name to the line ending of its last folded line, inclusive. For a message parsed
    /// from a stream, a field longer than <see cref="MimeLimits.MaxHeaderLineLength"/> (plus 16 KiB for the name) is
    /// kept only up to there (<see cref="Length"/> is the whole field, which is still written back unchanged).
    /// </summary>
    public ReadOnlyMemory<byte> Raw => _raw;

    /// <summary>Byte offset of the field in the parsed source.</summary>
    public int Offset { get; }

    /// <summary>Length of the whole field in the parsed source.</summary>
    public int Length { get; }

    /// <summary>The unfolded value: after the colon, line breaks removed, surrounding white space trimmed. Not 2047-decoded.</summary>
    public string Value => _value ??= Unfold();

    /// <summary>The value with RFC 2047 encoded words decoded (for unstructured fields such as Subject).</summary>
    public string DecodedValue => EncodedWords.Decode(Value);

    /// <inheritdoc/>
    public override string ToString() => Name + ": " + Value;

    private string Unfold()
    {
        var span = _raw.Span;
        var colon = span.IndexOf((byte)':');
        var value = span[(colon + 1)..];
        if (value.Length > _valueLimit)
        {
            value = value[.._valueLimit];
        }

        var buffer = new byte[value.Length];
        var n = 0;
        foreach (var b in value)
        {
            if (b is not ((byte)'\r' or (byte)'\n'))
            {
                buffer[n++] = b;
            }
        }

        // RFC 6532 allows UTF-8 in header values; anything else 8-bit is most likely windows-1252.
        return MimeCharsets.DecodeUtf8OrLatin(buffer.AsSpan(0, n)).Trim(' ', '\t');
    }

    internal static string AsciiName(ReadOnlySpan<byte> name) => Encoding.Latin1.GetString(name).TrimEnd(' ', '\t');
}
