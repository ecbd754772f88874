// Many users and devices over real sockets: every device gets every message meant for it exactly once
// after de-duplication, across random disconnects; a device added mid-conversation gets the next message;
// nothing of a message's plaintext reaches the database or the logs.
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Chat;

public sealed class ChatConversationTests
{
    [Fact]
    public async Task ThreeUsersWithOneTwoAndThreeDevices_Exchange1000Messages_AcrossRandomDisconnects_EachDeviceGetsEachOnce()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var users = new List<(ChatUser User, List<ChatTestDevice> Devices)>();
        for (var u = 1; u <= 3; u++)
        {
            var user = await server.NewChatUserAsync();
            var devices = new List<ChatTestDevice>();
            for (var d = 1; d <= u; d++)
            {
                devices.Add(await server.AddDeviceAsync(user, d));
            }

            users.Add((user, devices));
        }

        var all = users.SelectMany(u => u.Devices).ToList();
        var expected = all.ToDictionary(d => d, _ => new ConcurrentDictionary<Guid, byte>());
        var seen = all.ToDictionary(d => d, _ => new ConcurrentDictionary<Guid, int>());
        using var stop = new CancellationTokenSource();
        var receivers = all.Select((d, i) => ReceiveAsync(server, d, seen[d], new Random(i), stop.Token)).ToList();

        var senders = new Dictionary<ChatTestDevice, ChatSocket>();
        foreach (var device in all)
        {
            senders[device] = await server.ConnectAsync(device);
        }

        var random = new Random(18);
        for (var i = 0; i < 1000; i++)
        {
            if (i % 4 == 0)
            {
                server.Time.Advance(TimeSpan.FromSeconds(1)); // stay under 30 frames per second per socket
            }

            var from = users[random.Next(3)];
            var to = users.Where(u => u.User != from.User).ElementAt(random.Next(2));
            var device = from.Devices[random.Next(from.Devices.Count)];
            var id = Guid.NewGuid();
            var answer = await senders[device].SendAndAnswerAsync(ChatKit.SendFrame(id, to.User.Id, to.Devices, $"n{i}"));
            Assert.Equal("sent", answer.GetProperty("type").GetString());
            to.Devices.ForEach(d => expected[d][id] = 0);
            var others = from.Devices.Where(d => d != device).ToList();
            if (others.Count > 0)
            {
                Assert.Equal("sent", (await senders[device].SendAndAnswerAsync(ChatKit.SendFrame(id, from.User.Id, others, $"n{i}"))).GetProperty("type").GetString());
                others.ForEach(d => expected[d][id] = 0);
            }
        }

        // Wait (bounded) until every device has seen everything meant for it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (all.Any(d => seen[d].Count < expected[d].Count) && DateTime.UtcNow < deadline)
        {
            await Task.WhenAny(Task.WhenAll(receivers), Task.Delay(50, CancellationToken.None));
        }

        await stop.CancelAsync();
        await Task.WhenAll(receivers);
        foreach (var socket in senders.Values)
        {
            await socket.DisposeAsync();
        }

        foreach (var device in all)
        {
            Assert.Equal(expected[device].Keys.Order(), seen[device].Keys.Order());
        }

        // The random disconnects did drop unacked messages, which then came again (at least once).
        Assert.Contains(all, d => seen[d].Values.Any(n => n > 1));
    }

    [Fact]
    public async Task DeviceAddedMidConversation_IsReportedMissing_ThenGetsTheNextMessage()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var (alice, bob, a1, b1) = await server.PairAsync();
        await using var sender = await server.ConnectAsync(a1);
        Assert.Equal("sent", (await sender.SendAndAnswerAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [b1], "before"))).GetProperty("type").GetString());

        var b2 = await server.AddDeviceAsync(bob, 2);
        var refused = await sender.SendAndAnswerAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [b1], "after"));
        Assert.Equal("[2]", refused.GetProperty("missing").GetRawText());
        Assert.Equal("sent", (await sender.SendAndAnswerAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [b1, b2], "after"))).GetProperty("type").GetString());

        await using var newcomer = await server.ConnectAsync(b2);
        Assert.Equal("after@2", ChatKit.BodyText(await newcomer.ReceiveAsync()));
    }

    [Fact]
    public async Task Canary_PlaintextOfSentAndSealedMessages_IsNowhereInTheDatabaseOrLogs()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var (alice, bob, a1, b1) = await server.PairAsync();
        var canary = "CANARY-" + Guid.NewGuid().ToString("N");
        await using (var sender = await server.ConnectAsync(a1))
        {
            Assert.Equal("sent", (await sender.SendAndAnswerAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [b1], canary))).GetProperty("type").GetString());
        }

        var accessKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        using (var set = await server.SendAsync(HttpMethod.Put, "/api/v1/chat/access-key", new { accessKey }, bob.Token))
        {
            set.EnsureSuccessStatusCode();
        }

        await using (var anon = await ChatSocket.OpenAsync(server, "/chat/ws/anon"))
        {
            var sealedFrame = new { type = "send", id = Guid.NewGuid(), to = bob.Id, accessKey, messages = new[] { new { device = 1, registrationId = b1.RegistrationId, body = Encoding.UTF8.GetBytes(canary + "-sealed") } } };
            Assert.Equal("sent", (await anon.SendAndAnswerAsync(sealedFrame)).GetProperty("type").GetString());
        }

        var stored = await StoredData.ReadAsync(server);
        Assert.DoesNotContain(canary, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(canary))[..20], stored, StringComparison.Ordinal);
        Assert.DoesNotContain(canary, server.Logs.AllText, StringComparison.Ordinal);
    }

    // One device's reader: reads messages, records each message id, acks in batches of 20, and now and
    // then drops the socket with messages unacked (they must come again) and reconnects.
    private static async Task ReceiveAsync(VeilTestServer server, ChatTestDevice device, ConcurrentDictionary<Guid, int> seen, Random random, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await using var socket = await server.ConnectAsync(device);
            var pending = new List<Guid>();
            try
            {
                while (true)
                {
                    if (await socket.ReceiveOrCloseAsync(stop) is not { } frame)
                    {
                        break; // closed by the server (for example after too many acks in one second): reconnect
                    }

                    if (frame.GetProperty("type").GetString() != "msg")
                    {
                        continue;
                    }

                    seen.AddOrUpdate(frame.GetProperty("messageId").GetGuid(), 1, (_, n) => n + 1);
                    pending.Add(frame.GetProperty("id").GetGuid());
                    if (random.Next(50) == 0)
                    {
                        break; // disconnect with `pending` unacked
                    }

                    if (pending.Count >= 20)
                    {
                        await socket.SendAsync(new { type = "ack", ids = pending.ToArray() });
                        pending.Clear();
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
