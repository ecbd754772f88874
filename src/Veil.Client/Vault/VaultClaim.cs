// The recipient's side of Vault (spec/vault.md §7, spec/vault-api.md "Claim"): link → emailed code → escrow + delivery
// key → vault key → every value opened → files decrypted to temporary files → only then files renamed into place and
// vault.json written. A value or file that does not authenticate stops the claim with VaultException("tampered") and
// leaves nothing behind in the output directory.
using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Text.Json;
using Veil.Client.Drop;
using Veil.Crypto.Memory;
using Veil.Crypto.Vault;

namespace Veil.Client.Vault;

/// <summary>A parsed claim link: <c>{origin}/vault/claim/{token}</c>.</summary>
public sealed record VaultClaimLink(Uri Origin, string Token)
{
    private const string Marker = "/vault/claim/";

    /// <summary>Parses a link; <see langword="null"/> when it is not a claim link (the origin is everything before the last marker).</summary>
    public static VaultClaimLink? TryParse(string? link)
    {
        if (string.IsNullOrWhiteSpace(link) || !Uri.TryCreate(link.Trim(), UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https"))
        {
            return null;
        }

        string text = uri.GetLeftPart(UriPartial.Path);
        int at = text.LastIndexOf(Marker, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        string token = text[(at + Marker.Length)..];
        if (token.Length == 0 || !Base64Url.IsValid(token))
        {
            return null;
        }

        return new VaultClaimLink(new Uri(text[..at] + "/"), token);
    }
}

/// <summary>What <see cref="VaultClaim.WriteToDirectoryAsync"/> wrote.</summary>
public sealed record VaultClaimResult(string Directory, string VaultJsonPath, IReadOnlyList<string> Files);

/// <summary>A claimed vault: decrypted values in memory, files still on the server until written.</summary>
public sealed class VaultClaim : IDisposable
{
    /// <summary>The name of the JSON file written into the output directory.</summary>
    public const string VaultJsonName = "vault.json";

    /// <summary>The subdirectory that receives the files.</summary>
    public const string FilesDirectoryName = "files";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly VeilClient _client;
    private readonly VaultSession? _session;
    private readonly string? _downloadToken;

    private VaultClaim(VeilClient client, VaultSession? session, ClaimedVault? vault, string? downloadToken, int rehearsalRecipients)
    {
        _client = client;
        _session = session;
        _downloadToken = downloadToken;
        Vault = vault;
        RehearsalRecipients = rehearsalRecipients;
    }

    /// <summary>True for a rehearsal link: nothing was released (<see cref="Vault"/> is null).</summary>
    public bool IsRehearsal => Vault is null;

    /// <summary>For a rehearsal: how many recipients a real release would reach.</summary>
    public int RehearsalRecipients { get; }

    /// <summary>The decrypted vault, or null for a rehearsal.</summary>
    public ClaimedVault? Vault { get; }

    /// <summary>Asks the server to email the 6-digit code for <paramref name="link"/>; returns the code's expiry.</summary>
    public static async Task<DateTimeOffset> RequestCodeAsync(VeilClient client, VaultClaimLink link, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(link);
        ExpiresDto answer = await client.AnonymousAsync<ExpiresDto>(HttpMethod.Post, "api/v1/vault/claim/code", new ClaimCodeRequest(link.Token), cancellationToken).ConfigureAwait(false);
        return answer.ExpiresAt;
    }

    /// <summary>
    /// Claims with the emailed code (the link is used up) and opens everything: escrow → vault key → every value and
    /// file key. Throws before returning when anything does not authenticate.
    /// </summary>
    /// <exception cref="VaultException"><c>tampered</c>: a value, key or the escrow did not authenticate.</exception>
    /// <exception cref="VeilApiException">The server refused (wrong code, used, expired, locked or invalid link).</exception>
    public static async Task<VaultClaim> ClaimAsync(VeilClient client, VaultClaimLink link, string code, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(link);
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        ClaimDto answer = await client.AnonymousAsync<ClaimDto>(HttpMethod.Post, "api/v1/vault/claim", new ClaimRequest(link.Token, code.Trim()), cancellationToken).ConfigureAwait(false);
        if (answer.Rehearsal)
        {
            return new VaultClaim(client, session: null, vault: null, downloadToken: null, answer.Recipients ?? 0);
        }

        if (answer is not { VaultId: { } vaultId, RecipientId: { } recipientId, Escrow: { } escrow, DeliveryKey: { } deliveryKey, Vault: { } vault, DownloadToken: { } token })
        {
            throw new VeilApiException(200, VeilApiException.ProtocolCode, "The claim answer lacks the escrow, key or vault");
        }

        VaultSession session = VaultSession.ForRecipient(vaultId, recipientId, escrow, deliveryKey);
        try
        {
            string name = session.Open(vaultId, string.Empty, VaultCipher.NamePath, vault.Name);
            var items = vault.Items.Select(item => VaultClient.OpenItem(session, vaultId, item)).ToList();
            return new VaultClaim(client, session, new ClaimedVault(vaultId, recipientId, name, items), token, 0);
        }
        catch
        {
            session.Lock();
            throw;
        }
    }

    /// <summary>
    /// Downloads and decrypts every file to temporary files in <paramref name="directory"/>; when all authenticated,
    /// renames them into <c>files/</c> under safe names and writes <c>vault.json</c>. On any failure nothing is left.
    /// </summary>
    /// <exception cref="VaultException"><c>tampered</c>: a file did not authenticate; the directory is as it was.</exception>
    /// <exception cref="IOException"><c>vault.json</c> already exists there.</exception>
    public async Task<VaultClaimResult> WriteToDirectoryAsync(string directory, IProgress<VaultTransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ClaimedVault vault = Vault ?? throw new InvalidOperationException("A rehearsal has nothing to write.");
        VaultSession session = _session!;
        string root = Path.GetFullPath(directory);
        bool createdRoot = !Directory.Exists(root);
        PrivateFiles.EnsureDirectory(root);
        string jsonPath = Path.Combine(root, VaultJsonName);
        if (File.Exists(jsonPath))
        {
            throw new IOException($"{jsonPath} already exists: choose another --out directory");
        }

        var files = vault.Items.SelectMany(item => item.Files.Select(file => (Item: item, File: file))).ToList();
        long total = files.Sum(f => f.File.Size);
        long before = 0;
        var temporaries = new List<string>();
        bool kept = false;
        try
        {
            // 1. Every file, decrypted and authenticated, to a temporary name nobody would take for the real file.
            foreach (var (item, file) in files)
            {
                string temporary = VaultFiles.TemporaryBeside(Path.Combine(root, "x"));
                temporaries.Add(temporary);
                using SecretBytes fileKey = session.OpenFileKey(vault.VaultId, item.Id, file.Id, file.WrappedKey);
                using HttpResponseMessage response = await DownloadAsync(file.Id, cancellationToken).ConfigureAwait(false);
                long offset = before;
                var shifted = progress is null ? null : new OffsetProgress(progress, offset, total);
                await VaultFiles.DecryptToAsync(response, fileKey, file, temporary, shifted, cancellationToken).ConfigureAwait(false);
                before += file.Size;
            }

            // 2. All authentic: move them into place under safe names (never overwriting), then the JSON.
            string filesDirectory = Path.Combine(root, FilesDirectoryName);
            var paths = new Dictionary<string, string>(StringComparer.Ordinal);
            var written = new List<string>();
            if (files.Count > 0)
            {
                PrivateFiles.EnsureDirectory(filesDirectory);
            }

            for (int i = 0; i < files.Count; i++)
            {
                var (_, file) = files[i];
                string safe = DropFileNames.Sanitize(file.Name, "file-" + file.Id);
                string final = MoveIntoPlace(temporaries[i], filesDirectory, safe);
                written.Add(final);
                paths[file.Id] = Path.GetRelativePath(root, final).Replace('\\', '/');
            }

            var json = new
            {
                vaultId = vault.VaultId,
                name = vault.Name,
                items = vault.Items.Select(item => new
                {
                    id = item.Id,
                    title = item.Title,
                    notes = item.Notes,
                    tags = item.Tags,
                    fields = item.Fields.Select(f => new { label = f.Label, value = f.Value }),
                    files = item.Files.Select(f => new { id = f.Id, name = f.Name, size = f.PlaintextSize, path = paths[f.Id] }),
                }),
            };
            await PrivateFiles.WriteAsync(jsonPath, JsonSerializer.SerializeToUtf8Bytes(json, JsonOptions), cancellationToken).ConfigureAwait(false);
            kept = true;
            return new VaultClaimResult(root, jsonPath, written);
        }
        finally
        {
            if (!kept)
            {
                foreach (string temporary in temporaries)
                {
                    File.Delete(temporary);
                }

                // A directory made for this claim and still empty goes too: a failed claim leaves no trace.
                if (createdRoot && !Directory.EnumerateFileSystemEntries(root).Any())
                {
                    Directory.Delete(root);
                }
            }
        }
    }

    /// <summary>Wipes the rebuilt vault key.</summary>
    public void Dispose() => _session?.Lock();

    private async Task<HttpResponseMessage> DownloadAsync(string fileId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/vault/claim/files/{fileId}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _downloadToken);
        HttpResponseMessage response;
        try
        {
            response = await _client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new VeilApiException(0, VeilApiException.NetworkCode, ServerUnreachable.Message(_client.Http.BaseAddress), e.HttpRequestError.ToString(), inner: e);
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await VeilApiException.FromResponseAsync(response, cancellationToken).ConfigureAwait(false);
            }
        }

        return response;
    }

    private static string MoveIntoPlace(string temporary, string directory, string safeName)
    {
        for (int attempt = 0; ; attempt++)
        {
            string final = DropFileNames.AvailablePath(directory, safeName);
            try
            {
                File.Move(temporary, final, overwrite: false);
                return final;
            }
            catch (IOException) when (attempt < 5 && File.Exists(final))
            {
                // The name was taken between the check and the move: pick the next one.
            }
        }
    }

    private sealed class OffsetProgress(IProgress<VaultTransferProgress> inner, long offset, long total) : IProgress<VaultTransferProgress>
    {
        public void Report(VaultTransferProgress value) => inner.Report(new VaultTransferProgress(offset + value.Done, total));
    }
}

/// <summary>Decrypting a downloaded file to a private temporary file.</summary>
internal static class VaultFiles
{
    public static string TemporaryBeside(string destination)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(destination)) ?? ".";
        return Path.Combine(directory, $".veil-vault-{Guid.NewGuid():N}.part");
    }

    /// <summary>Decrypts the response body into <paramref name="temporary"/> (created 0600); throws "tampered" unless it all authenticated.</summary>
    public static async Task DecryptToAsync(HttpResponseMessage response, SecretBytes fileKey, VaultFile file, string temporary, IProgress<VaultTransferProgress>? progress, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var output = new FileStream(temporary, options);
        await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var counting = new CountingReadStream(body, file.Size, progress);
        if (!await VaultCipher.DecryptFileAsync(fileKey, file.Id, counting, output, cancellationToken).ConfigureAwait(false))
        {
            throw VaultException.Tampered($"file {file.Id} does not authenticate (changed or truncated); nothing was kept");
        }

        if (output.Length != file.PlaintextSize)
        {
            throw VaultException.Tampered($"file {file.Id} is not the size the server listed; nothing was kept");
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        output.Flush(flushToDisk: true);
    }
}
