using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Veil.Mail.Spool;
using Veil.Server.Mail;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mail;

/// <summary>
/// swaks (Debian package <c>swaks</c>) against the SMTP listener as <c>veil serve --smtp</c> hosts it: the generated
/// self-signed certificate for STARTTLS, the development accept-domain resolver, a recording message sink. The bytes
/// the sink receives must equal the bytes swaks sent. Under CI=true a missing swaks fails; elsewhere these tests return.
/// swaks 20201014 (Debian 12) cannot send the SMTPUTF8 or BODY=8BITMIME MAIL parameters, so "8BITMIME" and
/// "SMTPUTF8" here mean messages with 8-bit bodies and UTF-8 header fields (RFC 6532); the parameters themselves are
/// covered by the engine's own tests.
/// </summary>
public sealed class SmtpHostedSwaksTests
{
    private const string Swaks = "/usr/bin/swaks";

    private static readonly byte[] Plain = Encoding.ASCII.GetBytes(
        "From: Sender <sender@sender.test>\r\nTo: alias@example.org\r\nSubject: hosted swaks\r\nMessage-ID: <hosted-1@sender.test>\r\n\r\n"
        + "Hello.\r\n.a line that starts with a dot\r\n..two dots\r\n.\r\nend\r\n");

    private static readonly byte[] EightBit = [.. Encoding.UTF8.GetBytes(
        "Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße, ça va? 日本語\r\n"), 0xE9, 0xFF, 0x80, (byte)'\r', (byte)'\n'];

    private static readonly byte[] Utf8Headers = Encoding.UTF8.GetBytes(
        "From: Jörg Müller <sender@sender.test>\r\nTo: Zoë <alias@example.org>\r\nSubject: Привет, 世界\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nÜnïcödé body\r\n");

    public static TheoryData<string, bool> Cases() => new()
    {
        { nameof(Plain), false },
        { nameof(Plain), true },
        { nameof(EightBit), false },
        { nameof(EightBit), true },
        { nameof(Utf8Headers), false },
        { nameof(Utf8Headers), true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task SwaksStartTls_HostedListener_SinkReceivesExactlyTheBytesSent(string messageName, bool pipeline)
    {
        if (!Available())
        {
            return;
        }

        var message = messageName switch { nameof(Plain) => Plain, nameof(EightBit) => EightBit, _ => Utf8Headers };
        var sink = new BytesSink();
        await using var server = await StartAsync(sink);

        var (exit, output) = await RunSwaksAsync(Port(server), message, pipeline ? ["--tls", "--pipeline"] : ["--tls"]);

        Assert.True(exit == 0, output);
        Assert.Contains("TLS started", output, StringComparison.Ordinal);
        Assert.Contains("<~  250 2.0.0", output, StringComparison.Ordinal);
        Assert.Equal(message, await sink.Received.Reader.ReadAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token));
    }

    [Fact]
    public async Task SwaksStartTls_UnknownRecipient_Is550InsideTls_AndNothingReachesTheSink()
    {
        if (!Available())
        {
            return;
        }

        var sink = new BytesSink();
        await using var server = await StartAsync(sink);

        var (exit, output) = await RunSwaksAsync(Port(server), Plain, ["--tls", "--to", "nobody@elsewhere.test"]);

        Assert.NotEqual(0, exit);
        Assert.Contains("<~* 550 5.1.1", output, StringComparison.Ordinal);
        Assert.Equal(0, FileSpool.CountPending(server.DataDirectory));
        Assert.False(sink.Received.Reader.TryRead(out _));
    }

    [Fact]
    public async Task SwaksStartTls_CanaryMessage_NeverAppearsInTheServerLogs()
    {
        if (!Available())
        {
            return;
        }

        var sink = new BytesSink();
        await using var server = await StartAsync(sink);
        var canary = Encoding.UTF8.GetBytes("From: Canary <canary-from@sender.test>\r\nTo: canary-to@example.org\r\nSubject: canary subject\r\n\r\ncanary body\r\n");

        var (exit, output) = await RunSwaksAsync(Port(server), canary, ["--tls", "--from", "canary-from@sender.test", "--to", "canary-to@example.org,unknown-canary@elsewhere.test"]);

        Assert.True(exit == 0, output);
        Assert.Equal(canary, await sink.Received.Reader.ReadAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token));
        var entries = server.Logs.Entries.ToList();
        Assert.Contains(entries, e => e.Contains("spooled", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Contains("RCPT rejected 550 5.1.1", StringComparison.Ordinal) && e.Contains("ip#", StringComparison.Ordinal));
        Assert.All(entries, e => Assert.DoesNotContain("canary", e, StringComparison.OrdinalIgnoreCase));
    }

    private static Task<VeilTestServer> StartAsync(BytesSink sink) => VeilTestServer.StartAsync(o =>
    {
        o.Settings["Veil:Mail:Smtp:Listen"] = "127.0.0.1:0";
        o.Settings["Veil:Mail:Smtp:AcceptDomains"] = "example.org";
        o.ConfigureServices = services => services.AddSingleton<IMessageSink>(sink);
    });

    private static int Port(VeilTestServer server) => ((IPEndPoint)server.Services.GetRequiredService<SmtpHostService>().LocalEndPoint!).Port;

    private static bool Available()
    {
        if (File.Exists(Swaks))
        {
            return true;
        }

        Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase), "swaks is required under CI (apt-get install swaks)");
        return false;
    }

    private static async Task<(int Exit, string Output)> RunSwaksAsync(int port, byte[] data, string[] extra)
    {
        // swaks sends "<data>\r\n.\r\n": the file holds the message without its last CRLF, so the bytes on the wire
        // (after dot-unstuffing) are exactly the message.
        Assert.True(data.AsSpan().EndsWith("\r\n"u8));
        var file = Path.GetTempFileName();
        await File.WriteAllBytesAsync(file, data[..^2]);
        try
        {
            var start = new ProcessStartInfo(Swaks) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in (string[])["--server", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--from", "sender@sender.test",
                         "--to", "alias@example.org", "--helo", "client.test", "--data", file, "--timeout", "60", .. extra])
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private sealed class BytesSink : IMessageSink
    {
        public System.Threading.Channels.Channel<byte[]> Received { get; } = System.Threading.Channels.Channel.CreateUnbounded<byte[]>();

        public async ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken)
        {
            using var copy = new MemoryStream();
            await content.CopyToAsync(copy, cancellationToken);
            await Received.Writer.WriteAsync(copy.ToArray(), cancellationToken);
            return SinkResult.Done;
        }
    }
}
