namespace Veil.Client.Mailbox;

/// <summary>The server's mail domains and how many addresses an account may hold.</summary>
public sealed record MailDomains(IReadOnlyList<string> Domains, int MaxAddresses);

/// <summary>An address as the server stores it (public key and wrapped strings).</summary>
public sealed record MailAddressInfo(Guid Id, string Address, string Fingerprint, string PublicKey, string WrappedToken, string WrappedPrivateKey, DateTimeOffset CreatedAt);

/// <summary>A published key from the key directory.</summary>
public sealed record PublishedKey(string Address, string Fingerprint, string PublicKey);

/// <summary>One stored message as the server lists it: metadata in clear, the summary still sealed.</summary>
public sealed record SealedMessageInfo(Guid Id, Guid AddressId, string EnvelopeFrom, long Size, long SealedSize, DateTimeOffset ReceivedAt, string? ThreadId, string Summary);

/// <summary>The decrypted listing summary of a message.</summary>
public sealed record MessageSummary(string From, string Subject, string? Date, string Snippet, IReadOnlyList<string> Attachments);

/// <summary>One message in a listing: the server's metadata and the summary decrypted by the client.</summary>
public sealed record MailListItem(Guid Id, string Address, string EnvelopeFrom, long Size, DateTimeOffset ReceivedAt, string? ThreadId, MessageSummary Summary);

/// <summary>An attachment of a read message.</summary>
public sealed record MailAttachment(string FileName, string MediaType, byte[] Content);

/// <summary>A message decrypted and parsed by the client.</summary>
public sealed record MailReadMessage(
    Guid Id, string Address, string EnvelopeFrom, DateTimeOffset ReceivedAt,
    IReadOnlyList<KeyValuePair<string, string>> Headers, string? Text, string? Html, IReadOnlyList<MailAttachment> Attachments, byte[] Raw);

internal sealed record AddAddressBody(string Address, string PublicKey, string WrappedToken, string WrappedPrivateKey);
