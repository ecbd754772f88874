// Delivery status notifications, RFC 3464 inside RFC 6522 multipart/report:
//   1. text/plain       a human explanation;
//   2. message/delivery-status  per-message fields (Reporting-MTA, Arrival-Date), then one block per failed
//      recipient (Final-Recipient, Action: failed, Status per RFC 3463, Diagnostic-Code, Last-Attempt-Date);
//   3. text/rfc822-headers  the original header block only (never the body: the bounce travels to the sender
//      through a smarthost, and the body is the sender's own content anyway).
// The DSN is sent with a null reverse path (RFC 5321 §4.5.5) and carries Auto-Submitted: auto-replied (RFC 3834).
// Limits: replies are quoted on one line, at most 900 characters, control characters replaced; a non-ASCII
// recipient is written as an RFC 6533 utf-8 address with \x{HEX} escapes; the quoted header block is bounded by
// OutboundQueueOptions.MaxQuotedHeaderBytes and cut at a line end.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Veil.Mail.Queue;

/// <summary>Builds RFC 3464 delivery status notifications for failed recipients.</summary>
internal static partial class DeliveryStatusNotification
{
    private const string Eol = "\r\n";
    private const int MaxDiagnostic = 900;

    /// <summary>One recipient the message could not reach.</summary>
    /// <param name="Address">The RCPT TO mailbox.</param>
    /// <param name="LastReply">The last server reply or local error.</param>
    /// <param name="GaveUp">True when it was still temporarily failing at the queue's maximum age.</param>
    public sealed record FailedRecipient(string Address, string LastReply, bool GaveUp);

    /// <summary>Everything a DSN states.</summary>
    public sealed record Report(string ReportingMta, string Sender, DateTimeOffset ArrivalDate, DateTimeOffset Now, IReadOnlyList<FailedRecipient> Recipients, byte[] OriginalHeaders);

    public static byte[] Build(Report report)
    {
        var boundary = "=_veil_dsn_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var s = new StringBuilder();
        s.Append("From: Mail Delivery System <MAILER-DAEMON@").Append(report.ReportingMta).Append('>').Append(Eol);
        s.Append("To: <").Append(report.Sender).Append('>').Append(Eol);
        s.Append("Subject: Undelivered Mail Returned to Sender").Append(Eol);
        s.Append("Date: ").Append(Date(report.Now)).Append(Eol);
        s.Append("Message-ID: <").Append(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))).Append('@').Append(report.ReportingMta).Append('>').Append(Eol);
        s.Append("Auto-Submitted: auto-replied").Append(Eol);
        s.Append("MIME-Version: 1.0").Append(Eol);
        s.Append("Content-Type: multipart/report; report-type=delivery-status;").Append(Eol).Append(" boundary=\"").Append(boundary).Append('"').Append(Eol);
        s.Append(Eol).Append("This is a MIME-encapsulated delivery status notification.").Append(Eol).Append(Eol);

        var human = new StringBuilder();
        human.Append("This is the mail system at ").Append(report.ReportingMta).Append('.').Append(Eol).Append(Eol);
        human.Append("Your message could not be delivered to the recipients below. The headers of").Append(Eol);
        human.Append("your message are attached.").Append(Eol).Append(Eol);
        foreach (var r in report.Recipients)
        {
            human.Append('<').Append(r.Address).Append(">: ")
                .Append(r.GaveUp ? "gave up after repeated temporary failures; last: " : "").Append(OneLine(r.LastReply)).Append(Eol);
        }
        bool humanAscii = Ascii(human.ToString());
        s.Append("--").Append(boundary).Append(Eol);
        s.Append("Content-Type: text/plain; charset=").Append(humanAscii ? "us-ascii" : "utf-8").Append(Eol);
        s.Append("Content-Description: Notification").Append(Eol);
        s.Append("Content-Transfer-Encoding: ").Append(humanAscii ? "7bit" : "8bit").Append(Eol).Append(Eol);
        s.Append(human);

        s.Append("--").Append(boundary).Append(Eol);
        s.Append("Content-Type: message/delivery-status").Append(Eol);
        s.Append("Content-Description: Delivery report").Append(Eol).Append(Eol);
        s.Append("Reporting-MTA: dns; ").Append(report.ReportingMta).Append(Eol);
        s.Append("Arrival-Date: ").Append(Date(report.ArrivalDate)).Append(Eol);
        foreach (var r in report.Recipients)
        {
            var reply = OneLine(r.LastReply);
            s.Append(Eol);
            s.Append("Final-Recipient: ").Append(Address(r.Address)).Append(Eol);
            s.Append("Action: failed").Append(Eol);
            s.Append("Status: ").Append(Status(reply, r.GaveUp)).Append(Eol);
            s.Append("Diagnostic-Code: ").Append(SmtpReply().IsMatch(reply) ? "smtp; " : "X-Veil; ").Append(reply.Length == 0 ? "no reply" : reply).Append(Eol);
            s.Append("Last-Attempt-Date: ").Append(Date(report.Now)).Append(Eol);
        }
        s.Append(Eol);

        s.Append("--").Append(boundary).Append(Eol);
        s.Append("Content-Type: text/rfc822-headers").Append(Eol);
        s.Append("Content-Description: Undelivered message headers").Append(Eol).Append(Eol);

        var head = Encoding.UTF8.GetBytes(s.ToString());
        // The CRLF before a boundary belongs to the delimiter (RFC 2046 §5.1.1), so one more keeps the block's last line end.
        var tail = Encoding.ASCII.GetBytes(Eol + "--" + boundary + "--" + Eol);
        var result = new byte[head.Length + report.OriginalHeaders.Length + tail.Length];
        head.CopyTo(result, 0);
        report.OriginalHeaders.CopyTo(result, head.Length);
        tail.CopyTo(result, head.Length + report.OriginalHeaders.Length);
        return result;
    }

    /// <summary>
    /// The header block of <paramref name="message"/> (up to the empty line, or to the last complete line of the
    /// bounded prefix), with bare LF made CRLF so the DSN has one line ending. Ends with CRLF unless empty.
    /// </summary>
    public static byte[] HeaderBlock(ReadOnlySpan<byte> message)
    {
        var output = new List<byte>(message.Length);
        int lineStart = 0;
        for (int i = 0; i < message.Length; i++)
        {
            if (message[i] != (byte)'\n') continue;
            int end = i > lineStart && message[i - 1] == (byte)'\r' ? i - 1 : i;
            if (end == lineStart) break; // the empty line: end of the header block
            output.AddRange(message[lineStart..end]);
            output.Add((byte)'\r');
            output.Add((byte)'\n');
            lineStart = i + 1;
        }
        return [.. output];
    }

    private static string Status(string reply, bool gaveUp)
    {
        var m = EnhancedCode().Match(reply);
        if (m.Success && (!gaveUp || m.Groups[1].Value[0] == '4')) return m.Groups[1].Value;
        return gaveUp ? "4.4.7" : "5.0.0"; // RFC 3463: 4.4.7 delivery time expired
    }

    private static string Address(string address)
    {
        if (Ascii(address)) return "rfc822; " + address;
        var sb = new StringBuilder("utf-8; ");
        foreach (var rune in address.EnumerateRunes())
        {
            if (rune.Value is > ' ' and < 127 && rune.Value != '\\') sb.Append((char)rune.Value);
            else sb.Append("\\x{").Append(rune.Value.ToString("X", CultureInfo.InvariantCulture)).Append('}');
        }
        return sb.ToString();
    }

    private static string OneLine(string text)
    {
        var sb = new StringBuilder(Math.Min(text.Length, MaxDiagnostic));
        foreach (char c in text)
        {
            if (sb.Length == MaxDiagnostic) break;
            sb.Append(c is < ' ' or (>= '\x7f' and < '\xa0') ? ' ' : c);
        }
        return sb.ToString().Trim();
    }

    private static bool Ascii(string text) => text.All(c => c < 128);

    private static string Date(DateTimeOffset d) =>
        d.ToUniversalTime().ToString("ddd, dd MMM yyyy HH':'mm':'ss '+0000'", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^[245]\d\d(?: |$)")]
    private static partial Regex SmtpReply();

    [GeneratedRegex(@"^[245]\d\d ([245]\.\d{1,3}\.\d{1,3})(?: |$)")]
    private static partial Regex EnhancedCode();
}
