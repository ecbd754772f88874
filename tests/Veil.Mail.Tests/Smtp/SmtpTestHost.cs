using System.Net;
using System.Net.Sockets;
using System.Text;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;

namespace Veil.Mail.Tests.Smtp;

/// <summary>A live engine on a loopback port over a fresh spool directory.</summary>
internal sealed class SmtpTestHost : IAsyncDisposable
{
    public const string Known = "alias@veil.test";
    private readonly SmtpListener _listener;

    private SmtpTestHost(string dataDir, SmtpServerOptions options, Microsoft.Extensions.Logging.ILogger? logger)
    {
        DataDir = dataDir;
        Spool = new FileSpool(dataDir, logger);
        Server = new SmtpServer(options, new TestResolver(), Spool, TimeProvider.System, logger);
        _listener = Server.Listen(new IPEndPoint(IPAddress.Loopback, 0));
    }

    public string DataDir { get; }
    public FileSpool Spool { get; }
    public SmtpServer Server { get; }
    public int Port => _listener.LocalEndPoint.Port;

    public static SmtpTestHost Start(Action<SmtpServerOptions>? configure = null, string? dataDir = null, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        var options = new SmtpServerOptions { ServerName = "mx.veil.test" };
        configure?.Invoke(options);
        return new SmtpTestHost(dataDir ?? NewTempDir(), options, logger);
    }

    public static string NewTempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "veil-smtp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public async Task<byte[]> SingleSpooledBytesAsync()
    {
        var pending = await Spool.PendingAsync(CancellationToken.None);
        Assert.Single(pending);
        await using var s = Spool.OpenContent(pending[0].Id);
        using var ms = new MemoryStream();
        await s.CopyToAsync(ms);
        return ms.ToArray();
    }

    public async Task<SmtpTestClient> ConnectAsync()
    {
        var client = new SmtpTestClient();
        await client.ConnectAsync(Port);
        return client;
    }

    /// <summary>Connects from <paramref name="source"/> (any 127.0.0.0/8 address: one simulated client host each).</summary>
    public async Task<SmtpTestClient> ConnectFromAsync(IPAddress source)
    {
        var client = new SmtpTestClient(source);
        await client.ConnectAsync(Port);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync();
        try { Directory.Delete(DataDir, recursive: true); }
        catch (IOException) { /* best effort cleanup of a temp dir */ }
    }

    private sealed class TestResolver : IRecipientResolver
    {
        public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken) =>
            address.StartsWith("broken", StringComparison.OrdinalIgnoreCase)
                ? throw new InvalidOperationException("the lookup's database is down (" + address + ")")
                : ValueTask.FromResult(address.StartsWith("unknown", StringComparison.OrdinalIgnoreCase)
                ? RecipientDecision.Unknown
                : RecipientDecision.Accept);
    }
}

/// <summary>A raw SMTP client over a socket, reading whole (multi-line) replies, with generous timeouts.</summary>
internal sealed class SmtpTestClient : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TcpClient _tcp;

    public SmtpTestClient(IPAddress? source = null)
    {
        _tcp = source is null ? new TcpClient() : new TcpClient(new IPEndPoint(source, 0));
    }
    private NetworkStream _stream = null!;
    private readonly List<byte> _pending = [];

    public async Task ConnectAsync(int port)
    {
        await _tcp.ConnectAsync(IPAddress.Loopback, port);
        _stream = _tcp.GetStream();
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        using var cts = new CancellationTokenSource(Generous);
        await _stream.WriteAsync(bytes, cts.Token);
    }

    /// <summary>Reads one complete reply; returns its lines joined by '\n', or null at end of stream.</summary>
    public async Task<string?> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync();
            if (line is null) return lines.Count == 0 ? null : string.Join('\n', lines);
            lines.Add(line);
            if (line.Length < 4 || line[3] != '-') return string.Join('\n', lines);
        }
    }

    public async Task<string> CommandAsync(string command)
    {
        await SendAsync(command + "\r\n");
        return await ReadReplyAsync() ?? "<closed>";
    }

    private async Task<string?> ReadLineAsync()
    {
        using var cts = new CancellationTokenSource(Generous);
        var buffer = new byte[1];
        while (true)
        {
            int lf = _pending.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var line = Encoding.UTF8.GetString(_pending.GetRange(0, lf).ToArray()).TrimEnd('\r');
                _pending.RemoveRange(0, lf + 1);
                return line;
            }
            int n;
            try { n = await _stream.ReadAsync(buffer, cts.Token); }
            catch (IOException) { return null; }
            if (n == 0) return null;
            _pending.Add(buffer[0]);
        }
    }

    public void Dispose() => _tcp.Dispose();
}
