using System.Text;

namespace Veil.Mail.Tests.Smtp;

public sealed class SmtpServerTests
{
    private static async Task<SmtpTestClient> GreetedAsync(SmtpTestHost host)
    {
        var c = await host.ConnectAsync();
        Assert.StartsWith("220 ", await c.ReadReplyAsync());
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
        return c;
    }

    [Fact]
    public async Task Ehlo_AdvertisesTheExtensions()
    {
        await using var host = SmtpTestHost.Start(o => o.MaxMessageSize = 10_000);
        using var c = await host.ConnectAsync();
        await c.ReadReplyAsync();
        var reply = await c.CommandAsync("EHLO client.test");
        foreach (var ext in new[] { "SIZE 10000", "8BITMIME", "PIPELINING", "SMTPUTF8", "ENHANCEDSTATUSCODES" })
            Assert.Contains("250-" + ext, reply + "\n", StringComparison.Ordinal);
        Assert.DoesNotContain("STARTTLS", reply, StringComparison.Ordinal); // no certificate configured
    }

    [Fact]
    public async Task VrfyAndExpn_DiscloseNothing()
    {
        await using var host = SmtpTestHost.Start();
        using var c = await GreetedAsync(host);
        Assert.StartsWith("252 2.5.0", await c.CommandAsync("VRFY alias@veil.test"));
        Assert.StartsWith("252 2.5.0", await c.CommandAsync("VRFY unknown@veil.test"));
        Assert.StartsWith("502 5.5.1", await c.CommandAsync("EXPN staff"));
    }

    [Fact]
    public async Task Rcpt_UnknownRecipient_Is550_5_1_1()
    {
        await using var host = SmtpTestHost.Start();
        using var c = await GreetedAsync(host);
        Assert.StartsWith("250 2.1.0", await c.CommandAsync("MAIL FROM:<a@b.test>"));
        Assert.StartsWith("550 5.1.1", await c.CommandAsync("RCPT TO:<unknown@veil.test>"));
    }

    [Fact]
    public async Task Rcpt_WhenTheLookupFails_Is451_TheSessionGoesOn_AndTheOperatorSeesWhyWithoutTheAddress()
    {
        var logs = new CapturingLogger();
        await using var host = SmtpTestHost.Start(logger: logs);
        using var c = await GreetedAsync(host);
        await c.CommandAsync("MAIL FROM:<a@b.test>");

        Assert.StartsWith("451 4.3.0", await c.CommandAsync("RCPT TO:<broken-lookup@veil.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<alias@veil.test>"));
        var logged = Assert.Single(logs.Entries, e => e.EventId == 2484).Text;
        Assert.Contains(nameof(InvalidOperationException), logged, StringComparison.Ordinal);
        Assert.DoesNotContain("broken-lookup", string.Join("\n", logs.Entries.Select(e => e.Text)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_EndedByAnUnexpectedException_IsLoggedWithItsTypeAndStack_NotLostInAnUnobservedTask()
    {
        var logs = new CapturingLogger();
        await using var host = SmtpTestHost.Start(logger: logs);

        await host.Server.HandleConnectionAsync(new FailingStream(), System.Net.IPAddress.Loopback, CancellationToken.None);

        var logged = Assert.Single(logs.Entries, e => e.EventId == 2486).Text;
        Assert.Contains(typeof(NotSupportedException).FullName!, logged, StringComparison.Ordinal);
        Assert.Contains(nameof(FailingStream), logged, StringComparison.Ordinal); // the stack
        Assert.DoesNotContain("secret-detail", logged, StringComparison.Ordinal); // the message is withheld
    }

    /// <summary>A connection whose every write fails with a non-I/O exception: a defect, not a client going away.</summary>
    private sealed class FailingStream : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("secret-detail");

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("secret-detail");

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            throw new NotSupportedException("secret-detail");
    }

    [Fact]
    public async Task Rcpt_OverTheLimit_Is452_4_5_3()
    {
        await using var host = SmtpTestHost.Start(o => o.MaxRecipients = 2);
        using var c = await GreetedAsync(host);
        await c.CommandAsync("MAIL FROM:<a@b.test>");
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<x1@veil.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<x2@veil.test>"));
        Assert.StartsWith("452 4.5.3", await c.CommandAsync("RCPT TO:<x3@veil.test>"));
    }

    [Fact]
    public async Task Mail_DeclaredSizeTooBig_Is552_5_3_4()
    {
        await using var host = SmtpTestHost.Start(o => o.MaxMessageSize = 10_000);
        using var c = await GreetedAsync(host);
        Assert.StartsWith("552 5.3.4", await c.CommandAsync("MAIL FROM:<a@b.test> SIZE=10001"));
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<a@b.test> SIZE=10000"));
    }

    [Fact]
    public async Task Data_ActualSizeTooBig_Is552_AndNothingIsSpooled()
    {
        await using var host = SmtpTestHost.Start(o => o.MaxMessageSize = 2048);
        using var c = await GreetedAsync(host);
        await c.CommandAsync("MAIL FROM:<a@b.test>");
        await c.CommandAsync("RCPT TO:<alias@veil.test>");
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        await c.SendAsync("Subject: big\r\n\r\n" + new string('x', 5000) + "\r\n.\r\n");
        Assert.StartsWith("552 5.3.4", await c.ReadReplyAsync());
        Assert.StartsWith("250", await c.CommandAsync("NOOP")); // the session goes on
        Assert.Empty(await host.Spool.PendingAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData(65_520)]
    [InlineData(65_521)] // the line's CR is the 64 KiB buffer's last byte: its LF once overflowed it and killed the session
    [InlineData(65_522)]
    public async Task Data_LineEndAtTheDataBufferBoundary_IsStoredExactly(int lineLength)
    {
        await using var host = SmtpTestHost.Start();
        using var c = await GreetedAsync(host);
        await c.CommandAsync("MAIL FROM:<a@b.test>");
        await c.CommandAsync("RCPT TO:<alias@veil.test>");
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        var message = "Subject: x\r\n\r\n" + new string('y', lineLength) + "\r\nend\r\n";

        await c.SendAsync(message + ".\r\n");

        Assert.StartsWith("250", await c.ReadReplyAsync());
        Assert.Equal(message, Encoding.ASCII.GetString(await host.SingleSpooledBytesAsync()));
    }

    [Fact]
    public async Task Data_HeaderTooBig_Is552()
    {
        await using var host = SmtpTestHost.Start(o => o.MaxHeaderSize = 1024);
        using var c = await GreetedAsync(host);
        await c.CommandAsync("MAIL FROM:<a@b.test>");
        await c.CommandAsync("RCPT TO:<alias@veil.test>");
        await c.CommandAsync("DATA");
        await c.SendAsync("X-Long: " + new string('h', 2000) + "\r\n\r\nbody\r\n.\r\n");
        Assert.StartsWith("552 5.3.4", await c.ReadReplyAsync());
    }

    [Fact]
    public async Task Data_IsDotUnstuffedAndStoredExactly_With8BitAndSmtpUtf8()
    {
        await using var host = SmtpTestHost.Start();
        using var c = await GreetedAsync(host);
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<jörg@exämple.test> BODY=8BITMIME SMTPUTF8"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<alias@veil.test>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        await c.SendAsync("Subject: Grüße\r\n\r\n..leading dot\r\n..\r\na.b\r\nend\r\n.\r\n");
        Assert.StartsWith("250 2.0.0", await c.ReadReplyAsync());
        var stored = await host.SingleSpooledBytesAsync();
        Assert.Equal(Encoding.UTF8.GetBytes("Subject: Grüße\r\n\r\n.leading dot\r\n.\r\na.b\r\nend\r\n"), stored);
        var pending = await host.Spool.PendingAsync(CancellationToken.None);
        Assert.Equal("jörg@exämple.test", pending[0].Envelope.ReversePath);
        Assert.True(pending[0].Envelope.SmtpUtf8);
        Assert.True(pending[0].Envelope.EightBitMime);
    }

    [Fact]
    public async Task Mail_NonAsciiAddressWithoutSmtpUtf8_Is553_5_6_7()
    {
        await using var host = SmtpTestHost.Start();
        using var c = await GreetedAsync(host);
        Assert.StartsWith("553 5.6.7", await c.CommandAsync("MAIL FROM:<jörg@exämple.test>"));
    }

    [Theory]
    [InlineData("Subject: x\r\n\r\nbare\nLF\r\n.\r\n")]
    [InlineData("Subject: x\r\n\r\nbare\rCR\r\n.\r\n")]
    public async Task Data_BareLineEnding_IsRejectedWhole(string data)
    {
        await using var host = SmtpTestHost.Start();
        using var c = await GreetedAsync(host);
        await c.CommandAsync("MAIL FROM:<a@b.test>");
        await c.CommandAsync("RCPT TO:<alias@veil.test>");
        await c.CommandAsync("DATA");
        await c.SendAsync(data);
        Assert.StartsWith("550 5.6.0", await c.ReadReplyAsync());
        Assert.Empty(await host.Spool.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Data_SmugglingSequenceWithBareLf_DoesNotEndTheMessage()
    {
        await using var host = SmtpTestHost.Start();
        using var c = await GreetedAsync(host);
        await c.CommandAsync("MAIL FROM:<a@b.test>");
        await c.CommandAsync("RCPT TO:<alias@veil.test>");
        await c.CommandAsync("DATA");
        // "\n.\r\n" must not end the data; the smuggled MAIL is message content, then the real end comes.
        await c.SendAsync("Subject: x\r\n\r\nhi\n.\r\nMAIL FROM:<evil@x.test>\r\n.\r\n");
        Assert.StartsWith("550 5.6.0", await c.ReadReplyAsync());
        Assert.StartsWith("250 2.0.0", await c.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Pipelining_AllRepliesComeInOrder()
    {
        await using var host = SmtpTestHost.Start();
        using var c = await host.ConnectAsync();
        await c.ReadReplyAsync();
        await c.SendAsync("EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alias@veil.test>\r\nRCPT TO:<unknown@veil.test>\r\nDATA\r\n");
        Assert.StartsWith("250-", await c.ReadReplyAsync());
        Assert.StartsWith("250 2.1.0", await c.ReadReplyAsync());
        Assert.StartsWith("250 2.1.5", await c.ReadReplyAsync());
        Assert.StartsWith("550 5.1.1", await c.ReadReplyAsync());
        Assert.StartsWith("354", await c.ReadReplyAsync());
        await c.SendAsync("Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n");
        Assert.StartsWith("250 2.0.0", await c.ReadReplyAsync());
        Assert.StartsWith("221", await c.ReadReplyAsync());
        var pending = await host.Spool.PendingAsync(CancellationToken.None);
        Assert.Equal(["alias@veil.test"], pending.Single().Envelope.Recipients);
    }

    [Fact]
    public async Task CommandLine_TooLong_Is500_AndSessionContinues()
    {
        await using var host = SmtpTestHost.Start();
        using var c = await GreetedAsync(host);
        Assert.StartsWith("500 5.5.2", await c.CommandAsync("NOOP " + new string('a', 5000)));
        Assert.StartsWith("250", await c.CommandAsync("NOOP"));
    }

    [Theory]
    [InlineData("MAIL FROM:<a@b.test>", "503 5.5.1")] // before EHLO
    [InlineData("FOO", "500 5.5.2")]
    [InlineData("DATA", "503 5.5.1")]
    public async Task OutOfOrderOrUnknownCommands_GetTheRightCode(string command, string expected)
    {
        await using var host = SmtpTestHost.Start();
        using var c = await host.ConnectAsync();
        await c.ReadReplyAsync();
        Assert.StartsWith(expected, await c.CommandAsync(command));
    }

    [Theory]
    [InlineData("MAIL FROM:a@b.test", "501")]
    [InlineData("MAIL FROM:<a@@b.test>", "501 5.1.7")]
    [InlineData("MAIL FROM:<a@b.test> FOO=1", "555 5.5.4")]
    [InlineData("MAIL FROM:<a@b.test> BODY=BINARYMIME", "501 5.5.4")]
    [InlineData("MAIL FROM:<a@b.test> SIZE=abc", "501 5.5.4")]
    [InlineData("MAIL FROM:<>", "250 2.1.0")]
    [InlineData("MAIL FROM: <a@b.test>", "250 2.1.0")]
    [InlineData("MAIL FROM:<@relay.test:a@b.test>", "250 2.1.0")]
    [InlineData("MAIL FROM:<\"quoted local\"@b.test>", "250 2.1.0")]
    public async Task Mail_Syntax(string command, string expected)
    {
        await using var host = SmtpTestHost.Start();
        using var c = await GreetedAsync(host);
        Assert.StartsWith(expected, await c.CommandAsync(command));
    }

    [Fact]
    public async Task ConnectionsPerIp_OverTheCap_Are421_4_7_0()
    {
        await using var host = SmtpTestHost.Start(o => o.MaxConnectionsPerIp = 1);
        using var first = await host.ConnectAsync();
        Assert.StartsWith("220", await first.ReadReplyAsync());
        using var second = await host.ConnectAsync();
        Assert.StartsWith("421 4.7.0", await second.ReadReplyAsync());
    }

    [Fact]
    public async Task IdleClient_TimesOutWith421_4_4_2()
    {
        await using var host = SmtpTestHost.Start(o => o.CommandTimeout = TimeSpan.FromSeconds(1));
        using var c = await host.ConnectAsync();
        await c.ReadReplyAsync();
        Assert.StartsWith("421 4.4.2", await c.ReadReplyAsync()); // the client reads with a 60 s budget
    }

    [Fact]
    public async Task TooManyErrors_CloseTheSession()
    {
        await using var host = SmtpTestHost.Start(o => o.MaxErrors = 3);
        using var c = await host.ConnectAsync();
        await c.ReadReplyAsync();
        await c.SendAsync("X\r\nY\r\nZ\r\n");
        await c.ReadReplyAsync();
        await c.ReadReplyAsync();
        Assert.Equal("500 5.5.2 Syntax error, command unrecognized\n421 4.7.0 Too many errors, closing connection".Split('\n')[0], await c.ReadReplyAsync());
        Assert.StartsWith("421 4.7.0", await c.ReadReplyAsync());
        Assert.Null(await c.ReadReplyAsync());
    }
}
