// Helpers for witness tests: a real witness (WitnessServer, Kestrel on loopback) in a fresh directory, a small
// in-memory log that signs checkpoints and builds consistency proofs, and add-checkpoint over HTTP.
using System.Diagnostics;
using System.Net;
using System.Text;
using Veil.Crypto.Primitives;
using Veil.Crypto.Transparency;
using Veil.Server.Witness;
using Xunit;

namespace Veil.Server.Tests.Transparency;

public sealed record WitnessReply(HttpStatusCode Status, string? ContentType, string Body);

/// <summary>A log held in memory: every complete subtree in a dictionary, checkpoints signed with its own key.</summary>
public sealed class TestLog : IMerkleNodeSource, IDisposable
{
    private readonly Dictionary<MerkleNodeId, byte[]> _nodes = [];
    private readonly MerkleFrontier _frontier = new();
    private readonly Ed25519PrivateKey _key = Ed25519PrivateKey.Generate();

    public TestLog(string origin = "log.example/kt") => Origin = origin;

    public string Origin { get; }

    public long Size => _frontier.Size;

    public string VerifierKey => new Ed25519NoteSigner(Origin, _key).VerifierKey;

    public Ed25519NoteVerifier Verifier => Ed25519NoteVerifier.Parse(VerifierKey)!;

    public TestLog Grow(int leaves)
    {
        for (var i = 0; i < leaves; i++)
        {
            _frontier.Append(MerkleHasher.HashLeaf(Encoding.ASCII.GetBytes("leaf " + _frontier.Size)), (id, hash) => _nodes[id] = hash);
        }

        return this;
    }

    public byte[] Root() => _frontier.Root();

    /// <summary>The signed checkpoint of the current size.</summary>
    public byte[] Checkpoint() => Sign(new Checkpoint(Origin, Size, Root()));

    /// <summary>Any checkpoint signed with this log's key (a misbehaving log signs what it likes).</summary>
    public byte[] Sign(Checkpoint checkpoint) => SignedNote.Sign(checkpoint.ToText(), new Ed25519NoteSigner(Origin, _key)).ToBytes();

    /// <summary>The add-checkpoint request for the current size from <paramref name="oldSize"/>.</summary>
    public AddCheckpointRequest From(long oldSize)
        => new(oldSize, oldSize == 0 || oldSize == Size ? [] : MerkleProof.Consistency(oldSize, Size, this), Checkpoint());

    public void ReadNode(MerkleNodeId node, Span<byte> destination) => _nodes[node].CopyTo(destination);

    public void Dispose() => _key.Dispose();
}

public static class WitnessKit
{
    public static Task<WitnessServer> StartWitnessAsync(string directory, TimeProvider? time = null, params string[] logKeys)
        => WitnessServer.StartAsync(new WitnessServerOptions
        {
            DataDirectory = directory,
            LogKeys = logKeys,
            Name = "witness.test/w" + Path.GetFileName(directory),
            Time = time ?? TimeProvider.System,
            ConfigureLogging = _ => { },
        });

    public static string NewDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "veil-witness-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static async Task<WitnessReply> AddCheckpointAsync(this HttpClient client, Uri witness, AddCheckpointRequest request)
        => await AddCheckpointAsync(client, witness, request.ToBytes());

    public static async Task<WitnessReply> AddCheckpointAsync(this HttpClient client, Uri witness, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        using var response = await client.PostAsync(new Uri(witness, "/add-checkpoint"), content);
        return new WitnessReply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Runs a python3 script with pyca/cryptography (an Ed25519 independent of libsodium) and returns its output.</summary>
    public static string Python(string script, params string[] args)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "python3 with pyca/cryptography (python3-cryptography) failed: " + errors);
        return output.Trim();
    }
}
