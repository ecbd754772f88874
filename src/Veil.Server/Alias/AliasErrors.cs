using Veil.Server.Platform.Results;

namespace Veil.Server.Alias;

/// <summary>Every expected Alias failure; the codes are the contract of spec/alias-api.md.</summary>
internal static class AliasErrors
{
    public static readonly Error NotFound = PlatformErrors.NotFound;
    public static readonly Error InvalidToken = new("invalid-token", ErrorKind.BadRequest, "Invalid link", "The verification link is unknown, used or expired.");
    public static readonly Error RecipientExists = new("recipient-exists", ErrorKind.Conflict, "Recipient exists", "This mailbox is already one of your recipients.");
    public static readonly Error RecipientLimit = new("recipient-limit", ErrorKind.Conflict, "Too many recipients", "This account has the maximum number of recipient mailboxes.");
    public static readonly Error NoVerifiedRecipient = new("no-verified-recipient", ErrorKind.Conflict, "No verified recipient", "Add and verify a recipient mailbox first.");
    public static readonly Error DailyLimit = new("alias-daily-limit", ErrorKind.TooManyRequests, "Daily alias limit reached", "You created the maximum number of aliases for today.");

    /// <summary>A refused OpenPGP key: the code names the reason (<c>openpgp-key-*</c>), the detail what Veil accepts.</summary>
    public static Error PgpKeyRefused(Veil.Crypto.OpenPgp.OpenPgpKeyError error) => new(error.Code, ErrorKind.BadRequest, "OpenPGP key refused", error.Message);

    public static Error Invalid(string member, string why) => new("invalid-request", ErrorKind.BadRequest, "Invalid request", $"{member}: {why}");
}
