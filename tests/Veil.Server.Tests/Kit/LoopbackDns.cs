// A real DNS server on loopback for tests: Debian's dnsmasq (installed by test.sh), authoritative for the zones a test
// names and for nothing else (no upstream, no /etc/hosts, no negative cache). A test writes records with the intent
// helpers, then ApplyAsync rewrites the configuration and restarts dnsmasq (it does not reload TXT/MX records on
// SIGHUP) and waits until the new generation answers — on a condition, never a sleep.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Veil.Mail.Dns;

namespace Veil.Server.Tests.Kit;

public sealed class LoopbackDns : IAsyncDisposable
{
    private const string Binary = "/usr/sbin/dnsmasq";
    private readonly string _directory;
    private readonly string[] _zones;
    private readonly List<string> _records = [];
    private Process? _process;
    private int _generation;

    private LoopbackDns(string directory, string[] zones, int port)
    {
        _directory = directory;
        _zones = zones;
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
    }

    /// <summary>Where the server answers (UDP and TCP).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The value for <c>Veil:Dns:Servers</c>.</summary>
    public string Servers => $"127.0.0.1:{EndPoint.Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Starts dnsmasq authoritative for <paramref name="zones"/>, with no records yet.</summary>
    public static async Task<LoopbackDns> StartAsync(params string[] zones)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: run scripts/ensure-packages.sh dnsmasq-base:/usr/sbin/dnsmasq (test.sh does)");
        }

        var directory = Directory.CreateTempSubdirectory("veil-dns-").FullName;
        var dns = new LoopbackDns(directory, zones, FreePort());
        await dns.ApplyAsync();
        return dns;
    }

    /// <summary>A TXT record; texts longer than 255 bytes are split into several character-strings, as DNS requires.</summary>
    public LoopbackDns Txt(string name, string text)
    {
        var chunks = text.Chunk(255).Select(c => "\"" + new string(c) + "\"");
        _records.Add($"txt-record={name},{string.Join(',', chunks)}");
        return this;
    }

    public LoopbackDns Mx(string domain, string host, int preference = 10)
    {
        _records.Add($"mx-host={domain},{host},{preference.ToString(CultureInfo.InvariantCulture)}");
        return this;
    }

    public LoopbackDns Address(string host, IPAddress address)
    {
        _records.Add($"host-record={host},{address}");
        return this;
    }

    /// <summary>
    /// Publishes the records of a custom domain exactly as Veil lists them (the <c>records</c> array of the API's domain:
    /// <c>type</c>, <c>name</c>, <c>value</c>); call <see cref="ApplyAsync"/> after.
    /// </summary>
    public LoopbackDns PublishAsListed(JsonElement records)
    {
        foreach (var record in records.EnumerateArray())
        {
            var (name, value) = (record.GetProperty("name").GetString()!, record.GetProperty("value").GetString()!);
            _ = record.GetProperty("type").GetString() == "MX" ? Mx(name, value) : Txt(name, value);
        }

        return this;
    }

    /// <summary>Removes every record (the zones stay: names in them answer NXDOMAIN).</summary>
    public LoopbackDns Clear()
    {
        _records.Clear();
        return this;
    }

    /// <summary>Removes the records whose line contains <paramref name="fragment"/> (e.g. a record's owner name).</summary>
    public LoopbackDns Remove(string fragment)
    {
        _records.RemoveAll(r => r.Contains(fragment, StringComparison.OrdinalIgnoreCase));
        return this;
    }

    /// <summary>Writes the records and restarts dnsmasq; returns when the new records are served.</summary>
    public async Task ApplyAsync()
    {
        await StopAsync();
        _generation++;
        var probe = $"_generation.{_zones[0]}";
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"port={EndPoint.Port}")
            .AppendLine("listen-address=127.0.0.1")
            .AppendLine("bind-interfaces")
            .AppendLine("no-resolv")
            .AppendLine("no-hosts")
            .AppendLine("no-negcache")
            .AppendLine("cache-size=0");
        foreach (var zone in _zones)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"local=/{zone}/");
        }

        config.AppendLine(CultureInfo.InvariantCulture, $"txt-record={probe},\"{_generation}\"");
        foreach (var record in _records)
        {
            config.AppendLine(record);
        }

        var file = Path.Combine(_directory, "dnsmasq.conf");
        await File.WriteAllTextAsync(file, config.ToString());
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--keep-in-foreground");
        start.ArgumentList.Add("--conf-file=" + file);
        start.ArgumentList.Add("--pid-file=");
        if (Environment.UserName == "root")
        {
            start.ArgumentList.Add("--user=root"); // else dnsmasq drops to 'nobody', which may not read the temp directory
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("dnsmasq did not start");
        _ = _process.StandardOutput.ReadToEndAsync();
        var errors = _process.StandardError.ReadToEndAsync();

        // Ready when the probe answers with this generation (the old process is gone, so nothing else can answer it).
        var dns = new MailDns([EndPoint], TimeSpan.FromMilliseconds(200));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("dnsmasq exited: " + await errors);
            }

            var answer = await dns.TxtAsync(probe, deadline.Token);
            if (answer.Records.Contains(_generation.ToString(CultureInfo.InvariantCulture)))
            {
                return;
            }

            await Task.Yield();
        }
    }

    /// <summary>Stops dnsmasq and removes its directory; safe to call twice (a test may stop the server half-way).</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>A port free for both TCP and UDP on loopback at the time of asking.</summary>
    private static int FreePort()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var tcp = new TcpListener(IPAddress.Loopback, 0);
            tcp.Start();
            var port = ((IPEndPoint)tcp.LocalEndpoint).Port;
            try
            {
                using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }
}
