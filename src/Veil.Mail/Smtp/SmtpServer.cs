using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Veil.Mail.Spool;

namespace Veil.Mail.Smtp;

/// <summary>
/// The SMTP server engine (RFC 5321 with SIZE, 8BITMIME, PIPELINING, SMTPUTF8, ENHANCEDSTATUSCODES
/// and STARTTLS). It knows no module: recipients are decided by an <see cref="IRecipientResolver"/>,
/// accepted messages go durably into an <see cref="ISpool"/> before the client hears <c>250</c>.
/// </summary>
/// <remarks>
/// Two ways to host it: <see cref="Listen"/> runs its own accept loop on a socket; or a host that owns
/// the sockets (a Kestrel connection handler) calls <see cref="HandleConnectionAsync"/> per
/// connection with its stream. Connection caps apply in both, since they live here.
/// </remarks>
public sealed class SmtpServer
{
    private readonly SmtpServerOptions _options;
    private readonly IRecipientResolver _resolver;
    private readonly ISpool _spool;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _sessionIds;
    private readonly Dictionary<IPAddress, int> _perIp = [];
    private readonly Lock _gate = new();
    private int _connections;
    private readonly HashSet<SmtpSession> _sessions = [];
    private bool _underPressure;

    /// <summary>Creates the engine; <paramref name="options"/> are validated here.</summary>
    /// <param name="options">Limits and identity.</param>
    /// <param name="resolver">Decides recipients.</param>
    /// <param name="spool">Where accepted messages go before 250.</param>
    /// <param name="time">Clock for timeouts.</param>
    /// <param name="logger">
    /// Session, reject and spool events (never addresses or content; the client address only through
    /// <see cref="SmtpServerOptions.RedactAddress"/>); none when null.
    /// </param>
    public SmtpServer(SmtpServerOptions options, IRecipientResolver resolver, ISpool spool, TimeProvider time, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(spool);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        _options = options;
        _resolver = resolver;
        _spool = spool;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Connections currently being served.</summary>
    public int ActiveConnections => Volatile.Read(ref _connections);

    /// <summary>
    /// Serves one SMTP session on <paramref name="stream"/> until the client quits, the connection
    /// drops, a timeout fires, or <paramref name="cancellationToken"/> is cancelled (answered
    /// <c>421 4.3.2</c>). Network failures end the session quietly; the stream is disposed.
    /// </summary>
    /// <param name="stream">The connection; STARTTLS wraps it in an <see cref="System.Net.Security.SslStream"/>.</param>
    /// <param name="remoteAddress">The client address, for the per-IP cap; <see langword="null"/> if unknown.</param>
    /// <param name="cancellationToken">Host shutdown.</param>
    public async Task HandleConnectionAsync(Stream stream, IPAddress? remoteAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        await using (stream.ConfigureAwait(false))
        {
            var remote = _logger.IsEnabled(LogLevel.Debug) || _logger.IsEnabled(LogLevel.Information) ? RemoteText(remoteAddress) : "-";
            if (!TryEnter(remoteAddress, out var refusal))
            {
                MailEngineLog.ConnectionRefused(_logger, remote, refusal);
                await RefuseAsync(stream).ConfigureAwait(false);
                return;
            }
            try
            {
                using var session = new SmtpSession(stream, _options, _resolver, _spool, _time, _logger, Interlocked.Increment(ref _sessionIds), remote, remoteAddress, CommandTimeout);
                Register(session);
                try
                {
                    await session.RunAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    lock (_gate) _sessions.Remove(session);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // The client went away mid-session: nothing to answer, nothing was acknowledged.
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Host shutdown.
            }
            catch (Exception e)
            {
                // A defect, not the client's doing: the session is over (nothing unacknowledged was promised), and the
                // operator must see it rather than an unobserved task. Exception messages may quote input: withheld.
                MailEngineLog.SessionFailed(_logger, remote, e.GetType().FullName ?? e.GetType().Name, e.StackTrace);
            }
            finally
            {
                Leave(remoteAddress);
            }
        }
    }

    /// <summary>Binds <paramref name="endPoint"/> (port 0 picks a free one) and starts accepting connections.</summary>
    public SmtpListener Listen(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endPoint);
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new SmtpListener(this, socket);
    }

    /// <summary>The client address as the host's redactor shows it; never the address itself.</summary>
    private string RemoteText(IPAddress? ip) => ip is null ? "unknown" : _options.RedactAddress?.Invoke(ip) ?? "(not logged)";

    /// <summary>Whether so many connections are open that idle sessions get the shorter command timeout.</summary>
    private bool UnderPressure() => (long)Volatile.Read(ref _connections) * 100 >= (long)_options.MaxConnections * _options.PressurePercent;

    private TimeSpan CommandTimeout() =>
        UnderPressure() && _options.PressureCommandTimeout < _options.CommandTimeout ? _options.PressureCommandTimeout : _options.CommandTimeout;

    /// <summary>Adds a session; when this one brings the pressure on, every session idle between commands is tightened.</summary>
    private void Register(SmtpSession session)
    {
        SmtpSession[]? tighten = null;
        lock (_gate)
        {
            _sessions.Add(session);
            var pressure = UnderPressure();
            if (pressure && !_underPressure && _options.PressureCommandTimeout < _options.CommandTimeout)
            {
                tighten = [.. _sessions];
            }

            _underPressure = pressure;
        }

        if (tighten is not null)
        {
            MailEngineLog.UnderPressure(_logger, tighten.Length);
            foreach (var open in tighten)
            {
                open.Tighten(_options.PressureCommandTimeout);
            }
        }
    }

    private bool TryEnter(IPAddress? ip, out string refusal)
    {
        lock (_gate)
        {
            refusal = "";
            if (_connections >= _options.MaxConnections)
            {
                refusal = "connection limit";
                return false;
            }

            if (ip is not null)
            {
                _perIp.TryGetValue(ip, out int n);
                if (n >= _options.MaxConnectionsPerIp)
                {
                    refusal = "per-address connection limit";
                    return false;
                }

                // The last slots are kept for addresses with no connection yet: holding many connections from a few
                // addresses fills at most the rest, and it is those addresses that hear 421, not everyone else.
                var reserved = _options.MaxConnections * _options.ReservedConnectionsPercent / 100;
                if (n > 0 && _options.MaxConnections - _connections <= reserved)
                {
                    refusal = "slots reserved for other addresses";
                    return false;
                }

                _perIp[ip] = n + 1;
            }
            _connections++;
            return true;
        }
    }

    private void Leave(IPAddress? ip)
    {
        lock (_gate)
        {
            _connections--;
            _underPressure = UnderPressure();
            if (ip is null) return;
            if (_perIp.TryGetValue(ip, out int n) && n > 1) _perIp[ip] = n - 1;
            else _perIp.Remove(ip);
        }
    }

    private async Task RefuseAsync(Stream stream)
    {
        using var timer = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
        try
        {
            await stream.WriteAsync("421 4.7.0 Too many connections, try again later\r\n"u8.ToArray(), timer.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The refused client is already gone.
        }
    }
}

/// <summary>The engine's own accept loop on a bound socket; dispose to stop it and end all sessions.</summary>
public sealed class SmtpListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly HashSet<Task> _sessions = [];
    private readonly Lock _lock = new();

    internal SmtpListener(SmtpServer server, Socket socket)
    {
        _socket = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _loop = AcceptLoopAsync(server);
    }

    /// <summary>The bound address and port.</summary>
    public IPEndPoint LocalEndPoint { get; }

    private async Task AcceptLoopAsync(SmtpServer server)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { break; }
            catch (ObjectDisposedException) { break; }
            catch (SocketException) { continue; } // a connection reset before accept completed
            // Replies are small writes answering small writes: without NoDelay, Nagle holds a reply back until the
            // client's delayed ACK of the previous one (tens of milliseconds per pipelined transaction).
            client.NoDelay = true;
            var remote = (client.RemoteEndPoint as IPEndPoint)?.Address;
            var task = Task.Run(() => server.HandleConnectionAsync(new NetworkStream(client, ownsSocket: true), remote, _stop.Token));
            lock (_lock) _sessions.Add(task);
            _ = task.ContinueWith(t => { lock (_lock) _sessions.Remove(t); }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Stops accepting, tells open sessions <c>421</c>, and waits for them to end.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _loop.ConfigureAwait(false);
        Task[] open;
        lock (_lock) open = [.. _sessions];
        await Task.WhenAll(open).ConfigureAwait(false);
        _stop.Dispose();
    }
}
