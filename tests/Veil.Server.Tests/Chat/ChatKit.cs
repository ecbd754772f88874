// Intent helpers for Chat relay tests: users, devices with real Veil.Crypto chat keys registered over
// HTTP, and sockets on the real Kestrel listener (ClientWebSocket), exactly as a client would use them.
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Veil.Crypto.Chat;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Chat;

public sealed record ChatUser(TestUser User, ChatAccountKey AccountKey)
{
    public Guid Id => User.AccountId;

    public string Token => User.AccessToken;
}

public sealed record ChatTestDevice(ChatUser Owner, int DeviceId, int RegistrationId);

public static class ChatKit
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A chat server; with <paramref name="nodeOf"/>, a second node of that server (same database, keys and clock).</summary>
    public static Task<VeilTestServer> StartChatServerAsync(VeilTestServer? nodeOf = null, Action<VeilTestServerOptions>? configure = null) =>
        IdentityKit.StartIdentityServerAsync(options =>
        {
            options.Settings["Veil:RateLimits:ip:PermitLimit"] = "100000";
            options.NodeOf = nodeOf;
            configure?.Invoke(options);
        });

    public static async Task<ChatUser> NewChatUserAsync(this VeilTestServer server) =>
        new(await server.RegisterUserAsync(), ChatAccountKey.Generate());

    /// <summary>The registration body for a new device certified by <paramref name="accountKey"/> (or a forged one).</summary>
    public static object DeviceBody(ChatAccountKey accountKey, int deviceId, int registrationId, int oneTimeKeys = 5, long firstKeyId = 1, ChatAccountKey? certifiedBy = null)
    {
        using var device = ChatDeviceKeys.Generate();
        var certificate = (certifiedBy ?? accountKey).Certify((uint)deviceId, device);
        using var signed = device.CreateSignedPreKey(1);
        return new
        {
            accountKey = accountKey.PublicKey.Bytes.ToArray(),
            deviceId,
            registrationId,
            signingKey = device.SigningKey.PublicKey.Bytes.ToArray(),
            identityKey = ChatPublicKey.Serialize(device.IdentityKey.PublicKey),
            certificate = certificate.Signature,
            signedPreKey = new { id = 1, publicKey = ChatPublicKey.Serialize(signed.Key.PublicKey), signature = signed.Signature },
            oneTimePreKeys = OneTimeKeys(oneTimeKeys, firstKeyId),
        };
    }

    public static object[] OneTimeKeys(int count, long firstKeyId = 1) =>
        [.. Enumerable.Range(0, count).Select(i =>
        {
            using var key = Veil.Crypto.Primitives.X25519PrivateKey.Generate();
            return (object)new { id = firstKeyId + i, publicKey = ChatPublicKey.Serialize(key.PublicKey) };
        })];

    public static async Task<ChatTestDevice> AddDeviceAsync(this VeilTestServer server, ChatUser user, int deviceId, int oneTimeKeys = 5)
    {
        var registrationId = RandomNumberGenerator.GetInt32(1, 16380);
        using var response = await server.PostAsync("/api/v1/chat/devices", DeviceBody(user.AccountKey, deviceId, registrationId, oneTimeKeys), user.Token);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"register device: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return new ChatTestDevice(user, deviceId, registrationId);
    }

    /// <summary>Two chat users, Alice and Bob, with one device each.</summary>
    public static async Task<(ChatUser Alice, ChatUser Bob, ChatTestDevice AliceDevice, ChatTestDevice BobDevice)> PairAsync(this VeilTestServer server)
    {
        var alice = await server.NewChatUserAsync();
        var bob = await server.NewChatUserAsync();
        return (alice, bob, await server.AddDeviceAsync(alice, 1), await server.AddDeviceAsync(bob, 1));
    }

    public static async Task<int[]> DeviceIdsAsync(this VeilTestServer server, ChatUser user)
    {
        using var response = await server.SendAsync(HttpMethod.Get, "/api/v1/chat/devices", bearer: user.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return [.. json.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("deviceId").GetInt32())];
    }

    public static Task<ChatSocket> ConnectAsync(this VeilTestServer server, ChatTestDevice device, bool expectReady = true) =>
        ConnectAsync(server.BaseAddress, device, expectReady);

    /// <summary>Connects through <paramref name="baseAddress"/>: a node, or a load balancer in front of several.</summary>
    public static async Task<ChatSocket> ConnectAsync(Uri baseAddress, ChatTestDevice device, bool expectReady = true)
    {
        var socket = await ChatSocket.OpenAsync(baseAddress, "/chat/ws");
        await socket.SendAsync(new { type = "auth", token = device.Owner.Token, device = device.DeviceId });
        if (expectReady)
        {
            Assert.Equal("ready", (await socket.ReceiveAsync()).GetProperty("type").GetString());
        }

        return socket;
    }

    /// <summary>A send frame to every device in <paramref name="to"/>, each with a distinct body naming the device.</summary>
    public static object SendFrame(Guid messageId, Guid toAccount, IEnumerable<ChatTestDevice> to, string text) => new
    {
        type = "send",
        id = messageId,
        to = toAccount,
        messages = to.Select(d => new { device = d.DeviceId, registrationId = d.RegistrationId, body = Encoding.UTF8.GetBytes($"{text}@{d.DeviceId}") }).ToArray(),
    };

    /// <summary>Sends a frame and reads until its answer (sent or error), skipping messages pushed to this device meanwhile.</summary>
    public static async Task<JsonElement> SendAndAnswerAsync(this ChatSocket socket, object frame)
    {
        await socket.SendAsync(frame);
        while (true)
        {
            var answer = await socket.ReceiveAsync();
            if (answer.GetProperty("type").GetString() != "msg")
            {
                return answer;
            }
        }
    }

    public static string BodyText(JsonElement message) => Encoding.UTF8.GetString(message.GetProperty("body").GetBytesFromBase64());
}

/// <summary>A client socket: JSON frames in and out, each receive bounded by a timeout so a missing frame fails the test.</summary>
public sealed class ChatSocket : IAsyncDisposable
{
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(15);
    private readonly ClientWebSocket _socket = new();

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static Task<ChatSocket> OpenAsync(VeilTestServer server, string path) => OpenAsync(server.BaseAddress, path);

    public static async Task<ChatSocket> OpenAsync(Uri baseAddress, string path)
    {
        var socket = new ChatSocket();
        var uri = new UriBuilder(baseAddress) { Scheme = "ws", Path = path }.Uri;
        await socket._socket.ConnectAsync(uri, CancellationToken.None);
        return socket;
    }

    public Task SendAsync(object frame) => SendRawAsync(JsonSerializer.SerializeToUtf8Bytes(frame, ChatKit.Json));

    public async Task SendRawAsync(byte[] bytes) =>
        await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    /// <summary>The next JSON frame; fails if the socket closes or nothing arrives in time.</summary>
    public async Task<JsonElement> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        var (type, bytes) = await ReceiveMessageAsync(cancellationToken);
        Assert.True(type == WebSocketMessageType.Text, $"expected a frame, got close {_socket.CloseStatus} {_socket.CloseStatusDescription}");
        return JsonDocument.Parse(bytes).RootElement.Clone();
    }

    /// <summary>The next JSON frame, or null when the server closed the socket.</summary>
    public async Task<JsonElement?> ReceiveOrCloseAsync(CancellationToken cancellationToken)
    {
        var (type, bytes) = await ReceiveMessageAsync(cancellationToken);
        return type == WebSocketMessageType.Close ? null : JsonDocument.Parse(bytes).RootElement.Clone();
    }

    /// <summary>Reads (and returns) frames until the server's close arrives; returns its status.</summary>
    public async Task<(WebSocketCloseStatus? Status, List<JsonElement> Frames)> ReceiveCloseAsync()
    {
        var frames = new List<JsonElement>();
        while (true)
        {
            var (type, bytes) = await ReceiveMessageAsync(CancellationToken.None);
            if (type == WebSocketMessageType.Close)
            {
                return (_socket.CloseStatus, frames);
            }

            frames.Add(JsonDocument.Parse(bytes).RootElement.Clone());
        }
    }

    private async Task<(WebSocketMessageType Type, byte[] Bytes)> ReceiveMessageAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReceiveTimeout);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        while (true)
        {
            var result = await _socket.ReceiveAsync(chunk, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (WebSocketMessageType.Close, []);
            }

            buffer.Write(chunk, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, buffer.ToArray());
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // already gone
            }
        }

        _socket.Dispose();
    }
}
