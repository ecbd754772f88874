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
public sealed record ChatDelivery(ChatMessage? Message, string? Problem, Guid? From, int? FromDevice, bool Resent = false);

/// <summary>The result of a send: the message and how many device ciphertexts the relay stored.</summary>
public sealed record ChatSent(ChatMessage Message, int RecipientDevices, int OwnDevices);

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

/// <summary>The message content inside the ratchet (spec/chat-client.md §4).</summary>
internal sealed record ChatContent(int V, string Type, Guid Id, Guid? Conversation, string? SenderEmail, string? Text, long At);

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
}

internal sealed class StoredPeerDevice
{
    public int DeviceId { get; set; }

    public int RegistrationId { get; set; }
}

/// <summary>Record <c>peer/ACCOUNT</c>: the pinned account key and the device list last known.</summary>
internal sealed class StoredPeer
{
    public string? Email { get; set; }

    public byte[]? AccountKey { get; set; }

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
