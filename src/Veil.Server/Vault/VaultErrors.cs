using Veil.Server.Platform.Problems;
using Veil.Server.Platform.Results;

namespace Veil.Server.Vault;

/// <summary>A CT that failed the form check; <see cref="Field"/> names its JSON path.</summary>
internal sealed record InvalidCiphertextError(string Field)
    : Error("invalid-ciphertext", ErrorKind.BadRequest, "Invalid ciphertext", "A value is not a well-formed v1 ciphertext of allowed size.");

internal sealed record RevisionConflictError(int CurrentRevision)
    : Error("revision-conflict", ErrorKind.Conflict, "Revision conflict", "The item changed since the revision you sent.");

internal sealed record WrongCodeError(int AttemptsLeft)
    : Error("wrong-code", ErrorKind.BadRequest, "Wrong code", "The code is not the one sent for this link.");

/// <summary>Every expected Vault failure; the codes are the contract of spec/vault-api.md.</summary>
internal static class VaultErrors
{
    public static readonly Error InvalidId = new("invalid-id", ErrorKind.BadRequest, "Invalid id", "Ids are lowercase canonical UUIDs chosen by the client.");
    public static readonly Error TooManyFields = new("too-many-fields", ErrorKind.BadRequest, "Too many fields", $"An item has at most {VaultFormat.MaxFields} fields and {VaultFormat.MaxTags} tags.");
    public static readonly Error InvalidInterval = new("invalid-interval", ErrorKind.BadRequest, "Invalid interval", $"The check-in interval must be at least {HumanUnits.Duration(VaultLimits.MinIntervalSeconds)} and at most {HumanUnits.Duration(VaultLimits.MaxIntervalSeconds)} (intervalSeconds {VaultLimits.MinIntervalSeconds}..{VaultLimits.MaxIntervalSeconds}).");
    public static readonly Error InvalidGrace = new("invalid-grace", ErrorKind.BadRequest, "Invalid grace", $"The grace period must be at least {HumanUnits.Duration(VaultLimits.MinGraceSeconds)} and at most {HumanUnits.Duration(VaultLimits.MaxGraceSeconds)} (graceSeconds {VaultLimits.MinGraceSeconds}..{VaultLimits.MaxGraceSeconds}).");
    public static readonly Error InvalidEmail = new("invalid-email", ErrorKind.BadRequest, "Invalid email", "The recipient address is not a usable email address.");
    public static readonly Error InvalidDeliveryKey = new("invalid-delivery-key", ErrorKind.BadRequest, "Invalid delivery key", "deliveryKey must be 32 bytes of base64url.");
    public static readonly Error CodeExpired = new("code-expired", ErrorKind.BadRequest, "No valid code", "Request a new code for this link.");
    public static readonly Error VaultNotFound = new("vault-not-found", ErrorKind.NotFound, "Vault not found", "You have no vault with this id.");
    public static readonly Error ItemNotFound = new("item-not-found", ErrorKind.NotFound, "Item not found", "This vault has no item with this id.");
    public static readonly Error FileNotFound = new("file-not-found", ErrorKind.NotFound, "File not found", "There is no such file here.");
    public static readonly Error SwitchNotFound = new("switch-not-found", ErrorKind.NotFound, "No switch", "This vault has no switch.");
    public static readonly Error RecipientNotFound = new("recipient-not-found", ErrorKind.NotFound, "Recipient not found", "This vault has no recipient with this id.");
    public static readonly Error LinkInvalid = new("link-invalid", ErrorKind.NotFound, "Invalid link", "This link is not valid.");
    public static readonly Error AlreadyExists = new("already-exists", ErrorKind.Conflict, "Id in use", "This id is already in use; choose a new one.");
    public static readonly Error SwitchReleased = new("switch-released", ErrorKind.Conflict, "Switch released", "This vault was already released.");
    public static readonly Error SwitchPaused = new("switch-paused", ErrorKind.Conflict, "Switch paused", "Resume the switch first.");
    public static readonly Error SwitchNotPaused = new("switch-not-paused", ErrorKind.Conflict, "Switch not paused", "Only a paused switch can be resumed.");
    public static readonly Error TooManyVaults = new("too-many-vaults", ErrorKind.Conflict, "Too many vaults", "You reached the number of vaults this server allows.");
    public static readonly Error TooManyRecipients = new("too-many-recipients", ErrorKind.Conflict, "Too many recipients", "This vault reached the number of recipients this server allows.");
    public static readonly Error Busy = new("conflict", ErrorKind.Conflict, "Conflict", "The switch changed at the same moment; retry.");
    public static readonly Error LinkUsed = new("link-used", ErrorKind.Gone, "Link used", "This link was already used.");
    public static readonly Error LinkExpired = new("link-expired", ErrorKind.Gone, "Link expired", "This link has expired.");
    public static readonly Error LinkLocked = new("link-locked", ErrorKind.Gone, "Link locked", "Too many wrong codes: this link is locked for good.");
    public static readonly Error QuotaExceeded = new("quota-exceeded", ErrorKind.PayloadTooLarge, "Quota exceeded", "This would exceed your vault storage quota.");
    public static readonly Error BodyTooLarge = PlatformErrors.BodyTooLarge;
    public static readonly Error Unauthorized = new("unauthorized", ErrorKind.Unauthorized, "Unauthorized", "Send a valid download token.");
}
