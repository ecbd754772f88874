// The owner's side of Vault (spec/vault.md, spec/vault-api.md): vaults, items, files, switch, recipients, rehearsal.
// Every string leaves this process sealed under the vault key by the VaultSession; every answer is opened before it
// is returned, and one value that does not open fails the whole call with VaultException("tampered") — a caller never
// receives part of a vault. The server's failures arrive as VeilApiException (problem details).
using System.Net.Http.Headers;
using Veil.Crypto.Memory;
using Veil.Crypto.Streams;
using Veil.Crypto.Vault;

namespace Veil.Client.Vault;

/// <summary>Vault operations for a signed-in account whose user key is open.</summary>
public sealed class VaultClient : IDisposable
{
    internal const string Base = "api/v1/vault/vaults";
    internal const string FileNameHeader = "Veil-File-Name";
    internal const string FileKeyHeader = "Veil-File-Key";

    private readonly VeilClient _client;

    /// <summary>Uses <paramref name="client"/>'s session and <paramref name="session"/>'s keys (owned by this object from now on).</summary>
    public VaultClient(VeilClient client, VaultSession session)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(session);
        _client = client;
        Session = session;
    }

    /// <summary>The keys in use; <see cref="Lock"/> wipes them.</summary>
    public VaultSession Session { get; }

    /// <summary>A client for the signed-in account of <paramref name="client"/>, whose user key must be open (password sign-in or unlock).</summary>
    /// <exception cref="InvalidOperationException">The user key is not open.</exception>
    public static VaultClient ForSignedIn(VeilClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        SecretBytes userKey = client.Identity.UserKey
            ?? throw new InvalidOperationException("The account's user key is not open: sign in with the password or unlock first.");
        return new VaultClient(client, VaultSession.ForOwner(userKey));
    }

    /// <summary>Wipes every key this client holds.</summary>
    public void Lock() => Session.Lock();

    /// <summary>Same as <see cref="Lock"/>.</summary>
    public void Dispose() => Session.Lock();

    // ---------------------------------------------------------------- vaults

    /// <summary>Creates a vault: a new vault key wrapped under the user key, and its name sealed under the vault key.</summary>
    public async Task<VaultInfo> CreateVaultAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        string id = VaultIds.New();
        string wrappedKey = Session.CreateVaultKey(id);
        string sealedName = Session.Seal(id, string.Empty, VaultCipher.NamePath, name);
        VaultDto created = await _client.AuthenticatedAsync<VaultDto>(HttpMethod.Post, Base, new CreateVaultRequest(id, sealedName, wrappedKey), cancellationToken).ConfigureAwait(false);
        return OpenVault(created);
    }

    /// <summary>Every vault of the account, names decrypted (any tampered vault fails the whole list).</summary>
    public async Task<IReadOnlyList<VaultInfo>> ListVaultsAsync(CancellationToken cancellationToken = default)
    {
        VaultListDto list = await _client.AuthenticatedAsync<VaultListDto>(HttpMethod.Get, Base, null, cancellationToken).ConfigureAwait(false);
        return list.Vaults.Select(OpenVault).ToList();
    }

    /// <summary>One vault, name decrypted; its key is kept in the session.</summary>
    public async Task<VaultInfo> GetVaultAsync(string vaultId, CancellationToken cancellationToken = default)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        VaultDto dto = await _client.AuthenticatedAsync<VaultDto>(HttpMethod.Get, $"{Base}/{vaultId}", null, cancellationToken).ConfigureAwait(false);
        return OpenVault(dto);
    }

    /// <summary>Deletes a vault with its items, files, switch and recipients.</summary>
    public Task DeleteVaultAsync(string vaultId, CancellationToken cancellationToken = default)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        return _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, $"{Base}/{vaultId}", null, cancellationToken);
    }

    // ---------------------------------------------------------------- items

    /// <summary>Adds an item under a new id.</summary>
    public async Task<VaultItem> AddItemAsync(string vaultId, VaultItemDraft draft, CancellationToken cancellationToken = default)
    {
        await EnsureKeyAsync(vaultId, cancellationToken).ConfigureAwait(false);
        string itemId = VaultIds.New();
        ItemDto dto = await _client.AuthenticatedAsync<ItemDto>(HttpMethod.Put, $"{Base}/{vaultId}/items/{itemId}", SealItem(vaultId, itemId, draft, revision: null), cancellationToken).ConfigureAwait(false);
        return OpenItem(Session, vaultId, dto);
    }

    /// <summary>Replaces an item's title, notes, tags and fields (files stay); with <paramref name="revision"/>, only if nobody changed it since.</summary>
    public async Task<VaultItem> UpdateItemAsync(string vaultId, string itemId, VaultItemDraft draft, long? revision = null, CancellationToken cancellationToken = default)
    {
        VaultIds.Check(itemId, nameof(itemId));
        await EnsureKeyAsync(vaultId, cancellationToken).ConfigureAwait(false);
        ItemDto dto = await _client.AuthenticatedAsync<ItemDto>(HttpMethod.Put, $"{Base}/{vaultId}/items/{itemId}", SealItem(vaultId, itemId, draft, revision), cancellationToken).ConfigureAwait(false);
        return OpenItem(Session, vaultId, dto);
    }

    /// <summary>Every item of a vault, decrypted.</summary>
    public async Task<IReadOnlyList<VaultItem>> ListItemsAsync(string vaultId, CancellationToken cancellationToken = default)
    {
        await EnsureKeyAsync(vaultId, cancellationToken).ConfigureAwait(false);
        ItemListDto list = await _client.AuthenticatedAsync<ItemListDto>(HttpMethod.Get, $"{Base}/{vaultId}/items", null, cancellationToken).ConfigureAwait(false);
        return list.Items.Select(item => OpenItem(Session, vaultId, item)).ToList();
    }

    /// <summary>One item, decrypted.</summary>
    public async Task<VaultItem> GetItemAsync(string vaultId, string itemId, CancellationToken cancellationToken = default)
    {
        VaultIds.Check(itemId, nameof(itemId));
        await EnsureKeyAsync(vaultId, cancellationToken).ConfigureAwait(false);
        ItemDto dto = await _client.AuthenticatedAsync<ItemDto>(HttpMethod.Get, $"{Base}/{vaultId}/items/{itemId}", null, cancellationToken).ConfigureAwait(false);
        return OpenItem(Session, vaultId, dto);
    }

    /// <summary>Deletes an item and its files.</summary>
    public Task DeleteItemAsync(string vaultId, string itemId, CancellationToken cancellationToken = default)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        VaultIds.Check(itemId, nameof(itemId));
        return _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, $"{Base}/{vaultId}/items/{itemId}", null, cancellationToken);
    }

    // ---------------------------------------------------------------- files

    /// <summary>
    /// Encrypts a file with a new file key and streams it up (constant memory). <paramref name="name"/> defaults to the
    /// file's own name.
    /// </summary>
    public async Task<VaultFile> AddFileAsync(string vaultId, string itemId, string path, string? name = null, IProgress<VaultTransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        VaultIds.Check(itemId, nameof(itemId));
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"no such file: {path}", path);
        }

        await EnsureKeyAsync(vaultId, cancellationToken).ConfigureAwait(false);
        string fileId = VaultIds.New();
        string fileName = name ?? info.Name;
        string sealedName = Session.Seal(vaultId, itemId, VaultCipher.FileNamePath(fileId), fileName);
        long length = Cobblestone256.GetCiphertextLength(info.Length);
        using SecretBytes fileKey = Session.CreateFileKey(vaultId, itemId, fileId, out string wrappedKey);
        using HttpResponseMessage response = await _client.AuthenticatedSendAsync(
            () =>
            {
                var message = new HttpRequestMessage(HttpMethod.Put, $"{Base}/{vaultId}/items/{itemId}/files/{fileId}")
                {
                    Content = new EncryptingFileContent(info.FullName, fileKey, fileId, length, progress),
                };
                message.Headers.Add(FileNameHeader, sealedName);
                message.Headers.Add(FileKeyHeader, wrappedKey);
                return message;
            },
            HttpCompletionOption.ResponseContentRead,
            cancellationToken).ConfigureAwait(false);
        FileDto dto = await ReadJsonAsync<FileDto>(response, cancellationToken).ConfigureAwait(false);
        return OpenFile(Session, vaultId, itemId, dto);
    }

    /// <summary>
    /// Downloads and decrypts a file to <paramref name="destination"/> (which must not exist) through a temporary file in
    /// the same directory, renamed into place only when the whole stream authenticated.
    /// </summary>
    /// <exception cref="VaultException"><c>tampered</c>: the file did not authenticate; nothing was written.</exception>
    public async Task DownloadFileAsync(string vaultId, string itemId, VaultFile file, string destination, IProgress<VaultTransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        VaultIds.Check(itemId, nameof(itemId));
        await EnsureKeyAsync(vaultId, cancellationToken).ConfigureAwait(false);
        using SecretBytes fileKey = Session.OpenFileKey(vaultId, itemId, file.Id, file.WrappedKey);
        using HttpResponseMessage response = await _client.AuthenticatedSendAsync(
            () => new HttpRequestMessage(HttpMethod.Get, $"{Base}/{vaultId}/items/{itemId}/files/{file.Id}"),
            HttpCompletionOption.ResponseHeadersRead,
            cancellationToken).ConfigureAwait(false);
        string temporary = VaultFiles.TemporaryBeside(destination);
        try
        {
            await VaultFiles.DecryptToAsync(response, fileKey, file, temporary, progress, cancellationToken).ConfigureAwait(false);
            File.Move(temporary, destination, overwrite: false);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Deletes a file.</summary>
    public Task DeleteFileAsync(string vaultId, string itemId, string fileId, CancellationToken cancellationToken = default)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        VaultIds.Check(itemId, nameof(itemId));
        VaultIds.Check(fileId, nameof(fileId));
        return _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, $"{Base}/{vaultId}/items/{itemId}/files/{fileId}", null, cancellationToken);
    }

    // ---------------------------------------------------------------- switch

    /// <summary>Arms (or re-arms) the switch: the deadline is now + <paramref name="interval"/>, release after <paramref name="grace"/> more.</summary>
    public Task<VaultSwitch> SetSwitchAsync(string vaultId, TimeSpan interval, TimeSpan grace, CancellationToken cancellationToken = default) =>
        SwitchCallAsync(HttpMethod.Put, vaultId, string.Empty, new SetSwitchRequest((long)interval.TotalSeconds, (long)grace.TotalSeconds), cancellationToken);

    /// <summary>The switch's state and times.</summary>
    public Task<VaultSwitch> GetSwitchAsync(string vaultId, CancellationToken cancellationToken = default) =>
        SwitchCallAsync(HttpMethod.Get, vaultId, string.Empty, null, cancellationToken);

    /// <summary>Checks in: the deadline restarts from now.</summary>
    public Task<VaultSwitch> CheckInAsync(string vaultId, CancellationToken cancellationToken = default) =>
        SwitchCallAsync(HttpMethod.Post, vaultId, "/checkin", null, cancellationToken);

    /// <summary>Pauses the switch (no timers run).</summary>
    public Task<VaultSwitch> PauseSwitchAsync(string vaultId, CancellationToken cancellationToken = default) =>
        SwitchCallAsync(HttpMethod.Post, vaultId, "/pause", null, cancellationToken);

    /// <summary>Resumes a paused switch, re-armed from now.</summary>
    public Task<VaultSwitch> ResumeSwitchAsync(string vaultId, CancellationToken cancellationToken = default) =>
        SwitchCallAsync(HttpMethod.Post, vaultId, "/resume", null, cancellationToken);

    /// <summary>Cancels the switch (recipients stay).</summary>
    public Task CancelSwitchAsync(string vaultId, CancellationToken cancellationToken = default)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        return _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, $"{Base}/{vaultId}/switch", null, cancellationToken);
    }

    // ---------------------------------------------------------------- recipients

    /// <summary>
    /// Adds a recipient: a fresh delivery key, the escrow of the vault key under it, both sent once; the delivery key
    /// is not kept here (spec/vault.md §6).
    /// </summary>
    public Task<VaultRecipient> AddRecipientAsync(string vaultId, string email, CancellationToken cancellationToken = default) =>
        AddRecipientAsync(vaultId, email, notify: false, cancellationToken);

    /// <summary>As <see cref="AddRecipientAsync(string, string, CancellationToken)"/>; with <paramref name="notify"/>, the server mails the recipient that they were added.</summary>
    public async Task<VaultRecipient> AddRecipientAsync(string vaultId, string email, bool notify, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        await EnsureKeyAsync(vaultId, cancellationToken).ConfigureAwait(false);
        string recipientId = VaultIds.New();
        string escrow = Session.CreateEscrow(vaultId, recipientId, out string deliveryKey);
        return await _client.AuthenticatedAsync<VaultRecipient>(
            HttpMethod.Post, $"{Base}/{vaultId}/recipients", new AddRecipientRequest(recipientId, email.Trim(), escrow, deliveryKey, notify ? true : null), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The vault's recipients.</summary>
    public async Task<IReadOnlyList<VaultRecipient>> ListRecipientsAsync(string vaultId, CancellationToken cancellationToken = default)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        RecipientListDto list = await _client.AuthenticatedAsync<RecipientListDto>(HttpMethod.Get, $"{Base}/{vaultId}/recipients", null, cancellationToken).ConfigureAwait(false);
        return list.Recipients;
    }

    /// <summary>Removes a recipient (their escrow and sealed key only).</summary>
    public Task RemoveRecipientAsync(string vaultId, string recipientId, CancellationToken cancellationToken = default)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        VaultIds.Check(recipientId, nameof(recipientId));
        return _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, $"{Base}/{vaultId}/recipients/{recipientId}", null, cancellationToken);
    }

    /// <summary>Runs a test delivery: a rehearsal link and code go to the owner only. Returns the link's expiry.</summary>
    public async Task<DateTimeOffset> RehearseAsync(string vaultId, CancellationToken cancellationToken = default)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        ExpiresDto answer = await _client.AuthenticatedAsync<ExpiresDto>(HttpMethod.Post, $"{Base}/{vaultId}/rehearse", null, cancellationToken).ConfigureAwait(false);
        return answer.ExpiresAt;
    }

    // ---------------------------------------------------------------- opening and sealing

    internal static VaultItem OpenItem(VaultSession session, string vaultId, ItemDto dto)
    {
        string itemId = dto.Id;
        if (!VaultIds.IsValid(itemId))
        {
            throw VaultException.Tampered($"vault {vaultId} holds an item with an invalid id");
        }

        string title = session.Open(vaultId, itemId, "title", dto.Title);
        string? notes = dto.Notes is null ? null : session.Open(vaultId, itemId, "notes", dto.Notes);
        var tags = (dto.Tags ?? []).Select((tag, i) => session.Open(vaultId, itemId, $"tags/{i}", tag)).ToList();
        var fields = (dto.Fields ?? []).Select((field, i) => new VaultField(
            session.Open(vaultId, itemId, $"fields/{i}/label", field.Label),
            session.Open(vaultId, itemId, $"fields/{i}/value", field.Value))).ToList();
        var files = (dto.Files ?? []).Select(file => OpenFile(session, vaultId, itemId, file)).ToList();
        return new VaultItem(itemId, title, notes, tags, fields, files, dto.Revision, dto.CreatedAt, dto.UpdatedAt);
    }

    internal static VaultFile OpenFile(VaultSession session, string vaultId, string itemId, FileDto dto)
    {
        if (!VaultIds.IsValid(dto.Id))
        {
            throw VaultException.Tampered($"vault {vaultId}, item {itemId} holds a file with an invalid id");
        }

        string name = session.Open(vaultId, itemId, VaultCipher.FileNamePath(dto.Id), dto.Name);

        // The key is opened now too, so a tampered key fails the listing, not a later download.
        using (session.OpenFileKey(vaultId, itemId, dto.Id, dto.Key))
        {
        }

        if (!Cobblestone256.TryGetPlaintextLength(dto.Size, out long plaintextSize))
        {
            throw VaultException.Tampered($"vault {vaultId}, item {itemId}: file {dto.Id} has an impossible size");
        }

        return new VaultFile(dto.Id, name, dto.Size, plaintextSize, dto.CreatedAt) { WrappedKey = dto.Key };
    }

    private PutItemRequest SealItem(string vaultId, string itemId, VaultItemDraft draft, long? revision)
    {
        ArgumentNullException.ThrowIfNull(draft);
        return new PutItemRequest(
            Session.Seal(vaultId, itemId, "title", draft.Title),
            draft.Notes is null ? null : Session.Seal(vaultId, itemId, "notes", draft.Notes),
            draft.Tags.Select((tag, i) => Session.Seal(vaultId, itemId, $"tags/{i}", tag)).ToList(),
            draft.Fields.Select((field, i) => new FieldDto(
                Session.Seal(vaultId, itemId, $"fields/{i}/label", field.Label),
                Session.Seal(vaultId, itemId, $"fields/{i}/value", field.Value))).ToList(),
            revision);
    }

    private VaultInfo OpenVault(VaultDto dto)
    {
        if (!VaultIds.IsValid(dto.Id))
        {
            throw VaultException.Tampered("the server listed a vault with an invalid id");
        }

        Session.AddVault(dto.Id, dto.WrappedKey);
        string name = Session.Open(dto.Id, string.Empty, VaultCipher.NamePath, dto.Name);
        return new VaultInfo(dto.Id, name, dto.CreatedAt, dto.UsedBytes, dto.ItemCount, dto.RecipientCount, dto.Switch);
    }

    private async Task EnsureKeyAsync(string vaultId, CancellationToken cancellationToken)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        if (!Session.HasVault(vaultId))
        {
            await GetVaultAsync(vaultId, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task<VaultSwitch> SwitchCallAsync(HttpMethod method, string vaultId, string suffix, object? body, CancellationToken cancellationToken)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        return _client.AuthenticatedAsync<VaultSwitch>(method, $"{Base}/{vaultId}/switch{suffix}", body, cancellationToken);
    }

    internal static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<T>(response.Content, VeilClient.Json, cancellationToken).ConfigureAwait(false)
                ?? throw new VeilApiException((int)response.StatusCode, VeilApiException.ProtocolCode, "The server sent an empty answer");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new VeilApiException((int)response.StatusCode, VeilApiException.ProtocolCode, "The server's answer is not the shape the contract promises", inner: e);
        }
    }
}

/// <summary>A request body that encrypts a file while it is sent, with a known Content-Length.</summary>
internal sealed class EncryptingFileContent : HttpContent
{
    private readonly string _path;
    private readonly SecretBytes _fileKey;
    private readonly string _fileId;
    private readonly long _length;
    private readonly IProgress<VaultTransferProgress>? _progress;

    public EncryptingFileContent(string path, SecretBytes fileKey, string fileId, long length, IProgress<VaultTransferProgress>? progress)
    {
        _path = path;
        _fileKey = fileKey;
        _fileId = fileId;
        _length = length;
        _progress = progress;
        Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    }

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
        await using var counting = new CountingStream(stream, _length, _progress);
        await using var file = new FileStream(_path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Options = FileOptions.Asynchronous | FileOptions.SequentialScan });
        await using var encryptor = VaultCipher.CreateFileEncryptor(counting, _fileKey, _fileId, leaveOpen: true);
        await file.CopyToAsync(encryptor, 256 * 1024, cancellationToken).ConfigureAwait(false);
        await encryptor.CompleteAsync(cancellationToken).ConfigureAwait(false);
        if (counting.Written != _length)
        {
            // The file changed size while it was read: the server would refuse the length anyway.
            throw new IOException($"the file {_path} changed while it was being sent");
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}

/// <summary>A write-through stream that reports how many bytes went by.</summary>
internal sealed class CountingStream(Stream inner, long total, IProgress<VaultTransferProgress>? progress) : Stream
{
    public long Written { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => Written; set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        Advance(buffer.Length);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Advance(buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Advance(int count)
    {
        Written += count;
        progress?.Report(new VaultTransferProgress(Written, total));
    }
}

/// <summary>A read-through stream that reports how many bytes went by.</summary>
internal sealed class CountingReadStream(Stream inner, long total, IProgress<VaultTransferProgress>? progress) : Stream
{
    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        Advance(n);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Advance(n);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void Advance(int count)
    {
        if (count > 0)
        {
            BytesRead += count;
            progress?.Report(new VaultTransferProgress(BytesRead, total));
        }
    }
}
