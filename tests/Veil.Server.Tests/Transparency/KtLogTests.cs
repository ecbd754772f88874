// The key transparency log on the real server (SQLite or PostgreSQL per VEIL_TEST_DATABASE): entries written with
// chat key changes, the sequencer, the signed checkpoint, the tiles and the proofs in lookups, all read over HTTP.
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.Transparency;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Chat;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Veil.Server.Transparency;

namespace Veil.Server.Tests.Transparency;

public sealed class KtLogTests
{
    [Fact]
    public async Task EmptyLog_FirstTick_PublishesASignedSizeZeroCheckpoint()
    {
        await using var server = await KtKit.StartKtServerAsync();
        using (var before = await server.Client.GetAsync(new Uri("/kt/checkpoint", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        }

        await server.SequenceAsync();
        var checkpoint = await server.CheckpointAsync();

        Assert.Equal(0, checkpoint.Checkpoint.Size);
        Assert.Equal(MerkleHasher.EmptyRoot(), checkpoint.Checkpoint.RootHash);
        Assert.Equal(checkpoint.Checkpoint.Origin, checkpoint.Note.Signatures.Single().Name);
        Assert.EndsWith("/kt", checkpoint.Checkpoint.Origin, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatDevices_AreLoggedAndProvenInTheBundleLookup()
    {
        await using var server = await KtKit.StartKtServerAsync();
        var (alice, bob, _, _) = await server.PairAsync();
        await server.AddDeviceAsync(alice, 2);

        var beforeAnyCheckpoint = await server.BundlesAsync(bob.Token, alice.Id);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, beforeAnyCheckpoint.GetProperty("transparency").ValueKind);

        await server.SequenceAsync();
        var bundles = await server.BundlesAsync(bob.Token, alice.Id);
        var verifier = await server.LogVerifierAsync();
        var (checkpoint, entries, consistency) = KtKit.ReadLookup(bundles.GetProperty("transparency"), verifier);

        Assert.Null(consistency);
        Assert.Equal(5, checkpoint.Checkpoint.Size); // alice: key and device 1; bob: key and device 1; alice: device 2
        Assert.Equal([KeyEventKinds.ChatAccountKey, KeyEventKinds.ChatDeviceAdded, KeyEventKinds.ChatDeviceAdded], entries.Select(e => e.Event.Kind));
        Assert.All(entries, e => Assert.True(checkpoint.Proves(e), $"entry {e.Index} has no valid inclusion proof"));
        Assert.All(entries, e => Assert.Equal(KeyEvent.ChatSubject(alice.Id), e.Event.Subject));
        Assert.All(entries, e => Assert.Equal(KeyTransparencyLog.BySession(alice.Id), e.Event.AuthorisedBy));
        Assert.Equal(alice.AccountKey.PublicKey.Bytes.ToArray(), entries[0].Event.Keys.Single());
        var devices = bundles.GetProperty("devices").EnumerateArray().ToList();
        Assert.Equal(devices.Select(d => d.GetProperty("signingKey").GetBytesFromBase64()), entries.Skip(1).Select(e => e.Event.Keys[0]));
        Assert.Equal(devices.Select(d => d.GetProperty("identityKey").GetBytesFromBase64()), entries.Skip(1).Select(e => e.Event.Keys[1]));
    }

    [Fact]
    public async Task Lookup_WithSince_CarriesAConsistencyProofFromTheClientsCheckpoint()
    {
        await using var server = await KtKit.StartKtServerAsync();
        var (alice, bob, _, _) = await server.PairAsync();
        await server.SequenceAsync();
        var first = await server.CheckpointAsync();

        await server.AddDeviceAsync(alice, 2);
        using (var removed = await server.SendAsync(HttpMethod.Delete, "/api/v1/chat/devices/1", bearer: alice.Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        await server.SequenceAsync();
        var bundles = await server.BundlesAsync(bob.Token, alice.Id, since: first.Checkpoint.Size);
        var (second, entries, consistency) = KtKit.ReadLookup(bundles.GetProperty("transparency"), await server.LogVerifierAsync());

        Assert.NotNull(consistency);
        Assert.Equal(6, second.Checkpoint.Size);
        Assert.True(MerkleProof.VerifyConsistency(first.Checkpoint.Size, second.Checkpoint.Size, consistency, first.Checkpoint.RootHash, second.Checkpoint.RootHash));
        Assert.Equal(KeyEventKinds.ChatDeviceRemoved, entries[^1].Event.Kind);
        Assert.Equal(1, entries[^1].Event.Device);
        Assert.All(entries, e => Assert.True(second.Proves(e)));
    }

    [Fact]
    public async Task Lookup_BeforeTheNextTick_ShowsTheNewEntryAsPending()
    {
        await using var server = await KtKit.StartKtServerAsync();
        var (alice, bob, _, _) = await server.PairAsync();
        await server.SequenceAsync();

        await server.AddDeviceAsync(alice, 2);
        var (_, entries, _) = KtKit.ReadLookup((await server.BundlesAsync(bob.Token, alice.Id)).GetProperty("transparency"), await server.LogVerifierAsync());

        Assert.Equal(3, entries.Count);
        Assert.Null(entries[^1].Index);
        Assert.Equal(2, entries[^1].Event.Device);
        Assert.Empty(entries[^1].Inclusion);
    }

    [Fact]
    public async Task RefusedRegistration_WritesNoEntry()
    {
        await using var server = await KtKit.StartKtServerAsync();
        var alice = await server.NewChatUserAsync();
        await server.AddDeviceAsync(alice, 1);

        using (var again = await server.PostAsync("/api/v1/chat/devices", ChatKit.DeviceBody(alice.AccountKey, 1, 9), alice.Token))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        await server.SequenceAsync();
        Assert.Equal(2, (await server.CheckpointAsync()).Checkpoint.Size); // the account key and device 1 only
    }

    [Fact]
    public async Task Tiles_OverSeveralBatchesAndATileBoundary_ReproduceTheCheckpointAndServeOnlyCommittedTiles()
    {
        // 300 entries in batches of 7: the level-0 tile fills (256), the next one is partial, and every batch rewrites
        // the right edge. Entries are added through the server's own log writer, in one transaction per 50.
        await using var server = await KtKit.StartKtServerAsync(o => o.Settings["Veil:KeyTransparency:BatchSize"] = "7");
        for (var chunk = 0; chunk < 6; chunk++)
        {
            using var scope = server.Services.CreateScope();
            var log = scope.ServiceProvider.GetRequiredService<KeyTransparencyLog>();
            for (var i = 0; i < 50; i++)
            {
                log.Record(new KeyEvent(KeyEventKinds.ChatDeviceAdded, KeyEvent.ChatSubject(Guid.NewGuid()), 1, [new byte[32]], "operator", 1_700_000_000 + chunk * 50 + i), server.Time.GetUtcNow());
            }

            await scope.ServiceProvider.GetRequiredService<VeilDbContext>().SaveChangesAsync();
            if (chunk == 2)
            {
                await server.SequenceAsync(); // a tick in the middle: 150 sequenced, the tile still partial
            }
        }

        await server.SequenceAsync();
        var checkpoint = (await server.CheckpointAsync()).Checkpoint;
        var full = await server.TileAsync(new TileId(0, 0, 256));
        var partial = await server.TileAsync(new TileId(0, 1, 44));
        var entries = await server.TileAsync(new TileId(TileId.EntriesLevel, 1, 44));

        Assert.Equal(300, checkpoint.Size);
        Assert.NotNull(full);
        Assert.NotNull(partial);
        Assert.NotNull(entries);
        var leafHashes = full.Concat(partial).Chunk(32).ToList();
        var frontier = new MerkleFrontier();
        leafHashes.ForEach(h => frontier.Append(h));
        Assert.Equal(checkpoint.RootHash, frontier.Root());
        Assert.Equal(leafHashes[256..], TlogTiles.DecodeEntryBundle(entries)!.Select(e => MerkleHasher.HashLeaf(e)));
        Assert.NotNull(await server.TileAsync(new TileId(0, 0, 150))); // the partial tile of the earlier checkpoint stays
        Assert.Null(await server.TileAsync(new TileId(0, 1, 45))); // beyond the committed tree
        Assert.Null(await server.TileAsync(new TileId(1, 0, 2)));
        using var malformed = await server.Client.GetAsync(new Uri("/kt/tile/0/x000/001", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, malformed.StatusCode);

        await using var scope2 = server.Services.CreateAsyncScope();
        var pending = await scope2.ServiceProvider.GetRequiredService<VeilDbContext>().Set<KtEntry>().CountAsync(e => e.LeafIndex == null);
        Assert.Equal(0, pending);
    }

    [Fact]
    public async Task ServedLookups_PassTheClientVerifier_AndAnOlderOneAfterANewerIsRefusedAsARollback()
    {
        await using var server = await KtKit.StartKtServerAsync();
        var (alice, bob, _, _) = await server.PairAsync();
        await server.SequenceAsync();
        var pinned = await server.LogVerifierAsync();
        var older = (await server.BundlesAsync(bob.Token, alice.Id)).GetProperty("transparency");

        var first = Check(pinned, null, older, alice.Id);
        Assert.Equal(KtVerdict.Ok, first.Verdict);
        Assert.Equal([1], first.ChatDevices().Keys);

        await server.AddDeviceAsync(alice, 2);
        await server.SequenceAsync();
        var newer = (await server.BundlesAsync(bob.Token, alice.Id, since: first.Checkpoint!.Size)).GetProperty("transparency");
        var second = Check(pinned, first.Checkpoint, newer, alice.Id);
        Assert.Equal(KtVerdict.Ok, second.Verdict);
        Assert.Equal([1, 2], second.ChatDevices().Keys.Order());

        Assert.Equal(KtVerdict.RolledBack, Check(pinned, second.Checkpoint, older, alice.Id).Verdict);
    }

    private static KtVerification Check(Ed25519NoteVerifier pinned, Checkpoint? lastSeen, System.Text.Json.JsonElement transparency, Guid accountId)
    {
        var consistency = transparency.GetProperty("consistency").ValueKind == System.Text.Json.JsonValueKind.Array
            ? transparency.GetProperty("consistency").EnumerateArray().Select(p => p.GetBytesFromBase64()).ToArray()
            : null;
        var entries = transparency.GetProperty("entries").EnumerateArray().Select(e => new Veil.Crypto.Transparency.KtLookupEntry(
            e.GetProperty("index").ValueKind == System.Text.Json.JsonValueKind.Null ? null : e.GetProperty("index").GetInt64(),
            e.GetProperty("entry").GetBytesFromBase64(),
            [.. e.GetProperty("inclusion").EnumerateArray().Select(p => p.GetBytesFromBase64())]));
        return KtLookupVerifier.Verify(pinned, lastSeen, System.Text.Encoding.UTF8.GetBytes(transparency.GetProperty("checkpoint").GetString()!),
            consistency, KeyEvent.ChatSubject(accountId), entries);
    }
}
