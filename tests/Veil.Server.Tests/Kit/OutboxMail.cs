using System.Text;

namespace Veil.Server.Tests.Kit;

/// <summary>A message read back from the development outbox, parsed just enough to assert on (RFC 5322 headers, base64 MIME parts).</summary>
public sealed record OutboxMail(string FileName, IReadOnlyDictionary<string, string> Headers, string TextBody, string? HtmlBody)
{
    public static OutboxMail Parse(string fileName, string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var (headers, body) = SplitHeaders(raw);
        var contentType = headers.GetValueOrDefault("Content-Type") ?? "text/plain";
        if (!contentType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            return new OutboxMail(fileName, headers, DecodePart(headers, body), null);
        }

        var boundary = contentType.Split("boundary=")[1].Trim('"');
        string? text = null, html = null;
        foreach (var part in body.Split("--" + boundary).Skip(1))
        {
            if (part.StartsWith("--", StringComparison.Ordinal))
            {
                break;
            }

            var (partHeaders, partBody) = SplitHeaders(part.TrimStart('\r', '\n'));
            var decoded = DecodePart(partHeaders, partBody);
            if (partHeaders["Content-Type"].StartsWith("text/html", StringComparison.OrdinalIgnoreCase))
            {
                html = decoded;
            }
            else
            {
                text = decoded;
            }
        }

        return new OutboxMail(fileName, headers, text ?? string.Empty, html);
    }

    private static (Dictionary<string, string> Headers, string Body) SplitHeaders(string raw)
    {
        var end = raw.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            throw new FormatException("No blank line between headers and body (or lines not CRLF-terminated).");
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        // Unfolded (a forwarded copy's DKIM-Signature is folded); the first field of a name wins (Received repeats).
        foreach (var line in raw[..end].Replace("\r\n ", " ", StringComparison.Ordinal).Replace("\r\n\t", " ", StringComparison.Ordinal).Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new FormatException($"Malformed header line '{line}'.");
            }

            headers.TryAdd(line[..colon], line[(colon + 1)..].Trim());
        }

        return (headers, raw[(end + 4)..]);
    }

    private static string DecodePart(Dictionary<string, string> headers, string body)
    {
        var encoding = headers.GetValueOrDefault("Content-Transfer-Encoding")?.ToLowerInvariant();
        if (encoding == "base64")
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(body.Replace("\r\n", string.Empty, StringComparison.Ordinal)));
        }

        // The line break before the next delimiter (or the end) belongs to the MIME structure, not the text.
        var text = body.EndsWith("\r\n", StringComparison.Ordinal) ? body[..^2] : body;
        return encoding == "quoted-printable"
            ? Encoding.UTF8.GetString(Veil.Mail.Mime.TransferEncodingCodec.DecodeQuotedPrintable(Encoding.ASCII.GetBytes(text), out _))
            : text;
    }
}
