// The bounded MIME parser (RFC 5322 §2.1–2.2, RFC 2045 §3–6, RFC 2046 §5.1). One pass per nesting level over the
// byte source; no copies of bodies. Tolerates bare LF, missing separators and boundaries (reported as defects)
// and stops descending at the configured limits. It never throws on any input.
//
// Streaming: the parser reads the source only through MimeSource windows and peeks of at most PeekLimit bytes per
// line, so over a stream it holds one 64 KiB window, the header fields (each bounded by MaxHeaderLineLength, at most
// MaxHeaderCount per entity) and the entity tree (at most MaxParts); bodies are offsets, never buffered. A line is
// classified by its first PeekLimit bytes (a field name or a boundary delimiter longer than that is not recognised),
// the same way for memory and stream sources, so both parse any input to the same tree.
namespace Veil.Mail.Mime;

internal sealed class MimeParser(MimeSource source, MimeLimits limits)
{
    private readonly List<MimeDefect> _defects = [];
    private readonly HashSet<MimeDefectKind> _onceKinds = [];
    private int _parts;

    internal IReadOnlyList<MimeDefect> Defects => _defects;

    internal MimeEntity ParseRoot()
    {
        var bareLineFeed = source.IndexOfBareLineFeed();
        if (bareLineFeed >= 0)
        {
            Report(MimeDefectKind.BareLineFeed, bareLineFeed);
        }

        var tooBig = source.Length > limits.MaxTotalSize;
        if (tooBig)
        {
            Report(MimeDefectKind.TotalSizeExceeded, 0);
        }

        return ParseEntity(0, source.Length, 0, "text/plain", null, descend: !tooBig);
    }

    private void Report(MimeDefectKind kind, int offset, bool once = false)
    {
        if (once && !_onceKinds.Add(kind))
        {
            return;
        }

        if (_defects.Count < 1000)
        {
            _defects.Add(new MimeDefect(kind, offset));
        }
    }

    private MimeEntity ParseEntity(int start, int end, int depth, string defaultType, MimeEntity? parent, bool descend = true)
    {
        _parts++;
        var headers = ParseHeaders(start, end, out var headerEnd, out var bodyStart);
        var entity = new MimeEntity(source, start, headerEnd, bodyStart, end, headers, parent);
        var contentType = entity.GetHeader("Content-Type");
        entity.ContentType = MimeParameterizedValue.ParseContentType(contentType?.Value, defaultType);
        if (!entity.ContentType.IsValid)
        {
            Report(MimeDefectKind.InvalidContentType, contentType?.Offset ?? start);
        }

        var disposition = entity.GetHeader("Content-Disposition");
        if (disposition is not null)
        {
            entity.ContentDisposition = MimeParameterizedValue.ParseDisposition(disposition.Value);
        }

        var cte = entity.GetHeader("Content-Transfer-Encoding");
        entity.TransferEncoding = TransferEncodingCodec.Parse(cte?.Value, out var cteValid);
        if (!cteValid)
        {
            Report(MimeDefectKind.InvalidTransferEncoding, cte?.Offset ?? start);
        }

        if (!descend)
        {
            return entity;
        }

        var type = entity.ContentType;
        var identity = entity.TransferEncoding is MimeTransferEncoding.SevenBit or MimeTransferEncoding.EightBit or MimeTransferEncoding.Binary;
        if (type.MediaType == "multipart")
        {
            var boundary = type["boundary"];
            if (string.IsNullOrEmpty(boundary))
            {
                Report(MimeDefectKind.NoBoundaryInMultipart, contentType?.Offset ?? start);
            }
            else if (depth >= limits.MaxDepth)
            {
                Report(MimeDefectKind.DepthLimitExceeded, bodyStart);
            }
            else
            {
                ParseMultipart(entity, boundary, depth, type.MediaSubtype == "digest" ? "message/rfc822" : "text/plain");
            }
        }
        else if (type.Value is "message/rfc822" or "message/global" && identity && bodyStart < end)
        {
            if (depth >= limits.MaxDepth)
            {
                Report(MimeDefectKind.DepthLimitExceeded, bodyStart);
            }
            else if (_parts >= limits.MaxParts)
            {
                Report(MimeDefectKind.PartLimitExceeded, bodyStart, once: true);
            }
            else
            {
                entity.EncapsulatedMessage = ParseEntity(bodyStart, end, depth + 1, "text/plain", entity);
            }
        }

        return entity;
    }

    private List<MimeHeader> ParseHeaders(int start, int end, out int headerEnd, out int bodyStart)
    {
        var headers = new List<MimeHeader>();
        var pos = start;
        var fieldStart = -1;
        var fieldNameLength = 0;
        var countReported = false;

        void Close(int fieldEnd)
        {
            if (fieldStart < 0)
            {
                return;
            }

            if (headers.Count >= limits.MaxHeaderCount)
            {
                if (!countReported)
                {
                    Report(MimeDefectKind.HeaderCountLimitExceeded, fieldStart);
                    countReported = true;
                }
            }
            else
            {
                if (fieldEnd - fieldStart > limits.MaxHeaderLineLength)
                {
                    Report(MimeDefectKind.HeaderLineTooLong, fieldStart);
                }

                var name = MimeHeader.AsciiName(source.Peek(fieldStart, fieldNameLength, fieldEnd));

                // A stream source copies the field, so a hostile field is cut where its value stops being read:
                // the name and colon lie within the first PeekLimit bytes, the value is read up to the limit.
                var kept = source.Memory is null ? Math.Min(fieldEnd, fieldStart + MimeSource.PeekLimit + limits.MaxHeaderLineLength) : fieldEnd;
                headers.Add(new MimeHeader(name, source.Slice(fieldStart, kept), fieldStart, fieldEnd - fieldStart, limits.MaxHeaderLineLength));
            }

            fieldStart = -1;
        }

        while (pos < end)
        {
            var lf = source.IndexOfLineFeed(pos, end);
            var next = lf < 0 ? end : lf + 1;
            var lineEnd = lf < 0 ? end : lf;
            if (lineEnd > pos && source[lineEnd - 1] == (byte)'\r')
            {
                lineEnd--;
            }

            if (lineEnd == pos)
            {
                Close(pos);
                headerEnd = pos;
                bodyStart = next;
                return headers;
            }

            var line = source.Peek(pos, MimeSource.PeekLimit, lineEnd);
            if (line[0] is (byte)' ' or (byte)'\t')
            {
                if (fieldStart >= 0)
                {
                    pos = next;
                    continue;
                }

                Report(MimeDefectKind.FirstHeaderLineIsContinuation, pos);
                headerEnd = pos;
                bodyStart = pos;
                return headers;
            }

            var nameLength = FieldNameLength(line);
            if (nameLength < 0)
            {
                // Not a header field: the header block ended without its empty separator line.
                Close(pos);
                Report(MimeDefectKind.MissingHeaderBodySeparator, pos);
                headerEnd = pos;
                bodyStart = pos;
                return headers;
            }

            Close(pos);
            fieldStart = pos;
            fieldNameLength = nameLength;
            pos = next;
        }

        Close(end);
        headerEnd = end;
        bodyStart = end;
        return headers;
    }

    /// <summary>Length of the field name if the line is "name[WSP]:…", else -1.</summary>
    private static int FieldNameLength(ReadOnlySpan<byte> line)
    {
        var i = 0;
        while (i < line.Length && line[i] > 32 && line[i] < 127 && line[i] != (byte)':')
        {
            i++;
        }

        if (i == 0)
        {
            return -1;
        }

        var nameEnd = i;
        while (i < line.Length && line[i] is (byte)' ' or (byte)'\t')
        {
            i++;
        }

        return i < line.Length && line[i] == (byte)':' ? nameEnd : -1;
    }

    private void ParseMultipart(MimeEntity entity, string boundary, int depth, string childDefault)
    {
        // A delimiter line is one that starts with "--boundary" (RFC 2046 §5.1.1). Rather than classify every line of
        // the body, search for the delimiter itself (vectorised; '-' never occurs in base64) and check that each hit
        // starts a line. A delimiter containing LF could never fit on one line, and one longer than PeekLimit is not
        // recognised (see the header comment), so neither is searched for.
        var delimiter = System.Text.Encoding.UTF8.GetBytes("--" + boundary);
        var searchable = delimiter.Length <= MimeSource.PeekLimit && !delimiter.AsSpan().Contains((byte)'\n');
        var end = entity.End;
        var bodyStart = entity.BodyStart;
        var pos = bodyStart;
        var partStart = -1;
        var closed = false;
        while (searchable && pos < end)
        {
            var at = source.IndexOf(delimiter, pos, end);
            if (at < 0)
            {
                break;
            }

            var lf = source.IndexOfLineFeed(at, end);
            var next = lf < 0 ? end : lf + 1;
            var lineEnd = lf < 0 ? end : lf;
            if ((at > bodyStart && source[at - 1] != (byte)'\n') || !IsDelimiterTail(at + delimiter.Length, lineEnd, out var isClose))
            {
                pos = next;
                continue;
            }

            if (partStart >= 0)
            {
                if (!AddPart(entity, partStart, LineStartBeforeBreak(partStart, at), depth, childDefault))
                {
                    return;
                }
            }

            if (isClose)
            {
                closed = true;
                break;
            }

            partStart = next;
            pos = next;
        }

        if (partStart < 0)
        {
            Report(MimeDefectKind.StartBoundaryNotFound, entity.BodyStart);
            return;
        }

        if (!closed)
        {
            Report(MimeDefectKind.CloseBoundaryNotFound, end);
            AddPart(entity, partStart, end, depth, childDefault);
        }
    }

    private bool AddPart(MimeEntity entity, int start, int end, int depth, string childDefault)
    {
        if (_parts >= limits.MaxParts)
        {
            Report(MimeDefectKind.PartLimitExceeded, start, once: true);
            return false;
        }

        entity.AddChild(ParseEntity(start, Math.Max(start, end), depth + 1, childDefault, entity));
        return true;
    }

    /// <summary>The CRLF (or LF) before a delimiter line belongs to the delimiter (RFC 2046 §5.1.1).</summary>
    private int LineStartBeforeBreak(int partStart, int delimiterLine)
    {
        var end = delimiterLine;
        if (end > partStart && source[end - 1] == (byte)'\n')
        {
            end--;
            if (end > partStart && source[end - 1] == (byte)'\r')
            {
                end--;
            }
        }

        return end;
    }

    /// <summary>True when [start, end) is "--"? followed only by SP, TAB or CR; scanned window by window.</summary>
    private bool IsDelimiterTail(int start, int end, out bool isClose)
    {
        isClose = source.Peek(start, 2, end).SequenceEqual("--"u8);
        for (var pos = isClose ? start + 2 : start; pos < end;)
        {
            var window = source.Window(pos, end);
            if (window.IndexOfAnyExcept((byte)' ', (byte)'\t', (byte)'\r') >= 0)
            {
                return false;
            }

            pos += window.Length;
        }

        return true;
    }
}
