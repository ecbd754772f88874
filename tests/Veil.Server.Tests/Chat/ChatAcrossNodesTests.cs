// Two Veil nodes (two real Kestrel servers) on one PostgreSQL database: a message stored by one node reaches a
// socket on the other live, through the LISTEN/NOTIFY wake-up bus, and a listener that loses its connection
// catches up from the mailbox rows when it is back.
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Veil.Server.Platform.Wakeups;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit.Abstractions;

namespace Veil.Server.Tests.Chat;

public sealed class ChatAcrossNodesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan LiveP99Bound = TimeSpan.FromSeconds(1);

    [PostgresFact]
    public async Task DevicesOnTwoNodes_MessagesBothWays_ArriveLiveWithoutReconnect()
    {
        await using var nodeA = await ChatKit.StartChatServerAsync();
        await using var nodeB = await ChatKit.StartChatServerAsync(nodeOf: nodeA);
        var (alice, bob, aliceDevice, bobDevice) = await nodeA.PairAsync();
        await using var x = await nodeA.ConnectAsync(aliceDevice);
        await using var y = await nodeB.ConnectAsync(bobDevice);

        // One untimed message each way: code paths warm, and both nodes' listeners are up (a message stored before a
        // listener's first LISTEN arrives through its resync, correct but not the live path timed below).
        await x.SendAndAnswerAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [bobDevice], "warm"));
        Assert.Equal("warm@1", ChatKit.BodyText(await y.ReceiveAsync()));
        await y.SendAndAnswerAsync(ChatKit.SendFrame(Guid.NewGuid(), alice.Id, [aliceDevice], "warm"));
        Assert.Equal("warm@1", ChatKit.BodyText(await x.ReceiveAsync()));

        // 15 sends per socket, unacked: under the 30-frames-a-second limit whatever the machine's speed.
        var latencies = new List<double>();
        for (var i = 0; i < 28; i++)
        {
            var (from, to, toUser, toDevice) = i % 2 == 0 ? (x, y, bob, bobDevice) : (y, x, alice, aliceDevice);
            var clock = Stopwatch.StartNew();
            var answer = await from.SendAndAnswerAsync(ChatKit.SendFrame(Guid.NewGuid(), toUser.Id, [toDevice], $"m{i}"));
            Assert.True(answer.GetProperty("type").GetString() == "sent", answer.ToString());
            var message = await to.ReceiveAsync();
            latencies.Add(clock.Elapsed.TotalMilliseconds);
            Assert.Equal("msg", message.GetProperty("type").GetString());
            Assert.Equal($"m{i}@1", ChatKit.BodyText(message));
        }

        latencies.Sort();
        var p50 = latencies[latencies.Count / 2];
        var p99 = latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1];
        output.WriteLine($"send→receive across nodes, 28 messages: p50 {p50:F1} ms, p99 {p99:F1} ms");
        Assert.True(p99 < LiveP99Bound.TotalMilliseconds, $"p99 {p99:F1} ms");
    }

    [PostgresFact]
    public async Task ListenerKilled_MessagesSentWhileItWasDown_ArriveWhenItReconnects()
    {
        await using var nodeA = await ChatKit.StartChatServerAsync();
        await using var nodeB = await ChatKit.StartChatServerAsync(nodeOf: nodeA);
        var (alice, bob, aliceDevice, bobDevice) = await nodeA.PairAsync();
        await using var x = await nodeA.ConnectAsync(aliceDevice);
        await using var y = await nodeB.ConnectAsync(bobDevice);

        // One live message first: both nodes listen, and node A's pools hold open connections for the sends below.
        await x.SendAndAnswerAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [bobDevice], "before"));
        await AckAsync(y, await y.ReceiveAsync());
        var busB = nodeB.Services.GetRequiredService<PostgresWakeupBus>();
        var generation = busB.ListenGeneration;
        var database = new NpgsqlConnectionStringBuilder(nodeA.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Postgres"]).Database!;

        // Kill node B's listening session and keep it from reconnecting (new sessions refused), so the
        // notifications for the three sends below are sent while nobody on node B listens: they are lost.
        await using var admin = new NpgsqlConnection(Environment.GetEnvironmentVariable(TestDatabase.PostgresVariable));
        await admin.OpenAsync();
        try
        {
            await ExecuteAsync(admin, $"ALTER DATABASE {database} ALLOW_CONNECTIONS false"); // generated name, not input
            var killed = busB.ListenerProcessId;
            Assert.NotEqual(0, killed);
            await ExecuteAsync(admin, $"SELECT pg_terminate_backend({killed})");
            await WaitUntilGoneAsync(admin, killed);

            for (var i = 0; i < 3; i++)
            {
                var answer = await x.SendAndAnswerAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [bobDevice], $"meanwhile{i}"));
                Assert.Equal("sent", answer.GetProperty("type").GetString());
            }
        }
        finally
        {
            await ExecuteAsync(admin, $"ALTER DATABASE {database} ALLOW_CONNECTIONS true");
        }

        // Node B's listener reconnects with backoff and resyncs: the socket, never reconnected, reads the rows.
        for (var i = 0; i < 3; i++)
        {
            var message = await y.ReceiveAsync();
            Assert.Equal($"meanwhile{i}@1", ChatKit.BodyText(message));
        }

        Assert.True(busB.ListenGeneration > generation, "node B's listener did not reconnect");
        Assert.NotEqual(0, busB.ListenerProcessId);
    }

    [PostgresFact]
    public async Task DeviceRemovedThroughNodeA_ItsSocketOnNodeB_ClosesWith4404()
    {
        await using var nodeA = await ChatKit.StartChatServerAsync();
        await using var nodeB = await ChatKit.StartChatServerAsync(nodeOf: nodeA);
        var bob = await nodeA.NewChatUserAsync();
        await nodeA.AddDeviceAsync(bob, 1);
        var doomed = await nodeA.AddDeviceAsync(bob, 2);
        await using var socket = await nodeB.ConnectAsync(doomed);

        using (var removed = await nodeA.SendAsync(HttpMethod.Delete, "/api/v1/chat/devices/2", bearer: bob.Token))
        {
            Assert.Equal(System.Net.HttpStatusCode.NoContent, removed.StatusCode);
        }

        var (status, _) = await socket.ReceiveCloseAsync();
        Assert.Equal((System.Net.WebSockets.WebSocketCloseStatus)4404, status);
    }

    [PostgresFact]
    public async Task SendOnOneNode_ItsOwnNotificationComesBack_IsSkippedThere_AndWakesTheOtherNode()
    {
        await using var nodeA = await ChatKit.StartChatServerAsync();
        await using var nodeB = await ChatKit.StartChatServerAsync(nodeOf: nodeA);
        var (_, bob, aliceDevice, bobDevice) = await nodeA.PairAsync();
        await using var x = await nodeA.ConnectAsync(aliceDevice);
        await using var y = await nodeB.ConnectAsync(bobDevice);
        var busA = nodeA.Services.GetRequiredService<PostgresWakeupBus>();
        var busB = nodeB.Services.GetRequiredService<PostgresWakeupBus>();
        var skippedBefore = busA.OwnNotificationsSkipped;

        await x.SendAndAnswerAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [bobDevice], "once"));

        // Node B (another node) acts on the notification: its socket gets the message live.
        Assert.Equal("once@1", ChatKit.BodyText(await y.ReceiveAsync()));

        // Node A's handlers were woken at publish; the same notification reaching node A's listener is dropped there.
        var deadline = Stopwatch.StartNew();
        while (busA.OwnNotificationsSkipped == skippedBefore)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "node A never saw its own notification come back");
            await Task.Yield();
        }

        Assert.Equal(0, busB.OwnNotificationsSkipped);
    }

    private static async Task AckAsync(ChatSocket socket, JsonElement message)
    {
        var acked = await socket.SendAndAnswerAsync(new { type = "ack", ids = new[] { message.GetProperty("id").GetGuid() } });
        Assert.Equal(1, acked.GetProperty("count").GetInt32());
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    // pg_terminate_backend only signals; the session is gone when pg_stat_activity no longer lists it.
    private static async Task WaitUntilGoneAsync(NpgsqlConnection admin, int processId)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", admin) { Parameters = { new() { Value = processId } } };
            if ((long)(await command.ExecuteScalarAsync())! == 0)
            {
                return;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "the listener session did not end");
            await Task.Yield();
        }
    }
}
