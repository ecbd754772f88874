using Veil.Server.Platform.Results;

namespace Veil.Server.Chat;

/// <summary>Fixed limits of the chat relay (spec/chat-api.md).</summary>
internal static class ChatLimits
{
    public const int MaxDevices = 6;
    public const int MaxFrameBytes = 16_384;
    public const int FramesPerSecond = 30;

    /// <summary>Frames in one second beyond which the socket is closed with 1008 (sustained abuse).</summary>
    public const int AbusiveFramesPerSecond = 2 * FramesPerSecond;
    public const int MaxPreKeysPerUpload = 100;
    public const int MaxStoredPreKeys = 200;
    public const int AccessKeyBytes = 16;
    public static readonly TimeSpan MailboxLifetime = TimeSpan.FromDays(30);
    public static readonly TimeSpan ClaimedPreKeyLifetime = TimeSpan.FromDays(7);
    public static readonly TimeSpan AuditLifetime = TimeSpan.FromDays(90);
    public static readonly TimeSpan IdleBeforeHashing = TimeSpan.FromHours(24);
}

/// <summary>Every expected Chat failure; the codes are the contract of spec/chat-api.md.</summary>
internal static class ChatErrors
{
    public static readonly Error BadKeys = new("chat-bad-keys", ErrorKind.BadRequest, "Bad keys", "A key, certificate or signature has the wrong length or does not verify.");
    public static readonly Error BadDeviceId = new("chat-bad-device-id", ErrorKind.BadRequest, "Bad device id", "Device ids are 1..2147483647.");
    public static readonly Error TooManyPreKeys = new("chat-too-many-prekeys", ErrorKind.BadRequest, "Too many prekeys", $"Upload at most {ChatLimits.MaxPreKeysPerUpload} one-time prekeys at once and keep at most {ChatLimits.MaxStoredPreKeys}.");
    public static readonly Error AccountKeyMismatch = new("chat-account-key-mismatch", ErrorKind.Conflict, "Account key differs", "This account already has a different chat account key.");
    public static readonly Error DeviceExists = new("chat-device-exists", ErrorKind.Conflict, "Device id taken", "This account already has a device with that id.");
    public static readonly Error DeviceLimit = new("chat-device-limit", ErrorKind.Conflict, "Too many devices", $"An account can link at most {ChatLimits.MaxDevices} devices.");
    public static readonly Error DeviceNotFound = new("chat-device-not-found", ErrorKind.NotFound, "No such device", "This account has no device with that id.");
    public static readonly Error UnknownAccount = new("chat-unknown-account", ErrorKind.NotFound, "Unknown chat user", "No account with that email address uses chat.");
    public static readonly Error NoChatAccount = new("chat-no-account", ErrorKind.NotFound, "No chat account", "That account has no chat devices.");
}
