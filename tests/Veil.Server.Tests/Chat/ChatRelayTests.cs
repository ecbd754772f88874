// The /chat/ws relay through real Kestrel sockets: delivery, acks, device lists, limits, auth lapse.
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Chat;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Chat;

public sealed class ChatRelayTests
{
    [Fact]
    public async Task Send_ToTwoDevicesAndSendersOtherDevice_EachGetsEveryMessageInOrder_UnackedComeBack_AckedDoNot()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var alice = await server.NewChatUserAsync();
        var bob = await server.NewChatUserAsync();
        var alicePhone = await server.AddDeviceAsync(alice, 1);
        var aliceLaptop = await server.AddDeviceAsync(alice, 2);
        var bob1 = await server.AddDeviceAsync(bob, 1);
        var bob2 = await server.AddDeviceAsync(bob, 2);

        await using (var sender = await server.ConnectAsync(alicePhone))
        {
            for (var i = 0; i < 5; i++)
            {
                var id = Guid.NewGuid();
                await sender.SendAsync(ChatKit.SendFrame(id, bob.Id, [bob1, bob2], $"m{i}"));
                Assert.Equal("sent", (await sender.ReceiveAsync()).GetProperty("type").GetString());
                await sender.SendAsync(ChatKit.SendFrame(id, alice.Id, [aliceLaptop], $"m{i}"));
                Assert.Equal("sent", (await sender.ReceiveAsync()).GetProperty("type").GetString());
            }
        }

        foreach (var device in new[] { bob1, bob2, aliceLaptop })
        {
            await using var socket = await server.ConnectAsync(device);
            var got = new List<System.Text.Json.JsonElement>();
            for (var i = 0; i < 5; i++)
            {
                got.Add(await socket.ReceiveAsync());
            }

            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"m{i}@{device.DeviceId}"), got.Select(ChatKit.BodyText));
            Assert.All(got, m => Assert.Equal(alice.Id, m.GetProperty("from").GetGuid()));
            await socket.SendAsync(new { type = "ack", ids = got.Take(3).Select(m => m.GetProperty("id").GetGuid()).ToArray() });
            Assert.Equal(3, (await socket.ReceiveAsync()).GetProperty("count").GetInt32());
        }

        // At least once: the two unacked messages come again, in order, on the next connection.
        await using var again = await server.ConnectAsync(bob1);
        Assert.Equal("m3@1", ChatKit.BodyText(await again.ReceiveAsync()));
        Assert.Equal("m4@1", ChatKit.BodyText(await again.ReceiveAsync()));
    }

    [Fact]
    public async Task Send_ToAConnectedDevice_IsPushedAtOnce_AndASameIdResendIsStoredOnce()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var (alice, bob, a1, b1) = await server.PairAsync();
        await using var receiver = await server.ConnectAsync(b1);
        await using var sender = await server.ConnectAsync(a1);

        var id = Guid.NewGuid();
        await sender.SendAsync(ChatKit.SendFrame(id, bob.Id, [b1], "hello"));
        Assert.Equal("sent", (await sender.ReceiveAsync()).GetProperty("type").GetString());
        await sender.SendAsync(ChatKit.SendFrame(id, bob.Id, [b1], "hello"));
        Assert.Equal("sent", (await sender.ReceiveAsync()).GetProperty("type").GetString());

        var pushed = await receiver.ReceiveAsync();
        Assert.Equal("hello@1", ChatKit.BodyText(pushed));
        Assert.Equal(id, pushed.GetProperty("messageId").GetGuid());
        await using var scope = server.Services.CreateAsyncScope();
        Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<VeilDbContext>().Set<ChatMailboxEntry>().CountAsync(m => m.MessageId == id));
    }

    [Fact]
    public async Task Send_WithAMissingDevice_Is409_WithAStaleRegistration_Is410_AndNothingIsStored()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var (alice, bob, a1, b1) = await server.PairAsync();
        var b2 = await server.AddDeviceAsync(bob, 2);
        await using var sender = await server.ConnectAsync(a1);

        await sender.SendAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [b1], "x"));
        var missing = await sender.ReceiveAsync();
        Assert.Equal(409, missing.GetProperty("status").GetInt32());
        Assert.Equal("[2]", missing.GetProperty("missing").GetRawText());

        await sender.SendAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [b1, b2 with { RegistrationId = b2.RegistrationId + 1 }], "x"));
        var stale = await sender.ReceiveAsync();
        Assert.Equal(410, stale.GetProperty("status").GetInt32());
        Assert.Equal("[2]", stale.GetProperty("stale").GetRawText());

        await using var scope = server.Services.CreateAsyncScope();
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<VeilDbContext>().Set<ChatMailboxEntry>().CountAsync());
    }

    [Fact]
    public async Task Frame_Of16384Bytes_IsAccepted_AndOf16385_ClosesWith1009()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var (alice, bob, a1, b1) = await server.PairAsync();
        await using var socket = await server.ConnectAsync(a1);

        await socket.SendRawAsync(PaddedSend(bob.Id, b1, ChatLimits.MaxFrameBytes));
        Assert.Equal("sent", (await socket.ReceiveAsync()).GetProperty("type").GetString());

        await socket.SendRawAsync(PaddedSend(bob.Id, b1, ChatLimits.MaxFrameBytes + 1));
        var (status, _) = await socket.ReceiveCloseAsync();
        Assert.Equal((WebSocketCloseStatus)1009, status);
    }

    [Fact]
    public async Task Frames_The31stInOneSecond_IsRateLimited_AndSustainedAbuseClosesWith1008()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var alice = await server.NewChatUserAsync();
        var a1 = await server.AddDeviceAsync(alice, 1);
        await using var socket = await server.ConnectAsync(a1);

        // The manual clock does not move: every frame below falls in the same second as the auth
        // frame, which is the first of the 30.
        for (var i = 1; i < ChatLimits.FramesPerSecond; i++)
        {
            await socket.SendAsync(new { type = "ack", ids = new[] { Guid.NewGuid() } });
            Assert.Equal("acked", (await socket.ReceiveAsync()).GetProperty("type").GetString());
        }

        await socket.SendAsync(new { type = "ack", ids = new[] { Guid.NewGuid() } });
        var limited = await socket.ReceiveAsync();
        Assert.Equal("rate-limited", limited.GetProperty("code").GetString());

        for (var i = ChatLimits.FramesPerSecond + 1; i < ChatLimits.AbusiveFramesPerSecond + 1; i++)
        {
            await socket.SendAsync(new { type = "ack", ids = new[] { Guid.NewGuid() } });
        }

        var (status, frames) = await socket.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.All(frames, f => Assert.Equal("rate-limited", f.GetProperty("code").GetString()));
    }

    [Fact]
    public async Task Token_LapsingWithoutReauth_ClosesWith4401_WhileReauthKeepsTheSocketOpen()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var alice = await server.NewChatUserAsync();
        var a1 = await server.AddDeviceAsync(alice, 1);
        await using var renewing = await server.ConnectAsync(a1);
        await using var lapsing = await server.ConnectAsync(a1);

        server.Time.Advance(TimeSpan.FromMinutes(10));
        var fresh = await server.RefreshAsync(alice.User.RefreshToken);
        await renewing.SendAsync(new { type = "auth", token = fresh.AccessToken, device = 1 });
        Assert.Equal("ready", (await renewing.ReceiveAsync()).GetProperty("type").GetString());

        server.Time.Advance(TimeSpan.FromMinutes(6));
        var (status, _) = await lapsing.ReceiveCloseAsync();
        Assert.Equal((WebSocketCloseStatus)4401, status);

        await renewing.SendAsync(new { type = "ack", ids = new[] { Guid.NewGuid() } });
        Assert.Equal("acked", (await renewing.ReceiveAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task FirstFrame_WithoutAValidToken_ClosesWith4401()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        await using var socket = await ChatSocket.OpenAsync(server, "/chat/ws");
        await socket.SendAsync(new { type = "auth", token = "not-a-token", device = 1 });
        var (status, _) = await socket.ReceiveCloseAsync();
        Assert.Equal((WebSocketCloseStatus)4401, status);
    }

    [Fact]
    public async Task RemoveDevice_ClosesItsSocketWithinOneSecond_AndItsMailboxGoes()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var (alice, bob, a1, b1) = await server.PairAsync();
        var b2 = await server.AddDeviceAsync(bob, 2);
        await using (var sender = await server.ConnectAsync(a1))
        {
            await sender.SendAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [b1, b2], "waiting"));
            Assert.Equal("sent", (await sender.ReceiveAsync()).GetProperty("type").GetString());
        }

        await using var doomed = await server.ConnectAsync(b2);
        Assert.Equal("waiting@2", ChatKit.BodyText(await doomed.ReceiveAsync()));
        var clock = Stopwatch.StartNew();
        using (var removed = await server.SendAsync(HttpMethod.Delete, "/api/v1/chat/devices/2", bearer: bob.Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        var (status, _) = await doomed.ReceiveCloseAsync();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"closed after {clock.Elapsed}");
        Assert.Equal((WebSocketCloseStatus)4404, status);
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        Assert.Equal(0, await db.Set<ChatMailboxEntry>().CountAsync(m => m.AccountId == bob.Id && m.DeviceId == 2));
        Assert.Equal(1, await db.Set<ChatMailboxEntry>().CountAsync(m => m.AccountId == bob.Id && m.DeviceId == 1));
    }

    [Fact]
    public async Task SealedSend_OnTheAnonymousSocket_NeedsTheAccessKey_AndStoresNoSender()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var alice = await server.NewChatUserAsync();
        var bob = await server.NewChatUserAsync();
        await server.AddDeviceAsync(alice, 1);
        var b1 = await server.AddDeviceAsync(bob, 1);
        var accessKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        using (var set = await server.SendAsync(HttpMethod.Put, "/api/v1/chat/access-key", new { accessKey }, bob.Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);
        }

        await using var anon = await ChatSocket.OpenAsync(server, "/chat/ws/anon");
        var wrong = new { type = "send", id = Guid.NewGuid(), to = bob.Id, accessKey = new byte[16], messages = new[] { new { device = 1, registrationId = b1.RegistrationId, body = new byte[] { 1 } } } };
        await anon.SendAsync(wrong);
        Assert.Equal(401, (await anon.ReceiveAsync()).GetProperty("status").GetInt32());

        var id = Guid.NewGuid();
        await anon.SendAsync(new { type = "send", id, to = bob.Id, accessKey, messages = new[] { new { device = 1, registrationId = b1.RegistrationId, body = Encoding.UTF8.GetBytes("sealed") } } });
        Assert.Equal("sent", (await anon.ReceiveAsync()).GetProperty("type").GetString());

        await using var receiver = await server.ConnectAsync(b1);
        var message = await receiver.ReceiveAsync();
        Assert.Equal("sealed", Encoding.UTF8.GetString(message.GetProperty("body").GetBytesFromBase64()));
        Assert.True(message.GetProperty("sealed").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, message.GetProperty("from").ValueKind);
        await using var scope = server.Services.CreateAsyncScope();
        var row = await scope.ServiceProvider.GetRequiredService<VeilDbContext>().Set<ChatMailboxEntry>().SingleAsync(m => m.MessageId == id);
        Assert.Null(row.SenderAccountId);
        Assert.Null(row.SenderDeviceId);
    }

    // A send frame padded (with an ignored property) to exactly `size` bytes.
    private static byte[] PaddedSend(Guid to, ChatTestDevice device, int size)
    {
        var head = $"{{\"type\":\"send\",\"id\":\"{Guid.NewGuid()}\",\"to\":\"{to}\",\"messages\":[{{\"device\":{device.DeviceId},\"registrationId\":{device.RegistrationId},\"body\":\"AQID\"}}],\"pad\":\"";
        const string Tail = "\"}";
        return Encoding.UTF8.GetBytes(head + new string('x', size - head.Length - Tail.Length) + Tail);
    }
}
