// /chat/ws and /chat/ws/anon (spec/chat-api.md, Socket). Frames are JSON text messages of at most
// 16,384 bytes (larger: close 1009). A connection may send 30 frames a second; beyond that each
// frame is answered with a rate-limited error and dropped, and at 60 in one second the socket closes
// with 1008. /chat/ws starts with an auth frame carrying the 15-minute access token and a device id;
// an auth frame later renews it in band; when the token lapses unrenewed the socket closes with 4401.
// /chat/ws/anon takes sealed sends only, each gated by the recipient's 16-byte delivery access key:
// no credential names the sender, so the relay stores none (it does see the connection's IP).
using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Wakeups;

namespace Veil.Server.Chat;

internal sealed record ClientFrame(
    string? Type, string? Token, int? Device, Guid? Id, Guid? To, byte[]? AccessKey,
    IReadOnlyList<OutgoingMessage>? Messages, IReadOnlyList<Guid>? Ids);

internal sealed record ErrorFrame(string Type, string Code, Guid? Id = null, int? Status = null,
    IReadOnlyList<int>? Missing = null, IReadOnlyList<int>? Extra = null, IReadOnlyList<int>? Stale = null);

internal sealed record ReadyFrame(string Type, DateTimeOffset ExpiresAt);

internal sealed record SentFrame(string Type, Guid Id);

internal sealed record AckedFrame(string Type, int Count);

internal sealed class ChatRelay(IServiceScopeFactory scopes, ChatConnections connections, IWakeupBus wakeups, TimeProvider time, ILogger<ChatRelay> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan AuthTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ExpiryCheck = TimeSpan.FromMilliseconds(200);
    private const int SendAttempts = 3;

    public async Task HandleAsync(HttpContext http, bool anonymous)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        using var connection = new ChatConnection(socket);
        var session = new Session(connection);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, connection.Closed);
        Task? delivery = null;
        Task? watchdog = null;
        try
        {
            if (!anonymous)
            {
                using var authWindow = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                authWindow.CancelAfter(AuthTimeout);
                var first = await ReadFrameAsync(session, authWindow.Token);
                if (first?.Type != "auth" || !await AuthenticateAsync(session, first, stop.Token))
                {
                    await connection.CloseAsync(ChatCloseCodes.Unauthorized, "unauthorized");
                }
                else
                {
                    connections.Add(connection);
                    ChatLog.Connected(logger);
                    delivery = DeliverAsync(connection, stop.Token);
                    watchdog = WatchExpiryAsync(session, stop.Token);
                }
            }

            while (!connection.IsClosing)
            {
                var frame = await ReadFrameAsync(session, stop.Token);
                if (frame is null || connection.IsClosing)
                {
                    continue;
                }

                await HandleFrameAsync(session, frame, anonymous, stop.Token);
            }

            // Wait for the peer's close (or the grace to end) so our close frame reaches it intact.
            await DrainAsync(socket, stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // The peer went away or the close grace ended.
        }
        finally
        {
            connections.Remove(connection);
            await stop.CancelAsync();
            foreach (var task in new[] { delivery, watchdog })
            {
                if (task is not null)
                {
                    await task.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                }
            }
        }
    }

    private sealed class Session(ChatConnection connection)
    {
        public ChatConnection Connection => connection;

        public DateTimeOffset ExpiresAt { get; set; }

        public long Window { get; set; } = -1;

        public int FramesInWindow { get; set; }

        public byte[] Buffer { get; } = new byte[ChatLimits.MaxFrameBytes + 1];
    }

    // One complete message, or null when it was refused (rate limit, bad JSON) and answered already.
    private async Task<ClientFrame?> ReadFrameAsync(Session session, CancellationToken cancellationToken)
    {
        var socket = session.Connection.Socket;
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(session.Buffer.AsMemory(length), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await session.Connection.CloseAsync((int)WebSocketCloseStatus.NormalClosure, "bye");
                return null;
            }

            length += result.Count;
            if (length > ChatLimits.MaxFrameBytes)
            {
                await session.Connection.CloseAsync(ChatCloseCodes.TooBig, "frame-too-big");
                return null;
            }

            if (result.EndOfMessage)
            {
                break;
            }
        }

        var second = time.GetUtcNow().ToUnixTimeSeconds();
        if (second != session.Window)
        {
            session.Window = second;
            session.FramesInWindow = 0;
        }

        session.FramesInWindow++;
        if (session.FramesInWindow > ChatLimits.AbusiveFramesPerSecond)
        {
            ChatLog.ClosedForAbuse(logger);
            await session.Connection.CloseAsync(ChatCloseCodes.PolicyViolation, "rate-limited");
            return null;
        }

        if (session.FramesInWindow > ChatLimits.FramesPerSecond)
        {
            await session.Connection.SendAsync(new ErrorFrame("error", "rate-limited"));
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<ClientFrame>(session.Buffer.AsSpan(0, length), Json);
        }
        catch (JsonException)
        {
            await session.Connection.SendAsync(new ErrorFrame("error", "bad-frame"));
            return null;
        }
    }

    private async Task HandleFrameAsync(Session session, ClientFrame frame, bool anonymous, CancellationToken cancellationToken)
    {
        var connection = session.Connection;
        switch (frame.Type)
        {
            case "auth" when !anonymous:
                if (!await AuthenticateAsync(session, frame, cancellationToken))
                {
                    await connection.CloseAsync(ChatCloseCodes.Unauthorized, "unauthorized");
                }

                break;
            case "send" when frame.Id is { } id && frame.To is { } to && frame.Messages is { Count: > 0 } messages && messages.All(m => m.Body is { Length: > 0 }):
                if (anonymous && !await WithMailboxAsync(m => m.AccessKeyMatchesAsync(to, frame.AccessKey, cancellationToken)))
                {
                    await connection.SendAsync(new ErrorFrame("error", "unauthorized", id, 401));
                    break;
                }

                (Guid, int)? sender = anonymous ? null : (connection.AccountId, connection.DeviceId);
                var outcome = await StoreWithRetryAsync(sender, to, id, messages, cancellationToken);
                if (outcome.Status != 200)
                {
                    await connection.SendAsync(new ErrorFrame("error", outcome.Status == 409 ? "mismatched-devices" : "stale-devices", id, outcome.Status, outcome.Missing, outcome.Extra, outcome.Stale));
                    break;
                }

                // Ids only on the bus: the recipient's node reads the rows itself.
                foreach (var message in messages)
                {
                    await wakeups.PublishAsync(ChatConnections.WakeupChannel, ChatConnections.NewRowsPayload(to, message.Device), cancellationToken);
                }

                await connection.SendAsync(new SentFrame("sent", id));
                break;
            case "ack" when !anonymous && frame.Ids is { Count: > 0 } ids:
                var count = await WithMailboxAsync(m => m.AckAsync(connection.AccountId, connection.DeviceId, ids, cancellationToken));
                await connection.SendAsync(new AckedFrame("acked", count));
                break;
            default:
                await connection.SendAsync(new ErrorFrame("error", "bad-frame", frame.Id));
                break;
        }
    }

    private async Task<SendOutcome> StoreWithRetryAsync((Guid, int)? sender, Guid to, Guid id, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await WithMailboxAsync(m => m.StoreAsync(sender, to, id, messages, cancellationToken));
            }
            catch (DbUpdateException) when (attempt < SendAttempts)
            {
                // A concurrent send to the same device took the same sequence number (or the same
                // message id): the transaction rolled back; try again on fresh rows.
            }
        }
    }

    // The first frame, or an in-band renewal: a valid access token (not an API key) of the same account, for a device it has.
    private async Task<bool> AuthenticateAsync(Session session, ClientFrame frame, CancellationToken cancellationToken)
    {
        if (frame.Token is not { Length: > 0 } token || frame.Device is not { } device)
        {
            return false;
        }

        await using var scope = scopes.CreateAsyncScope();
        var request = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        request.Request.Headers.Authorization = "Bearer " + token;
        var principal = await scope.ServiceProvider.GetRequiredService<IRequestAuthenticator>().AuthenticateAsync(request, cancellationToken);
        if (principal is null || principal.IsApiKey())
        {
            return false;
        }

        var accountId = principal.UserId();
        var connection = session.Connection;
        if (connection.AccountId != Guid.Empty && (connection.AccountId != accountId || connection.DeviceId != device))
        {
            return false;
        }

        var mailbox = scope.ServiceProvider.GetRequiredService<ChatMailbox>();
        if (!await mailbox.DeviceExistsAsync(accountId, device, cancellationToken))
        {
            return false;
        }

        if (connection.AccountId == Guid.Empty)
        {
            await mailbox.TouchDeviceAsync(accountId, device, cancellationToken);
        }

        connection.AccountId = accountId;
        connection.DeviceId = device;
        session.ExpiresAt = new DateTimeOffset(new JsonWebToken(token).ValidTo, TimeSpan.Zero);
        await connection.SendAsync(new ReadyFrame("ready", session.ExpiresAt));
        return true;
    }

    private async Task WatchExpiryAsync(Session session, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(ExpiryCheck, time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            if (time.GetUtcNow() >= session.ExpiresAt)
            {
                await session.Connection.CloseAsync(ChatCloseCodes.Unauthorized, "token-expired");
                return;
            }
        }
    }

    // Sends every waiting message in sequence order, then waits for a wake-up. Delivered rows stay
    // until acked, so a socket that drops before the ack gets them again (at least once, in order).
    private async Task DeliverAsync(ChatConnection connection, CancellationToken cancellationToken)
    {
        var after = 0L;
        connection.Wake();
        while (!cancellationToken.IsCancellationRequested)
        {
            await connection.WaitForWakeAsync(cancellationToken);
            while (true)
            {
                var batch = await WithMailboxAsync(m => m.NextAsync(connection.AccountId, connection.DeviceId, after, cancellationToken));
                foreach (var message in batch)
                {
                    await connection.SendAsync(message);
                    after = message.Sequence;
                }

                if (batch.Count < ChatMailbox.DeliveryBatch)
                {
                    break;
                }
            }
        }
    }

    private async Task<T> WithMailboxAsync<T>(Func<ChatMailbox, Task<T>> action)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<ChatMailbox>());
    }

    private static async Task DrainAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            while (socket.State == WebSocketState.CloseSent)
            {
                await socket.ReceiveAsync(scratch.AsMemory(), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
