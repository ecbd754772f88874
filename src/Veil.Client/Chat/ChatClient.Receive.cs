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
}
