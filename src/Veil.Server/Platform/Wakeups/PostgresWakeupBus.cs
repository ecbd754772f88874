// The PostgreSQL wake-up bus. Publishing is `SELECT pg_notify(channel, id)` on a small pool of its own;
// PostgreSQL delivers a notification to every listening session after the publishing transaction
// commits, so a node that is woken finds the rows. Listening is one dedicated connection per node,
// outside any pool (a killed listener must not come back as a pooled connection), that LISTENs on every
// handler's channel and waits. When it breaks (database restart, pg_terminate_backend, network) it
// reconnects: the first attempt at once, then with a doubling delay up to 30 s. After every successful
// LISTEN, including the first, each handler resyncs, because notifications sent while no session was
// listening are gone for good; the rows are not.
//
// A publish wakes this node's handlers at once; PostgreSQL then delivers the same notification to this
// node's listener too. So that a local send wakes its handlers once, not twice, every notification carries
// the publishing node's random id before the payload ("<node id>:<payload>"); the listener drops the ones
// this node sent. (The notifying backend's PID cannot tell: publishes go through their own pool, not the
// listening session.) A payload without a node id (an older node) is dispatched as it is.
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Platform.Wakeups;

internal sealed partial class PostgresWakeupBus : BackgroundService, IWakeupBus, IAsyncDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly IWakeupHandler[] _handlers;
    private readonly string _listenConnectionString;
    private readonly NpgsqlDataSource _publisher;
    private readonly TimeProvider _time;
    private readonly ILogger<PostgresWakeupBus> _logger;
    private readonly string _nodePrefix = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)) + ":";
    private int _listenerProcessId;
    private long _ownSkipped;

    public PostgresWakeupBus(string connectionString, IEnumerable<IWakeupHandler> handlers, TimeProvider time, ILogger<PostgresWakeupBus> logger)
    {
        _handlers = [.. handlers];
        foreach (var handler in _handlers)
        {
            WakeupChannel.Validate(handler.Channel);
        }

        _time = time;
        _logger = logger;
        var defaults = VeilDatabase.WithPoolDefaults(connectionString);

        // KeepAlive makes a silently dead listener (a dropped network path) fail instead of waiting forever.
        _listenConnectionString = new NpgsqlConnectionStringBuilder(defaults) { Pooling = false, KeepAlive = 15, ApplicationName = "veil-listen" }.ConnectionString;
        _publisher = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(defaults) { MaxPoolSize = 8, ApplicationName = "veil-notify" }.ConnectionString);
    }

    /// <summary>The backend process id of the current listening session, or 0 while disconnected (for diagnostics and tests).</summary>
    public int ListenerProcessId => Volatile.Read(ref _listenerProcessId);

    /// <summary>How many times the listener has (re)connected and issued LISTEN since start.</summary>
    public int ListenGeneration { get; private set; }

    /// <summary>How many notifications this node sent came back to its own listener and were dropped (tests, diagnostics).</summary>
    public long OwnNotificationsSkipped => Interlocked.Read(ref _ownSkipped);

    public async Task PublishAsync(string channel, string payload, CancellationToken cancellationToken)
    {
        WakeupChannel.Validate(channel, payload);

        // This node's handlers at once, without the round trip; the notification wakes them a second
        // time, which costs one empty read (handlers are idempotent: a wake-up means "look again").
        Dispatch(channel, payload);
        try
        {
            await using var command = _publisher.CreateCommand("SELECT pg_notify($1, $2)");
            command.Parameters.Add(new NpgsqlParameter { Value = channel });
            command.Parameters.Add(new NpgsqlParameter { Value = _nodePrefix + payload });
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The rows are committed; listeners catch up when they resync. The sender is not failed for it.
            LogPublishFailed(_logger, channel, e.GetType().Name);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_handlers.Length == 0)
        {
            return;
        }

        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_listenConnectionString);
                await connection.OpenAsync(stoppingToken).ConfigureAwait(false);
                connection.Notification += OnNotification;
                foreach (var channel in _handlers.Select(h => h.Channel).Distinct(StringComparer.Ordinal))
                {
                    // The channel is validated as an identifier; LISTEN takes no parameters.
                    await using var listen = new NpgsqlCommand($"LISTEN {channel}", connection);
                    await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                }

                Volatile.Write(ref _listenerProcessId, connection.ProcessID);
                ListenGeneration++;
                LogListening(_logger, failures);
                failures = 0;
                Resync();
                while (true)
                {
                    await connection.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
            {
                Volatile.Write(ref _listenerProcessId, 0);
                failures++;
                LogListenerLost(_logger, failures, e.GetType().Name);
            }

            if (failures > 1)
            {
                var backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, FirstBackoff.Ticks << Math.Min(failures - 2, 10)));
                try
                {
                    await Task.Delay(backoff, _time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public override void Dispose()
    {
        _publisher.Dispose();
        base.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _publisher.DisposeAsync().ConfigureAwait(false);
        base.Dispose();
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (e.Payload.StartsWith(_nodePrefix, StringComparison.Ordinal))
        {
            // Sent by this node: its handlers were woken at publish time already.
            Interlocked.Increment(ref _ownSkipped);
            return;
        }

        var separator = e.Payload.IndexOf(':', StringComparison.Ordinal);
        var fromNode = separator == NodeIdLength && e.Payload.AsSpan(0, NodeIdLength).IndexOfAnyExcept(HexDigits) < 0;
        Dispatch(e.Channel, fromNode ? e.Payload[(separator + 1)..] : e.Payload);
    }

    private const int NodeIdLength = 16;
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    private void Dispatch(string channel, string payload)
    {
        foreach (var handler in _handlers)
        {
            if (handler.Channel == channel)
            {
                handler.OnWakeup(payload);
            }
        }
    }

    private void Resync()
    {
        foreach (var handler in _handlers)
        {
            handler.OnResync();
        }
    }

    [LoggerMessage(EventId = 1900, Level = LogLevel.Information, Message = "Wake-up listener connected after {Failures} failed attempts")]
    private static partial void LogListening(ILogger logger, int failures);

    [LoggerMessage(EventId = 1901, Level = LogLevel.Warning, Message = "Wake-up listener lost its connection ({Failures} in a row, {ExceptionType}); reconnecting")]
    private static partial void LogListenerLost(ILogger logger, int failures, string exceptionType);

    [LoggerMessage(EventId = 1902, Level = LogLevel.Warning, Message = "Wake-up on channel {Channel} not published ({ExceptionType}); the row is stored, a device on another node gets it on its next wake-up or reconnect")]
    private static partial void LogPublishFailed(ILogger logger, string channel, string exceptionType);
}
