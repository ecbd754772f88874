// Writes a parsed message back, replacing chosen bodies or header fields and copying every other byte from the
// source: untouched entities, preambles, delimiters and epilogues are written as the raw slices they were parsed from.
using System.Buffers;
using System.Text;

namespace Veil.Mail.Mime;

/// <summary>Edits to a parsed message that leave every byte outside the edited fields and bodies untouched.</summary>
/// <param name="message">The parsed message (from memory or a stream); its source must stay unchanged while the rewriter is used.</param>
public sealed class MimeRewriter(MimeMessage message)
{
    private readonly Dictionary<MimeEntity, byte[]> _bodies = [];
    private readonly Dictionary<MimeEntity, List<(string Name, string? Value)>> _headerEdits = [];
    private readonly HashSet<MimeEntity> _touched = [];

    /// <summary>The message being rewritten.</summary>
    public MimeMessage Message { get; } = message ?? throw new ArgumentNullException(nameof(message));

    /// <summary>
    /// Replaces an entity's body with <paramref name="content"/>, encoded in the entity's transfer encoding. A 7bit
    /// entity whose new content is not 7-bit clean, or a 7bit or 8bit entity with a line over 998 octets, is switched
    /// to quoted-printable (its header is updated). A 7bit or 8bit body is a sequence of lines (RFC 2045 §2.7, §2.8),
    /// so every line break in <paramref name="content"/> (CRLF, bare LF, bare CR) is written as the entity's line
    /// ending: new text from an HTML serialiser has bare LFs, which would otherwise reach the wire and break the
    /// message's DKIM signature.
    /// </summary>
    /// <param name="entity">A leaf entity of <see cref="Message"/>.</param>
    /// <param name="content">The new decoded content.</param>
    public void ReplaceContent(MimeEntity entity, ReadOnlySpan<byte> content)
    {
        CheckLeaf(entity);
        var eol = entity.LineEnding;
        var encoding = entity.TransferEncoding;
        if ((encoding == MimeTransferEncoding.SevenBit && !IsSevenBitClean(content))
            || (encoding == MimeTransferEncoding.EightBit && HasOverlongLine(content)))
        {
            encoding = MimeTransferEncoding.QuotedPrintable;
            SetHeader(entity, "Content-Transfer-Encoding", "quoted-printable");
        }

        var body = encoding switch
        {
            MimeTransferEncoding.Base64 => TransferEncodingCodec.EncodeBase64(content, eol),
            MimeTransferEncoding.QuotedPrintable => TransferEncodingCodec.EncodeQuotedPrintable(content, eol),
            MimeTransferEncoding.Other => throw new ArgumentException("The entity's transfer encoding cannot be written.", nameof(entity)),
            MimeTransferEncoding.SevenBit or MimeTransferEncoding.EightBit => WithLineEnding(content, eol),
            _ => content.ToArray(),
        };

        // The source body ended without a trailing line break before the next delimiter; base64/QP output ends
        // with one, which would add a blank line: drop it to keep the shape.
        if (encoding is MimeTransferEncoding.Base64 && body.AsSpan().EndsWith(Encoding.ASCII.GetBytes(eol)) && !EndsWith(entity, eol))
        {
            body = body[..^eol.Length];
        }

        _bodies[entity] = body;
        Touch(entity);
    }

    /// <summary>
    /// Replaces a text entity's body: encodes <paramref name="text"/> in the entity's charset (switching the
    /// charset parameter to utf-8 when that charset cannot represent the text), then in its transfer encoding.
    /// </summary>
    /// <param name="entity">A leaf entity of <see cref="Message"/>.</param>
    /// <param name="text">The new text.</param>
    public void ReplaceText(MimeEntity entity, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        CheckLeaf(entity);
        var charset = entity.ContentType["charset"];
        var encoding = MimeCharsets.GetEncoding(charset);
        byte[]? bytes = null;
        if (encoding is not null && encoding.CodePage != 20127)
        {
            try
            {
                bytes = Encoding.GetEncoding(encoding.CodePage, EncoderFallback.ExceptionFallback, DecoderFallback.ReplacementFallback).GetBytes(text);
            }
            catch (EncoderFallbackException)
            {
                bytes = null;
            }
        }
        else if (text.All(c => c < 128))
        {
            bytes = Encoding.ASCII.GetBytes(text);
        }

        if (bytes is null)
        {
            bytes = Encoding.UTF8.GetBytes(text);
            SetHeader(entity, "Content-Type", entity.ContentType.ToHeaderValue("charset", "utf-8"));
        }

        ReplaceContent(entity, bytes);
    }

    /// <summary>Sets a header field: replaces the first field of that name in place, or adds it after the last field.</summary>
    /// <param name="entity">An entity of <see cref="Message"/>.</param>
    /// <param name="name">Field name.</param>
    /// <param name="value">Unicode value; encoded (RFC 2047) and folded as needed.</param>
    public void SetHeader(MimeEntity entity, string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        Edits(entity).Add((name, value));
    }

    /// <summary>Removes every header field with this name.</summary>
    /// <param name="entity">An entity of <see cref="Message"/>.</param>
    /// <param name="name">Field name.</param>
    public void RemoveHeader(MimeEntity entity, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Edits(entity).Add((name, null));
    }

    /// <summary>The rewritten message.</summary>
    public byte[] ToArray()
    {
        using var output = new MemoryStream(Math.Min(Message.Length, int.MaxValue - 1024) + 1024);
        WriteTo(output);
        return output.ToArray();
    }

    /// <summary>
    /// Writes the rewritten message to <paramref name="destination"/>. Unmodified ranges are copied from the source
    /// through a bounded buffer, so a stream-parsed message is written without being held in memory.
    /// </summary>
    /// <param name="destination">Where to write.</param>
    public void WriteTo(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Write(Message.Root, destination);
        Message.SourceBytes.CopyTo(Message.Root.End, Message.Length, destination);
    }

    private List<(string Name, string? Value)> Edits(MimeEntity entity)
    {
        CheckOwned(entity);
        if (!_headerEdits.TryGetValue(entity, out var list))
        {
            list = [];
            _headerEdits[entity] = list;
        }

        Touch(entity);
        return list;
    }

    private void Touch(MimeEntity entity)
    {
        for (var e = entity; e is not null && _touched.Add(e); e = e.Parent)
        {
        }
    }

    private void CheckOwned(MimeEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var root = entity;
        while (root.Parent is not null)
        {
            root = root.Parent;
        }

        if (!ReferenceEquals(root, Message.Root))
        {
            throw new ArgumentException("The entity does not belong to this message.", nameof(entity));
        }
    }

    private void CheckLeaf(MimeEntity entity)
    {
        CheckOwned(entity);
        if (entity.IsMultipart || entity.EncapsulatedMessage is not null)
        {
            throw new ArgumentException("Only a leaf entity's body can be replaced.", nameof(entity));
        }
    }

    private static bool EndsWith(MimeEntity entity, string eol)
    {
        var start = Math.Max(entity.BodyStart, entity.End - eol.Length);
        return entity.Source.Peek(start, eol.Length, entity.End).SequenceEqual(Encoding.ASCII.GetBytes(eol));
    }

    /// <summary><paramref name="content"/> with every CRLF, bare LF and bare CR written as <paramref name="eol"/>.</summary>
    private static byte[] WithLineEnding(ReadOnlySpan<byte> content, string eol)
    {
        var ending = Encoding.ASCII.GetBytes(eol);
        var output = new ArrayBufferWriter<byte>(content.Length + 64);
        while (!content.IsEmpty)
        {
            var i = content.IndexOfAny((byte)'\r', (byte)'\n');
            if (i < 0)
            {
                output.Write(content);
                break;
            }

            output.Write(content[..i]);
            output.Write(ending);
            content = content[(content[i] == (byte)'\r' && i + 1 < content.Length && content[i + 1] == (byte)'\n' ? i + 2 : i + 1)..];
        }

        return output.WrittenSpan.ToArray();
    }

    private static bool HasOverlongLine(ReadOnlySpan<byte> content)
    {
        var lineLength = 0;
        foreach (var b in content)
        {
            lineLength = b is (byte)'\n' or (byte)'\r' ? 0 : lineLength + 1;
            if (lineLength > 998)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsSevenBitClean(ReadOnlySpan<byte> content)
    {
        var lineLength = 0;
        foreach (var b in content)
        {
            if (b >= 128 || b == 0)
            {
                return false;
            }

            lineLength = b == (byte)'\n' ? 0 : lineLength + 1;
            if (lineLength > 998)
            {
                return false;
            }
        }

        return true;
    }

    private void Write(MimeEntity entity, Stream output)
    {
        var source = entity.Source;
        if (!_touched.Contains(entity))
        {
            source.CopyTo(entity.Start, entity.End, output);
            return;
        }

        WriteHeaders(entity, output);
        source.CopyTo(entity.HeaderEnd, entity.BodyStart, output);
        if (_bodies.TryGetValue(entity, out var body))
        {
            output.Write(body);
            return;
        }

        var pos = entity.BodyStart;
        IEnumerable<MimeEntity> inner = entity.EncapsulatedMessage is { } m ? [m] : entity.Children;
        foreach (var child in inner)
        {
            source.CopyTo(pos, child.Start, output);
            Write(child, output);
            pos = child.End;
        }

        source.CopyTo(pos, entity.End, output);
    }

    private void WriteHeaders(MimeEntity entity, Stream output)
    {
        var source = entity.Source;
        if (!_headerEdits.TryGetValue(entity, out var edits))
        {
            source.CopyTo(entity.Start, entity.HeaderEnd, output);
            return;
        }

        // Last edit per name wins.
        var final = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in edits)
        {
            final[name] = value;
        }

        var eol = entity.LineEnding;
        var written = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pos = entity.Start;
        foreach (var header in entity.Headers)
        {
            // Bytes between fields (only skipped over-limit fields) are kept.
            source.CopyTo(pos, header.Offset, output);
            pos = header.Offset + header.Length;
            if (!final.TryGetValue(header.Name, out var value))
            {
                source.CopyTo(header.Offset, pos, output);
                continue;
            }

            if (value is not null && written.Add(header.Name))
            {
                output.Write(Encoding.UTF8.GetBytes(EncodedWords.EncodeHeaderField(header.Name, value, eol) + eol));
            }
        }

        source.CopyTo(pos, entity.HeaderEnd, output);
        foreach (var (name, value) in final)
        {
            if (value is not null && !written.Contains(name))
            {
                output.Write(Encoding.UTF8.GetBytes(EncodedWords.EncodeHeaderField(name, value, eol) + eol));
            }
        }
    }
}
