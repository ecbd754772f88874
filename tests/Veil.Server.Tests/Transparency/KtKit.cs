// Intent helpers for key transparency tests: run the sequencer as its timer would, read the checkpoint the
// way a client does (over HTTP, verified with the log's verifier key) and check lookup proofs against it.
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.Transparency;
using Veil.Server.Platform.Jobs;
using Veil.Server.Tests.Chat;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Veil.Server.Transparency;
using Xunit;

namespace Veil.Server.Tests.Transparency;

public sealed record KtCheckpoint(Checkpoint Checkpoint, SignedNote Note);

public sealed record KtLookupEntry(long? Index, byte[] Leaf, KeyEvent Event, byte[][] Inclusion);

public static class KtKit
{
    /// <summary>
    /// A chat server whose sequencer runs only when a test says so (<see cref="SequenceAsync"/>): the periodic timer
    /// runs on real time, so its interval is set beyond any test's length.
    /// </summary>
    public static Task<VeilTestServer> StartKtServerAsync(Action<VeilTestServerOptions>? configure = null)
        => ChatKit.StartChatServerAsync(configure: options =>
        {
            options.Settings["Veil:KeyTransparency:SequencerInterval"] = "00:10:00";
            configure?.Invoke(options);
        });

    /// <summary>One sequencer tick, as the periodic timer would run it.</summary>
    public static async Task SequenceAsync(this VeilTestServer server)
        => Assert.True(await server.Services.GetRequiredService<PeriodicJobRunner>().RunNowAsync(KtSequencer.JobName, CancellationToken.None));

    public static async Task<Ed25519NoteVerifier> LogVerifierAsync(this VeilTestServer server)
    {
        var vkey = (await server.Client.GetStringAsync(new Uri("/kt/vkey", UriKind.Relative))).Trim();
        return Ed25519NoteVerifier.Parse(vkey) ?? throw new InvalidOperationException("/kt/vkey is not an Ed25519 verifier key: " + vkey);
    }

    /// <summary>GET /kt/checkpoint, opened with the log's key (a test failure if it does not verify).</summary>
    public static async Task<KtCheckpoint> CheckpointAsync(this VeilTestServer server)
    {
        var verifier = await server.LogVerifierAsync();
        var bytes = await server.Client.GetByteArrayAsync(new Uri("/kt/checkpoint", UriKind.Relative));
        var note = SignedNote.Open(bytes, [verifier]);
        Assert.NotNull(note);
        Assert.True(Checkpoint.TryParse(note.Text, out var checkpoint));
        return new KtCheckpoint(checkpoint, note);
    }

    public static async Task<byte[]?> TileAsync(this VeilTestServer server, TileId tile)
    {
        using var response = await server.Client.GetAsync(new Uri("/kt/" + TlogTiles.Path(tile), UriKind.Relative));
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsByteArrayAsync() : null;
    }

    /// <summary>Reads the "transparency" member of a lookup answer: the checkpoint, the entries and any consistency proof.</summary>
    public static (KtCheckpoint Checkpoint, List<KtLookupEntry> Entries, byte[][]? Consistency) ReadLookup(JsonElement transparency, Ed25519NoteVerifier verifier)
    {
        var note = SignedNote.Open(Encoding.UTF8.GetBytes(transparency.GetProperty("checkpoint").GetString()!), [verifier]);
        Assert.NotNull(note);
        Assert.True(Checkpoint.TryParse(note.Text, out var checkpoint));
        var entries = transparency.GetProperty("entries").EnumerateArray().Select(e =>
        {
            var leaf = e.GetProperty("entry").GetBytesFromBase64();
            var keyEvent = KeyEvent.TryParse(leaf);
            Assert.NotNull(keyEvent);
            return new KtLookupEntry(
                e.GetProperty("index").ValueKind == JsonValueKind.Null ? null : e.GetProperty("index").GetInt64(),
                leaf, keyEvent, [.. e.GetProperty("inclusion").EnumerateArray().Select(p => p.GetBytesFromBase64())]);
        }).ToList();
        var consistency = transparency.TryGetProperty("consistency", out var c) && c.ValueKind == JsonValueKind.Array
            ? c.EnumerateArray().Select(p => p.GetBytesFromBase64()).ToArray()
            : null;
        return (new KtCheckpoint(checkpoint, note), entries, consistency);
    }

    /// <summary>Whether the entry's inclusion proof verifies against the checkpoint.</summary>
    public static bool Proves(this KtCheckpoint checkpoint, KtLookupEntry entry)
        => entry.Index is { } index
           && MerkleProof.VerifyInclusion(index, checkpoint.Checkpoint.Size, MerkleHasher.HashLeaf(entry.Leaf), entry.Inclusion, checkpoint.Checkpoint.RootHash);

    public static async Task<JsonElement> BundlesAsync(this VeilTestServer server, string token, Guid accountId, long? since = null)
    {
        using var response = await server.PostAsync($"/api/v1/chat/accounts/{accountId}/bundles" + (since is { } s ? $"?since={s}" : ""), new { }, token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
