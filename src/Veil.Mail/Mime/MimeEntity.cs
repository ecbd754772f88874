namespace Veil.Mail.Mime;

/// <summary>
/// One MIME entity: a header block and a body, which is a leaf, a multipart (children) or an encapsulated
/// message. Every entity is a range of the parsed source, so it can be written back unchanged; for a message
/// parsed from a stream, the bytes are read from the stream only when asked for.
/// </summary>
public sealed class MimeEntity
{
    private readonly MimeSource _source;
    private readonly List<MimeEntity> _children = [];

    internal MimeEntity(MimeSource source, int start, int headerEnd, int bodyStart, int end, List<MimeHeader> headers, MimeEntity? parent)
    {
        _source = source;
        Start = start;
        HeaderEnd = headerEnd;
        BodyStart = bodyStart;
        End = end;
        Headers = headers;
        Parent = parent;
        ContentType = MimeParameterizedValue.ParseContentType(null, "text/plain");
    }

    /// <summary>Header fields in source order (at most <see cref="MimeLimits.MaxHeaderCount"/>).</summary>
    public IReadOnlyList<MimeHeader> Headers { get; }

    /// <summary>The Content-Type, or the default for the context (text/plain; message/rfc822 inside multipart/digest).</summary>
    public MimeParameterizedValue ContentType { get; internal set; }

    /// <summary>The Content-Disposition, if present.</summary>
    public MimeParameterizedValue? ContentDisposition { get; internal set; }

    /// <summary>The Content-Transfer-Encoding (an unknown value reads as 8bit and is reported as a defect).</summary>
    public MimeTransferEncoding TransferEncoding { get; internal set; }

    /// <summary>The parts of a multipart, in order; empty otherwise.</summary>
    public IReadOnlyList<MimeEntity> Children => _children;

    /// <summary>The encapsulated message of a message/rfc822 (or message/global) entity, or null.</summary>
    public MimeEntity? EncapsulatedMessage { get; internal set; }

    /// <summary>The enclosing entity, or null for the top level.</summary>
    public MimeEntity? Parent { get; }

    /// <summary>True when this entity's children were parsed (a multipart with a boundary found).</summary>
    public bool IsMultipart => _children.Count > 0;

    /// <summary>Byte offset of the entity in the source.</summary>
    public int Start { get; }

    /// <summary>Offset just after the last header field (where the separator line, if any, begins).</summary>
    public int HeaderEnd { get; }

    /// <summary>Offset of the first body byte.</summary>
    public int BodyStart { get; }

    /// <summary>Offset just past the entity's last byte (before the line break that belongs to a following delimiter).</summary>
    public int End { get; }

    /// <summary>The entity's raw bytes: headers, separator and body (read into a new array for a stream-parsed message).</summary>
    public ReadOnlyMemory<byte> Raw => _source.Slice(Start, End);

    /// <summary>The raw, still transfer-encoded body (read into a new array for a stream-parsed message).</summary>
    public ReadOnlyMemory<byte> RawBody => _source.Slice(BodyStart, End);

    /// <summary>
    /// A read-only, seekable stream over the raw (still transfer-encoded) body, read from the source as it is read,
    /// so a large part of a stream-parsed message is never held in memory. Not thread-safe; shares the source stream.
    /// </summary>
    public Stream OpenRawBody() => new MimeRangeStream(_source, BodyStart, End);

    /// <summary>The disposition's filename, or the Content-Type's name parameter, decoded; null when neither is present.</summary>
    public string? FileName => ContentDisposition?["filename"] ?? ContentType["name"];

    /// <summary>True when Content-Disposition says attachment.</summary>
    public bool IsAttachmentDisposition => ContentDisposition?.Value == "attachment";

    /// <summary>The line ending this entity's header block uses ("\r\n" unless its first line ends with a bare LF).</summary>
    public string LineEnding
    {
        get
        {
            var lf = _source.IndexOfLineFeed(Start, End);
            return lf > Start && _source[lf - 1] == (byte)'\r' ? "\r\n" : lf >= 0 ? "\n" : "\r\n";
        }
    }

    internal MimeSource Source => _source;

    /// <summary>The first header field with this name (case-insensitive), or null.</summary>
    /// <param name="name">Field name.</param>
    public MimeHeader? GetHeader(string name)
    {
        foreach (var header in Headers)
        {
            if (header.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return header;
            }
        }

        return null;
    }

    /// <summary>The body with its transfer encoding removed (base64 and quoted-printable decoded; others as is).</summary>
    public byte[] DecodeContent() => DecodeContent(out _);

    /// <summary>The body with its transfer encoding removed; <paramref name="clean"/> is false when garbage was skipped.</summary>
    /// <param name="clean">False when the encoded body had defects.</param>
    public byte[] DecodeContent(out bool clean)
    {
        clean = true;
        if (TransferEncoding is not (MimeTransferEncoding.Base64 or MimeTransferEncoding.QuotedPrintable))
        {
            if (_source.Memory is null)
            {
                // RawBody of a streamed message is already a fresh copy; read straight into the result instead.
                var copy = new byte[End - BodyStart];
                _source.Read(BodyStart, copy);
                return copy;
            }

            return RawBody.ToArray();
        }

        if (_source.Memory is not null)
        {
            return Decode(RawBody.Span, out clean);
        }

        // A streamed message would copy the encoded body into a new array only to decode and drop it: read it into a
        // pooled buffer instead, so decoding allocates just its result.
        var length = End - BodyStart;
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        try
        {
            _source.Read(BodyStart, rented.AsSpan(0, length));
            return Decode(rented.AsSpan(0, length), out clean);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private byte[] Decode(ReadOnlySpan<byte> raw, out bool clean) => TransferEncoding == MimeTransferEncoding.Base64
        ? TransferEncodingCodec.DecodeBase64(raw, out clean)
        : TransferEncodingCodec.DecodeQuotedPrintable(raw, out clean);

    /// <summary>The decoded body as text in its declared charset (see <see cref="MimeCharsets.Decode"/>). Never throws.</summary>
    public string GetText() => MimeCharsets.Decode(DecodeContent(), ContentType["charset"], out _);

    /// <summary>This entity and all below it, depth first, including encapsulated messages.</summary>
    public IEnumerable<MimeEntity> DescendantsAndSelf()
    {
        var stack = new Stack<MimeEntity>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var entity = stack.Pop();
            yield return entity;
            if (entity.EncapsulatedMessage is not null)
            {
                stack.Push(entity.EncapsulatedMessage);
            }

            for (var i = entity._children.Count - 1; i >= 0; i--)
            {
                stack.Push(entity._children[i]);
            }
        }
    }

    internal void AddChild(MimeEntity child) => _children.Add(child);
}
