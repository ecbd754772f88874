// ChatClient, receiving (spec/chat-client.md §4, §4.1): listen, decrypt-store-ack, retry requests and resends.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Veil.Crypto.Chat;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;

namespace Veil.Client.Chat;

public sealed partial class ChatClient
{
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

        var trustRoot = await PrepareRelayAsync(me, cancellationToken).ConfigureAwait(false);
        await RotateSignedPreKeyIfDueAsync(me, cancellationToken).ConfigureAwait(false);
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
                            var (delivery, followUp) = await ReceiveAsync(me, trustRoot, frame, cancellationToken).ConfigureAwait(false);
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
    private async Task<(ChatDelivery? Delivery, Func<ChatSocket, Task<ChatDelivery?>>? FollowUp)> ReceiveAsync(
        AccountInfoCache me, Ed25519PublicKey trustRoot, JsonElement frame, CancellationToken cancellationToken)
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

        var device = RequireDevice(store, me);
        X25519PublicKey? proven = null;
        if (from is null || fromDevice is null)
        {
            // Sealed sender: the relay does not know who wrote. The envelope proves the sender's identity key, the
            // certificate inside names the account and device, and it counts only if it chains to the pinned trust root
            // and has not expired by our clock.
            var opened = OpenSealed(device, trustRoot, body, out var problem);
            if (opened is null)
            {
                Wipe(device);
                return (new ChatDelivery(null, problem, null, null, Sealed: true), null);
            }

            (from, fromDevice, proven, body) = opened.Value;
        }

        var sender = from.Value;
        var senderDevice = fromDevice.Value;
        var wasSealed = proven is not null;
        if (body.Length > 1 && body[0] == RetryEnvelope)
        {
            var request = ChatRetryRequest.TryParse(body.AsSpan(1));
            var ours = request is not null && request.DeviceId == (uint)device.DeviceId;
            Wipe(device);
            return request is null ? (new ChatDelivery(null, "malformed-retry-request", sender, senderDevice, Sealed: wasSealed), null)
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
            var failed = new ChatDelivery(null, result.Status.ToString(), sender, senderDevice, Sealed: wasSealed);
            if (result.Status == ChatDecryptStatus.Duplicate || SentAt(messageId) is not { } sentAt)
            {
                return (failed, null);
            }

            // Desync (chat-wire §6.3): ask the sending device for a fresh session and the message again.
            var retry = ChatRetryRequest.ForOriginal(body.AsSpan(1), body[0] == PreKeyEnvelope ? SealedContentType.PreKey : SealedContentType.Message, sentAt, (uint)senderDevice);
            return (failed, socket => SendRetryRequestAsync(me, socket, sender, retry, cancellationToken));
        }

        var remoteIdentity = record.Current!.RemoteIdentityKey;
        if (proven is not null && !proven.Equals(remoteIdentity))
        {
            // The certificate's (envelope-proven) key is not the key of the session that decrypted: someone else's
            // ciphertext in a sealed envelope of their own. Nothing is kept.
            CryptographicOperations.ZeroMemory(result.Plaintext!);
            Wipe(device);
            return (new ChatDelivery(null, "sealed-identity-mismatch", sender, senderDevice, Sealed: true), null);
        }

        // A device we have not checked yet (a new device of a contact, or anyone's first message): its certificate must
        // verify under the account key we pinned before anything it sent is kept.
        var peer = store.ReadJson<StoredPeer>($"peer/{sender:D}") ?? new StoredPeer();
        if (!peer.Devices.Exists(d => d.DeviceId == senderDevice && d.Certified))
        {
            var refusal = await CheckNewDeviceAsync(me, peer, sender, senderDevice, remoteIdentity, (int)record.Current.RemoteRegistrationId, cancellationToken).ConfigureAwait(false);
            if (refusal is not null)
            {
                CryptographicOperations.ZeroMemory(result.Plaintext!);
                if (refusal.Alarm)
                {
                    RaiseAlarm(store, new ChatAlarm(_client.Options.TimeProvider.GetUtcNow(), sender, senderDevice, refusal.Reason));
                    store.Save();
                }

                Wipe(device);
                return (new ChatDelivery(null, refusal.Problem, sender, senderDevice, Sealed: wasSealed), null);
            }

            store.WriteJson($"peer/{sender:D}", peer);
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

        if (content is not { V: 1, Type: "text", Text: not null } || content.Id != messageId)
        {
            store.Save();
            Wipe(device);
            return (new ChatDelivery(null, "malformed-content", sender, senderDevice, Sealed: wasSealed), null);
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
            if (content.AccessKey is { Length: 16 } accessKey)
            {
                // Their delivery access key, given inside the encryption: from now on we write to them sealed.
                peer.AccessKey = accessKey;
                store.WriteJson($"peer/{sender:D}", peer);
            }

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
        return (new ChatDelivery(message, null, sender, senderDevice, Sealed: wasSealed), null);
    }

    private sealed record DeviceRefusal(string Problem, string Reason, bool Alarm);

    /// <summary>
    /// Checks a device heard from for the first time: the relay's certificate for it must verify under the account key we
    /// pinned (our own derived key for our own account; pinned now, trust on first use, for a first contact) and name the
    /// identity key the message proved. On success the device joins <paramref name="peer"/>'s list as certified.
    /// </summary>
    private async Task<DeviceRefusal?> CheckNewDeviceAsync(
        AccountInfoCache me, StoredPeer peer, Guid account, int deviceId, X25519PublicKey identity, int registrationId, CancellationToken cancellationToken)
    {
        ChatCertifiedDevicesResponse listed;
        try
        {
            listed = await _client.AuthenticatedAsync<ChatCertifiedDevicesResponse>(HttpMethod.Get, $"{Base}/accounts/{account:D}/devices", null, cancellationToken).ConfigureAwait(false);
        }
        catch (VeilApiException e) when (e.Code == "chat-no-account")
        {
            return new DeviceRefusal("unknown-device", "the relay lists no chat devices for this account", Alarm: false);
        }

        byte[] trusted;
        if (account == me.AccountId)
        {
            using var own = DeriveAccountKey();
            trusted = own.PublicKey.Bytes.ToArray();
        }
        else
        {
            trusted = peer.AccountKey ?? listed.AccountKey;
        }

        if (trusted is not { Length: Ed25519PublicKey.Length })
        {
            return new DeviceRefusal("unknown-device", "the relay gave a malformed account key", Alarm: false);
        }

        var entry = listed.Devices.FirstOrDefault(d => d.DeviceId == deviceId);
        if (entry is null)
        {
            return new DeviceRefusal("unknown-device", "the relay does not list the sending device", Alarm: false);
        }

        var certified = entry.SigningKey is { Length: Ed25519PublicKey.Length } && entry.Certificate is { Length: 64 }
            && ChatPublicKey.TryParse(entry.IdentityKey ?? []) is { } listedIdentity && listedIdentity.Equals(identity)
            && new DeviceCertificate((uint)deviceId, Ed25519PublicKey.Import(entry.SigningKey), listedIdentity, entry.Certificate).Verify(Ed25519PublicKey.Import(trusted));
        if (!certified)
        {
            return new DeviceRefusal("forged-device", $"device {deviceId} is not certified by the account key pinned for this account (a device the relay inserted?)", Alarm: true);
        }

        if (account != me.AccountId)
        {
            peer.AccountKey ??= trusted;
        }

        peer.Devices.RemoveAll(d => d.DeviceId == deviceId);
        peer.Devices.Add(new StoredPeerDevice { DeviceId = deviceId, RegistrationId = registrationId, Certified = true });
        return null;
    }

    /// <summary>Opens a sealed envelope to this device and validates its certificate: the sender, its device, the proven identity key and the inner body.</summary>
    private (Guid From, int FromDevice, X25519PublicKey Proven, byte[] Body)? OpenSealed(StoredDevice device, Ed25519PublicKey trustRoot, byte[] envelope, out string problem)
    {
        SealedOpened? opened;
        using (var identity = X25519PrivateKey.Import(device.IdentityKey))
        {
            opened = SealedSender.Open(identity, envelope);
        }

        if (opened is null)
        {
            problem = "sealed-unreadable";
            return null;
        }

        var certificate = ChatSenderCertificate.TryParse(opened.Content.SenderCertificate);
        if (certificate is null || !Guid.TryParse(certificate.SenderId, out var sender) || certificate.DeviceId is 0 or > int.MaxValue)
        {
            problem = "sealed-certificate-malformed";
            return null;
        }

        if (!certificate.Validate(trustRoot, certificate.Expires.AddMilliseconds(-1)))
        {
            problem = "sealed-certificate-untrusted"; // not signed by the relay whose trust root we pinned
            return null;
        }

        if (!certificate.Validate(trustRoot, _client.Options.TimeProvider.GetUtcNow()))
        {
            problem = "sealed-certificate-expired";
            return null;
        }

        byte type = opened.Content.Type switch
        {
            SealedContentType.PreKey => PreKeyEnvelope,
            SealedContentType.Message => MessageEnvelope,
            SealedContentType.Plaintext => RetryEnvelope,
            _ => 0,
        };
        problem = string.Empty;
        return (sender, (int)certificate.DeviceId, opened.SenderIdentity, [type, .. opened.Content.Content]);
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
            await DeliverAsync(store, socket, device, keys, to, email, null, content, message.Id, null, cancellationToken).ConfigureAwait(false);
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
}
