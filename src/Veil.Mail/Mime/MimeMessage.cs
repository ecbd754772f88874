// A parsed message (RFC 5322 + MIME). Parsing never throws on any input; problems are reported as Defects.
// The body structure follows RFC 8621 §4.1.4 (JMAP's textBody/htmlBody/attachments algorithm), which is also
// what the corpus oracles (stalwart mail-parser) implement.
namespace Veil.Mail.Mime;

/// <summary>A parsed message: the top-level entity, the defects found, and the source it slices.</summary>
public sealed class MimeMessage
{
    private readonly MimeSource _source;

    private MimeMessage(MimeSource source, MimeEntity root, IReadOnlyList<MimeDefect> defects, MimeLimits limits)
    {
        _source = source;
        Root = root;
        Defects = defects;
        Limits = limits;
    }

    /// <summary>
    /// The bytes this message was parsed from (not copied: keep them unchanged while the message is used).
    /// A message parsed from a stream has none in memory: see <see cref="IsStreamed"/>, use
    /// <see cref="MimeRewriter.WriteTo(Stream)"/> or <see cref="MimeEntity.OpenRawBody"/> instead.
    /// </summary>
    /// <exception cref="InvalidOperationException">The message was parsed from a stream.</exception>
    public ReadOnlyMemory<byte> Source => _source.Memory ?? throw new InvalidOperationException("A message parsed from a stream has no in-memory source.");

    /// <summary>True when the message was parsed from a stream and reads its bytes from there on demand.</summary>
    public bool IsStreamed => _source.Memory is null;

    /// <summary>Length of the source in bytes.</summary>
    public int Length => _source.Length;

    internal MimeSource SourceBytes => _source;

    /// <summary>The top-level entity.</summary>
    public MimeEntity Root { get; }

    /// <summary>Defects found while parsing, in source order of discovery (at most 1,000).</summary>
    public IReadOnlyList<MimeDefect> Defects { get; }

    /// <summary>The limits the message was parsed with.</summary>
    public MimeLimits Limits { get; }

    /// <summary>Parses a message. Never throws for any input: malformed structure and exceeded limits become defects.</summary>
    /// <param name="source">The raw message (CRLF or bare LF line endings).</param>
    /// <param name="limits">Bounds; <see cref="MimeLimits.Default"/> when null.</param>
    public static MimeMessage Parse(ReadOnlyMemory<byte> source, MimeLimits? limits = null)
    {
        return Parse(new MemoryMimeSource(source), limits);
    }

    /// <summary>
    /// Parses a message from a seekable stream (a spool file) without holding its bodies: the parser reads through a
    /// 64 KiB window and keeps header fields (bounded by <paramref name="limits"/>) and part offsets; bodies are read
    /// from the stream only when asked for (<see cref="MimeEntity.OpenRawBody"/>, <see cref="MimeEntity.RawBody"/>,
    /// <see cref="MimeRewriter.WriteTo(Stream)"/>). The message covers the stream from its current position to its
    /// end. The stream is not disposed and must stay open and unchanged while the message is used; the message uses
    /// the stream's position, so it is not thread-safe. Never throws for malformed content.
    /// </summary>
    /// <param name="source">A readable, seekable stream of less than 2 GiB from its position.</param>
    /// <param name="limits">Bounds; <see cref="MimeLimits.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The stream is not readable and seekable, or 2 GiB or longer.</exception>
    public static MimeMessage Parse(Stream source, MimeLimits? limits = null) => Parse(new StreamMimeSource(source), limits);

    private static MimeMessage Parse(MimeSource source, MimeLimits? limits)
    {
        limits ??= MimeLimits.Default;
        var parser = new MimeParser(source, limits);
        var root = parser.ParseRoot();
        return new MimeMessage(source, root, parser.Defects, limits);
    }

    /// <summary>
    /// Classifies the leaf parts as RFC 8621 §4.1.4 does: text/plain and text/html bodies, and attachments.
    /// Encapsulated messages are attachments; their parts are not descended into.
    /// </summary>
    public MimeBodyStructure GetBodyStructure()
    {
        var text = new List<MimeEntity>();
        var html = new List<MimeEntity>();
        var attachments = new List<MimeEntity>();
        Walk([Root], "mixed", false, text, html, attachments);
        return new MimeBodyStructure(text ?? [], html ?? [], attachments);
    }

    private static void Walk(IReadOnlyList<MimeEntity> parts, string multipartType, bool inAlternative, List<MimeEntity>? text, List<MimeEntity>? html, List<MimeEntity> attachments)
    {
        var textLength = text?.Count ?? -1;
        var htmlLength = html?.Count ?? -1;
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            var type = part.ContentType.Value;
            var inlineMedia = type.StartsWith("image/", StringComparison.Ordinal) || type.StartsWith("audio/", StringComparison.Ordinal) || type.StartsWith("video/", StringComparison.Ordinal);
            var isInline = !part.IsAttachmentDisposition
                && (type is "text/plain" or "text/html" || inlineMedia)
                && (i == 0 || (multipartType != "related" && (inlineMedia || part.FileName is null)));
            if (part.IsMultipart)
            {
                var sub = part.ContentType.MediaSubtype;
                Walk(part.Children, sub, inAlternative || sub == "alternative", text, html, attachments);
            }
            else if (isInline)
            {
                if (multipartType == "alternative")
                {
                    (type switch { "text/plain" => text, "text/html" => html, _ => attachments })?.Add(part);
                    continue;
                }

                if (inAlternative)
                {
                    if (type == "text/plain")
                    {
                        html = null;
                    }

                    if (type == "text/html")
                    {
                        text = null;
                    }
                }

                text?.Add(part);
                html?.Add(part);
                if ((text is null || html is null) && inlineMedia)
                {
                    attachments.Add(part);
                }
            }
            else
            {
                attachments.Add(part);
            }
        }

        if (multipartType == "alternative" && text is not null && html is not null)
        {
            if (textLength == text.Count && htmlLength != html.Count)
            {
                text.AddRange(html.Skip(htmlLength));
            }

            if (htmlLength == html.Count && textLength != text.Count)
            {
                html.AddRange(text.Skip(textLength));
            }
        }
    }
}

/// <summary>The RFC 8621 reading of a message: which parts to show as text, as HTML, and which are attachments.</summary>
/// <param name="TextBody">Parts to show when displaying as plain text.</param>
/// <param name="HtmlBody">Parts to show when displaying as HTML.</param>
/// <param name="Attachments">Everything else (and inline media when no rich body shows it).</param>
public sealed record MimeBodyStructure(IReadOnlyList<MimeEntity> TextBody, IReadOnlyList<MimeEntity> HtmlBody, IReadOnlyList<MimeEntity> Attachments);
