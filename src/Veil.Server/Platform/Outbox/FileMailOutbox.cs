// Development outbox: each message becomes an RFC 5322 .eml file in <data>/outbox/, so a developer
// can open the magic link a flow sent; parts are 8bit UTF-8, readable as is (not base64). Written through
// OutboxFiles, so a reader never sees half a message. The log names the file only: the address and subject are personal data.
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Diagnostics;

namespace Veil.Server.Platform.Outbox;

internal sealed partial class FileMailOutbox(
    string directory,
    IOptions<OutboxOptions> options,
    TimeProvider time,
    VeilMetrics metrics,
    ILogger<FileMailOutbox> logger) : IMailOutbox
{
    public string Directory { get; } = directory;

    public async Task SendAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = time.GetUtcNow();
        var id = message.OutboxId is { } given ? OutboxFiles.CheckId(given) : OutboxFiles.NewId();
        var content = Encoding.UTF8.GetBytes(MessageWriter.Write(message, options.Value.From, now, id));
        // A message handed over again under its own id replaces the file it wrote before (same name): one file per id.
        var existing = message.OutboxId is null ? null : OutboxFiles.Find(Directory, id);
        var fileName = await OutboxFiles.WriteAsync(Directory, now, id, (file, token) => file.WriteAsync(content, token).AsTask(), cancellationToken, existing);

        metrics.OutboxMessage();
        LogWritten(logger, fileName);
    }

    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Outbox: wrote {FileName}")]
    private static partial void LogWritten(ILogger logger, string fileName);
}

/// <summary>Renders an OutboxMessage as RFC 5322 / MIME text with CRLF line ends.</summary>
internal static class MessageWriter
{
    public static string Write(OutboxMessage message, string from, DateTimeOffset date, string id)
    {
        var text = new StringBuilder();
        Header(text, "From", from);
        Header(text, "To", message.To);
        Header(text, "Subject", EncodeWord(message.Subject));
        Header(text, "Date", date.ToString("ddd, dd MMM yyyy HH':'mm':'ss '+0000'", CultureInfo.InvariantCulture));
        Header(text, "Message-ID", $"<{id}@veil.outbox>");
        Header(text, "MIME-Version", "1.0");
        foreach (var (name, value) in message.Headers)
        {
            if (name.Length == 0 || name.Any(c => c is <= ' ' or > '~' or ':'))
            {
                throw new ArgumentException("A header name is printable ASCII without ':' or spaces.", nameof(message));
            }

            Header(text, name, value);
        }

        if (message.HtmlBody is null)
        {
            Part(text, "text/plain; charset=utf-8", message.TextBody);
        }
        else
        {
            var boundary = "=_veil_" + id;
            Header(text, "Content-Type", $"multipart/alternative; boundary=\"{boundary}\"");
            text.Append("\r\n");
            text.Append("--").Append(boundary).Append("\r\n");
            Part(text, "text/plain; charset=utf-8", message.TextBody);
            text.Append("--").Append(boundary).Append("\r\n");
            Part(text, "text/html; charset=utf-8", message.HtmlBody);
            text.Append("--").Append(boundary).Append("--\r\n");
        }

        return text.ToString();
    }

    /// <summary>
    /// A part a developer can read in any editor: 8bit UTF-8 text with CRLF lines (a link stays whole on its line,
    /// which quoted-printable's soft breaks would split); quoted-printable only when a line would exceed RFC 5322's 998
    /// octets. The line break that ends the body belongs to the next delimiter (RFC 2046 §5.1.1), so one is always added.
    /// </summary>
    private static void Part(StringBuilder text, string contentType, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ReplaceLineEndings("\r\n"));
        var longLine = body.ReplaceLineEndings("\n").Split('\n').Any(line => Encoding.UTF8.GetByteCount(line) > 998);
        Header(text, "Content-Type", contentType);
        Header(text, "Content-Transfer-Encoding", longLine ? "quoted-printable" : "8bit");
        text.Append("\r\n");
        text.Append(longLine ? Encoding.ASCII.GetString(Veil.Mail.Mime.TransferEncodingCodec.EncodeQuotedPrintable(bytes)) : Encoding.UTF8.GetString(bytes));
        text.Append("\r\n");
    }

    private static void Header(StringBuilder text, string name, string value)
    {
        // A CR or LF in a value would let it start a new header (header injection).
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException($"The {name} header must not contain CR or LF.", nameof(value));
        }

        text.Append(name).Append(": ").Append(value).Append("\r\n");
    }

    // RFC 2047 encoded-word for non-ASCII subjects.
    private static string EncodeWord(string value) =>
        value.All(c => c is >= ' ' and <= '~') ? value : "=?utf-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes(value)) + "?=";
}
