// The chat client (issue 18, Deliver point 5; spec/chat-client.md): what a browser will do, over the relay of
// spec/chat-api.md. Every key is made and used here; the relay sees public keys and ciphertext only.
//
//   account key  Ed25519 seed = HKDF-SHA256(user key, info "veil/v1/chat/account-key"): every device that can open
//                the user key (signed in with the master password) derives the same key, so linking a second
//                device needs no transfer between devices; it certifies each device (chat-wire §2).
//   device       signing key, identity key, signed prekey and 100 one-time prekeys, made at link time and kept
//                only in the encrypted store (ChatStore); the one-time prekeys are topped up when listening.
//   send         one ciphertext per device of the recipient and one per other device of our own account
//                (so they see the conversation too); 409/410 from the relay refresh the device list and retry.
//   listen       the socket's messages are decrypted, written to the store and only then acked (at least once
//                in, exactly once in the history: de-duplicated by message id).
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Veil.Crypto.Chat;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;

namespace Veil.Client.Chat;

public sealed partial class ChatClient : IDisposable
{
    /// <summary>The longest text sent in one message (UTF-8 bytes), so that a send frame to 6 + 5 devices stays under the relay's 16 KiB.</summary>
    public const int MaxTextBytes = 1200;

    /// <summary>One-time prekeys made at link time and kept available when listening.</summary>
    public const int PreKeyBatch = 100;

    /// <summary>Listening tops up the one-time prekeys when fewer than this many are left unclaimed.</summary>
    public const int PreKeyLowWater = 20;

    /// <summary>A signed prekey older than this is replaced on the next <c>send</c> or <c>listen</c>.</summary>
    public static readonly TimeSpan SignedPreKeyMaxAge = TimeSpan.FromDays(7);

    /// <summary>
    /// How long the private half of a replaced signed prekey is kept: a first message made from a bundle fetched before
    /// the rotation may wait in the relay's mailbox up to its 30-day lifetime.
    /// </summary>
    public static readonly TimeSpan SignedPreKeyGrace = TimeSpan.FromDays(30);

    /// <summary>A cached sender certificate is renewed when it has less than this left.</summary>
    private static readonly TimeSpan CertificateRenewBefore = TimeSpan.FromHours(1);

    private const string Base = "api/v1/chat";
    private const byte PreKeyEnvelope = 3;
    private const byte MessageEnvelope = 1;
    private const byte RetryEnvelope = 8;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly VeilClient _client;
    private readonly SecretBytes _userKey;
    private readonly string _storeDirectory;
    private AccountInfoCache? _me;

    /// <summary>A chat client for the signed-in account of <paramref name="client"/>, whose user key is open.</summary>
    public ChatClient(VeilClient client, SecretBytes userKey, string storeDirectory)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(userKey);
        _client = client;
        using (var lease = userKey.Acquire())
        {
            _userKey = SecretBytes.Copy(lease.Span);
        }

        _storeDirectory = storeDirectory;
    }

    /// <summary>
    /// How a long listener renews its access token when the relay closes the socket with 4401; by default the
    /// client's own refresh. A CLI that shares its session file with other processes re-reads it under its lock.
    /// </summary>
    public Func<CancellationToken, Task>? RenewSession { get; set; }

    public void Dispose() => _userKey.Dispose();

    /// <summary>Registers this machine as a new device of the account (the next free device id).</summary>
    public async Task<ChatDeviceInfo> LinkAsync(CancellationToken cancellationToken = default)
    {
        var me = await MeAsync(cancellationToken).ConfigureAwait(false);
        var linked = await RegisterDeviceAsync(me, cancellationToken).ConfigureAwait(false);
        await PrepareRelayAsync(me, cancellationToken).ConfigureAwait(false);
        return linked;
    }

    private async Task<ChatDeviceInfo> RegisterDeviceAsync(AccountInfoCache me, CancellationToken cancellationToken)
    {
        using var store = OpenStore(me);
        if (store.ReadJson<StoredDevice>("device") is { } existing)
        {
            throw new ChatException($"this machine is already chat device {existing.DeviceId} of {me.Email}");
        }

        var devices = await DevicesAsync(cancellationToken).ConfigureAwait(false);
        var deviceId = devices.Count == 0 ? 1 : devices.Max(d => d.DeviceId) + 1;
        using var accountKey = DeriveAccountKey();
        using var keys = ChatDeviceKeys.Generate();
        using var signed = keys.CreateSignedPreKey(1);
        var device = new StoredDevice
        {
            DeviceId = deviceId,
            RegistrationId = RandomNumberGenerator.GetInt32(1, 16381),
            SigningSeed = new byte[Ed25519PrivateKey.SeedLength],
            IdentityKey = new byte[X25519PrivateKey.Length],
            SignedPreKeyId = 1,
            SignedPreKey = new byte[X25519PrivateKey.Length],
            SignedPreKeySignature = signed.Signature,
            SignedPreKeyCreatedAt = _client.Options.TimeProvider.GetUtcNow(),
        };
        keys.SigningKey.ExportSeed(device.SigningSeed);
        keys.IdentityKey.ExportPrivateKey(device.IdentityKey);
        signed.Key.ExportPrivateKey(device.SignedPreKey);
        var oneTime = NewPreKeys(device, PreKeyBatch);
        var certificate = accountKey.Certify((uint)deviceId, keys);

        // Stored before the relay hears of it: a device the relay knows but this machine forgot could never read its mail.
        store.WriteJson("device", device);
        store.Save();
        ChatDeviceResponse registered;
        try
        {
            registered = await _client.AuthenticatedAsync<ChatDeviceResponse>(HttpMethod.Post, $"{Base}/devices", new ChatRegisterRequest(
                accountKey.PublicKey.Bytes.ToArray(), deviceId, device.RegistrationId, keys.SigningKey.PublicKey.Bytes.ToArray(),
                ChatPublicKey.Serialize(keys.IdentityKey.PublicKey), certificate.Signature,
                new ChatSignedPreKeyDto(1, ChatPublicKey.Serialize(signed.Key.PublicKey), signed.Signature), oneTime), cancellationToken).ConfigureAwait(false);
        }
        catch (VeilApiException e)
        {
            store.Delete("device");
            store.Save();
            throw e.Code switch
            {
                "chat-device-limit" => new ChatException("this account already has the most chat devices allowed (6): remove one first ('veil chat device remove N')"),
                "chat-account-key-mismatch" => new ChatException("the relay holds another chat account key for this account (made before a password reset?): devices made with it must be removed first"),
                _ => e,
            };
        }
        finally
        {
            Wipe(device);
        }

        return new ChatDeviceInfo(registered.DeviceId, registered.RegistrationId, registered.CreatedAt, registered.LastSeenAt, ThisDevice: true);
    }

    /// <summary>The security alarms this machine raised, oldest first (a device of a contact that failed its certificate check, …).</summary>
    public async Task<IReadOnlyList<ChatAlarm>> AlarmsAsync(CancellationToken cancellationToken = default)
    {
        var me = await MeAsync(cancellationToken).ConfigureAwait(false);
        using var store = OpenStore(me);
        return store.ReadJson<StoredAlarms>("alarms")?.Alarms ?? [];
    }

    /// <summary>Forgets the stored alarms (a person has looked at them).</summary>
    public async Task ClearAlarmsAsync(CancellationToken cancellationToken = default)
    {
        var me = await MeAsync(cancellationToken).ConfigureAwait(false);
        using var store = OpenStore(me);
        store.WriteJson("alarms", new StoredAlarms());
        store.Save();
    }

    /// <summary>
    /// Pins the relay's sender-certificate trust root on first use (like a peer's account key: a later change is
    /// refused, not followed) and publishes the account's delivery access key once. Returns the pinned trust root.
    /// </summary>
    private async Task<Ed25519PublicKey> PrepareRelayAsync(AccountInfoCache me, CancellationToken cancellationToken)
    {
        StoredRelay relay;
        using (var store = OpenStore(me))
        {
            relay = store.ReadJson<StoredRelay>("relay") ?? new StoredRelay();
        }

        var changed = false;
        if (relay.TrustRoot is null)
        {
            var root = await _client.AuthenticatedAsync<ChatTrustRootResponse>(HttpMethod.Get, $"{Base}/trust-root", null, cancellationToken).ConfigureAwait(false);
            if (root.TrustRoot is not { Length: Ed25519PublicKey.Length })
            {
                throw new ChatException("the relay's sender-certificate trust root is malformed");
            }

            relay.TrustRoot = root.TrustRoot;
            changed = true;
        }

        if (!relay.AccessKeyPublished)
        {
            var accessKey = DeriveAccessKey();
            try
            {
                await _client.AuthenticatedAsync<NoContent>(HttpMethod.Put, $"{Base}/access-key", new ChatAccessKeyRequest(accessKey), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(accessKey);
            }

            relay.AccessKeyPublished = true;
            changed = true;
        }

        if (changed)
        {
            using var store = OpenStore(me);
            var current = store.ReadJson<StoredRelay>("relay") ?? new StoredRelay();
            current.TrustRoot ??= relay.TrustRoot;
            current.AccessKeyPublished |= relay.AccessKeyPublished;
            store.WriteJson("relay", current);
            store.Save();
            relay = current;
        }

        return Ed25519PublicKey.Import(relay.TrustRoot);
    }

    /// <summary>A sender certificate for this device with at least an hour left: the cached one, else a fresh one from the relay.</summary>
    private async Task<byte[]> SenderCertificateAsync(AccountInfoCache me, int deviceId, Ed25519PublicKey trustRoot, CancellationToken cancellationToken)
    {
        var now = _client.Options.TimeProvider.GetUtcNow();
        using (var store = OpenStore(me))
        {
            if (store.ReadJson<StoredRelay>("relay") is { Certificate: { } cached } relay && relay.CertificateExpires - CertificateRenewBefore > now)
            {
                return cached;
            }
        }

        var issued = await _client.AuthenticatedAsync<ChatSenderCertificateResponse>(HttpMethod.Get, $"{Base}/sender-certificate?deviceId={deviceId}", null, cancellationToken).ConfigureAwait(false);
        var parsed = ChatSenderCertificate.TryParse(issued.Certificate ?? []);
        if (parsed is null || !parsed.Validate(trustRoot, now) || parsed.SenderId != me.AccountId.ToString("D") || parsed.DeviceId != (uint)deviceId)
        {
            // Our recipients would refuse it; better to say so here than to send messages nobody can open.
            throw new ChatException("the relay issued a sender certificate that does not validate under its pinned trust root");
        }

        using (var store = OpenStore(me))
        {
            var relay = store.ReadJson<StoredRelay>("relay") ?? new StoredRelay();
            relay.Certificate = issued.Certificate;
            relay.CertificateExpires = parsed.Expires;
            store.WriteJson("relay", relay);
            store.Save();
        }

        return issued.Certificate!;
    }

    /// <summary>
    /// Replaces the signed prekey when it is older than <see cref="SignedPreKeyMaxAge"/>: the new one is stored first,
    /// then published; the replaced private key stays <see cref="SignedPreKeyGrace"/> for first messages still on the way.
    /// </summary>
    private async Task RotateSignedPreKeyIfDueAsync(AccountInfoCache me, CancellationToken cancellationToken)
    {
        var now = _client.Options.TimeProvider.GetUtcNow();
        ChatSignedPreKeyDto published;
        int deviceId;
        using (var store = OpenStore(me))
        {
            var device = RequireDevice(store, me);
            deviceId = device.DeviceId;
            try
            {
                var changed = false;
                if (device.PreviousSignedPreKeyRetiredAt is { } retired && now - retired > SignedPreKeyGrace)
                {
                    CryptographicOperations.ZeroMemory(device.PreviousSignedPreKey);
                    device.PreviousSignedPreKey = [];
                    device.PreviousSignedPreKeyId = 0;
                    device.PreviousSignedPreKeyRetiredAt = null;
                    changed = true;
                }

                if (device.SignedPreKeyCreatedAt is null)
                {
                    device.SignedPreKeyCreatedAt = now; // a store from before rotation: its age counts from now
                    changed = true;
                }

                if (now - device.SignedPreKeyCreatedAt.Value <= SignedPreKeyMaxAge)
                {
                    if (changed)
                    {
                        store.WriteJson("device", device);
                        store.Save();
                    }

                    return;
                }

                using var keys = Keys(device);
                var id = device.SignedPreKeyId == int.MaxValue ? 1 : device.SignedPreKeyId + 1;
                using var signed = keys.CreateSignedPreKey((uint)id);
                CryptographicOperations.ZeroMemory(device.PreviousSignedPreKey);
                device.PreviousSignedPreKeyId = device.SignedPreKeyId;
                device.PreviousSignedPreKey = device.SignedPreKey;
                device.PreviousSignedPreKeyRetiredAt = now;
                device.SignedPreKeyId = id;
                device.SignedPreKey = new byte[X25519PrivateKey.Length];
                signed.Key.ExportPrivateKey(device.SignedPreKey);
                device.SignedPreKeySignature = signed.Signature;
                device.SignedPreKeyCreatedAt = now;
                published = new ChatSignedPreKeyDto(id, ChatPublicKey.Serialize(signed.Key.PublicKey), signed.Signature);
                store.WriteJson("device", device);
                store.Save();
            }
            finally
            {
                Wipe(device);
            }
        }

        await _client.AuthenticatedAsync<ChatPreKeyCountResponse>(HttpMethod.Put, $"{Base}/devices/{deviceId}/prekeys", new ChatUploadPreKeysRequest(published, null), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a security alarm (kept with the last <see cref="StoredAlarms.Keep"/>); the caller saves the store.</summary>
    private static void RaiseAlarm(ChatStore store, ChatAlarm alarm)
    {
        var alarms = store.ReadJson<StoredAlarms>("alarms") ?? new StoredAlarms();
        alarms.Alarms.Add(alarm);
        if (alarms.Alarms.Count > StoredAlarms.Keep)
        {
            alarms.Alarms.RemoveRange(0, alarms.Alarms.Count - StoredAlarms.Keep);
        }

        store.WriteJson("alarms", alarms);
    }

    /// <summary>The account's devices, marking this machine's.</summary>
    public async Task<IReadOnlyList<ChatDeviceInfo>> ListDevicesAsync(CancellationToken cancellationToken = default)
    {
        var me = await MeAsync(cancellationToken).ConfigureAwait(false);
        int? mine;
        using (var store = OpenStore(me))
        {
            mine = store.ReadJson<StoredDevice>("device")?.DeviceId;
        }

        return [.. (await DevicesAsync(cancellationToken).ConfigureAwait(false)).Select(d => new ChatDeviceInfo(d.DeviceId, d.RegistrationId, d.CreatedAt, d.LastSeenAt, d.DeviceId == mine))];
    }

    /// <summary>Removes a device of the account; removing this machine's also deletes its local store.</summary>
    public async Task RemoveDeviceAsync(int deviceId, CancellationToken cancellationToken = default)
    {
        var me = await MeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, $"{Base}/devices/{deviceId}", null, cancellationToken).ConfigureAwait(false);
        }
        catch (VeilApiException e) when (e.Code == "chat-device-not-found")
        {
            throw new ChatException($"this account has no chat device {deviceId} (see 'veil chat device list')");
        }

        using var store = OpenStore(me);
        if (store.ReadJson<StoredDevice>("device") is { } device && device.DeviceId == deviceId)
        {
            Wipe(device);
            store.DeleteFile();
        }
    }

    /// <summary>The conversation with <paramref name="email"/> from the local store, oldest first.</summary>
    public async Task<IReadOnlyList<ChatMessage>> HistoryAsync(string email, CancellationToken cancellationToken = default)
    {
        var me = await MeAsync(cancellationToken).ConfigureAwait(false);
        Guid? account;
        using (var store = OpenStore(me))
        {
            RequireDevice(store, me);
            account = store.ReadJson<StoredContacts>("contacts")?.ByEmail.GetValueOrDefault(NormalizeEmail(email));
        }

        account ??= (await FindAsync(email, cancellationToken).ConfigureAwait(false)).AccountId;
        using (var store = OpenStore(me))
        {
            return store.ReadJson<StoredHistory>($"history/{account:D}")?.Messages ?? [];
        }
    }

    private async Task TopUpPreKeysAsync(AccountInfoCache me, int deviceId, CancellationToken cancellationToken)
    {
        var count = await _client.AuthenticatedAsync<ChatPreKeyCountResponse>(HttpMethod.Get, $"{Base}/devices/{deviceId}/prekeys", null, cancellationToken).ConfigureAwait(false);
        if (count.OneTimePreKeys >= PreKeyLowWater)
        {
            return;
        }

        using var store = OpenStore(me);
        var device = RequireDevice(store, me);
        var added = NewPreKeys(device, PreKeyBatch);
        store.WriteJson("device", device);
        store.Save();
        Wipe(device);
        await _client.AuthenticatedAsync<ChatPreKeyCountResponse>(HttpMethod.Put, $"{Base}/devices/{deviceId}/prekeys", new ChatUploadPreKeysRequest(null, added), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Makes <paramref name="count"/> one-time prekeys (private halves into <paramref name="device"/>), returning the public halves.</summary>
    private static List<ChatOneTimePreKeyDto> NewPreKeys(StoredDevice device, int count)
    {
        var published = new List<ChatOneTimePreKeyDto>(count);
        for (var i = 0; i < count; i++)
        {
            using var key = X25519PrivateKey.Generate();
            var stored = new StoredPreKey { Id = device.NextPreKeyId++, PrivateKey = new byte[X25519PrivateKey.Length] };
            key.ExportPrivateKey(stored.PrivateKey);
            device.OneTimePreKeys.Add(stored);
            published.Add(new ChatOneTimePreKeyDto(stored.Id, ChatPublicKey.Serialize(key.PublicKey)));
        }

        return published;
    }

    private async Task<IReadOnlyList<ChatDeviceResponse>> DevicesAsync(CancellationToken cancellationToken) =>
        (await _client.AuthenticatedAsync<ChatDeviceListResponse>(HttpMethod.Get, $"{Base}/devices", null, cancellationToken).ConfigureAwait(false)).Devices;

    private sealed record FoundAccount(Guid AccountId, string Email, byte[] AccountKey);

    private async Task<FoundAccount> FindAsync(string email, CancellationToken cancellationToken) =>
        await TryFindAsync(email, cancellationToken).ConfigureAwait(false)
        ?? throw new ChatException($"no chat user {Printable(email)} on this server (unknown address, or they have not linked a chat device yet)");

    private async Task<FoundAccount?> TryFindAsync(string email, CancellationToken cancellationToken)
    {
        var normalized = NormalizeEmail(email);
        try
        {
            var found = await _client.AuthenticatedAsync<ChatAccountResponse>(HttpMethod.Get, $"{Base}/accounts?email={Uri.EscapeDataString(normalized)}", null, cancellationToken).ConfigureAwait(false);
            return new FoundAccount(found.AccountId, normalized, found.AccountKey);
        }
        catch (VeilApiException e) when (e.Code == "chat-unknown-account")
        {
            return null;
        }
    }

    private async Task<AccountInfoCache> MeAsync(CancellationToken cancellationToken)
    {
        if (_me is null)
        {
            var info = await _client.Identity.WhoAmIAsync(cancellationToken).ConfigureAwait(false);
            _me = new AccountInfoCache(info.AccountId, NormalizeEmail(info.Email));
        }

        return _me;
    }

    private sealed record AccountInfoCache(Guid AccountId, string Email);

    private ChatStore OpenStore(AccountInfoCache me) => ChatStore.Open(ChatStore.PathFor(_storeDirectory, me.AccountId), me.AccountId, _userKey);

    private static StoredDevice RequireDevice(ChatStore store, AccountInfoCache me) =>
        store.ReadJson<StoredDevice>("device")
        ?? throw new ChatException($"this machine is not a chat device of {me.Email} yet: run 'veil chat device link'");

    /// <summary>The account signing key every device of this account derives from the user key (spec/chat-client.md §1).</summary>
    private ChatAccountKey DeriveAccountKey()
    {
        Span<byte> seed = stackalloc byte[Ed25519PrivateKey.SeedLength];
        try
        {
            using (var key = _userKey.Acquire())
            {
                Hkdf.DeriveSha256(key.Span, [], "veil/v1/chat/account-key"u8, seed);
            }

            return ChatAccountKey.ImportSeed(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>
    /// The account's 16-byte delivery access key (spec/chat-client.md §6): derived from the user key like the account key, so
    /// every device of the account has it without a transfer, and it is given to contacts inside encrypted messages.
    /// </summary>
    private byte[] DeriveAccessKey()
    {
        var accessKey = new byte[16];
        using var key = _userKey.Acquire();
        Hkdf.DeriveSha256(key.Span, [], "veil/v1/chat/access-key"u8, accessKey);
        return accessKey;
    }

    private static ChatDeviceKeys Keys(StoredDevice device) =>
        new(Ed25519PrivateKey.ImportSeed(device.SigningSeed), X25519PrivateKey.Import(device.IdentityKey));

    private static SessionRecord LoadSession(ChatStore store, string name)
    {
        var bytes = store.Read(name);
        if (bytes is null)
        {
            return new SessionRecord();
        }

        try
        {
            return SessionRecordFormat.TryParse(bytes) ?? throw new ChatStoreException("a stored chat session is damaged");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static void SaveSession(ChatStore store, string name, SessionRecord record)
    {
        var bytes = SessionRecordFormat.Serialize(record);
        try
        {
            store.Write(name, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static void AppendHistory(ChatStore store, ChatMessage message)
    {
        var name = $"history/{message.Peer:D}";
        var history = store.ReadJson<StoredHistory>(name) ?? new StoredHistory();
        if (!history.Messages.Exists(m => m.Id == message.Id))
        {
            history.Messages.Add(message);
            history.Messages.Sort((a, b) => a.At.CompareTo(b.At));
            store.WriteJson(name, history);
        }
    }

    private static void MarkSeen(ChatStore store, StoredSeen seen, Guid id)
    {
        seen.Ids.Add(id);
        if (seen.Ids.Count > StoredSeen.Keep)
        {
            seen.Ids.RemoveRange(0, seen.Ids.Count - StoredSeen.Keep);
        }

        store.WriteJson("seen", seen);
    }

    private static void RememberContact(ChatStore store, string email, Guid account)
    {
        var contacts = store.ReadJson<StoredContacts>("contacts") ?? new StoredContacts();
        contacts.ByEmail[NormalizeEmail(email)] = account;
        store.WriteJson("contacts", contacts);
    }

    private static string? EmailOf(ChatStore store, Guid account) =>
        store.ReadJson<StoredContacts>("contacts")?.ByEmail.FirstOrDefault(p => p.Value == account).Key;

    private static int[] Ids(JsonElement answer, string member) =>
        answer.TryGetProperty(member, out var list) && list.ValueKind == JsonValueKind.Array ? [.. list.EnumerateArray().Select(e => e.GetInt32())] : [];

    /// <summary>spec/keys.md's email normalisation: trim ASCII whitespace, lowercase ASCII only.</summary>
    private static string NormalizeEmail(string email)
    {
        var trimmed = email.Trim(' ', '\t', '\r', '\n');
        return string.Create(trimmed.Length, trimmed, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = source[i] is >= 'A' and <= 'Z' ? (char)(source[i] + 32) : source[i];
            }
        });
    }

    private static string Printable(string text) => Drop.DropFileNames.Printable(text);

    private static void Wipe(StoredDevice device)
    {
        CryptographicOperations.ZeroMemory(device.SigningSeed);
        CryptographicOperations.ZeroMemory(device.IdentityKey);
        CryptographicOperations.ZeroMemory(device.SignedPreKey);
        CryptographicOperations.ZeroMemory(device.PreviousSignedPreKey);
        device.OneTimePreKeys.ForEach(k => CryptographicOperations.ZeroMemory(k.PrivateKey));
    }

    /// <summary>This device's private prekeys, imported on demand and wiped on dispose.</summary>
    private sealed class StoredPreKeys(StoredDevice device) : IChatPreKeys, IDisposable
    {
        private readonly List<X25519PrivateKey> _imported = [];

        public X25519PrivateKey? SignedPreKey(uint id) =>
            id == (uint)device.SignedPreKeyId ? Import(device.SignedPreKey)
            : id == (uint)device.PreviousSignedPreKeyId && device.PreviousSignedPreKey is { Length: X25519PrivateKey.Length } ? Import(device.PreviousSignedPreKey)
            : null;

        public X25519PrivateKey? OneTimePreKey(uint id) =>
            device.OneTimePreKeys.Find(k => k.Id == id) is { } key ? Import(key.PrivateKey) : null;

        private X25519PrivateKey Import(byte[] privateKey)
        {
            var key = X25519PrivateKey.Import(privateKey);
            _imported.Add(key);
            return key;
        }

        public void Dispose() => _imported.ForEach(k => k.Dispose());
    }
}
