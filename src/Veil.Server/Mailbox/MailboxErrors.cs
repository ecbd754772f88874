using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox;

/// <summary>Every expected Mailbox failure; the codes are the contract of spec/mailbox-api.md.</summary>
internal static class MailboxErrors
{
    public static readonly Error NotEnabled = new("mail-not-enabled", ErrorKind.NotFound, "Mail not enabled", "This server has no mail domains (Veil:Mail:Domains).");
    public static readonly Error InvalidAddress = new("invalid-address", ErrorKind.BadRequest, "Invalid address", "An address is local@domain, the local part 1-64 characters of a-z 0-9 . _ - (not starting or ending with a dot).");
    public static readonly Error UnknownDomain = new("unknown-domain", ErrorKind.BadRequest, "Unknown domain", "This server offers mailboxes only at its mail domains (GET /api/v1/mail/address-domains) and at custom domains you added and verified (veil mail domain add).");
    public static readonly Error DomainNotVerified = new("domain-not-verified", ErrorKind.BadRequest, "Domain not verified", "This custom domain of yours is not verified (or its DNS records lapsed): publish the records it lists, then check it again (veil mail domain check).");
    public static readonly Error AddressTaken = new("address-taken", ErrorKind.Conflict, "Address taken", "This address is not available.");
    public static readonly Error TooManyAddresses = new("too-many-addresses", ErrorKind.Conflict, "Too many addresses", "You reached the number of addresses your plan allows.");
    public static readonly Error InvalidWrappedKey = new("invalid-wrapped-key", ErrorKind.BadRequest, "Invalid wrapped key", "wrappedToken and wrappedPrivateKey are v1. strings of base64url made by the client.");
    public static readonly Error AddressNotFound = new("address-not-found", ErrorKind.NotFound, "Address not found", "You have no address with this id.");
    public static readonly Error MessageNotFound = new("message-not-found", ErrorKind.NotFound, "Message not found", "You have no message with this id.");
    public static readonly Error KeyNotFound = new("key-not-found", ErrorKind.NotFound, "No key", "No key is published for this address.");

    public static readonly Error ConfidentialNeedsVeil = new("confidential-needs-veil-recipients", ErrorKind.BadRequest, "Confidential mail is for Veil recipients", "expiresInSeconds and maxViews apply only to mail whose every recipient is a Veil address: mail that leaves by SMTP is out of this server's reach.");
    public static readonly Error MessageExpired = new("message-expired", ErrorKind.Gone, "Message expired", "This message expired; its content was deleted for good.");
    public static readonly Error ViewLimitReached = new("view-limit-reached", ErrorKind.Gone, "View limit reached", "This message reached its view limit; its content was deleted for good.");
    public static readonly Error OutboundUnavailable = new("outbound-unavailable", ErrorKind.Unavailable, "No outbound mail", "This server has no way to send mail to other servers (Veil:Mail:Smarthost or Veil:Mail:DirectDelivery); only Veil recipients can be reached.");
    public static readonly Error PackageNotFound = new("message-not-found", ErrorKind.NotFound, "Message not found", "No message is behind this link (check that it was copied whole).");
    public static readonly Error ReplyLimitReached = new("reply-limit-reached", ErrorKind.TooManyRequests, "No more replies", "This message takes one reply per time it was opened, and at most five.");
    public static readonly Error InvalidFolder = new("invalid-folder", ErrorKind.BadRequest, "Invalid folder", "folder is inbox or sent.");

    public static readonly Error SearchIndexNotFound = new("search-index-not-found", ErrorKind.NotFound, "No search index", "This account has stored no search index yet (create it with If-None-Match: *).");
    public static readonly Error SearchIndexStale = new("search-index-changed", ErrorKind.PreconditionFailed, "Search index changed", "The search index is not at the version you named (If-Match), or it already exists (If-None-Match: *): fetch it, merge, and write again.");
    public static readonly Error SearchIndexPreconditionRequired = new("search-index-precondition-required", ErrorKind.PreconditionRequired, "Precondition required", "Replace the search index with If-Match: \"<version>\" (its ETag), or create it with If-None-Match: *.");
    public static readonly Error AttachmentNotFound = new("attachment-not-found", ErrorKind.NotFound, "Attachment not found", "None of your messages references an attachment with this id.");

    public static Error InvalidSearchIndex(string why) =>
        new("invalid-search-index", ErrorKind.BadRequest, "Invalid search index", why);

    public static Error SearchIndexTooLarge(long max) =>
        new("search-index-too-large", ErrorKind.PayloadTooLarge, "Search index too large", $"A search index is at most {max} bytes (Veil:Mail:SearchIndexMaxBytes).");

    public static Error InvalidAttachment(string why) =>
        new("invalid-attachment", ErrorKind.BadRequest, "Invalid attachment", why);

    public static Error AttachmentTooLarge(long max) =>
        new("attachment-too-large", ErrorKind.PayloadTooLarge, "Attachment too large", $"An encrypted attachment is at most {max} bytes (Veil:Mail:MaxAttachmentSize).");

    public static Error AttachmentQuotaExceeded(long quota) =>
        new("attachment-quota-exceeded", ErrorKind.PayloadTooLarge, "Attachment quota exceeded", $"Your stored attachments would pass {quota} bytes (Veil:Mail:AttachmentQuotaBytes); delete mail with large attachments first.");

    public static Error InvalidMessage(string why) =>
        new("invalid-message", ErrorKind.BadRequest, "Invalid message", why);

    /// <summary>An outside recipient at one of this server's mail domains that no one holds (position in <c>outside.recipients</c>, from 1).</summary>
    public static Error UnknownRecipient(int position) =>
        new("unknown-recipient", ErrorKind.BadRequest, "Unknown recipient", $"Outside recipient #{position} is at one of this server's mail domains, but no one holds that address; nothing was stored or sent.");

    /// <summary>A copy for a recipient this server does not know, or an outside recipient that holds a key here (it must get an encrypted copy).</summary>
    public static Error NotAVeilRecipient(int position) =>
        new("unknown-recipient", ErrorKind.BadRequest, "Unknown recipient", $"Copy #{position} names an address no one holds on this server; nothing was stored or sent.");

    public static Error RecipientHasKey(int position) =>
        new("recipient-has-key", ErrorKind.BadRequest, "Recipient has a key", $"Outside recipient #{position} is a Veil address: send it an encrypted copy (its key is in the key directory); nothing was stored or sent.");

    public static Error InvalidPublicKey(string why) =>
        new("invalid-public-key", ErrorKind.BadRequest, "Invalid public key", why);
}
