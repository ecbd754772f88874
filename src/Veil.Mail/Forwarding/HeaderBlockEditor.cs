// Rewrites the top-level header block of a parsed message and copies every other byte (the separator line and the
// whole body) from the source. MimeRewriter would RFC 2047-encode any value it is given, which breaks values that
// are already correct structured text (a quoted display name, encoded words in a phrase); this editor writes the
// values it is given as they are, folded at white space.
using System.Buffers;
using System.Text;
using Veil.Mail.Mime;

namespace Veil.Mail.Forwarding;

/// <summary>Header edits to the top-level entity; every field not edited keeps its raw bytes.</summary>
internal sealed class HeaderBlockEditor(MimeMessage message)
{
    private readonly Dictionary<MimeHeader, string?> _replacements = [];
    private readonly List<string> _prepended = [];

    public MimeMessage Message { get; } = message;

    public IReadOnlyList<MimeHeader> Headers => Message.Root.Headers;

    /// <summary>Replaces one field with "name: value" (folded; <paramref name="value"/> must already be valid field text).</summary>
    public void Replace(MimeHeader header, string name, string value) => _replacements[header] = Fold(name, value);

    /// <summary>Replaces one field with a complete field text ("Name: value", folded with CRLF, no final line ending).</summary>
    public void ReplaceField(MimeHeader header, string field) => _replacements[header] = field;

    /// <summary>Removes one field.</summary>
    public void Remove(MimeHeader header) => _replacements[header] = null;

    /// <summary>Removes every field with this name (case-insensitive).</summary>
    public void RemoveAll(string name)
    {
        foreach (var header in Headers)
        {
            if (header.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                Remove(header);
            }
        }
    }

    /// <summary>Adds a field at the top of the block (where fields added in transit go).</summary>
    public void Prepend(string name, string value) => _prepended.Add(Fold(name, value));

    public byte[] ToArray()
    {
        var root = Message.Root;
        var source = Message.Source.Span;
        var eol = Encoding.ASCII.GetBytes(root.LineEnding);
        var output = new ArrayBufferWriter<byte>(Message.Source.Length + 512);
        output.Write(source[..root.Start]);
        foreach (var field in _prepended)
        {
            output.Write(Encoding.UTF8.GetBytes(field.Replace("\r\n", root.LineEnding, StringComparison.Ordinal)));
            output.Write(eol);
        }

        var pos = root.Start;
        foreach (var header in root.Headers)
        {
            output.Write(source[pos..header.Offset]);
            pos = header.Offset + header.Raw.Length;
            if (!_replacements.TryGetValue(header, out var replacement))
            {
                output.Write(header.Raw.Span);
            }
            else if (replacement is not null)
            {
                output.Write(Encoding.UTF8.GetBytes(replacement.Replace("\r\n", root.LineEnding, StringComparison.Ordinal)));
                output.Write(eol);
            }
        }

        output.Write(source[pos..]);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// "Name: value" folded before white space so lines stay within 78 characters where the value allows it
    /// (RFC 5322 §2.2.3). Folding inside a quoted string is allowed; encoded words contain no white space, so
    /// they are never split. Line breaks inside the value become spaces.
    /// </summary>
    internal static string Fold(string name, string value)
    {
        var words = value.Replace('\r', ' ').Replace('\n', ' ').Trim(' ', '\t').Split(' ');
        var sb = new StringBuilder(name.Length + value.Length + 16).Append(name).Append(':');
        var column = sb.Length;
        foreach (var word in words)
        {
            if (column + 1 + word.Length > 78 && column > name.Length + 1)
            {
                sb.Append("\r\n");
                column = 0;
            }

            sb.Append(' ').Append(word);
            column += 1 + word.Length;
        }

        return sb.ToString();
    }
}
