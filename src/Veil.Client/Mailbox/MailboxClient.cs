// The mailbox as a client sees it (spec/mailbox-api.md). Every key operation happens here, never on the server:
// address key pairs are made here and leave only wrapped (AddressKeyChain); summaries and messages arrive sealed
// and are decrypted here with the address key opened through the user key. The opened address keys are kept for
// the life of this object and wiped by Dispose.
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Veil.Crypto.Memory;
using Veil.Crypto.OpenPgp;
using Veil.Mail.Mime;

namespace Veil.Client.Mailbox;

public sealed partial class MailboxClient : IDisposable
{
    private const string Base = "api/v1/mail";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly VeilClient _client;
    private readonly SecretBytes? _userKey;
    private readonly Dictionary<Guid, byte[]> _keys = [];
    private Dictionary<Guid, MailAddressInfo>? _addresses;

    /// <summary>A client that can only use what needs no key (domains, removal, deletion, the key directory).</summary>
    public MailboxClient(VeilClient client, SecretBytes? userKey = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _userKey = userKey is null ? null : CopyOf(userKey);
    }

    /// <summary>A client holding a copy of the signed-in account's user key.</summary>
    public static MailboxClient ForSignedIn(VeilClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new MailboxClient(client, client.Identity.UserKey
            ?? throw new InvalidOperationException("The account's user key is not open: sign in with the password or unlock first."));
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            CryptographicOperations.ZeroMemory(key);
        }

        _keys.Clear();
        _userKey?.Dispose();
    }

    public Task<MailDomains> DomainsAsync(CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<MailDomains>(HttpMethod.Get, $"{Base}/domains", null, cancellationToken);

    /// <summary>Makes a key pair for <paramref name="address"/> here and registers the address with its public key and wrapped private key.</summary>
    public Task<MailAddressInfo> AddAddressAsync(string address, CancellationToken cancellationToken = default)
    {
        var canonical = Canonical(address);
        var pair = AddressKeys.Generate(canonical, _client.Options.TimeProvider.GetUtcNow());
        try
        {
            return RegisterAsync(canonical, pair.PublicKey, pair.SecretKeyRing, cancellationToken);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pair.SecretKeyRing);
        }
    }

    /// <summary>Registers <paramref name="address"/> with an existing OpenPGP secret key (its user ID must name the address).</summary>
    public async Task<MailAddressInfo> ImportAddressAsync(string address, byte[] secretKey, string? passphrase, CancellationToken cancellationToken = default)
    {
        var ring = AddressKeys.Import(secretKey, passphrase);
        try
        {
            return await RegisterAsync(Canonical(address), AddressKeys.PublicKeyOf(ring, _client.Options.TimeProvider.GetUtcNow()), ring, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ring);
        }
    }

    public async Task<IReadOnlyList<MailAddressInfo>> ListAddressesAsync(CancellationToken cancellationToken = default)
    {
        var list = await _client.AuthenticatedAsync<List<MailAddressInfo>>(HttpMethod.Get, $"{Base}/addresses", null, cancellationToken).ConfigureAwait(false);
        _addresses = list.ToDictionary(a => a.Id);
        return list;
    }

    public Task RemoveAddressAsync(Guid id, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, $"{Base}/addresses/{id}", null, cancellationToken);

    /// <summary>The armoured secret key of one of the account's addresses (for gpg, Thunderbird, a backup).</summary>
    public async Task<string> ExportKeyAsync(string address, CancellationToken cancellationToken = default)
    {
        var canonical = Canonical(address);
        var info = (await ListAddressesAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(a => a.Address == canonical)
            ?? throw new MailboxKeyException("you have no address " + canonical);
        return AddressKeys.ExportArmored(KeyOf(info));
    }

    /// <summary>The key directory: the published key of any address on this server.</summary>
    public Task<PublishedKey> LookupKeyAsync(string address, CancellationToken cancellationToken = default) =>
        _client.AnonymousAsync<PublishedKey>(HttpMethod.Get, $"{Base}/keys?address={Uri.EscapeDataString(address)}", null, cancellationToken);

    /// <summary>
    /// When set, <see cref="SendAsync"/> encrypts only to keys that <see cref="LookupVerifiedKeyAsync"/> accepts: logged,
    /// with a valid inclusion proof, under a quorum-cosigned checkpoint consistent with the last one seen.
    /// </summary>
    public Veil.Client.Transparency.KtClient? KeyTransparency { get; set; }

    /// <summary>
    /// The published key of <paramref name="address"/>, used only if the key transparency log proves it is the address's
    /// current key; a <see cref="Veil.Client.Transparency.KtRefusedException"/> otherwise.
    /// </summary>
    public async Task<(PublishedKey Key, Veil.Crypto.Transparency.KtVerification Proof)> LookupVerifiedKeyAsync(
        string address, Veil.Client.Transparency.KtClient kt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(kt);
        var since = kt.LastSeen is { } last ? "&since=" + last.Size.ToString(CultureInfo.InvariantCulture) : "";
        var published = await _client.AnonymousAsync<PublishedKey>(
            HttpMethod.Get, $"{Base}/keys?address={Uri.EscapeDataString(address)}{since}", null, cancellationToken).ConfigureAwait(false);
        var proof = await kt.VerifyAsync(Veil.Crypto.Transparency.KeyEvent.MailSubject(Canonical(address)), published.Transparency, cancellationToken).ConfigureAwait(false);
        if (!proof.MailFingerprints().Contains(published.Fingerprint.ToUpperInvariant()))
        {
            throw new Veil.Client.Transparency.KtRefusedException(proof.Pending > 0
                ? $"the key of {Canonical(address)} is not yet in a published key transparency checkpoint: try again in a moment"
                : $"the key the server gave for {Canonical(address)} is not the one its key transparency log shows");
        }

        return (published, proof);
    }

    /// <summary>The newest messages of a folder ("inbox" or "sent") with their summaries decrypted (tombstones have none).</summary>
    public async Task<IReadOnlyList<MailListItem>> ListMessagesAsync(int limit = 100, string folder = "inbox", CancellationToken cancellationToken = default)
    {
        var sealedList = await _client.AuthenticatedAsync<List<SealedMessageInfo>>(
            HttpMethod.Get, $"{Base}/messages?limit={limit.ToString(CultureInfo.InvariantCulture)}&folder={Uri.EscapeDataString(folder)}", null, cancellationToken).ConfigureAwait(false);
        var result = new List<MailListItem>(sealedList.Count);
        foreach (var message in sealedList)
        {
            var address = await AddressAsync(message.AddressId, cancellationToken).ConfigureAwait(false);
            var summary = message.Gone is null && message.Summary.Length > 0 ? OpenSummary(address, message.Summary) : null;
            result.Add(new MailListItem(message.Id, address.Address, message.EnvelopeFrom, message.Size, message.ReceivedAt, message.ThreadId, summary,
                message.Folder, message.ExpiresAt, message.MaxViews, message.Views, message.Gone));
        }

        return result;
    }

    /// <summary>
    /// Fetches a sealed message, decrypts it here and parses it. For a confidential copy this counts as a view. A
    /// signature inside is checked against the sender's published key (key directory) or, in the Sent folder, the
    /// address's own key.
    /// </summary>
    public async Task<MailReadMessage> ReadAsync(Guid id, CancellationToken cancellationToken = default)
    {
        var info = await _client.AuthenticatedAsync<SealedMessageInfo>(HttpMethod.Get, $"{Base}/messages/{id}", null, cancellationToken).ConfigureAwait(false);
        var address = await AddressAsync(info.AddressId, cancellationToken).ConfigureAwait(false);
        var now = _client.Options.TimeProvider.GetUtcNow();
        var verifiers = new List<OpenPgpPublicKey>();
        if (info.Folder == "sent")
        {
            verifiers.AddRange(OpenPgpPublicKey.Parse(address.PublicKey, now).Key is { } own ? [own] : []);
        }
        else if (info.Gone is null && MailboxAddressLike(info.EnvelopeFrom))
        {
            try
            {
                var published = await LookupKeyAsync(info.EnvelopeFrom, cancellationToken).ConfigureAwait(false);
                verifiers.AddRange(OpenPgpPublicKey.Parse(published.PublicKey, now).Key is { } sender ? [sender] : []);
            }
            catch (VeilApiException e) when (e.Code is "key-not-found" or "invalid-address")
            {
                // An outside sender: nothing to verify against (inbound mail is sealed by the server, unsigned).
            }
        }

        if (info.Gone is null && info.Summary.Length > 0 && OpenReplyKey(address, info.Summary) is { } reply)
        {
            return await ReadReplyAsync(info, address, reply, cancellationToken).ConfigureAwait(false);
        }

        using var response = await _client.AuthenticatedSendAsync(
            () => new HttpRequestMessage(HttpMethod.Get, $"{Base}/messages/{id}/sealed"), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        // The OpenPGP reader needs a seekable stream (it sniffs armour): the sealed message is buffered first.
        using var sealedCopy = new MemoryStream();
        await response.Content.CopyToAsync(sealedCopy, cancellationToken).ConfigureAwait(false);
        sealedCopy.Position = 0;
        var bytes = AddressKeys.Decrypt(KeyOf(address), sealedCopy, now, verifiers, out var signature);

        var parsed = MimeMessage.Parse(bytes);
        var structure = parsed.GetBodyStructure();
        var text = structure.TextBody.Where(p => p.ContentType.MediaSubtype == "plain").Select(p => p.GetText()).ToList();
        var html = structure.HtmlBody.Where(p => p.ContentType.MediaSubtype == "html").Select(p => p.GetText()).ToList();
        var attachments = new List<MailAttachment>();
        var large = new List<MailLargeAttachment>();
        foreach (var (part, i) in structure.Attachments.Select((p, i) => (p, i)))
        {
            if (string.Equals(part.ContentType.Value, AttachmentReferenceMediaType, StringComparison.OrdinalIgnoreCase))
            {
                large.Add(ParseReference(part.DecodeContent()) ?? throw new MailboxKeyException("the message holds an attachment reference that is not readable"));
                continue;
            }

            attachments.Add(new MailAttachment(EncodedWords.Decode(part.FileName ?? $"attachment-{i + 1}"), part.ContentType.Value, part.DecodeContent()));
        }

        var headers = parsed.Root.Headers.Select(h => new KeyValuePair<string, string>(h.Name, h.DecodedValue.Trim())).ToList();
        // The verdicts were sealed in the summary when the message arrived (the raw message holds none of Veil's).
        var authentication = info.Summary.Length > 0 ? OpenSummary(address, info.Summary).Authentication : null;
        return new MailReadMessage(info.Id, address.Address, info.EnvelopeFrom, info.ReceivedAt, headers,
            text.Count == 0 ? null : string.Join("\n", text), html.Count == 0 ? null : string.Join("\n", html), attachments, bytes, authentication)
        {
            Folder = info.Folder,
            Signature = SignatureName(signature),
            LargeAttachments = large,
        };
    }

    private MessageSummary OpenSummary(MailAddressInfo address, string sealedSummary)
    {
        using var input = new MemoryStream(Convert.FromBase64String(sealedSummary));
        return JsonSerializer.Deserialize<MessageSummary>(AddressKeys.Decrypt(KeyOf(address), input, _client.Options.TimeProvider.GetUtcNow()), Json)
            ?? throw new MailboxKeyException("the summary is empty");
    }

    // A reply to password mail: its summary carries the reply private key (sealed to this address's key when the mail
    // was sent), and its body is a sealed box to that key, made in the outsider's browser.
    private (ReplySummaryBody Summary, byte[] Key)? OpenReplyKey(MailAddressInfo address, string sealedSummary)
    {
        using var input = new MemoryStream(Convert.FromBase64String(sealedSummary));
        var plain = AddressKeys.Decrypt(KeyOf(address), input, _client.Options.TimeProvider.GetUtcNow());
        try
        {
            using var json = JsonDocument.Parse(plain);
            if (!json.RootElement.TryGetProperty("kind", out var kind) || kind.GetString() != "outsider-reply")
            {
                return null;
            }

            var summary = json.RootElement.Deserialize<ReplySummaryBody>(Json) ?? throw new MailboxKeyException("the reply summary is empty");
            return (summary, Convert.FromBase64String(summary.ReplyKey));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    private async Task<MailReadMessage> ReadReplyAsync(SealedMessageInfo info, MailAddressInfo address, (ReplySummaryBody Summary, byte[] Key) reply, CancellationToken cancellationToken)
    {
        using var response = await _client.AuthenticatedSendAsync(
            () => new HttpRequestMessage(HttpMethod.Get, $"{Base}/messages/{info.Id}/sealed"), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var sealedReply = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        byte[]? text;
        try
        {
            using var key = Veil.Crypto.Primitives.X25519PrivateKey.Import(reply.Key);
            text = Veil.Crypto.Mailbox.OutsiderPackage.TryOpenReply(key, sealedReply);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(reply.Key);
        }

        if (text is null)
        {
            throw new MailboxKeyException("the reply does not open with its reply key (tampered?)");
        }

        var body = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: false).GetString(text);
        List<KeyValuePair<string, string>> headers = [new("From", info.EnvelopeFrom), new("To", address.Address), new("Subject", reply.Summary.Subject)];
        return new MailReadMessage(info.Id, address.Address, info.EnvelopeFrom, info.ReceivedAt, headers, body, null, [], text)
        {
            Folder = info.Folder,
            Signature = "none",
        };
    }

    private static bool MailboxAddressLike(string value) => value.Length is > 2 and <= 254 && value.IndexOf('@', StringComparison.Ordinal) > 0;

    public Task DeleteMessageAsync(Guid id, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, $"{Base}/messages/{id}", null, cancellationToken);

    private async Task<MailAddressInfo> RegisterAsync(string canonical, string publicKey, byte[] ring, CancellationToken cancellationToken)
    {
        var userKey = _userKey ?? throw new InvalidOperationException("The account's user key is not open.");
        var (wrappedToken, wrappedPrivateKey) = AddressKeyChain.Wrap(userKey, canonical, ring);
        return await _client.AuthenticatedAsync<MailAddressInfo>(HttpMethod.Post, $"{Base}/addresses",
            new AddAddressBody(canonical, publicKey, wrappedToken, wrappedPrivateKey), cancellationToken).ConfigureAwait(false);
    }

    private async Task<MailAddressInfo> AddressAsync(Guid id, CancellationToken cancellationToken)
    {
        if (_addresses is null || !_addresses.ContainsKey(id))
        {
            await ListAddressesAsync(cancellationToken).ConfigureAwait(false);
        }

        return _addresses!.TryGetValue(id, out var address) ? address : throw new MailboxKeyException("the message's address is gone, and its key with it");
    }

    private byte[] KeyOf(MailAddressInfo address)
    {
        if (_keys.TryGetValue(address.Id, out var ring))
        {
            return ring;
        }

        var userKey = _userKey ?? throw new InvalidOperationException("The account's user key is not open.");
        ring = AddressKeyChain.TryOpen(userKey, address.Address, address.WrappedToken, address.WrappedPrivateKey)
            ?? throw new MailboxKeyException("the address key does not open with this account's user key (tampered?)");
        _keys[address.Id] = ring;
        return ring;
    }

    private static string Canonical(string address) => address.Trim().ToLowerInvariant();

    private static SecretBytes CopyOf(SecretBytes key)
    {
        using var lease = key.Acquire();
        return SecretBytes.Copy(lease.Span);
    }
}
