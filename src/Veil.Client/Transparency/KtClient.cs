// Key transparency on the client (spec/kt.md §6–8): before a key from a lookup is used, the lookup's checkpoint must be
// signed by the pinned log key, cosigned by the pinned policy's witness quorum, consistent with the last checkpoint
// this client stored for the server (no rollback, no fork), and the key must be among those the subject's proven
// entries leave in place. The policy is pinned on first use (GET /kt/policy; trust on first use) or given by the
// caller; it and the last checkpoint are kept per server in a directory of the client's state (KtTrustStore).
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Transparency;

namespace Veil.Client.Transparency;

/// <summary>One entry of a lookup as the server sends it.</summary>
public sealed record KtLookupItem(long? Index, byte[] Entry, IReadOnlyList<byte[]> Inclusion);

/// <summary>The "transparency" member of a key lookup.</summary>
public sealed record KtLookup(string Checkpoint, long Size, IReadOnlyList<KtLookupItem> Entries, long? Since, IReadOnlyList<byte[]>? Consistency);

/// <summary>A key or checkpoint the client refuses to trust; the message says why in one line.</summary>
public sealed class KtRefusedException : Exception
{
    public KtRefusedException()
    {
    }

    public KtRefusedException(string message)
        : base(message)
    {
    }

    public KtRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The pinned policy and the last checkpoint of one server, as files (mode 0600) in one directory.</summary>
public sealed class KtTrustStore
{
    private const string PolicyFile = "policy";
    private const string CheckpointFile = "checkpoint";

    /// <summary>A store in <paramref name="directory"/> (created on first write).</summary>
    public KtTrustStore(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>The store of <paramref name="server"/> under a client state directory: &lt;state&gt;/kt/&lt;hash of the origin&gt;.</summary>
    public static KtTrustStore For(string stateDirectory, Uri server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var origin = server.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
        return new KtTrustStore(Path.Combine(stateDirectory, "kt", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(origin)))[..16]));
    }

    /// <summary>The pinned policy text, or null before the first use.</summary>
    public string? Policy => Read(PolicyFile) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>The last checkpoint note accepted, or null.</summary>
    public byte[]? Checkpoint => Read(CheckpointFile);

    public void SavePolicy(string policy) => Write(PolicyFile, Encoding.UTF8.GetBytes(policy));

    public void SaveCheckpoint(byte[] note) => Write(CheckpointFile, note);

    private byte[]? Read(string name)
    {
        var path = Path.Combine(Directory, name);
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    private void Write(string name, byte[] content)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(Directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var path = Path.Combine(Directory, name);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>Verifies key lookups of one server against its pinned policy and the last checkpoint seen.</summary>
public sealed class KtClient
{
    private readonly VeilClient _client;

    /// <summary>A verifier for <paramref name="client"/>'s server keeping its state in <paramref name="store"/>.</summary>
    public KtClient(VeilClient client, KtTrustStore store)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(store);
        _client = client;
        Store = store;
    }

    public KtTrustStore Store { get; }

    /// <summary>The last checkpoint accepted (its text), or null.</summary>
    public Checkpoint? LastSeen
        => Store.Checkpoint is { } note && SignedNote.TryParse(note, out var parsed) && Checkpoint.TryParse(parsed.Text, out var checkpoint) ? checkpoint : null;

    /// <summary>The pinned policy; on first use the server's (GET /kt/policy), pinned from then on.</summary>
    public async Task<TlogPolicy> PolicyAsync(CancellationToken cancellationToken = default)
    {
        var text = Store.Policy;
        var firstUse = text is null;
        if (text is null)
        {
            using var response = await _client.Http.GetAsync(new Uri("kt/policy", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new KtRefusedException($"the server publishes no key transparency policy (GET /kt/policy: {(int)response.StatusCode})");
            }

            text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!TlogPolicy.TryParse(text, out var policy, out var error) || policy.Logs.Count != 1)
        {
            throw new KtRefusedException("the key transparency policy is not valid: " + (error.Length > 0 ? error : "it must name exactly one log"));
        }

        if (firstUse)
        {
            Store.SavePolicy(policy.Text);
        }

        return policy;
    }

    /// <summary>
    /// Verifies <paramref name="lookup"/> for <paramref name="subject"/>; on success stores the new checkpoint and returns the
    /// proven events. Every refusal is a <see cref="KtRefusedException"/> naming what failed; nothing is stored then.
    /// </summary>
    public async Task<KtVerification> VerifyAsync(string subject, KtLookup? lookup, CancellationToken cancellationToken = default)
    {
        var policy = await PolicyAsync(cancellationToken).ConfigureAwait(false);
        if (lookup is null)
        {
            throw new KtRefusedException("the server answered without key transparency proofs");
        }

        var note = Encoding.UTF8.GetBytes(lookup.Checkpoint);
        var verification = KtLookupVerifier.Verify(policy, LastSeen, note, lookup.Consistency, subject,
            lookup.Entries.Select(e => new KtLookupEntry(e.Index, e.Entry, e.Inclusion)));
        switch (verification.Verdict)
        {
            case KtVerdict.Ok:
                Store.SaveCheckpoint(note);
                return verification;
            case KtVerdict.BadCheckpoint:
                throw new KtRefusedException("the key transparency checkpoint is not signed by the pinned log key (another log, or a forged one)");
            case KtVerdict.NoQuorum:
                throw new KtRefusedException("the key transparency checkpoint is not cosigned by a quorum of the pinned witnesses");
            case KtVerdict.RolledBack:
                throw new KtRefusedException($"the key transparency checkpoint is older than the one this client already saw (size {LastSeen?.Size}): a rollback");
            case KtVerdict.Inconsistent:
                throw new KtRefusedException("the key transparency checkpoint does not extend the one this client saw: the log forked");
            default:
                throw new KtRefusedException("a key transparency entry of the lookup does not verify");
        }
    }
}
