// ChatClient, sending (spec/chat-client.md §4): fan-out to every device, sessions from claimed bundles, the relay's 409/410.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Veil.Crypto.Chat;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;

namespace Veil.Client.Chat;

public sealed partial class ChatClient
{
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

        int deviceId;
        byte[]? accessKey;
        using (var store = OpenStore(me))
        {
            var mine = RequireDevice(store, me);
            deviceId = mine.DeviceId;
            Wipe(mine);
            accessKey = store.ReadJson<StoredPeer>($"peer/{peer.AccountId:D}")?.AccessKey;
        }

        var trustRoot = await PrepareRelayAsync(me, cancellationToken).ConfigureAwait(false);
        await RotateSignedPreKeyIfDueAsync(me, cancellationToken).ConfigureAwait(false);

        // Sealed when we know their access key (they gave it inside an earlier message); the certificate tells them who we are.
        var route = accessKey is { Length: 16 }
            ? new SealedRoute(accessKey, await SenderCertificateAsync(me, deviceId, trustRoot, cancellationToken).ConfigureAwait(false))
            : null;

        using var store2 = OpenStore(me);
        var device = RequireDevice(store2, me);
        using var keys = Keys(device);
        message = message with { Device = device.DeviceId };
        var content = Content(me, message);
        var token = await _client.BearerAsync(cancellationToken).ConfigureAwait(false);
        await using var socket = await ChatSocket.ConnectAsync(_client.Http.BaseAddress!, token, device.DeviceId, cancellationToken).ConfigureAwait(false);

        RememberContact(store2, peer.Email, peer.AccountId);
        int recipients;
        try
        {
            recipients = await DeliverAsync(store2, socket, device, keys, peer.AccountId, peer.Email, peer.AccountKey, content, message.Id, route, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (route?.Socket is { } anonymous)
            {
                await anonymous.DisposeAsync().ConfigureAwait(false);
            }
        }

        AppendHistory(store2, message);
        store2.Save();

        // Our own other devices get their copy on the authenticated socket, as Signal's sync messages do: the relay
        // learns that this account sent something at that moment (see THREAT-MODEL, Chat).
        var own = await DeliverAsync(store2, socket, device, keys, me.AccountId, me.Email, null, content, message.Id, null, cancellationToken).ConfigureAwait(false);
        store2.Save();
        CryptographicOperations.ZeroMemory(content);
        Wipe(device);
        var fallback = route is null ? "no-access-key" : route.Refused ? "access-key-refused" : null;
        return new ChatSent(message, recipients, own, Sealed: fallback is null, fallback);
    }

    /// <summary>How a send goes sealed: the recipient's access key, our certificate, the anonymous socket once opened.</summary>
    private sealed class SealedRoute(byte[] accessKey, byte[] certificate)
    {
        public byte[] AccessKey => accessKey;

        public byte[] Certificate => certificate;

        public ChatSocket? Socket { get; set; }

        /// <summary>Set when the relay refused the access key (401): the send fell back to the authenticated socket.</summary>
        public bool Refused { get; set; }
    }

    private byte[] Content(AccountInfoCache me, ChatMessage message)
    {
        var accessKey = DeriveAccessKey();
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(new ChatContent(1, "text", message.Id, message.Peer, me.Email, message.Text, message.At.ToUnixTimeMilliseconds(), accessKey), Json);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(accessKey);
        }
    }

    /// <summary>
    /// Sends <paramref name="content"/> to every device of <paramref name="to"/> (for our own account: every other
    /// device), starting sessions from fresh bundles where needed and following the relay's 409/410 answers.
    /// Returns how many devices it went to.
    /// </summary>
    private async Task<int> DeliverAsync(
        ChatStore store, ChatSocket socket, StoredDevice device, ChatDeviceKeys keys, Guid to, string email, byte[]? lookedUpKey,
        byte[] content, Guid messageId, SealedRoute? route, CancellationToken cancellationToken)
    {
        var self = to == (await MeAsync(cancellationToken).ConfigureAwait(false)).AccountId;
        var peerName = $"peer/{to:D}";
        var peer = store.ReadJson<StoredPeer>(peerName) ?? new StoredPeer();
        peer.Email = email;
        if (self)
        {
            var known = peer.Devices;
            peer.Devices = [.. (await DevicesAsync(cancellationToken).ConfigureAwait(false))
                .Where(d => d.DeviceId != device.DeviceId).Select(d => new StoredPeerDevice
                {
                    DeviceId = d.DeviceId,
                    RegistrationId = d.RegistrationId,
                    Certified = known.Exists(k => k.DeviceId == d.DeviceId && k.RegistrationId == d.RegistrationId && k.Certified),
                })];
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

                var ciphers = peer.Devices.Select(d => (Device: d, Cipher: SessionCipher.Encrypt(sessions[d.DeviceId], content))).ToList();
                var messages = ciphers.Select(c => new
                {
                    device = c.Device.DeviceId,
                    registrationId = c.Device.RegistrationId,
                    body = (byte[])[c.Cipher.IsPreKey ? PreKeyEnvelope : MessageEnvelope, .. c.Cipher.Serialized],
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
                JsonElement answer;
                if (route is { Refused: false })
                {
                    // Sealed sender: each device's ciphertext inside a v1 envelope to that device's identity key, with our
                    // certificate; the anonymous socket names no sender, the access key proves we may write to them.
                    var sealedMessages = ciphers.Select(c => new
                    {
                        device = c.Device.DeviceId,
                        registrationId = c.Device.RegistrationId,
                        body = SealedSender.Seal(keys.IdentityKey, sessions[c.Device.DeviceId].Current!.RemoteIdentityKey, new SealedContent(
                            c.Cipher.IsPreKey ? SealedContentType.PreKey : SealedContentType.Message, route.Certificate, c.Cipher.Serialized))
                            ?? throw new ChatException($"device {c.Device.DeviceId} of {email} has an unusable identity key: refusing to send"),
                    }).ToList();
                    route.Socket ??= await ChatSocket.ConnectAnonymousAsync(_client.Http.BaseAddress!, cancellationToken).ConfigureAwait(false);
                    answer = await route.Socket.SendAndAnswerAsync(new { type = "send", id = messageId, to, accessKey = route.AccessKey, messages = sealedMessages }, cancellationToken).ConfigureAwait(false);
                    if (ChatSocket.TypeOf(answer) == "error" && answer.TryGetProperty("code", out var refused) && refused.GetString() == "unauthorized")
                    {
                        // Their access key changed or was never published: forget it and send the same ciphertexts unsealed.
                        route.Refused = true;
                        peer.AccessKey = null;
                        store.WriteJson(peerName, peer);
                        store.Save();
                        answer = await socket.SendAndAnswerAsync(new { type = "send", id = messageId, to, messages }, cancellationToken).ConfigureAwait(false);
                    }
                }
                else
                {
                    answer = await socket.SendAndAnswerAsync(new { type = "send", id = messageId, to, messages }, cancellationToken).ConfigureAwait(false);
                }

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
        peer.Devices = [.. listed.Select(b => new StoredPeerDevice
        {
            DeviceId = b.DeviceId,
            RegistrationId = b.RegistrationId,
            Certified = Parse(b) is { } parsed && parsed.Certificate.Verify(accountKey),
        })];
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
}
