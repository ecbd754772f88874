// The listing summary of an inbound message (spec/mailbox-api.md "Summary"): sender, subject, date, a snippet of
// the text and the attachment names, read from the message with Veil's MIME parser at sealing time and sealed
// on its own, so a client lists a mailbox without fetching every message. The plaintext exists only in memory
// while the message is sealed.
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Veil.Mail.Mime;

namespace Veil.Server.Mailbox;

internal sealed partial record MailSummary(int V, string From, string Subject, string? Date, string Snippet, IReadOnlyList<string> Attachments)
{
    public const int SnippetLength = 200;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads the summary of <paramref name="message"/> (a seekable stream at the message start).</summary>
    public static (MailSummary Summary, string? MessageId) Read(Stream message)
    {
        var parsed = MimeMessage.Parse(message);
        var root = parsed.Root;
        string Header(string name) => root.GetHeader(name)?.DecodedValue.Trim() ?? "";
        var structure = parsed.GetBodyStructure();
        string snippet = "";
        if (structure.TextBody.FirstOrDefault(p => p.ContentType.MediaSubtype == "plain") is { } text)
        {
            snippet = text.GetText();
        }
        else if (structure.HtmlBody.Count > 0 && structure.HtmlBody[0] is { } html)
        {
            snippet = Tags().Replace(html.GetText(), " ");
        }

        snippet = Spaces().Replace(snippet, " ").Trim();
        if (snippet.Length > SnippetLength)
        {
            snippet = snippet[..SnippetLength];
        }

        var attachments = structure.Attachments.Select(a => a.FileName).OfType<string>().Select(EncodedWords.Decode).ToList();
        var messageId = root.GetHeader("Message-ID")?.Value.Trim();
        var date = root.GetHeader("Date")?.Value.Trim();
        return (new MailSummary(1, Header("From"), Header("Subject"), date, snippet, attachments), string.IsNullOrEmpty(messageId) ? null : messageId);
    }

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();

    [GeneratedRegex("\\s+")]
    private static partial Regex Spaces();
}
