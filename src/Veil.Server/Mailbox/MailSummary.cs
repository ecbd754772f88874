// The listing summary of an inbound message (spec/mailbox-api.md "Summary"): sender, subject, date, a snippet of
// the text and the attachment names, read from the message with Veil's MIME parser at sealing time and sealed
// on its own, so a client lists a mailbox without fetching every message. The plaintext exists only in memory
// while the message is sealed.
// Version 2 adds the inbound authentication verdicts (SPF, DKIM, DMARC and the domains they concern): they are
// sealed here with the rest, so the server keeps no verdict in clear (it would say which senders an account hears
// from). Version 1 summaries (no "authentication") stay readable: clients treat the field as absent.
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Veil.Mail.Authentication;
using Veil.Mail.Mime;

namespace Veil.Server.Mailbox;

internal sealed partial record MailSummary(int V, string From, string Subject, string? Date, string Snippet, IReadOnlyList<string> Attachments)
{
    public const int SnippetLength = 200;

    /// <summary>The summary version that carries <see cref="Authentication"/>.</summary>
    public const int AuthenticatedVersion = 2;

    /// <summary>The SPF, DKIM and DMARC verdicts of the message as it arrived; null in version 1.</summary>
    public MailAuthenticationSummary? Authentication { get; init; }

    /// <summary>This summary with <paramref name="verdicts"/> recorded (version 2).</summary>
    public MailSummary WithAuthentication(InboundAuthentication verdicts) =>
        this with { V = AuthenticatedVersion, Authentication = MailAuthenticationSummary.From(verdicts) };

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

/// <summary>
/// The sealed form of <see cref="InboundAuthentication"/> (spec/mailbox-api.md "Summary"): results as the lowercase
/// RFC 8601 words (pass, fail, softfail, neutral, none, temperror, permerror), each with the domain it concerns.
/// </summary>
internal sealed record MailAuthenticationSummary(MailAuthenticationVerdict Spf, IReadOnlyList<MailAuthenticationVerdict> Dkim, MailAuthenticationVerdict Dmarc, string? DmarcPolicy)
{
    public static MailAuthenticationSummary From(InboundAuthentication verdicts)
    {
        ArgumentNullException.ThrowIfNull(verdicts);
        return new(
            new(Word(verdicts.Spf), verdicts.SpfDomain),
            [.. verdicts.Dkim.Select(d => new MailAuthenticationVerdict(Word(d.Status), d.Domain))],
            new(Word(verdicts.Dmarc), verdicts.FromDomain),
            verdicts.DmarcPolicy);
    }

    /// <summary>What is recorded when the checks could not finish (DNS slower than the budget): temperror, never fail.</summary>
    public static MailAuthenticationSummary Unfinished { get; } = new(new("temperror", null), [], new("temperror", null), null);

    private static string Word<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}

/// <summary>One verdict: the result word and the domain it is about (null when there is none).</summary>
internal sealed record MailAuthenticationVerdict(string Result, string? Domain);
