using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Veil.Mail.Tests.Smtp;

/// <summary>
/// The independent peer: swaks (Debian package <c>swaks</c>) sends into the engine. Under CI=true a
/// missing swaks fails; elsewhere these tests return early.
/// </summary>
public sealed class SwaksTests
{
    private const string Swaks = "/usr/bin/swaks";

    private static readonly byte[] Message = Encoding.UTF8.GetBytes(
        "From: Sender <sender@example.test>\r\n" +
        "To: alias@veil.test\r\n" +
        "Subject: swaks test\r\n" +
        "Message-ID: <swaks-1@example.test>\r\n" +
        "\r\n" +
        "Hello.\r\n" +
        ".a line that starts with a dot\r\n" +
        "..two dots\r\n" +
        "end\r\n");

    private static bool Available()
    {
        if (File.Exists(Swaks)) return true;
        Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
            "swaks is required under CI (apt-get install swaks)");
        return false;
    }

    private static async Task<(int Exit, string Output)> RunSwaksAsync(int port, byte[] data, string to, params string[] extra)
    {
        // swaks always sends "<data>\r\n.\r\n": the file gets the message without its last CRLF,
        // so the bytes on the wire (after dot-unstuffing) are exactly `data`.
        Assert.True(data.AsSpan().EndsWith("\r\n"u8));
        var file = Path.GetTempFileName();
        await File.WriteAllBytesAsync(file, data[..^2]);
        try
        {
            var psi = new ProcessStartInfo(Swaks)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in new[] { "--server", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                         "--from", "sender@example.test", "--to", to, "--helo", "client.test", "--data", file, "--timeout", "60" })
                psi.ArgumentList.Add(a);
            foreach (var a in extra) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var stdout = p.StandardOutput.ReadToEndAsync(cts.Token);
            var stderr = p.StandardError.ReadToEndAsync(cts.Token);
            await p.WaitForExitAsync(cts.Token);
            return (p.ExitCode, await stdout + await stderr);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Swaks_Delivers_AndTheSpoolHoldsExactlyItsBytes(bool pipeline)
    {
        if (!Available()) return;
        await using var host = SmtpTestHost.Start();
        var (exit, output) = await RunSwaksAsync(host.Port, Message, SmtpTestHost.Known, pipeline ? ["--pipeline"] : []);
        Assert.True(exit == 0, output);
        Assert.Contains("<-  250 2.0.0 Ok: queued as", output, StringComparison.Ordinal);
        Assert.Equal(Message, await host.SingleSpooledBytesAsync());
    }

    [Fact]
    public async Task Swaks_EightBitBody_IsStoredUnchanged()
    {
        if (!Available()) return;
        await using var host = SmtpTestHost.Start();
        var body = Encoding.UTF8.GetBytes("Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße, ça va? 日本語\r\n")
            .Concat(new byte[] { 0xE9, 0xFF, 0x80, (byte)'\r', (byte)'\n' }).ToArray();
        var (exit, output) = await RunSwaksAsync(host.Port, body, SmtpTestHost.Known);
        Assert.True(exit == 0, output);
        Assert.Equal(body, await host.SingleSpooledBytesAsync());
    }

    [Fact]
    public async Task Swaks_NonAsciiSender_WithoutSmtpUtf8Parameter_Is553()
    {
        // swaks 20201014 (Debian 12) cannot send the SMTPUTF8 MAIL parameter; the accepting side of
        // SMTPUTF8 is covered by SmtpServerTests. Here: without it, a UTF-8 address is refused.
        if (!Available()) return;
        await using var host = SmtpTestHost.Start();
        var (exit, output) = await RunSwaksAsync(host.Port, Message, SmtpTestHost.Known, "--from", "jörg@exämple.test");
        Assert.NotEqual(0, exit);
        Assert.Contains("553 5.6.7", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Swaks_TooBigMessage_Is552_AndNothingIsSpooled()
    {
        if (!Available()) return;
        await using var host = SmtpTestHost.Start(o => o.MaxMessageSize = 4096);
        var big = Encoding.ASCII.GetBytes("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('x', 76) + "\r\n", 200)));
        var (exit, output) = await RunSwaksAsync(host.Port, big, SmtpTestHost.Known);
        Assert.NotEqual(0, exit);
        Assert.Contains("552 5.3.4", output, StringComparison.Ordinal);
        Assert.Empty(await host.Spool.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Swaks_UnknownRecipient_Is550_5_1_1()
    {
        if (!Available()) return;
        await using var host = SmtpTestHost.Start();
        var (exit, output) = await RunSwaksAsync(host.Port, Message, "unknown@veil.test");
        Assert.NotEqual(0, exit);
        Assert.Contains("550 5.1.1", output, StringComparison.Ordinal);
        Assert.Empty(await host.Spool.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Swaks_StartTls_Delivers()
    {
        if (!Available()) return;
        using var cert = SelfSignedCertificate();
        await using var host = SmtpTestHost.Start(o => o.Certificate = cert);
        var (exit, output) = await RunSwaksAsync(host.Port, Message, SmtpTestHost.Known, "--tls");
        Assert.True(exit == 0, output);
        Assert.Contains("TLS started", output, StringComparison.Ordinal);
        Assert.Equal(Message, await host.SingleSpooledBytesAsync());
    }

    internal static X509Certificate2 SelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest("CN=mx.veil.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }
}
