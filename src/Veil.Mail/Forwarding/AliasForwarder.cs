// Rewrites a message received for an alias into the message forwarded to the alias's real mailbox.
//   - From: the first mailbox becomes the contact's reverse alias, its display name showing who wrote
//     ("Jane Doe – jane at example.com"), so a plain reply goes back through Veil and never from the real mailbox
//     straight to the sender. Written as RFC 2047 UTF-8 encoded words (the en dash makes it non-ASCII).
//   - Reply-To: each mailbox the same way, with the reverse alias the caller made for that address; a mailbox with
//     no reverse alias is dropped (a raw address would invite a reply that reveals the real mailbox), and the field
//     is removed when none is left. Duplicate From/Reply-To fields collapse into one.
//   - Trackers: TrackerStripper on every inline HTML part outside multipart/signed (Html/TrackerStripper.cs), and a header
//     "X-Veil-Trackers-Removed: <count>[; host, host]" (count = every removal, images and link parameters; hosts =
//     the distinct hosts of removed images). A copy of that header arriving from outside is removed first.
//   - DKIM-Signature, ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results are removed. The From field is
//     always signed, so after the rewrite the sender's signatures can only fail, and a broken ARC chain is judged
//     "fail" by the next hop; the forwarded message is vouched for by Veil's own DKIM signature (DkimSigner) for the
//     alias domain, whose From it now carries.
//   - List-Unsubscribe: each mailto: URI whose address has a reverse alias (ForwardOptions.ReverseUnsubscribe) gets
//     that reverse alias instead (its ?subject=… and other fields kept), so unsubscribing by mail from the real
//     mailbox goes out through Veil as a reply from the alias and never shows the real address; https: URIs and the
//     rest of the field are kept as sent. Without reverse aliases the field is kept byte for byte.
//   - Everything else is kept byte for byte: Message-ID, References, In-Reply-To, Sender, To, Cc,
//     Received, every text part other than changed HTML, every attachment.
//   - Line endings: the result is canonical CRLF (Mime/LineEndings.cs), whatever part was rewritten and whatever the
//     input used, so Veil's DKIM signature verifies and a strict next hop (one refusing bare LF, as Veil's own SMTP
//     listener does) takes it.
// Limits: To and Cc are not rewritten, so a reply-all from the real mailbox reaches the other recipients directly;
// they are the sender's own data that the user may need as is.
using System.Text;
using Veil.Mail.Html;
using Veil.Mail.Mime;

namespace Veil.Mail.Forwarding;

/// <summary>The sender addresses of an incoming message, read before forwarding so the caller can create contacts.</summary>
/// <param name="From">The first From mailbox, or null when the message has none that parses.</param>
/// <param name="ReplyTo">The Reply-To mailboxes (empty when absent).</param>
/// <param name="UnsubscribeMailboxes">The addresses of List-Unsubscribe mailto: URIs, percent-decoded, in lower case (empty when none).</param>
public sealed record OriginalSenders(MailboxAddress? From, IReadOnlyList<MailboxAddress> ReplyTo, IReadOnlyList<string> UnsubscribeMailboxes);

/// <summary>How to rewrite a forwarded message.</summary>
/// <param name="ReverseFromAddress">The reverse alias of the From contact; becomes the From address.</param>
/// <param name="ReverseReplyTo">Reverse alias per Reply-To address, keyed by the original address in lower case.</param>
/// <param name="StripTrackers">Remove tracking images from HTML parts (default true).</param>
/// <param name="StripLinkParameters">Also remove click-tracking query parameters from links (default false).</param>
/// <param name="ReverseUnsubscribe">Reverse alias per List-Unsubscribe mailto: address (keys as in <see cref="OriginalSenders.UnsubscribeMailboxes"/>); null or empty keeps the field as sent.</param>
public sealed record ForwardOptions(
    string ReverseFromAddress,
    IReadOnlyDictionary<string, string> ReverseReplyTo,
    bool StripTrackers = true,
    bool StripLinkParameters = false,
    IReadOnlyDictionary<string, string>? ReverseUnsubscribe = null);

/// <summary>The message to forward and what tracker stripping removed.</summary>
/// <param name="Message">The rewritten message (not yet DKIM-signed).</param>
/// <param name="Trackers">What was removed (empty when stripping was off or found nothing).</param>
public sealed record ForwardedMessage(byte[] Message, TrackerStripReport Trackers);

/// <summary>Rewrites incoming alias mail for forwarding.</summary>
public static class AliasForwarder
{
    /// <summary>The header Veil adds to say which trackers it removed.</summary>
    public const string TrackersHeader = "X-Veil-Trackers-Removed";

    private static readonly string[] BrokenBySignature = ["DKIM-Signature", "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results"];

    /// <summary>Reads the From and Reply-To mailboxes. Never throws.</summary>
    /// <param name="message">The raw message.</param>
    public static OriginalSenders ReadSenders(ReadOnlySpan<byte> message)
    {
        var parsed = MimeMessage.Parse(message.ToArray());
        MailboxAddress? from = null;
        var replyTo = new List<MailboxAddress>();
        var unsubscribe = new List<string>();
        foreach (var header in parsed.Root.Headers)
        {
            if (from is null && header.Name.Equals("From", StringComparison.OrdinalIgnoreCase))
            {
                from = HeaderAddresses.First(HeaderAddresses.Parse(header.Value));
            }
            else if (header.Name.Equals("Reply-To", StringComparison.OrdinalIgnoreCase))
            {
                replyTo.AddRange(HeaderAddresses.Parse(header.Value));
            }
            else if (header.Name.Equals("List-Unsubscribe", StringComparison.OrdinalIgnoreCase))
            {
                unsubscribe.AddRange(MailtoAddresses(header.Value).Select(m => m.Address));
            }
        }

        return new OriginalSenders(from, replyTo, unsubscribe.Distinct(StringComparer.Ordinal).ToList());
    }

    /// <summary>Rewrites a message for forwarding (see the file header for every rule). Never throws for any message bytes.</summary>
    /// <param name="message">The raw message as received.</param>
    /// <param name="options">Reverse aliases and stripping options.</param>
    public static ForwardedMessage Forward(ReadOnlySpan<byte> message, ForwardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.ReverseFromAddress);
        ArgumentNullException.ThrowIfNull(options.ReverseReplyTo);

        var parsed = MimeMessage.Parse(message.ToArray());
        var trackers = new TrackerStripReport([]);
        if (options.StripTrackers)
        {
            var stripped = StripTrackers(parsed, options.StripLinkParameters);
            if (stripped is not null)
            {
                trackers = stripped.Report;
                parsed = MimeMessage.Parse(stripped.Message);
            }
        }

        var editor = new HeaderBlockEditor(parsed);
        RewriteFrom(editor, options.ReverseFromAddress);
        RewriteReplyTo(editor, options.ReverseReplyTo);
        if (options.ReverseUnsubscribe is { Count: > 0 } unsubscribe)
        {
            RewriteUnsubscribe(editor, unsubscribe);
        }

        foreach (var name in BrokenBySignature)
        {
            editor.RemoveAll(name);
        }

        editor.RemoveAll(TrackersHeader);
        if (options.StripTrackers)
        {
            editor.Prepend(TrackersHeader, TrackersValue(trackers));
        }

        // The wire form: a message that arrived with bare LFs (or whose rewritten part had them) leaves as CRLF.
        return new ForwardedMessage(LineEndings.ToCrlf(editor.ToArray()), trackers);
    }

    /// <summary>"Jane Doe – jane at example.com": who wrote, readable, without an address a client would use.</summary>
    internal static string ShownSender(MailboxAddress original)
    {
        var address = original.Address.Replace("@", " at ", StringComparison.Ordinal);
        var name = original.DisplayName?.Trim();
        return string.IsNullOrEmpty(name) || name.Equals(original.Address, StringComparison.OrdinalIgnoreCase)
            ? address
            : name + " \u2013 " + address;
    }

    /// <summary>
    /// TrackerStripper on every inline HTML part, except parts inside multipart/signed (RFC 1847: changing them would
    /// break the sender's OpenPGP or S/MIME signature, which the recipient can check; the trackers there stay, and the
    /// header counts only what was removed). A part whose text has no "&lt;im" in any case is not parsed at all: a tag
    /// name follows "&lt;" directly and the HTML parser reads "image" as "img", so such a part holds no image element,
    /// and the DOM round trip is most of the cost of forwarding. Null when nothing was removed.
    /// </summary>
    private static MessageStripResult? StripTrackers(MimeMessage message, bool stripLinkParameters)
    {
        var options = new TrackerStripOptions { StripLinkParameters = stripLinkParameters };
        var rewriter = new MimeRewriter(message);
        var removals = new List<TrackerRemoval>();
        foreach (var part in message.Root.DescendantsAndSelf())
        {
            if (part.IsMultipart || part.ContentType.Value != "text/html" || part.IsAttachmentDisposition
                || part.TransferEncoding == MimeTransferEncoding.Other || IsInsideSignedMultipart(part))
            {
                continue;
            }

            var html = part.GetText();
            if (!stripLinkParameters && !html.Contains("<im", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var result = TrackerStripper.StripHtml(html, options);
            if (!result.Report.IsEmpty)
            {
                rewriter.ReplaceText(part, result.Html);
                removals.AddRange(result.Report.Removals);
            }
        }

        return removals.Count == 0 ? null : new MessageStripResult(rewriter.ToArray(), new TrackerStripReport(removals));
    }

    private static bool IsInsideSignedMultipart(MimeEntity part)
    {
        for (var e = part.Parent; e is not null; e = e.Parent)
        {
            if (e.ContentType.Value == "multipart/signed")
            {
                return true;
            }
        }

        return false;
    }

    private static void RewriteFrom(HeaderBlockEditor editor, string reverseAddress)
    {
        MimeHeader? first = null;
        MailboxAddress? original = null;
        foreach (var header in editor.Headers)
        {
            if (!header.Name.Equals("From", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (first is null)
            {
                first = header;
                original = HeaderAddresses.First(HeaderAddresses.Parse(header.Value));
            }
            else
            {
                editor.Remove(header);
            }
        }

        var value = HeaderAddresses.Format(new MailboxAddress(original is null ? null : ShownSender(original), reverseAddress));
        if (first is null)
        {
            editor.Prepend("From", value);
        }
        else
        {
            editor.Replace(first, "From", value);
        }
    }

    /// <summary>Replaces the address of each mailto: URI that has a reverse alias; leaves the field untouched when none has.</summary>
    private static void RewriteUnsubscribe(HeaderBlockEditor editor, IReadOnlyDictionary<string, string> reverse)
    {
        foreach (var header in editor.Headers.Where(h => h.Name.Equals("List-Unsubscribe", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            var value = header.Value;
            var rewritten = new StringBuilder();
            var at = 0;
            foreach (var (start, length, address) in MailtoAddresses(value))
            {
                if (reverse.TryGetValue(address, out var replacement))
                {
                    rewritten.Append(value, at, start - at).Append(replacement);
                    at = start + length;
                }
            }

            if (at > 0)
            {
                rewritten.Append(value, at, value.Length - at);
                editor.Replace(header, header.Name, rewritten.ToString().Trim());
            }
        }
    }

    /// <summary>
    /// The mailto: URIs of a List-Unsubscribe value (RFC 2369: angle-bracketed URIs): where each one's address starts,
    /// how long it is in the field, and the address percent-decoded (RFC 6068) in lower case. A URI that does not
    /// decode to one plain mailbox (several, comma-separated, or none) is skipped and stays as sent.
    /// </summary>
    internal static IEnumerable<(int Start, int Length, string Address)> MailtoAddresses(string value)
    {
        const string Scheme = "<mailto:";
        var from = 0;
        while ((from = value.IndexOf(Scheme, from, StringComparison.OrdinalIgnoreCase)) >= 0)
        {
            var start = from + Scheme.Length;
            var end = start;
            while (end < value.Length && value[end] is not ('?' or '>' or ' ' or '\t'))
            {
                end++;
            }

            from = end;
            string decoded;
            try
            {
                decoded = Uri.UnescapeDataString(value[start..end]);
            }
            catch (UriFormatException)
            {
                continue;
            }

            var at = decoded.IndexOf('@', StringComparison.Ordinal);
            if (end > start && at > 0 && at == decoded.LastIndexOf('@') && at < decoded.Length - 1 && !decoded.Any(c => c <= ' ' || c is '<' or '>' or ',' or '"'))
            {
                yield return (start, end - start, decoded.ToLowerInvariant());
            }
        }
    }

    private static void RewriteReplyTo(HeaderBlockEditor editor, IReadOnlyDictionary<string, string> reverse)
    {
        MimeHeader? first = null;
        var mailboxes = new List<MailboxAddress>();
        foreach (var header in editor.Headers)
        {
            if (!header.Name.Equals("Reply-To", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            first ??= header;
            editor.Remove(header);
            foreach (var mailbox in HeaderAddresses.Parse(header.Value))
            {
                if (reverse.TryGetValue(mailbox.Address.ToLowerInvariant(), out var reverseAddress) && !string.IsNullOrEmpty(reverseAddress))
                {
                    mailboxes.Add(new MailboxAddress(ShownSender(mailbox), reverseAddress));
                }
            }
        }

        if (first is not null && mailboxes.Count > 0)
        {
            editor.Replace(first, "Reply-To", HeaderAddresses.Format(mailboxes));
        }
    }

    private static string TrackersValue(TrackerStripReport report)
    {
        var value = new StringBuilder(report.Removals.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var hosts = report.Removals
            .Where(r => r.Kind != TrackerRemovalKind.LinkParameter && r.Detail.Length > 0 && r.Detail.All(IsHostChar))
            .Select(r => r.Detail)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        if (hosts.Count > 0)
        {
            value.Append("; ").Append(string.Join(", ", hosts));
        }

        return value.ToString();
    }

    // Hosts go into a header: only what a DNS name or an IP literal is made of (an IDN host is left out of the list, still counted).
    private static bool IsHostChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']';
}
