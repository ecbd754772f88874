// The sequencer's benchmark (bench/kt-sequencer.sh): the real server and the database chosen by VEIL_TEST_DATABASE.
// VEIL_BENCH_KT_LEAVES key events (default 1,000,000; each a chat-device-added leaf of ~200 bytes) are written
// through the server's log writer in transactions of 20,000, then the sequencer runs tick after tick (batches of
// Veil:KeyTransparency:BatchSize, default 4,096) until all are in the tree: leaf indexes set, tiles written to the
// blob store, a checkpoint signed per batch. Prints appends/s over the whole run and over the last tenth (the rate
// at about a million leaves), then checks the final checkpoint against a lookup's inclusion proof.
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.Transparency;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Kit;
using Veil.Server.Transparency;
using Xunit.Abstractions;

namespace Veil.Server.Tests.Transparency;

public sealed class KtSequencerBench(ITestOutputHelper output)
{
    [BenchFact]
    public async Task Sequencer_AMillionLeaves_AppendsPerSecond()
    {
        var leaves = int.Parse(Environment.GetEnvironmentVariable("VEIL_BENCH_KT_LEAVES") ?? "1000000", CultureInfo.InvariantCulture);
        var batch = Environment.GetEnvironmentVariable("VEIL_BENCH_KT_BATCH") ?? "4096";
        await using var server = await KtKit.StartKtServerAsync(o =>
        {
            o.Settings["Veil:KeyTransparency:BatchSize"] = batch;
            o.Settings["Veil:KeyTransparency:MaxBatchesPerTick"] = "10"; // a tick per ~40k entries, for progress lines
        });
        await server.SequenceAsync(); // the empty log's checkpoint

        var write = Stopwatch.StartNew();
        const int Chunk = 20_000;
        var keys = new byte[][] { new byte[32], new byte[33] };
        for (var done = 0; done < leaves; done += Chunk)
        {
            using var scope = server.Services.CreateScope();
            var log = scope.ServiceProvider.GetRequiredService<KeyTransparencyLog>();
            var now = server.Time.GetUtcNow();
            for (var i = done; i < Math.Min(leaves, done + Chunk); i++)
            {
                log.Record(new KeyEvent(KeyEventKinds.ChatDeviceAdded, KeyEvent.ChatSubject(Guid.NewGuid()), 1 + i % 6, keys, "session:" + Guid.NewGuid(), 1_900_000_000 + i), now);
            }

            var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            await db.SaveChangesAsync();
        }

        var written = write.Elapsed;
        var sequence = Stopwatch.StartNew();
        long size = 0;
        var ticks = new List<(TimeSpan At, long Size)> { (TimeSpan.Zero, 0) };
        Checkpoint? middle = null;
        while (size < leaves)
        {
            await server.SequenceAsync();
            var current = (await server.CheckpointAsync()).Checkpoint;
            size = current.Size;
            if (middle is null && size >= leaves / 2)
            {
                middle = current;
            }

            ticks.Add((sequence.Elapsed, size));

            output.WriteLine($"size {size:N0} after {sequence.Elapsed.TotalSeconds:F1} s");
        }

        var total = sequence.Elapsed;
        // From the last tick that ended at or below 90 % of the leaves to the end: the rate at about a million leaves.
        var (fromAt, fromSize) = ticks.Last(t => t.Size <= leaves * 0.9);
        var lastRate = (leaves - fromSize) / (total - fromAt).TotalSeconds;

        var checkpoint = await server.CheckpointAsync();
        using var lookupScope = server.Services.CreateScope();
        var lookupClock = Stopwatch.StartNew();
        var lookup = await lookupScope.ServiceProvider.GetRequiredService<KtProofs>().ForSubjectAsync(KeyEvent.ChatSubject(Guid.NewGuid()), middle!.Size, CancellationToken.None);
        var lookupMs = lookupClock.Elapsed.TotalMilliseconds;
        Assert.NotNull(lookup);
        Assert.Equal(leaves, checkpoint.Checkpoint.Size);
        Assert.True(MerkleProof.VerifyConsistency(middle.Size, leaves, lookup.Consistency!, middle.RootHash, checkpoint.Checkpoint.RootHash));

        var line = string.Create(CultureInfo.InvariantCulture,
            $"KT-SEQUENCER-BENCH {{\"database\":\"{server.Database}\",\"leaves\":{leaves},\"batch\":{batch},\"write_per_s\":{leaves / written.TotalSeconds:F0},\"append_per_s\":{leaves / total.TotalSeconds:F0},\"append_per_s_last_tenth\":{lastRate:F0},\"lookup_with_consistency_ms\":{lookupMs:F1}}}");
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
