// The chat client's public results, the relay's JSON shapes (spec/chat-api.md) and the records it keeps in its
// encrypted store (spec/chat-client.md). Private keys appear only in the store records, which are sealed.
namespace Veil.Client.Chat;

/// <summary>A chat failure a person can act on (unknown user, no device on this machine, …); the message is one line.</summary>
public sealed class ChatException(string message) : Exception(message);

/// <summary>One of the account's devices as the relay lists it.</summary>
public sealed record ChatDeviceInfo(int DeviceId, int RegistrationId, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt, bool ThisDevice);

/// <summary>A message of a conversation, as stored in the local history.</summary>
/// <param name="Id">The message id (the same on every device).</param>
/// <param name="Direction"><c>in</c> (received) or <c>out</c> (sent from one of the account's devices).</param>
/// <param name="Peer">The other party's account.</param>
/// <param name="PeerEmail">The other party's address, when known.</param>
/// <param name="Device">The sending device (ours for <c>out</c>).</param>
/// <param name="Text">The text.</param>
/// <param name="At">When the sender says it was written.</param>
public sealed record ChatMessage(Guid Id, string Direction, Guid Peer, string? PeerEmail, int Device, string Text, DateTimeOffset At);

/// <summary>What <see cref="ChatClient.ListenAsync"/> reports for each mailbox entry.</summary>
/// <param name="Message">The decrypted message, or null when it could not be decrypted.</param>
/// <param name="Problem">Why it could not be decrypted (a decryption status), else null.</param>
/// <param name="From">The sending account, as the relay says.</param>
/// <param name="FromDevice">The sending device, as the relay says.</param>
/// <param name="Resent">
/// True when this was a retry request from <paramref name="From"/>'s device and <paramref name="Message"/> (ours) was sent again.
/// </param>
/// <param name="Sealed">True when it came as a sealed-sender envelope (the relay did not know the sender).</param>
public sealed record ChatDelivery(ChatMessage? Message, string? Problem, Guid? From, int? FromDevice, bool Resent = false, bool Sealed = false);

/// <summary>A security alarm the client stored (a device whose certificate does not verify under the pinned account key, …).</summary>
/// <param name="At">When it was raised.</param>
/// <param name="Account">The account concerned.</param>
/// <param name="Device">The device concerned.</param>
/// <param name="Reason">What was wrong, one line.</param>
public sealed record ChatAlarm(DateTimeOffset At, Guid Account, int Device, string Reason);

/// <summary>The result of a send: the message and how many device ciphertexts the relay stored.</summary>
/// <param name="Message">The message sent.</param>
/// <param name="RecipientDevices">How many of the recipient's devices it went to.</param>
/// <param name="OwnDevices">How many of our other devices got a copy (always on the authenticated socket).</param>
/// <param name="Sealed">True when it went to the recipient sealed (sealed sender, on the anonymous socket).</param>
/// <param name="Fallback">Why it was not sealed (<c>no-access-key</c>, <c>access-key-refused</c>), or null when it was.</param>
public sealed record ChatSent(ChatMessage Message, int RecipientDevices, int OwnDevices, bool Sealed = false, string? Fallback = null);

internal sealed record ChatAccountResponse(Guid AccountId, byte[] AccountKey);

internal sealed record ChatDeviceResponse(int DeviceId, int RegistrationId, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt);

internal sealed record ChatDeviceListResponse(IReadOnlyList<ChatDeviceResponse> Devices);

internal sealed record ChatSignedPreKeyDto(int Id, byte[] PublicKey, byte[] Signature);

internal sealed record ChatOneTimePreKeyDto(long Id, byte[] PublicKey);

internal sealed record ChatRegisterRequest(
    byte[] AccountKey, int DeviceId, int RegistrationId, byte[] SigningKey, byte[] IdentityKey, byte[] Certificate,
    ChatSignedPreKeyDto SignedPreKey, IReadOnlyList<ChatOneTimePreKeyDto> OneTimePreKeys);

internal sealed record ChatUploadPreKeysRequest(ChatSignedPreKeyDto? SignedPreKey, IReadOnlyList<ChatOneTimePreKeyDto>? OneTimePreKeys);

internal sealed record ChatPreKeyCountResponse(int OneTimePreKeys);

internal sealed record ChatBundleDto(
    int DeviceId, int RegistrationId, byte[] SigningKey, byte[] IdentityKey, byte[] Certificate,
    ChatSignedPreKeyDto SignedPreKey, ChatOneTimePreKeyDto? OneTimePreKey);

internal sealed record ChatBundlesResponse(byte[] AccountKey, IReadOnlyList<ChatBundleDto> Devices);

internal sealed record ChatCertifiedDeviceDto(int DeviceId, int RegistrationId, byte[] SigningKey, byte[] IdentityKey, byte[] Certificate);

internal sealed record ChatCertifiedDevicesResponse(byte[] AccountKey, IReadOnlyList<ChatCertifiedDeviceDto> Devices);

internal sealed record ChatSenderCertificateResponse(byte[] Certificate, DateTimeOffset ExpiresAt);

internal sealed record ChatTrustRootResponse(byte[] TrustRoot, int ServerCertificateId);

internal sealed record ChatAccessKeyRequest(byte[] AccessKey);

/// <summary>The message content inside the ratchet (spec/chat-client.md §4).</summary>
/// <remarks><c>AccessKey</c> is the sender account's delivery access key (spec/chat-client.md §6): knowing it lets the recipient seal.</remarks>
internal sealed record ChatContent(int V, string Type, Guid Id, Guid? Conversation, string? SenderEmail, string? Text, long At, byte[]? AccessKey = null);

// ---- store records (sealed by ChatStore) ----

internal sealed class StoredPreKey
{
    public long Id { get; set; }

    public byte[] PrivateKey { get; set; } = [];
}

/// <summary>Record <c>device</c>: this machine's device of the account, with its private keys.</summary>
internal sealed class StoredDevice
{
    public int DeviceId { get; set; }

    public int RegistrationId { get; set; }

    public byte[] SigningSeed { get; set; } = [];

    public byte[] IdentityKey { get; set; } = [];

    public int SignedPreKeyId { get; set; }

    public byte[] SignedPreKey { get; set; } = [];

    public byte[] SignedPreKeySignature { get; set; } = [];

    public List<StoredPreKey> OneTimePreKeys { get; set; } = [];

    public long NextPreKeyId { get; set; } = 1;

    /// <summary>When the current signed prekey was made (null in stores written before rotation: counted from first use).</summary>
    public DateTimeOffset? SignedPreKeyCreatedAt { get; set; }

    /// <summary>The signed prekey replaced by the last rotation, kept for <see cref="ChatClient.SignedPreKeyGrace"/> (id 0: none).</summary>
    public int PreviousSignedPreKeyId { get; set; }

    public byte[] PreviousSignedPreKey { get; set; } = [];

    public DateTimeOffset? PreviousSignedPreKeyRetiredAt { get; set; }
}

/// <summary>Record <c>relay</c>: the relay's pinned trust root, whether our access key is published, our cached sender certificate.</summary>
internal sealed class StoredRelay
{
    public byte[]? TrustRoot { get; set; }

    public bool AccessKeyPublished { get; set; }

    public byte[]? Certificate { get; set; }

    public DateTimeOffset CertificateExpires { get; set; }
}

/// <summary>Record <c>alarms</c>: security alarms, newest last (at most 200).</summary>
internal sealed class StoredAlarms
{
    public const int Keep = 200;

    public List<ChatAlarm> Alarms { get; set; } = [];
}

internal sealed class StoredPeerDevice
{
    public int DeviceId { get; set; }

    public int RegistrationId { get; set; }

    /// <summary>Whether its device certificate was seen to verify under the account key (from a bundle, or checked on its first message).</summary>
    public bool Certified { get; set; }
}

/// <summary>Record <c>peer/ACCOUNT</c>: the pinned account key and the device list last known.</summary>
internal sealed class StoredPeer
{
    public string? Email { get; set; }

    public byte[]? AccountKey { get; set; }

    /// <summary>Their delivery access key, learnt from a message of theirs; null until then (or after the relay refused it).</summary>
    public byte[]? AccessKey { get; set; }

    public List<StoredPeerDevice> Devices { get; set; } = [];
}

/// <summary>Record <c>contacts</c>: addresses the relay confirmed, mapped to their accounts.</summary>
internal sealed class StoredContacts
{
    public Dictionary<string, Guid> ByEmail { get; set; } = [];
}

/// <summary>Record <c>history/ACCOUNT</c>: one conversation, oldest first.</summary>
internal sealed class StoredHistory
{
    public List<ChatMessage> Messages { get; set; } = [];
}

/// <summary>Record <c>seen</c>: recently handled message ids, for at-least-once de-duplication.</summary>
internal sealed class StoredSeen
{
    public const int Keep = 5000;

    public List<Guid> Ids { get; set; } = [];
}
