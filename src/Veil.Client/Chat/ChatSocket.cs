// One WebSocket to the relay (spec/chat-api.md, Socket /chat/ws): JSON text frames in and out, the auth frame
// first. Frames larger than the relay's 16,384-byte limit are never sent (the caller bounds message sizes).
using System.Net.WebSockets;
using System.Text.Json;

namespace Veil.Client.Chat;

internal sealed class ChatSocket : IAsyncDisposable
{
    public const int CloseUnauthorized = 4401;
    public const int CloseDeviceRemoved = 4404;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ClientWebSocket _socket = new();

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>Connects to <c>/chat/ws</c> beside <paramref name="server"/> and authenticates as <paramref name="deviceId"/>.</summary>
    public static async Task<ChatSocket> ConnectAsync(Uri server, string accessToken, int deviceId, CancellationToken cancellationToken)
    {
        var socket = new ChatSocket();
        var builder = new UriBuilder(new Uri(server, "chat/ws")) { Scheme = server.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" };
        try
        {
            await socket._socket.ConnectAsync(builder.Uri, cancellationToken).ConfigureAwait(false);
            await socket.SendAsync(new { type = "auth", token = accessToken, device = deviceId }, cancellationToken).ConfigureAwait(false);
            var ready = await socket.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            if (ready is not { } frame || TypeOf(frame) != "ready")
            {
                var status = (int?)socket.CloseStatus;
                throw status == CloseDeviceRemoved
                    ? new ChatException("this machine's chat device was removed from the account (see 'veil chat device list')")
                    : new ChatException($"the relay refused this device's connection{(status is null ? string.Empty : $" (close {status})")}");
            }

            return socket;
        }
        catch (WebSocketException e)
        {
            await socket.DisposeAsync().ConfigureAwait(false);
            throw new VeilApiException(0, VeilApiException.NetworkCode, ServerUnreachable.Message(server), e.WebSocketErrorCode.ToString(), inner: e);
        }
        catch
        {
            await socket.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Connects to <c>/chat/ws/anon</c>, the sealed-sender socket: no auth frame and no credential, so nothing on it names
    /// the sender (each send carries the recipient's access key instead).
    /// </summary>
    public static async Task<ChatSocket> ConnectAnonymousAsync(Uri server, CancellationToken cancellationToken)
    {
        var socket = new ChatSocket();
        var builder = new UriBuilder(new Uri(server, "chat/ws/anon")) { Scheme = server.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" };
        try
        {
            await socket._socket.ConnectAsync(builder.Uri, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (WebSocketException e)
        {
            await socket.DisposeAsync().ConfigureAwait(false);
            throw new VeilApiException(0, VeilApiException.NetworkCode, ServerUnreachable.Message(server), e.WebSocketErrorCode.ToString(), inner: e);
        }
    }

    public static string? TypeOf(JsonElement frame) =>
        frame.ValueKind == JsonValueKind.Object && frame.TryGetProperty("type", out var type) ? type.GetString() : null;

    public async Task SendAsync(object frame, CancellationToken cancellationToken) =>
        await _socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(frame, Json), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);

    /// <summary>The next frame, or null when the relay closed the socket.</summary>
    public async Task<JsonElement?> ReceiveAsync(CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        while (true)
        {
            var result = await _socket.ReceiveAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            buffer.Write(chunk, 0, result.Count);
            if (result.EndOfMessage)
            {
                try
                {
                    using var document = JsonDocument.Parse(buffer.ToArray());
                    return document.RootElement.Clone();
                }
                catch (JsonException e)
                {
                    throw new VeilApiException(0, VeilApiException.ProtocolCode, "The relay sent a frame that is not JSON", inner: e);
                }
            }
        }
    }

    /// <summary>Sends <paramref name="frame"/> and returns the first answer that is not a pushed message (those stay unacked and come again).</summary>
    public async Task<JsonElement> SendAndAnswerAsync(object frame, CancellationToken cancellationToken)
    {
        await SendAsync(frame, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var answer = await ReceiveAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new ChatException($"the relay closed the connection (close {(int?)CloseStatus})");
            if (TypeOf(answer) is not "msg" and not "acked")
            {
                return answer;
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
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The relay is gone already; nothing is lost (unacked rows stay in the mailbox).
            }
        }

        _socket.Dispose();
    }
}
