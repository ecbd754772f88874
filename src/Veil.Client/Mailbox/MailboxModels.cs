namespace Veil.Client.Mailbox;

/// <summary>The server's mail domains and how many addresses an account may hold.</summary>
public sealed record MailDomains(IReadOnlyList<string> Domains, int MaxAddresses);

/// <summary>An address as the server stores it (public key and wrapped strings).</summary>
public sealed record MailAddressInfo(Guid Id, string Address, string Fingerprint, string PublicKey, string WrappedToken, string WrappedPrivateKey, DateTimeOffset CreatedAt);

/// <summary>A published key from the key directory.</summary>
public sealed record PublishedKey(string Address, string Fingerprint, string PublicKey);

/// <summary>One stored message as the server lists it: metadata in clear, the summary still sealed.</summary>
public sealed record SealedMessageInfo(Guid Id, Guid AddressId, string EnvelopeFrom, long Size, long SealedSize, DateTimeOffset ReceivedAt, string? ThreadId, string Summary);

/// <summary>
/// The decrypted listing summary of a message. <c>Authentication</c> holds the SPF, DKIM and DMARC verdicts recorded
/// on arrival; it is null in summaries of version 1 (older mail).
/// </summary>
public sealed record MessageSummary(string From, string Subject, string? Date, string Snippet, IReadOnlyList<string> Attachments, MessageAuthentication? Authentication = null);

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

/// <summary>One message in a listing: the server's metadata and the summary decrypted by the client.</summary>
public sealed record MailListItem(Guid Id, string Address, string EnvelopeFrom, long Size, DateTimeOffset ReceivedAt, string? ThreadId, MessageSummary Summary);

/// <summary>An attachment of a read message.</summary>
public sealed record MailAttachment(string FileName, string MediaType, byte[] Content);

/// <summary>A message decrypted and parsed by the client; <c>Authentication</c> comes from its sealed summary (null for older mail).</summary>
public sealed record MailReadMessage(
    Guid Id, string Address, string EnvelopeFrom, DateTimeOffset ReceivedAt,
    IReadOnlyList<KeyValuePair<string, string>> Headers, string? Text, string? Html, IReadOnlyList<MailAttachment> Attachments, byte[] Raw,
    MessageAuthentication? Authentication = null);

internal sealed record AddAddressBody(string Address, string PublicKey, string WrappedToken, string WrappedPrivateKey);
