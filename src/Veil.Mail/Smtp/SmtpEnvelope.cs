namespace Veil.Mail.Smtp;

/// <summary>The SMTP envelope of one message: who sent it to whom, as the client said in MAIL and RCPT.</summary>
/// <param name="ReversePath">The MAIL FROM mailbox; empty for the null reverse-path <c>&lt;&gt;</c> (bounces).</param>
/// <param name="Recipients">The accepted RCPT TO mailboxes, in order.</param>
/// <param name="EightBitMime">The client declared <c>BODY=8BITMIME</c>.</param>
/// <param name="SmtpUtf8">The client declared <c>SMTPUTF8</c> (RFC 6531).</param>
/// <param name="ReceivedAt">When the end of data was received, from the injected clock.</param>
/// <param name="ClientAddress">
/// The connecting client's IP address, for the inbound SPF check of a message stored in a mailbox; null when unknown
/// (a message spooled before it was recorded). It lives in the spool only as long as the message does.
/// </param>
/// <param name="HeloName">The client's EHLO/HELO name (SPF for the null sender), or null when unknown.</param>
public sealed record SmtpEnvelope(
    string ReversePath,
    IReadOnlyList<string> Recipients,
    bool EightBitMime,
    bool SmtpUtf8,
    DateTimeOffset ReceivedAt,
    string? ClientAddress = null,
    string? HeloName = null);
