using Veil.Server.Platform.Results;

namespace Veil.Server.Drop;

/// <summary>Every expected Drop failure; the codes are the contract of spec/drop-api.md.</summary>
internal static class DropErrors
{
    public static readonly Error NotFound = PlatformErrors.NotFound;
    public static readonly Error Expired = new("expired", ErrorKind.Gone, "Drop expired", "This drop has expired.");
    public static readonly Error Exhausted = new("exhausted", ErrorKind.Gone, "Download limit reached", "This drop has no downloads left.");
    public static readonly Error TakenDown = new("taken-down", ErrorKind.Gone, "Drop removed", "This drop was removed after an abuse report.");
    public static readonly Error NotFinalized = new("not-finalized", ErrorKind.Conflict, "Upload not finished", "This drop is still being uploaded.");
    public static readonly Error AlreadyFinalized = new("already-finalized", ErrorKind.Conflict, "Drop already finalized", "A finalized drop cannot be changed.");
    public static readonly Error IncompleteUpload = new("incomplete-upload", ErrorKind.Conflict, "Upload incomplete", "Some parts or the metadata have not arrived.");
    public static readonly Error BadPart = new("bad-part", ErrorKind.BadRequest, "Bad part", "The part number or its length does not match the drop.");
    public static readonly Error BadMetadata = new("bad-metadata", ErrorKind.BadRequest, "Bad metadata", $"The metadata must be 1..{DropLimits.MaxMetadataBytes} bytes.");
    public static readonly Error BadTicket = new("bad-ticket", ErrorKind.Forbidden, "Bad download ticket", "The download ticket is unknown or has expired.");
    public static readonly Error NotOwner = new("not-owner", ErrorKind.Forbidden, "Not the owner", "This needs the drop's owner token.");
    public static readonly Error TooLarge = new("too-large", ErrorKind.PayloadTooLarge, "Drop too large", "The drop is larger than this server allows.");
    public static readonly Error QuotaExceeded = new("quota-exceeded", ErrorKind.PayloadTooLarge, "Quota exceeded", "This drop would exceed your storage quota.");
    public static readonly Error AnonymousDisabled = new("anonymous-disabled", ErrorKind.Unauthorized, "Sign in required", "This server does not accept anonymous drops.");
    public static readonly Error UploadBanned = new("upload-banned", ErrorKind.Forbidden, "Uploads disabled", "This account or network may no longer create drops.");
    public static readonly Error InvalidExpiry = new("invalid-expiry", ErrorKind.BadRequest, "Invalid expiry", "expiresInSeconds is outside the allowed range.");
    public static readonly Error InvalidDownloadLimit = new("invalid-download-limit", ErrorKind.BadRequest, "Invalid download limit", $"maxDownloads must be 1..{DropLimits.MaxDownloadLimit}.");
    public static readonly Error InvalidPasswordWrap = new("invalid-password-wrap", ErrorKind.BadRequest, "Invalid password wrap",
        $"password.salt must be {DropLimits.PasswordSaltBytes} bytes and password.wrappedKey {DropLimits.MinWrappedKeyBytes}..{DropLimits.MaxWrappedKeyBytes} bytes, base64url.");
    public static readonly Error InvalidNameKey = new("invalid-name-key", ErrorKind.BadRequest, "Invalid name key",
        $"ownerNameKey must be a version prefix and base64url ('v1.…'), at most {DropLimits.MaxOwnerNameKeyChars} characters, and is accepted only from a signed-in sender.");
    public static readonly Error InvalidReport = new("invalid-report", ErrorKind.BadRequest, "Invalid report", "Unknown reason, comment too long, or key not 32 bytes of base64url.");
    // A server fault, not the caller's: 500 (so monitoring counts it) with its own code, so clients stop retrying.
    public static readonly Error BlobDamaged = new("blob-damaged", ErrorKind.Internal, "Stored drop damaged", "The server's copy of this drop is incomplete; it cannot be downloaded.");
    public static readonly Error AlreadyReported = new("already-reported", ErrorKind.Conflict, "Already reported", "You reported this drop recently.");

    /// <summary>Why a drop in <paramref name="state"/> cannot be read.</summary>
    public static Error ForState(DropState state) => state switch
    {
        DropState.Uploading => NotFinalized,
        DropState.Expired => Expired,
        DropState.Exhausted => Exhausted,
        DropState.TakenDown => TakenDown,
        _ => PlatformErrors.Internal,
    };

}
