using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;

namespace Veil.Mail.Tests.Smtp;

/// <summary>
/// The client against an independent sink: Debian's python3-aiosmtpd, with a tiny handler that writes
/// each message's raw bytes to a file. Under CI=true a missing aiosmtpd fails.
/// </summary>
public sealed class SmtpDeliveryClientTests
{
    private const string Python = "/usr/bin/python3";

    private const string Handler = """
        import os, sys
        from aiosmtpd.controller import Controller
        port, out = int(sys.argv[1]), sys.argv[2]
        class Sink:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address.startswith("unknown"):
                    return "550 5.1.1 no such user"
                if address.startswith("busy"):
                    return "451 4.3.0 try again later"
                envelope.rcpt_tos.append(address)
                return "250 OK"
            async def handle_DATA(self, server, session, envelope):
                n = len(os.listdir(out))
                with open(os.path.join(out, "%d.eml" % n), "wb") as f:
                    f.write(envelope.original_content)
                with open(out + ".peers", "a") as f:
                    f.write("%d\n" % session.peer[1])
                return "250 2.0.0 OK"
        c = Controller(Sink(), hostname="127.0.0.1", port=port, enable_SMTPUTF8=True, decode_data=False)
        c.start()
        print("READY", flush=True)
        sys.stdin.read()
        c.stop()
        """;

    internal static bool Available()
    {
        bool present = File.Exists(Python) && Directory.Exists("/usr/lib/python3/dist-packages/aiosmtpd");
        if (!present)
            Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
                "python3-aiosmtpd is required under CI (apt-get install python3-aiosmtpd)");
        return present;
    }

    internal sealed class Sink : IDisposable
    {
        private readonly Process _process;
        private readonly string _script;
        public int Port { get; }
        public string OutDir { get; } = SmtpTestHost.NewTempDir();

        public Sink()
        {
            var script = _script = Path.Combine(OutDir, "..", Path.GetFileName(OutDir) + ".py");
            File.WriteAllText(script, Handler);
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }
            var psi = new ProcessStartInfo(Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            psi.ArgumentList.Add(OutDir);
            _process = Process.Start(psi)!;
            // Blocks until the sink prints READY or exits (then ReadLine returns null).
            if (_process.StandardOutput.ReadLine() != "READY")
                throw new InvalidOperationException("aiosmtpd did not start: " + _process.StandardError.ReadToEnd());
        }

        public string[] Files() => Directory.GetFiles(OutDir).Order(StringComparer.Ordinal).ToArray();

        /// <summary>The client port of the connection each accepted message came over, in arrival order.</summary>
        public string[] PeerPorts() => File.Exists(OutDir + ".peers") ? File.ReadAllLines(OutDir + ".peers") : [];

        public byte[] Single()
        {
            var files = Directory.GetFiles(OutDir);
            Assert.Single(files);
            return File.ReadAllBytes(files[0]);
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(30))) _process.Kill();
            _process.Dispose();
            File.Delete(_script);
            File.Delete(OutDir + ".peers");
            Directory.Delete(OutDir, recursive: true);
        }
    }

    private static SmtpEnvelope Envelope(params string[] to) => new("sender@veil.test", to, true, false, DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task Deliver_ToAiosmtpd_BytesReceivedEqualBytesSent()
    {
        if (!Available()) return;
        using var sink = new Sink();
        var message = Encoding.UTF8.GetBytes("From: a@veil.test\r\nSubject: Grüße\r\n\r\n.leading dot\r\n..two\r\n.\r\nmid.dot\r\n")
            .Concat(new byte[] { 0xE9, 0xFF, (byte)'\r', (byte)'\n' }).ToArray();
        var client = new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = sink.Port, Tls = SmtpTlsMode.None, HeloName = "veil.test" });

        var result = await client.DeliverAsync(Envelope("x@example.test"), new MemoryStream(message), CancellationToken.None);

        Assert.True(result.Success, result.Reply);
        Assert.Equal(message, sink.Single());
    }

    [Fact]
    public async Task Deliver_RejectedRecipient_IsReportedPermanent()
    {
        if (!Available()) return;
        using var sink = new Sink();
        var client = new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = sink.Port, Tls = SmtpTlsMode.None });

        var result = await client.DeliverAsync(Envelope("unknown@example.test"), new MemoryStream("Subject: x\r\n\r\nx\r\n"u8.ToArray()), CancellationToken.None);

        Assert.False(result.Success);
        Assert.True(result.Permanent, result.Reply);
        Assert.Equal("unknown@example.test", Assert.Single(result.RejectedRecipients).Key);
    }

    [Fact]
    public async Task Deliver_ToVeilsOwnEngine_OverStartTlsRequired_IsSpooledUnchanged()
    {
        using var cert = SwaksTests.SelfSignedCertificate();
        await using var host = SmtpTestHost.Start(o => o.Certificate = cert);
        var message = "Subject: loop\r\n\r\n.dot\r\nend"u8.ToArray(); // no final CRLF: the client adds one for the terminator
        var client = new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = host.Port, Tls = SmtpTlsMode.Required });

        var result = await client.DeliverAsync(Envelope(SmtpTestHost.Known), new MemoryStream(message), CancellationToken.None);

        // The self-signed certificate is not trusted, so the handshake fails: a temporary failure, never a clear-text send.
        Assert.False(result.Success);
        Assert.False(result.Permanent);
        Assert.Empty(await host.Spool.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Deliver_ToVeilsOwnEngine_InClear_IsSpooledWithFinalCrlf()
    {
        await using var host = SmtpTestHost.Start();
        var client = new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = host.Port, Tls = SmtpTlsMode.Opportunistic });

        var result = await client.DeliverAsync(Envelope(SmtpTestHost.Known), new MemoryStream("Subject: loop\r\n\r\n.dot\r\nend"u8.ToArray()), CancellationToken.None);

        Assert.True(result.Success, result.Reply);
        Assert.Equal("Subject: loop\r\n\r\n.dot\r\nend\r\n"u8.ToArray(), await host.SingleSpooledBytesAsync());
    }

    [Fact]
    public async Task Session_ThreeMessages_ShareOneConnection()
    {
        if (!Available()) return;
        using var sink = new Sink();
        var client = new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = sink.Port, Tls = SmtpTlsMode.None, HeloName = "veil.test" });

        var results = new List<SmtpDeliveryResult>();
        await using (var session = client.OpenSession())
        {
            for (var i = 0; i < 3; i++)
            {
                using var content = new MemoryStream(Encoding.ASCII.GetBytes($"Subject: {i}\r\n\r\nbody {i}\r\n"));
                results.Add(await session.DeliverAsync(Envelope("a@example.test"), content, CancellationToken.None));
            }
        }

        Assert.All(results, r => Assert.True(r.Success, r.Reply));
        Assert.Equal(3, sink.Files().Length);
        Assert.Single(sink.PeerPorts().Distinct());
    }

    [Fact]
    public async Task Session_AfterARefusedTransaction_ResetsAndDeliversTheNextMessageOnTheSameConnection()
    {
        if (!Available()) return;
        using var sink = new Sink();
        var client = new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = sink.Port, Tls = SmtpTlsMode.None, HeloName = "veil.test" });

        SmtpDeliveryResult refused, delivered;
        await using (var session = client.OpenSession())
        {
            using (var first = new MemoryStream("Subject: x\r\n\r\nx\r\n"u8.ToArray()))
                refused = await session.DeliverAsync(Envelope("unknown@example.test"), first, CancellationToken.None);
            using var second = new MemoryStream("Subject: y\r\n\r\ny\r\n"u8.ToArray());
            delivered = await session.DeliverAsync(Envelope("a@example.test"), second, CancellationToken.None);
        }

        Assert.True(refused.Permanent);
        Assert.True(delivered.Success, delivered.Reply);
        Assert.Equal("Subject: y\r\n\r\ny\r\n"u8.ToArray(), sink.Single());
    }

    [Fact]
    public async Task Session_MaxMessagesPerConnectionReached_OpensAFreshConnection()
    {
        if (!Available()) return;
        using var sink = new Sink();
        var client = new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = sink.Port, Tls = SmtpTlsMode.None, HeloName = "veil.test", MaxMessagesPerConnection = 2 });

        await using (var session = client.OpenSession())
        {
            for (var i = 0; i < 4; i++)
            {
                using var content = new MemoryStream(Encoding.ASCII.GetBytes($"Subject: {i}\r\n\r\n{i}\r\n"));
                Assert.True((await session.DeliverAsync(Envelope("a@example.test"), content, CancellationToken.None)).Success);
            }
        }

        var peers = sink.PeerPorts();
        Assert.Equal(4, peers.Length);
        Assert.Equal(2, peers.Distinct().Count());
        Assert.Equal(peers[0], peers[1]);
        Assert.Equal(peers[2], peers[3]);
    }
}
