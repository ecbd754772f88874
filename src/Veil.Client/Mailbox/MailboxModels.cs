namespace Veil.Client.Mailbox;

/// <summary>The server's mail domains and how many addresses an account may hold.</summary>
public sealed record MailDomains(IReadOnlyList<string> Domains, int MaxAddresses);

/// <summary>An address as the server stores it (public key and wrapped strings).</summary>
public sealed record MailAddressInfo(Guid Id, string Address, string Fingerprint, string PublicKey, string WrappedToken, string WrappedPrivateKey, DateTimeOffset CreatedAt);

/// <summary>A published key from the key directory.</summary>
public sealed record PublishedKey(string Address, string Fingerprint, string PublicKey, Veil.Client.Transparency.KtLookup? Transparency = null);

/// <summary>
/// One stored message as the server lists it: metadata in clear, the summary still sealed. Folder is "inbox" or
/// "sent"; Gone is null while readable, "expired" or "view-limit-reached" once the content was destroyed (Summary is
/// then empty).
/// </summary>
public sealed record SealedMessageInfo(
    Guid Id, Guid AddressId, string EnvelopeFrom, long Size, long SealedSize, DateTimeOffset ReceivedAt, string? ThreadId, string Summary,
    string Folder = "inbox", DateTimeOffset? ExpiresAt = null, int? MaxViews = null, int Views = 0, string? Gone = null);

/// <summary>
/// The decrypted listing summary of a message. <c>Authentication</c> holds the SPF, DKIM and DMARC verdicts recorded
/// on arrival; it is null in summaries of version 1 (older mail) and in copies sent from a Veil client, which alone
/// carry <c>To</c>.
/// </summary>
public sealed record MessageSummary(
    string From, string Subject, string? Date, string Snippet, IReadOnlyList<string> Attachments,
    MessageAuthentication? Authentication = null, IReadOnlyList<string>? To = null)
{
    /// <summary>"outsider-reply" for a reply an outsider wrote on the password mail page; null for mail.</summary>
    public string? Kind { get; init; }
}

/// <summary>
/// How the server judged the message's origin when it arrived (spec/mailbox-api.md "Summary"): SPF for the envelope
/// sender's domain, one DKIM verdict per signature, DMARC for the From domain. Results are RFC 8601 words.
/// </summary>
public sealed record MessageAuthentication(AuthenticationVerdict Spf, IReadOnlyList<AuthenticationVerdict> Dkim, AuthenticationVerdict Dmarc, string? DmarcPolicy)
{
    /// <summary>One line for a reader: <c>spf=pass (a.example); dkim=pass (a.example); dmarc=pass (a.example)</c>.</summary>
    public override string ToString() =>
        string.Join("; ", new[] { "spf=" + Spf }
            .Concat(Dkim.Count == 0 ? ["dkim=none"] : Dkim.Select(d => "dkim=" + d))
            .Append("dmarc=" + Dmarc + (Dmarc.Result == "fail" && DmarcPolicy is not null ? $" (policy {DmarcPolicy})" : "")));
}

/// <summary>One verdict: the result word and the domain it concerns.</summary>
public sealed record AuthenticationVerdict(string Result, string? Domain)
{
    /// <inheritdoc />
    public override string ToString() => Domain is null ? Result : $"{Result} ({Domain})";
}

/// <summary>One message in a listing: the server's metadata and the summary decrypted by the client (null for a tombstone: see <see cref="Gone"/>).</summary>
public sealed record MailListItem(
    Guid Id, string Address, string EnvelopeFrom, long Size, DateTimeOffset ReceivedAt, string? ThreadId, MessageSummary? Summary,
    string Folder = "inbox", DateTimeOffset? ExpiresAt = null, int? MaxViews = null, int Views = 0, string? Gone = null);

/// <summary>An attachment to send from a file.</summary>
public sealed record MailFileAttachment(string Path, string FileName, string MediaType);

/// <summary>
/// A large attachment as its message references it: the blob, its name, type, plaintext size and SHA-256 (hex). The
/// key that opens the blob stays internal and out of <c>ToString</c>.
/// </summary>
public sealed record MailLargeAttachment(Guid BlobId, string FileName, string MediaType, long Size, string Sha256)
{
    internal byte[] Key { get; init; } = [];
}

/// <summary>An attachment of a read message.</summary>
public sealed record MailAttachment(string FileName, string MediaType, byte[] Content);

/// <summary>A message decrypted and parsed by the client; <c>Authentication</c> comes from its sealed summary (null for older mail).</summary>
public sealed record MailReadMessage(
    Guid Id, string Address, string EnvelopeFrom, DateTimeOffset ReceivedAt,
    IReadOnlyList<KeyValuePair<string, string>> Headers, string? Text, string? Html, IReadOnlyList<MailAttachment> Attachments, byte[] Raw,
    MessageAuthentication? Authentication = null)
{
    /// <summary>"inbox" or "sent".</summary>
    public string Folder { get; init; } = "inbox";

    /// <summary>Attachments stored as encrypted blobs; fetch each with <see cref="MailboxClient.SaveLargeAttachmentAsync"/>.</summary>
    public IReadOnlyList<MailLargeAttachment> LargeAttachments { get; init; } = [];

    /// <summary>The OpenPGP signature inside the sealed message: "none", "valid" (by the sender address's published key), "invalid" or "unknown-signer".</summary>
    public string Signature { get; init; } = "none";
}

/// <summary>What to send (spec/mailbox-api.md "Sending"). <see cref="From"/> is one of the account's addresses (null: the first).</summary>
public sealed record MailSendRequest(IReadOnlyList<string> To, string Subject, string Body)
{
    public string? From { get; init; }

    public IReadOnlyList<MailAttachment> Attachments { get; init; } = [];

    /// <summary>Attachments read from files (large ones stream from the file while they are encrypted and uploaded).</summary>
    public IReadOnlyList<MailFileAttachment> Files { get; init; } = [];

    /// <summary>Attachments of this many bytes or more are stored as encrypted blobs and referenced from the message (Veil recipients only).</summary>
    public long LargeAttachmentThreshold { get; init; } = MailboxClient.DefaultLargeAttachmentThreshold;

    /// <summary>Confidential mode: every copy is destroyed this long after sending (Veil recipients only).</summary>
    public TimeSpan? ExpiresIn { get; init; }

    /// <summary>Confidential mode: each recipient's copy is destroyed after this many views (Veil recipients, and outsiders with <see cref="OutsiderPassword"/>).</summary>
    public int? MaxViews { get; init; }

    /// <summary>
    /// Password mail: every outsider gets a link to a page that decrypts the message with this password (spec/mailbox-api.md
    /// "Password mail to outsiders") instead of plain SMTP mail. The password never leaves this client.
    /// </summary>
    public string? OutsiderPassword { get; init; }

    /// <summary>A hint shown in the notice mail to password recipients (in clear: never the password itself).</summary>
    public string? PasswordHint { get; init; }
}

/// <summary>
/// What the server stored and queued for one sent message: the sender's own copy (folder "sent"), the recipients
/// that received an end-to-end encrypted copy, and those that get normal SMTP mail through the outbound queue.
/// </summary>
public sealed record MailSendResult(Guid SentId, IReadOnlyList<string> VeilRecipients, IReadOnlyList<string> Outsiders)
{
    /// <summary>Outsiders that got a notice with a link to the password-protected message (instead of plain mail).</summary>
    public IReadOnlyList<string> PasswordRecipients { get; init; } = [];
}

internal sealed record SendBody(
    Guid FromAddressId, IReadOnlyList<SendCopyBody> Copies, SendCopyBody SentCopy, SendOutsideBody? Outside, long? ExpiresInSeconds, int? MaxViews,
    IReadOnlyList<SendPackageBody>? OutsiderPackages, IReadOnlyList<Guid>? AttachmentIds);

internal sealed record SendPackageBody(string Recipient, string Package, string ReplySummary, string? Hint);

/// <summary>The reply summary: what the sender's client needs to list and open a reply to password mail (sealed to the sender's key).</summary>
internal sealed record ReplySummaryBody(
    int V, string From, string Subject, string? Date, string Snippet, IReadOnlyList<string> Attachments, IReadOnlyList<string>? To, string Kind, string ReplyKey);

internal sealed record SendCopyBody(string? Recipient, string SealedMessage, string SealedSummary, long Size);

internal sealed record SendOutsideBody(IReadOnlyList<string> Recipients, string Message);

internal sealed record SendResponse(Guid SentId, IReadOnlyList<string> VeilRecipients, IReadOnlyList<string> Outsiders, IReadOnlyList<string>? PasswordRecipients);

internal sealed record SummaryBody(int V, string From, string Subject, string? Date, string Snippet, IReadOnlyList<string> Attachments, IReadOnlyList<string>? To);

internal sealed record AddAddressBody(string Address, string PublicKey, string WrappedToken, string WrappedPrivateKey);
