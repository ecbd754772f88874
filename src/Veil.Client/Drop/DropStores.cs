// What `veil drop` remembers on the user's machine. Both files hold secrets, so both are 0600 in a 0700 directory.
//
// * Owner tokens (config dir, drops.json): the token that lets the sender see stats and delete a drop. The server
//   shows it once; without this file only the printed copy remains.
// * Resume state (cache dir, drop-uploads/<hash>.json): while an upload is in progress, the drop id, owner token,
//   DROP KEY and content salt, so `veil drop send` re-run on the same unchanged file continues the same drop. The
//   drop key is the secret that opens the file, so this state is as sensitive as the link itself; it is deleted as
//   soon as the upload is finalized (or abandoned), and `--no-resume` keeps it from being written at all.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Veil.Client.Drop;

/// <summary>A drop this machine created: where it lives and its owner token (secret).</summary>
public sealed record OwnedDrop(string Id, string Origin, string OwnerToken, DateTimeOffset CreatedAt);

/// <summary>The owner tokens of drops sent from this machine, in <c>drops.json</c> (mode 0600) under a config directory.</summary>
public sealed class DropOwnerTokenStore(string directory)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The file holding the tokens.</summary>
    public string FilePath { get; } = Path.Combine(directory, "drops.json");

    public async Task<IReadOnlyList<OwnedDrop>> LoadAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(FilePath))
        {
            return [];
        }

        await using FileStream stream = File.OpenRead(FilePath);
        return await JsonSerializer.DeserializeAsync<List<OwnedDrop>>(stream, Json, cancellationToken).ConfigureAwait(false) ?? [];
    }

    public async Task<OwnedDrop?> FindAsync(string id, CancellationToken cancellationToken = default) =>
        (await LoadAsync(cancellationToken).ConfigureAwait(false)).LastOrDefault(d => d.Id == id);

    public async Task SaveAsync(OwnedDrop drop, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(drop);
        var drops = (await LoadAsync(cancellationToken).ConfigureAwait(false)).Where(d => d.Id != drop.Id).Append(drop).ToList();
        await PrivateFiles.WriteAsync(FilePath, JsonSerializer.SerializeToUtf8Bytes(drops, Json), cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveAsync(string id, CancellationToken cancellationToken = default)
    {
        var drops = (await LoadAsync(cancellationToken).ConfigureAwait(false)).Where(d => d.Id != id).ToList();
        await PrivateFiles.WriteAsync(FilePath, JsonSerializer.SerializeToUtf8Bytes(drops, Json), cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The state of an interrupted upload (secret: it holds the drop key). See the file header.</summary>
public sealed record DropUploadState
{
    public required string Origin { get; init; }
    public required string FilePath { get; init; }
    public required long FileSize { get; init; }
    public required long FileModifiedTicks { get; init; }
    public required string Id { get; init; }
    public required string OwnerToken { get; init; }

    /// <summary>The drop key, base64url: as secret as the link.</summary>
    public required string DropKey { get; init; }

    /// <summary>The content salt (base64url), reused only to reproduce the same ciphertext of the same file.</summary>
    public required string ContentSalt { get; init; }

    public required long PartSize { get; init; }
    public required int PartCount { get; init; }
    public required bool IsPasswordDrop { get; init; }

    /// <summary>SHA-256 (hex) of each part's ciphertext the server acknowledged, to detect a changed file on resume.</summary>
    public Dictionary<int, string> PartHashes { get; init; } = [];
}

/// <summary>Resume states under a cache directory: <c>drop-uploads/&lt;hash&gt;.json</c>, mode 0600.</summary>
public sealed class DropResumeStore(string directory)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The directory holding the states.</summary>
    public string Directory { get; } = Path.Combine(directory, "drop-uploads");

    /// <summary>The state file of one upload: keyed by server, absolute path, size and modification time.</summary>
    public string PathFor(string origin, string filePath, long size, long modifiedTicks)
    {
        byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes($"{origin}\n{Path.GetFullPath(filePath)}\n{size}\n{modifiedTicks}"));
        return Path.Combine(Directory, Convert.ToHexStringLower(digest) + ".json");
    }

    public async Task<DropUploadState?> LoadAsync(string origin, string filePath, long size, long modifiedTicks, CancellationToken cancellationToken = default)
    {
        string path = PathFor(origin, filePath, size, modifiedTicks);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            await using FileStream stream = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<DropUploadState>(stream, Json, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            // A damaged state (a crash mid-write cannot cause it: writes are renamed into place) starts a new drop.
            File.Delete(path);
            return null;
        }
    }

    public Task SaveAsync(DropUploadState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        string path = PathFor(state.Origin, state.FilePath, state.FileSize, state.FileModifiedTicks);
        return PrivateFiles.WriteAsync(path, JsonSerializer.SerializeToUtf8Bytes(state, Json), cancellationToken);
    }

    public void Delete(DropUploadState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        string path = PathFor(state.Origin, state.FilePath, state.FileSize, state.FileModifiedTicks);
        File.Delete(path);

        // A process killed mid-write leaves its temporary copy behind; it holds the same secrets, so it goes too.
        if (System.IO.Directory.Exists(Directory))
        {
            foreach (string stale in System.IO.Directory.GetFiles(Directory, $".{Path.GetFileName(path)}.*.tmp"))
            {
                File.Delete(stale);
            }
        }
    }
}
