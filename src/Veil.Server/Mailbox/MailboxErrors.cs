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

    public static Error InvalidPublicKey(string why) =>
        new("invalid-public-key", ErrorKind.BadRequest, "Invalid public key", why);
}
