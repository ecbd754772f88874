// Splits a raw RFC 5322 message (CRLF line endings) into header fields and body for DKIM, without a
// MIME parser. Bounded: at most MaxHeaderFields fields and MaxHeaderBytes of header section; a
// message over the limits is rejected (the caller gets false), never partially processed.
// References: RFC 5322 §2.2 (header fields, folding), RFC 6376 §3.7 (what DKIM hashes).
// Limits: bare LF is not a line ending here (callers hand in CRLF messages); a header line without a
// colon (e.g. an mbox "From " line) is kept as a field whose name can never match a signed name.
using System.Text;

namespace Veil.Mail.Dkim;

/// <summary>One raw header field: its exact bytes, including continuation lines and the final CRLF.</summary>
internal sealed class DkimHeaderField(ReadOnlyMemory<byte> raw, int colon)
{
    /// <summary>The field exactly as in the message, ending with CRLF (unless the message ended without one).</summary>
    public ReadOnlyMemory<byte> Raw { get; } = raw;

    /// <summary>The field name bytes as written (may carry trailing whitespace before the colon).</summary>
    public ReadOnlySpan<byte> NameBytes => colon < 0 ? Raw.Span : Raw.Span[..colon];

    /// <summary>The value bytes after the colon, through the final CRLF.</summary>
    public ReadOnlySpan<byte> ValueBytes => colon < 0 ? [] : Raw.Span[(colon + 1)..];

    /// <summary>The name trimmed of whitespace, as ASCII (Latin-1 so every byte maps to one char).</summary>
    public string Name { get; } = colon < 0 ? "" : Encoding.Latin1.GetString(raw.Span[..colon]).TrimEnd(' ', '\t');
}

/// <summary>A message split for DKIM: header fields in order, and the body bytes.</summary>
internal sealed class DkimMessage
{
    /// <summary>The most header fields a message may have.</summary>
    public const int MaxHeaderFields = 1000;

    /// <summary>The largest header section (all fields), in bytes.</summary>
    public const int MaxHeaderBytes = 1 << 20;

    private DkimMessage(List<DkimHeaderField> fields, ReadOnlyMemory<byte> body)
    {
        Fields = fields;
        Body = body;
    }

    /// <summary>The header fields, top to bottom.</summary>
    public IReadOnlyList<DkimHeaderField> Fields { get; }

    /// <summary>The body: everything after the empty line that ends the header section.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Splits <paramref name="message"/>; false when the header section exceeds the limits.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> message, out DkimMessage parsed)
    {
        var span = message.Span;
        var fields = new List<DkimHeaderField>();
        int pos = 0;
        parsed = null!;
        while (pos < span.Length)
        {
            if (pos > MaxHeaderBytes || fields.Count >= MaxHeaderFields)
            {
                return false;
            }

            // The empty line ends the header section; the body follows it.
            if (span[pos..].StartsWith("\r\n"u8))
            {
                parsed = new DkimMessage(fields, message[(pos + 2)..]);
                return true;
            }

            int start = pos;
            int end = FindFieldEnd(span, pos);
            if (end - start > MaxHeaderBytes)
            {
                return false;
            }

            int colon = span[start..end].IndexOf((byte)':');
            fields.Add(new DkimHeaderField(message[start..end], colon));
            pos = end;
        }

        // No empty line: the whole message is header section and the body is empty.
        if (pos > MaxHeaderBytes)
        {
            return false;
        }

        parsed = new DkimMessage(fields, ReadOnlyMemory<byte>.Empty);
        return true;
    }

    /// <summary>The index just past the CRLF that ends the field starting at <paramref name="start"/> (folded lines included).</summary>
    private static int FindFieldEnd(ReadOnlySpan<byte> span, int start)
    {
        int pos = start;
        while (true)
        {
            int crlf = span[pos..].IndexOf("\r\n"u8);
            if (crlf < 0)
            {
                return span.Length;
            }

            pos += crlf + 2;
            if (pos >= span.Length || (span[pos] != (byte)' ' && span[pos] != (byte)'\t'))
            {
                return pos;
            }
        }
    }
}
