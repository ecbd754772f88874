// One open socket. Sends are serialised (a WebSocket allows one writer at a time), and a close is
// sent once; the receive loop then gives the peer a short grace to answer before the socket aborts.
using System.Net.WebSockets;
using System.Text.Json;

namespace Veil.Server.Chat;

internal sealed class ChatConnection(WebSocket socket) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _closed = new();
    private int _closing;

    public Guid AccountId { get; set; }

    public int DeviceId { get; set; }

    public WebSocket Socket => socket;

    /// <summary>Cancelled a grace period after the server sent its close frame (or when the socket ends).</summary>
    public CancellationToken Closed => _closed.Token;

    public bool IsClosing => Volatile.Read(ref _closing) == 1;

    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another waker got there first: one pending wake-up is enough.
            }
            catch (ObjectDisposedException)
            {
                // The socket ended between the lookup and the wake-up: nothing left to deliver to.
            }
        }
    }

    public Task WaitForWakeAsync(CancellationToken cancellationToken) => _wake.WaitAsync(cancellationToken);

    public async Task SendAsync<T>(T frame)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(frame, Json);
        await _sendLock.WaitAsync(_closed.Token);
        try
        {
            if (!IsClosing && socket.State == WebSocketState.Open)
            {
                await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, _closed.Token);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async Task CloseAsync(int code, string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) == 1)
        {
            return;
        }

        await _sendLock.WaitAsync(CancellationToken.None);
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(CloseGrace);
                await socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The peer is already gone: nothing left to tell it.
        }
        finally
        {
            _sendLock.Release();
            _closed.CancelAfter(CloseGrace);
        }
    }

    public void Dispose()
    {
        _closed.Cancel();
        _closed.Dispose();
        _sendLock.Dispose();
        _wake.Dispose();
    }
}
