using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Veil.Mail.Dkim;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;

// Usage:
//   serve <dataDir> <port>       host the engine on 127.0.0.1:<port> with the durable FileSpool in <dataDir>;
//                                prints "READY <port>"; stops on SIGTERM or SIGINT, then prints "SPOOLED <n>".
//   count <dataDir>              prints the number of committed messages in <dataDir>/spool.
//   dkim [seconds]               DKIM signing of a 5 KiB message, RSA-2048 and Ed25519, median msgs/s.
var inv = CultureInfo.InvariantCulture;
switch (args.FirstOrDefault())
{
    case "serve":
        return await Serve(args[1], int.Parse(args[2], inv));
    case "count":
        Console.WriteLine(CountSpooled(args[1]).ToString(inv));
        return 0;
    case "dkim":
        Dkim(args.Length > 1 ? double.Parse(args[1], inv) : 2.0);
        return 0;
    default:
        Console.Error.WriteLine("usage: serve <dataDir> <port> | count <dataDir> | dkim [seconds]");
        return 2;
}

static int CountSpooled(string dataDir) => FileSpool.CountPending(dataDir);

static async Task<int> Serve(string dataDir, int port)
{
    var spool = new FileSpool(dataDir);
    var options = new SmtpServerOptions
    {
        ServerName = "bench.veil.test",
        MaxConnections = 1000,
        MaxConnectionsPerIp = 1000, // smtp-source opens all its sessions from 127.0.0.1
    };
    var server = new SmtpServer(options, new AcceptAll(), spool, TimeProvider.System);
    var listener = server.Listen(new IPEndPoint(IPAddress.Loopback, port));
    Console.WriteLine($"READY {listener.LocalEndPoint.Port}");
    var stop = new TaskCompletionSource();
    using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(
        System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.TrySetResult(); });
    using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(
        System.Runtime.InteropServices.PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.TrySetResult(); });
    await stop.Task;
    await listener.DisposeAsync();
    Console.WriteLine($"SPOOLED {CountSpooled(dataDir)}");
    return 0;
}

static void Dkim(double seconds)
{
    byte[] message = FiveKiBMessage();
    var time = TimeProvider.System;
    var opts = new DkimSignerOptions { Domain = "example.org", Selector = "bench" };
    using var rsa = DkimSigningKey.GenerateRsa2048();
    using var ed = DkimSigningKey.GenerateEd25519();
    // The primitive alone, to separate .NET's RSA from the signer's own work (parsing, canonicalization, hashing).
    using var rawRsa = System.Security.Cryptography.RSA.Create(2048);
    byte[] digest = System.Security.Cryptography.SHA256.HashData(message);
    Measure("raw .NET RSA-2048 SignHash (no DKIM)", seconds, () => rawRsa.SignHash(digest,
        System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1), message.Length);
    foreach (var (name, key) in new[] { ("rsa-sha256 (RSA-2048)", rsa), ("ed25519-sha256", ed) })
    {
        var signer = new DkimSigner(opts, key, time);
        Measure("DKIM " + name, seconds, () => signer.Sign(message), message.Length);
    }
}

static void Measure(string name, double seconds, Func<byte[]> op, int size)
{
    {
        for (int i = 0; i < 50; i++) op(); // warm-up
        var rates = new List<double>();
        for (int round = 0; round < 7; round++)
        {
            var sw = Stopwatch.StartNew();
            int n = 0;
            while (sw.Elapsed.TotalSeconds < seconds / 7) { op(); n++; }
            rates.Add(n / sw.Elapsed.TotalSeconds);
        }
        rates.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: median {rates[3]:F0}/s (min {rates[0]:F0}, max {rates[6]:F0}), {size}-byte message"));
    }
}

static byte[] FiveKiBMessage()
{
    var sb = new StringBuilder();
    sb.Append("From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: DKIM benchmark\r\n")
      .Append("Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench@example.org>\r\n")
      .Append("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    const string line = "The quick brown fox jumps over the lazy dog, again and again, 0123456789.\r\n";
    while (sb.Length + line.Length <= 5120) sb.Append(line);
    sb.Append(new string('x', 5120 - sb.Length - 2)).Append("\r\n");
    return Encoding.ASCII.GetBytes(sb.ToString());
}

internal sealed class AcceptAll : IRecipientResolver
{
    public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken) =>
        ValueTask.FromResult(RecipientDecision.Accept);
}
