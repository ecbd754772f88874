// The relay's benchmark (bench/chat-relay.sh), through the real server on Kestrel and the database chosen by
// VEIL_TEST_DATABASE. PAIRS sender/recipient socket pairs, each message a 256-byte body to one device:
//  1. maximum: every sender sends in a closed loop (next send after its "sent"), at most 25 sends/s per socket
//     (the relay allows 30 frames/s); recipients ack in batches of 10; rate = messages delivered and acked per second;
//  2. half of that rate, paced evenly over the senders: send→receive latency per message (p50/p99), which bounds
//     the relay's accept→deliver time from above;
//  3. raw rows: the same number of workers, each on one recipient mailbox, doing what the durable path does to
//     the database and nothing else: in one transaction bump the device sequence and insert the row, then read its
//     body back and delete it. Its rate is the "raw database rate for the same rows".
// Prints one JSON line. Settings: VEIL_BENCH_PAIRS (default 32), VEIL_BENCH_SECONDS per phase (default 10).
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Kit;
using Xunit.Abstractions;

namespace Veil.Server.Tests.Chat;

public sealed class ChatRelayBench(ITestOutputHelper output)
{
    private const int BodyBytes = 256;
    private const int AckBatch = 10;
    private static readonly TimeSpan MinSendInterval = TimeSpan.FromMilliseconds(40);

    [BenchFact]
    public async Task Relay_MaximumRate_LatencyAtHalf_AndDurablePathAgainstRawRows()
    {
        var pairs = Setting("VEIL_BENCH_PAIRS", 32);
        var phase = TimeSpan.FromSeconds(Setting("VEIL_BENCH_SECONDS", 10));
        await using var server = await ChatKit.StartChatServerAsync();

        // The kit's clock is manual; the relay's per-second frame windows need it to follow the wall clock here.
        using var stopClock = new CancellationTokenSource();
        var wallClock = FollowWallClockAsync(server.Time, stopClock.Token);
        var lanes = new List<Lane>();
        for (var i = 0; i < pairs; i++)
        {
            var (_, bob, aliceDevice, bobDevice) = await server.PairAsync();
            lanes.Add(new Lane(await server.ConnectAsync(aliceDevice), await server.ConnectAsync(bobDevice), bobDevice));
        }

        try
        {
            await RunAsync(lanes, TimeSpan.FromSeconds(2), interval: MinSendInterval); // warm-up
            var maximum = await RunAsync(lanes, phase, interval: MinSendInterval);
            var halfInterval = TimeSpan.FromSeconds(pairs / (maximum.Rate / 2));
            var half = await RunAsync(lanes, phase, interval: halfInterval);
            var raw = await RawRowsAsync(server, lanes, phase);
            var result = new
            {
                database = server.Database,
                pairs,
                max_rate_per_s = Math.Round(maximum.Rate),
                max_p50_ms = maximum.P50,
                max_p99_ms = maximum.P99,
                half_target_per_s = Math.Round(maximum.Rate / 2),
                half_rate_per_s = Math.Round(half.Rate),
                half_p50_ms = half.P50,
                half_p99_ms = half.P99,
                raw_rows_per_s = Math.Round(raw),
                durable_vs_raw = Math.Round(maximum.Rate / raw, 2),
                load_average = File.ReadAllText("/proc/loadavg").Split(' ')[0],
            };
            output.WriteLine("CHAT-RELAY-BENCH " + JsonSerializer.Serialize(result));
            Assert.True(maximum.Rate > 0 && half.Rate > 0 && raw > 0);
        }
        finally
        {
            await stopClock.CancelAsync();
            await wallClock;
            foreach (var lane in lanes)
            {
                await lane.Sender.DisposeAsync();
                await lane.Recipient.DisposeAsync();
            }
        }
    }

    private sealed record Lane(ChatSocket Sender, ChatSocket Recipient, ChatTestDevice To);

    private sealed record Phase(double Rate, double P50, double P99);

    // Every lane sends for `duration`, one send every `interval` at most (closed loop: the next after "sent"), then
    // one last message; mailboxes deliver in order, so when the last arrives every earlier one has.
    private static async Task<Phase> RunAsync(List<Lane> lanes, TimeSpan duration, TimeSpan interval)
    {
        var sentAt = new ConcurrentDictionary<Guid, long>();
        var latencies = new ConcurrentBag<double>();
        var clock = Stopwatch.StartNew();
        var delivered = 0;
        await Task.WhenAll(lanes.Select(async (lane, index) =>
        {
            var last = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
            var receiving = ReceiveAsync(lane, sentAt, latencies, last.Task);

            // Lanes start spread over one interval so the load is even, not in bursts.
            var next = interval * index / lanes.Count;
            while (true)
            {
                var wait = next - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                // No catching up after a slow answer: a burst would cross the relay's 30 frames/s.
                next = TimeSpan.FromTicks(Math.Max((next + interval).Ticks, (clock.Elapsed + MinSendInterval).Ticks));
                var id = Guid.NewGuid();
                var final = clock.Elapsed >= duration;
                if (final)
                {
                    last.SetResult(id);
                }

                sentAt[id] = Stopwatch.GetTimestamp();
                var answer = await lane.Sender.SendAndAnswerAsync(new
                {
                    type = "send",
                    id,
                    to = lane.To.Owner.Id,
                    messages = new[] { new { device = lane.To.DeviceId, registrationId = lane.To.RegistrationId, body = RandomNumberGenerator.GetBytes(BodyBytes) } },
                });
                Assert.True(answer.GetProperty("type").GetString() == "sent", answer.ToString());
                if (final)
                {
                    break;
                }
            }

            Interlocked.Add(ref delivered, await receiving);
        }));
        var elapsed = clock.Elapsed.TotalSeconds;
        var sorted = latencies.Order().ToArray();
        return new Phase(delivered / elapsed, Percentile(sorted, 0.50), Percentile(sorted, 0.99));
    }

    private static async Task<int> ReceiveAsync(Lane lane, ConcurrentDictionary<Guid, long> sentAt, ConcurrentBag<double> latencies, Task<Guid> last)
    {
        var received = 0;
        var pending = new List<Guid>();
        while (true)
        {
            var frame = await lane.Recipient.ReceiveAsync();
            if (frame.GetProperty("type").GetString() != "msg")
            {
                continue; // "acked"
            }

            var messageId = frame.GetProperty("messageId").GetGuid();
            if (sentAt.TryRemove(messageId, out var start))
            {
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            received++;
            pending.Add(frame.GetProperty("id").GetGuid());
            var isLast = last.IsCompleted && last.Result == messageId;
            if (pending.Count >= AckBatch || isLast)
            {
                await lane.Recipient.SendAsync(new { type = "ack", ids = pending.ToArray() });
                pending.Clear();
            }

            if (isLast)
            {
                return received;
            }
        }
    }

    private static async Task<double> RawRowsAsync(VeilTestServer server, List<Lane> lanes, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var rows = 0;
        await Task.WhenAll(lanes.Select(async lane =>
        {
            var account = lane.To.Owner.Id;
            var device = lane.To.DeviceId;
            while (clock.Elapsed < duration)
            {
                await using var scope = server.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
                var id = Guid.NewGuid();
                var body = RandomNumberGenerator.GetBytes(BodyBytes);
                var now = DateTimeOffset.UtcNow;
                await using (var transaction = await db.Database.BeginTransactionAsync())
                {
                    await db.Database.ExecuteSqlAsync($"""UPDATE "ChatDevices" SET "LastSequence" = "LastSequence" + 1 WHERE "AccountId" = {account} AND "DeviceId" = {device}""");
                    await db.Database.ExecuteSqlAsync($"""
                        INSERT INTO "ChatMailbox" ("Id", "AccountId", "DeviceId", "Sequence", "MessageId", "Sealed", "Body", "CreatedAt")
                        VALUES ({id}, {account}, {device}, (SELECT "LastSequence" FROM "ChatDevices" WHERE "AccountId" = {account} AND "DeviceId" = {device}), {Guid.NewGuid()}, {false}, {body}, {now})
                        """);
                    await transaction.CommitAsync();
                }

                var read = await db.Database.SqlQuery<byte[]>($"""SELECT "Body" AS "Value" FROM "ChatMailbox" WHERE "Id" = {id}""").ToListAsync();
                Assert.Single(read);
                await db.Database.ExecuteSqlAsync($"""DELETE FROM "ChatMailbox" WHERE "Id" = {id}""");
                Interlocked.Increment(ref rows);
            }
        }));
        return rows / clock.Elapsed.TotalSeconds;
    }

    private static async Task FollowWallClockAsync(ManualTimeProvider time, CancellationToken cancellationToken)
    {
        var last = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var now = Stopwatch.GetTimestamp();
                time.Advance(Stopwatch.GetElapsedTime(last, now));
                last = now;
            }
        }
        catch (OperationCanceledException)
        {
            // the bench is over
        }
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(sorted.Length * p) - 1)], 1);

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}
