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

public sealed class ChatClient : IDisposable
{
    /// <summary>The longest text sent in one message (UTF-8 bytes), so that a send frame to 6 + 5 devices stays under the relay's 16 KiB.</summary>
    public const int MaxTextBytes = 1200;

    /// <summary>One-time prekeys made at link time and kept available when listening.</summary>
    public const int PreKeyBatch = 100;

    /// <summary>Listening tops up the one-time prekeys when fewer than this many are left unclaimed.</summary>
    public const int PreKeyLowWater = 20;

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

    /// <summary>Encrypts <paramref name="text"/> to every device of <paramref name="email"/>'s account and to our other devices.</summary>
    public async Task<ChatSent> SendAsync(string email, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Encoding.UTF8.GetByteCount(text) > MaxTextBytes)
        {
            throw new ChatException($"the message is longer than {MaxTextBytes} bytes");
        }

        var me = await MeAsync(cancellationToken).ConfigureAwait(false);
        var peer = await FindAsync(email, cancellationToken).ConfigureAwait(false);
        if (peer.AccountId == me.AccountId)
        {
            throw new ChatException("that is your own account: your other devices get a copy of everything you send");
        }

        var now = _client.Options.TimeProvider.GetUtcNow();
        // A version-7 id carries the send time in ms: a device that cannot decrypt the message names it by that
        // time in its retry request (chat-wire §6.3), and the sender finds it in its history.
        var at = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
        var message = new ChatMessage(Guid.CreateVersion7(at), "out", peer.AccountId, peer.Email, 0, text, at);

        using var store = OpenStore(me);
        var device = RequireDevice(store, me);
        using var keys = Keys(device);
        message = message with { Device = device.DeviceId };
        var content = Content(me, message);
        var token = await _client.BearerAsync(cancellationToken).ConfigureAwait(false);
        await using var socket = await ChatSocket.ConnectAsync(_client.Http.BaseAddress!, token, device.DeviceId, cancellationToken).ConfigureAwait(false);

        RememberContact(store, peer.Email, peer.AccountId);
        var recipients = await DeliverAsync(store, socket, device, keys, peer.AccountId, peer.Email, peer.AccountKey, content, message.Id, cancellationToken).ConfigureAwait(false);
        AppendHistory(store, message);
        store.Save();
        var own = await DeliverAsync(store, socket, device, keys, me.AccountId, me.Email, null, content, message.Id, cancellationToken).ConfigureAwait(false);
        store.Save();
        CryptographicOperations.ZeroMemory(content);
        Wipe(device);
        return new ChatSent(message, recipients, own);
    }

    private static byte[] Content(AccountInfoCache me, ChatMessage message) =>
        JsonSerializer.SerializeToUtf8Bytes(new ChatContent(1, "text", message.Id, message.Peer, me.Email, message.Text, message.At.ToUnixTimeMilliseconds()), Json);

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

    /// <summary>
    /// Receives this device's messages until <paramref name="cancellationToken"/> fires or, when given,
    /// <paramref name="stopAfter"/> deliveries were reported and acked. Each is decrypted, stored, then acked.
    /// </summary>
    public async Task<int> ListenAsync(Func<ChatDelivery, Task> onDelivery, int? stopAfter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onDelivery);
        var me = await MeAsync(cancellationToken).ConfigureAwait(false);
        int deviceId;
        using (var store = OpenStore(me))
        {
            var device = RequireDevice(store, me);
            deviceId = device.DeviceId;
            Wipe(device);
        }

        await TopUpPreKeysAsync(me, deviceId, cancellationToken).ConfigureAwait(false);
        var delivered = 0;
        var pendingAcks = 0;
        ChatSocket? sender = null;
        try
        {
            while (true)
            {
                var token = await _client.BearerAsync(cancellationToken).ConfigureAwait(false);
                await using var socket = await ChatSocket.ConnectAsync(_client.Http.BaseAddress!, token, deviceId, cancellationToken).ConfigureAwait(false);
                while (true)
                {
                    if (stopAfter is { } limit && delivered >= limit && pendingAcks == 0)
                    {
                        return delivered;
                    }

                    JsonElement? received;
                    try
                    {
                        received = await socket.ReceiveAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        return delivered;
                    }

                    if (received is not { } frame)
                    {
                        break;
                    }

                    switch (ChatSocket.TypeOf(frame))
                    {
                        case "msg":
                            var (delivery, followUp) = await ReceiveAsync(me, frame, cancellationToken).ConfigureAwait(false);
                            await socket.SendAsync(new { type = "ack", ids = new[] { frame.GetProperty("id").GetGuid() } }, cancellationToken).ConfigureAwait(false);
                            pendingAcks++;
                            if (followUp is not null)
                            {
                                // Retry requests and resends go out on a second socket, so this one keeps every pushed frame.
                                sender ??= await ChatSocket.ConnectAsync(_client.Http.BaseAddress!, await _client.BearerAsync(cancellationToken).ConfigureAwait(false), deviceId, cancellationToken).ConfigureAwait(false);
                                delivery = await followUp(sender).ConfigureAwait(false) ?? delivery;
                            }

                            if (delivery is not null)
                            {
                                delivered++;
                                await onDelivery(delivery).ConfigureAwait(false);
                            }

                            break;
                        case "acked":
                            pendingAcks--;
                            break;
                    }
                }

                switch ((int?)socket.CloseStatus)
                {
                    case ChatSocket.CloseUnauthorized:
                        // The access token lapsed: renew it and reconnect; unacked rows come again.
                        if (sender is not null)
                        {
                            await sender.DisposeAsync().ConfigureAwait(false);
                            sender = null;
                        }

                        if (RenewSession is { } renew)
                        {
                            await renew(cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            await _client.Identity.RefreshAsync(cancellationToken).ConfigureAwait(false);
                        }

                        pendingAcks = 0;
                        continue;
                    case ChatSocket.CloseDeviceRemoved:
                        throw new ChatException("this machine's chat device was removed from the account");
                    default:
                        throw new ChatException($"the relay closed the connection (close {(int?)socket.CloseStatus})");
                }
            }
        }
        finally
        {
            if (sender is not null)
            {
                await sender.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Decrypts, stores and reports one pushed message (null when it was a duplicate already handled), with what must
    /// be sent in answer once it is acked: a retry request for a message that did not decrypt, or the resend a
    /// retry request asks for.
    /// </summary>
    private async Task<(ChatDelivery? Delivery, Func<ChatSocket, Task<ChatDelivery?>>? FollowUp)> ReceiveAsync(AccountInfoCache me, JsonElement frame, CancellationToken cancellationToken)
    {
        var messageId = frame.GetProperty("messageId").GetGuid();
        Guid? from = frame.TryGetProperty("from", out var f) && f.ValueKind == JsonValueKind.String ? f.GetGuid() : null;
        int? fromDevice = frame.TryGetProperty("fromDevice", out var fd) && fd.ValueKind == JsonValueKind.Number ? fd.GetInt32() : null;
        var body = frame.GetProperty("body").GetBytesFromBase64();

        using var store = OpenStore(me);
        var seen = store.ReadJson<StoredSeen>("seen") ?? new StoredSeen();
        if (seen.Ids.Contains(messageId))
        {
            return (null, null);
        }

        if (from is not { } sender || fromDevice is not { } senderDevice)
        {
            // This client sends on the authenticated socket only; sealed envelopes are the browser's (spec/chat-client.md).
            return (new ChatDelivery(null, "sealed-unsupported", null, null), null);
        }

        var device = RequireDevice(store, me);
        if (body.Length > 1 && body[0] == RetryEnvelope)
        {
            var request = ChatRetryRequest.TryParse(body.AsSpan(1));
            var ours = request is not null && request.DeviceId == (uint)device.DeviceId;
            Wipe(device);
            return request is null ? (new ChatDelivery(null, "malformed-retry-request", sender, senderDevice), null)
                : !ours ? (null, null) // meant for another device of this account
                : (null, socket => ResendAsync(me, socket, sender, senderDevice, request.Timestamp, cancellationToken));
        }

        using var keys = Keys(device);
        var sessionName = $"session/{sender:D}/{senderDevice}";
        using var record = LoadSession(store, sessionName);
        ChatDecryptResult result;
        if (body.Length < 2 || body[0] is not (PreKeyEnvelope or MessageEnvelope))
        {
            result = new ChatDecryptResult(ChatDecryptStatus.Malformed);
        }
        else if (body[0] == PreKeyEnvelope)
        {
            using var preKeys = new StoredPreKeys(device);
            result = SessionCipher.DecryptPreKey(record, keys, (uint)device.RegistrationId, preKeys, body.AsSpan(1));
        }
        else
        {
            result = SessionCipher.Decrypt(record, body.AsSpan(1));
        }

        if (result.Status != ChatDecryptStatus.Ok)
        {
            Wipe(device);
            var failed = new ChatDelivery(null, result.Status.ToString(), sender, senderDevice);
            if (result.Status == ChatDecryptStatus.Duplicate || SentAt(messageId) is not { } sentAt)
            {
                return (failed, null);
            }

            // Desync (chat-wire §6.3): ask the sending device for a fresh session and the message again.
            var retry = ChatRetryRequest.ForOriginal(body.AsSpan(1), body[0] == PreKeyEnvelope ? SealedContentType.PreKey : SealedContentType.Message, sentAt, (uint)senderDevice);
            return (failed, socket => SendRetryRequestAsync(me, socket, sender, retry, cancellationToken));
        }

        MarkSeen(store, seen, messageId);

        if (result.UsedOneTimePreKeyId is { } used)
        {
            device.OneTimePreKeys.RemoveAll(k => k.Id == used);
            store.WriteJson("device", device);
        }

        SaveSession(store, sessionName, record);
        ChatContent? content;
        try
        {
            content = JsonSerializer.Deserialize<ChatContent>(result.Plaintext!, Json);
        }
        catch (JsonException)
        {
            content = null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(result.Plaintext!);
        }

        var peer = store.ReadJson<StoredPeer>($"peer/{sender:D}") ?? new StoredPeer();
        if (!peer.Devices.Exists(d => d.DeviceId == senderDevice) && record.Current is { } current && sender != me.AccountId)
        {
            // A device that wrote first: answer it on the session it started (its certificate is checked when we fetch bundles).
            peer.Devices.Add(new StoredPeerDevice { DeviceId = senderDevice, RegistrationId = (int)current.RemoteRegistrationId });
            store.WriteJson($"peer/{sender:D}", peer);
        }

        if (content is not { V: 1, Type: "text", Text: not null } || content.Id != messageId)
        {
            store.Save();
            Wipe(device);
            return (new ChatDelivery(null, "malformed-content", sender, senderDevice), null);
        }

        ChatMessage message;
        if (sender == me.AccountId)
        {
            // One of our other devices sent it: file it under the conversation it names.
            var conversation = content.Conversation ?? Guid.Empty;
            message = new ChatMessage(messageId, "out", conversation, EmailOf(store, conversation), senderDevice, content.Text, DateTimeOffset.FromUnixTimeMilliseconds(content.At));
        }
        else
        {
            var email = EmailOf(store, sender);
            if (email is null && content.SenderEmail is { } claimed)
            {
                // The sender's claim is believed only when the relay maps that address to the sending account.
                var found = await TryFindAsync(claimed, cancellationToken).ConfigureAwait(false);
                if (found?.AccountId == sender)
                {
                    email = found.Email;
                    RememberContact(store, email, sender);
                }
            }

            message = new ChatMessage(messageId, "in", sender, email, senderDevice, content.Text, DateTimeOffset.FromUnixTimeMilliseconds(content.At));
        }

        AppendHistory(store, message);
        store.Save();
        Wipe(device);
        return (new ChatDelivery(message, null, sender, senderDevice), null);
    }

    /// <summary>The send time a version-7 message id carries (ms since 1970), or null for another kind of id.</summary>
    private static ulong? SentAt(Guid messageId)
    {
        Span<byte> bytes = stackalloc byte[16];
        messageId.TryWriteBytes(bytes, bigEndian: true, out _);
        if (bytes[6] >> 4 != 7)
        {
            return null;
        }

        ulong ms = 0;
        for (var i = 0; i < 6; i++)
        {
            ms = (ms << 8) | bytes[i];
        }

        return ms;
    }

    /// <summary>
    /// Sends <paramref name="retry"/> in the clear (it holds no secret: a ratchet key, a time and a device id) to every
    /// device of <paramref name="to"/>, as the relay requires the whole device list; only the named device acts on it.
    /// </summary>
    private async Task<ChatDelivery?> SendRetryRequestAsync(AccountInfoCache me, ChatSocket socket, Guid to, ChatRetryRequest retry, CancellationToken cancellationToken)
    {
        byte[] body = [RetryEnvelope, .. retry.Serialize()];
        var self = to == me.AccountId;
        List<(int DeviceId, int RegistrationId)> devices;
        if (self)
        {
            using var store = OpenStore(me);
            var mine = RequireDevice(store, me).DeviceId;
            devices = [.. (await DevicesAsync(cancellationToken).ConfigureAwait(false)).Where(d => d.DeviceId != mine).Select(d => (d.DeviceId, d.RegistrationId))];
        }
        else
        {
            // Registration ids are only in bundles; the claimed one-time prekeys are the price of a desync.
            var bundles = await _client.AuthenticatedAsync<ChatBundlesResponse>(HttpMethod.Post, $"{Base}/accounts/{to:D}/bundles", null, cancellationToken).ConfigureAwait(false);
            devices = [.. bundles.Devices.Select(d => (d.DeviceId, d.RegistrationId))];
        }

        if (devices.Count > 0)
        {
            var messages = devices.Select(d => new { device = d.DeviceId, registrationId = d.RegistrationId, body }).ToList();
            await socket.SendAndAnswerAsync(new { type = "send", id = Guid.CreateVersion7(), to, messages }, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>
    /// Answers a retry request from <paramref name="requester"/>'s device: drops the session with it (the next send
    /// starts a fresh X3DH) and sends the message it names again, with the same id, so the devices that have it skip it.
    /// </summary>
    private async Task<ChatDelivery?> ResendAsync(AccountInfoCache me, ChatSocket socket, Guid requester, int requesterDevice, ulong sentAt, CancellationToken cancellationToken)
    {
        using var store = OpenStore(me);
        var device = RequireDevice(store, me);
        store.Delete($"session/{requester:D}/{requesterDevice}");
        store.Save();
        var self = requester == me.AccountId;
        var message = self
            ? AllHistories(store).FirstOrDefault(m => m.Direction == "out" && m.Device == device.DeviceId && (ulong)m.At.ToUnixTimeMilliseconds() == sentAt)
            : store.ReadJson<StoredHistory>($"history/{requester:D}")?.Messages.Find(m => m.Direction == "out" && m.Device == device.DeviceId && (ulong)m.At.ToUnixTimeMilliseconds() == sentAt);
        if (message is null)
        {
            Wipe(device);
            return null;
        }

        using var keys = Keys(device);
        var content = Content(me, message);
        try
        {
            var to = self ? me.AccountId : requester;
            var email = self ? me.Email : message.PeerEmail ?? requester.ToString("D");
            await DeliverAsync(store, socket, device, keys, to, email, null, content, message.Id, cancellationToken).ConfigureAwait(false);
            store.Save();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
            Wipe(device);
        }

        return new ChatDelivery(message, null, requester, requesterDevice, Resent: true);
    }

    private static IEnumerable<ChatMessage> AllHistories(ChatStore store) =>
        (store.ReadJson<StoredContacts>("contacts")?.ByEmail.Values.ToList() ?? []).Distinct()
            .SelectMany(account => store.ReadJson<StoredHistory>($"history/{account:D}")?.Messages ?? []);

    /// <summary>
    /// Sends <paramref name="content"/> to every device of <paramref name="to"/> (for our own account: every other
    /// device), starting sessions from fresh bundles where needed and following the relay's 409/410 answers.
    /// Returns how many devices it went to.
    /// </summary>
    private async Task<int> DeliverAsync(
        ChatStore store, ChatSocket socket, StoredDevice device, ChatDeviceKeys keys, Guid to, string email, byte[]? lookedUpKey,
        byte[] content, Guid messageId, CancellationToken cancellationToken)
    {
        var self = to == (await MeAsync(cancellationToken).ConfigureAwait(false)).AccountId;
        var peerName = $"peer/{to:D}";
        var peer = store.ReadJson<StoredPeer>(peerName) ?? new StoredPeer();
        peer.Email = email;
        if (self)
        {
            peer.Devices = [.. (await DevicesAsync(cancellationToken).ConfigureAwait(false))
                .Where(d => d.DeviceId != device.DeviceId).Select(d => new StoredPeerDevice { DeviceId = d.DeviceId, RegistrationId = d.RegistrationId })];
            if (peer.Devices.Count == 0)
            {
                return 0;
            }
        }

        var sessions = new Dictionary<int, SessionRecord>();
        try
        {
            for (var attempt = 0; attempt < 4; attempt++)
            {
                foreach (var d in peer.Devices.Where(d => !sessions.ContainsKey(d.DeviceId)))
                {
                    sessions[d.DeviceId] = LoadSession(store, $"session/{to:D}/{d.DeviceId}");
                }

                if (peer.Devices.Count == 0 || peer.Devices.Exists(d => sessions[d.DeviceId].Current is null))
                {
                    await StartSessionsAsync(store, peer, sessions, keys, device, to, email, lookedUpKey, self, cancellationToken).ConfigureAwait(false);
                }

                if (peer.Devices.Count == 0)
                {
                    throw new ChatException($"{email} has no chat devices");
                }

                var messages = peer.Devices.Select(d =>
                {
                    var cipher = SessionCipher.Encrypt(sessions[d.DeviceId], content);
                    return new { device = d.DeviceId, registrationId = d.RegistrationId, body = (byte[])[cipher.IsPreKey ? PreKeyEnvelope : MessageEnvelope, .. cipher.Serialized] };
                }).ToList();

                // The advanced ratchets are stored before the relay has the ciphertext: a refused send only skips
                // counters (the receiver keeps skipped keys), while a send stored by the relay but forgotten here
                // would reuse a message key.
                foreach (var (deviceId, record) in sessions)
                {
                    SaveSession(store, $"session/{to:D}/{deviceId}", record);
                }

                store.WriteJson(peerName, peer);
                store.Save();
                var answer = await socket.SendAndAnswerAsync(new { type = "send", id = messageId, to, messages }, cancellationToken).ConfigureAwait(false);
                if (ChatSocket.TypeOf(answer) == "sent")
                {
                    return messages.Count;
                }

                var code = answer.TryGetProperty("code", out var c) ? c.GetString() : null;
                switch (code)
                {
                    case "mismatched-devices":
                        var missing = Ids(answer, "missing");
                        var extra = Ids(answer, "extra");
                        peer.Devices.RemoveAll(d => extra.Contains(d.DeviceId));
                        foreach (var gone in extra)
                        {
                            store.Delete($"session/{to:D}/{gone}");
                            if (sessions.Remove(gone, out var old))
                            {
                                old.Dispose();
                            }
                        }

                        peer.Devices.AddRange(missing.Where(m => !peer.Devices.Exists(d => d.DeviceId == m)).Select(m => new StoredPeerDevice { DeviceId = m }));
                        break;
                    case "stale-devices":
                        foreach (var stale in Ids(answer, "stale"))
                        {
                            store.Delete($"session/{to:D}/{stale}");
                            if (sessions.Remove(stale, out var old))
                            {
                                old.Dispose();
                            }

                            sessions[stale] = new SessionRecord();
                        }

                        break;
                    case "rate-limited":
                        throw new ChatException("the relay is rate-limiting this connection: try again in a moment");
                    default:
                        throw new ChatException($"the relay refused the message ({code ?? "no reason given"})");
                }
            }

            throw new ChatException($"the device list of {email} kept changing while sending: try again");
        }
        finally
        {
            foreach (var record in sessions.Values)
            {
                record.Dispose();
            }
        }
    }

    /// <summary>Claims bundles for <paramref name="to"/>, pins (or checks) its account key, and starts a session with each device that has none.</summary>
    private async Task StartSessionsAsync(
        ChatStore store, StoredPeer peer, Dictionary<int, SessionRecord> sessions, ChatDeviceKeys keys, StoredDevice device,
        Guid to, string email, byte[]? lookedUpKey, bool self, CancellationToken cancellationToken)
    {
        var bundles = await _client.AuthenticatedAsync<ChatBundlesResponse>(HttpMethod.Post, $"{Base}/accounts/{to:D}/bundles", null, cancellationToken).ConfigureAwait(false);
        byte[] trusted;
        if (self)
        {
            using var own = DeriveAccountKey();
            trusted = own.PublicKey.Bytes.ToArray();
        }
        else
        {
            // Trust on first use: the key the relay gave the first time is pinned; a later change is refused.
            trusted = peer.AccountKey ?? lookedUpKey ?? bundles.AccountKey;
        }

        if (bundles.AccountKey is not { Length: Ed25519PublicKey.Length } || !CryptographicOperations.FixedTimeEquals(trusted, bundles.AccountKey))
        {
            throw new ChatException(self
                ? "the relay holds another chat account key for your own account: refusing to send"
                : $"the chat account key of {email} changed since you first wrote to each other: refusing to send (compare safety numbers, then remove the contact)");
        }

        peer.AccountKey ??= trusted;
        var accountKey = Ed25519PublicKey.Import(trusted);
        var listed = bundles.Devices.Where(b => !self || b.DeviceId != device.DeviceId).ToList();
        peer.Devices = [.. listed.Select(b => new StoredPeerDevice { DeviceId = b.DeviceId, RegistrationId = b.RegistrationId })];
        foreach (var bundle in listed)
        {
            if (sessions.TryGetValue(bundle.DeviceId, out var existing) && existing.Current is { } current && current.RemoteRegistrationId == (uint)bundle.RegistrationId)
            {
                continue;
            }

            var parsed = Parse(bundle) ?? throw new ChatException($"device {bundle.DeviceId} of {email} offers malformed keys: refusing to send");
            var record = existing ?? new SessionRecord();
            sessions[bundle.DeviceId] = record;
            var status = SessionCipher.Initiate(record, keys, (uint)device.RegistrationId, parsed, accountKey);
            if (status != ChatSessionStatus.Ok)
            {
                throw new ChatException($"device {bundle.DeviceId} of {email} offers keys that do not verify ({status}): refusing to send");
            }
        }

        store.WriteJson($"peer/{to:D}", peer);
    }

    private static PreKeyBundle? Parse(ChatBundleDto bundle)
    {
        if (bundle.SigningKey is not { Length: Ed25519PublicKey.Length } || bundle.Certificate is not { Length: 64 }
            || ChatPublicKey.TryParse(bundle.IdentityKey ?? []) is not { } identity
            || bundle.SignedPreKey is null || ChatPublicKey.TryParse(bundle.SignedPreKey.PublicKey ?? []) is not { } signedPreKey
            || bundle.SignedPreKey.Signature is not { Length: 64 })
        {
            return null;
        }

        OneTimePreKeyPublic? oneTime = null;
        if (bundle.OneTimePreKey is { } otk)
        {
            if (ChatPublicKey.TryParse(otk.PublicKey ?? []) is not { } otkKey || otk.Id is < 1 or > uint.MaxValue)
            {
                return null;
            }

            oneTime = new OneTimePreKeyPublic((uint)otk.Id, otkKey);
        }

        var certificate = new DeviceCertificate((uint)bundle.DeviceId, Ed25519PublicKey.Import(bundle.SigningKey), identity, bundle.Certificate);
        return new PreKeyBundle((uint)bundle.RegistrationId, certificate, (uint)bundle.SignedPreKey.Id, signedPreKey, bundle.SignedPreKey.Signature, oneTime);
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
        device.OneTimePreKeys.ForEach(k => CryptographicOperations.ZeroMemory(k.PrivateKey));
    }

    /// <summary>This device's private prekeys, imported on demand and wiped on dispose.</summary>
    private sealed class StoredPreKeys(StoredDevice device) : IChatPreKeys, IDisposable
    {
        private readonly List<X25519PrivateKey> _imported = [];

        public X25519PrivateKey? SignedPreKey(uint id) => id == (uint)device.SignedPreKeyId ? Import(device.SignedPreKey) : null;

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
