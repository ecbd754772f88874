using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;

namespace Veil.Mail.Tests.Smtp;

/// <summary>
/// A message whose subject, body and addresses all contain the word "canary" travels the whole engine with every log
/// line captured: SMTP in (with a rejected recipient), spool, dispatcher, a forwarding sink that queues it out, the
/// queue delivering to a second engine (one forwarded recipient refused), the DSN bounce and its delivery. The logs
/// must show each step and must not contain the canary anywhere: not in messages, not in structured values.
/// </summary>
public sealed class MailLoggingCanaryTests
{
    private const string Sender = "canary-sender@canary-from.test";
    private const string Recipient = "canary-rcpt@veil.test";
    private const string ForwardTo = "canary-target@canary-dest.test";
    private const string ForwardRefused = "unknown-canary@canary-dest.test";

    [Fact]
    public async Task ForwardedMessage_LogsEveryStep_WithoutSubjectBodyOrAddresses()
    {
        var logs = new CapturingLogger();
        var clock = TimeProvider.System;
        await using var inbound = SmtpTestHost.Start(o => o.RedactAddress = ip => "ip#redacted", logger: logs);
        await using var destination = SmtpTestHost.Start(logger: logs);
        var queueDir = SmtpTestHost.NewTempDir();
        using var queue = new OutboundQueue(queueDir, new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = destination.Port, Tls = SmtpTlsMode.None }),
            clock, new OutboundQueueOptions { ReportingMta = "mx.veil.test" }, logs);
        using var dispatcher = new SpoolDispatcher(inbound.Spool, new ForwardingSink(queue), clock, TimeSpan.FromMinutes(1), logs);

        using (var client = await inbound.ConnectAsync())
        {
            Assert.StartsWith("220", await client.ReadReplyAsync(), StringComparison.Ordinal);
            await client.CommandAsync("EHLO canary-helo.test");
            Assert.StartsWith("250", await client.CommandAsync($"MAIL FROM:<{Sender}>"), StringComparison.Ordinal);
            Assert.StartsWith("550 5.1.1", await client.CommandAsync("RCPT TO:<unknown-canary-inbound@veil.test>"), StringComparison.Ordinal);
            Assert.StartsWith("250", await client.CommandAsync($"RCPT TO:<{Recipient}>"), StringComparison.Ordinal);
            Assert.StartsWith("354", await client.CommandAsync("DATA"), StringComparison.Ordinal);
            Assert.StartsWith("250", await client.CommandAsync($"From: Canary Sender <{Sender}>\r\nTo: <{Recipient}>\r\nSubject: canary subject line\r\n\r\ncanary body text\r\n."), StringComparison.Ordinal);
            await client.CommandAsync("QUIT");
        }

        Assert.Equal(1, await dispatcher.DrainOnceAsync(CancellationToken.None));
        var first = await queue.RunOnceAsync(clock.GetUtcNow(), CancellationToken.None);
        var second = await queue.RunOnceAsync(clock.GetUtcNow(), CancellationToken.None);

        Assert.Equal(1, first.BouncesQueued);
        Assert.Equal(1, second.Completed);
        Assert.Equal(2, (await destination.Spool.PendingAsync(CancellationToken.None)).Count);
        var entries = logs.Entries.ToList();
        foreach (var id in (int[])[2450, 2451, 2452, 2454, 2460, 2462, 2470, 2472, 2474])
        {
            Assert.Contains(entries, e => e.EventId == id);
        }

        Assert.Contains(entries, e => e.EventId == 2452 && e.Text.Contains("RCPT rejected 550 5.1.1", StringComparison.Ordinal) && e.Text.Contains("ip#redacted", StringComparison.Ordinal));
        Assert.All(entries, e => Assert.DoesNotContain("canary", e.Text, StringComparison.OrdinalIgnoreCase));
        Assert.All(entries, e => Assert.DoesNotContain(IPAddress.Loopback.ToString(), e.Text, StringComparison.Ordinal));
        Directory.Delete(queueDir, recursive: true);
    }

    /// <summary>What a forwarding module does: queue the spooled bytes out to other recipients.</summary>
    private sealed class ForwardingSink(OutboundQueue queue) : IMessageSink
    {
        public async ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken)
        {
            using var copy = new MemoryStream();
            await content.CopyToAsync(copy, cancellationToken);
            var envelope = message.Envelope with { Recipients = [ForwardTo, ForwardRefused] };
            await queue.EnqueueAsync(envelope, copy.ToArray(), cancellationToken);
            return SinkResult.Done;
        }
    }
}
