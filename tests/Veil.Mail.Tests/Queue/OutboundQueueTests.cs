using System.Net;
using System.Net.Sockets;
using System.Text;
using Veil.Mail.Mime;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Mail.Tests.Dkim;
using Veil.Mail.Tests.Smtp;
using Sink = Veil.Mail.Tests.Smtp.SmtpDeliveryClientTests.Sink;

namespace Veil.Mail.Tests.Queue;

/// <summary>
/// The queue against real peers: aiosmtpd as the smarthost (through <see cref="SmtpDeliveryClient"/>), a closed
/// loopback port for "nothing listening", and a manual clock passed to <see cref="OutboundQueue.RunOnceAsync"/>.
/// </summary>
public sealed class OutboundQueueTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private const string Sender = "sender@veil.test";
    private readonly string _data = SmtpTestHost.NewTempDir();
    private readonly FixedTimeProvider _clock = new(T0);
    private static readonly byte[] Message = Encoding.UTF8.GetBytes(
        "From: sender@veil.test\r\nTo: x@example.test\r\nSubject: Grüße\r\nMessage-ID: <m1@veil.test>\r\n\r\n.leading dot\r\nbody\r\n");

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private static SmtpDeliveryClient Client(int port) =>
        new(new SmtpClientOptions { Host = "127.0.0.1", Port = port, Tls = SmtpTlsMode.None, HeloName = "veil.test", ReplyTimeout = TimeSpan.FromSeconds(30) });

    private OutboundQueue Queue(IDeliveryTransport transport) =>
        new(_data, transport, _clock, new OutboundQueueOptions { ReportingMta = "mx.veil.test" });

    private static SmtpEnvelope Envelope(string sender, params string[] to) => new(sender, to, true, false, T0);

    /// <summary>A loopback port nobody listens on: connections are refused.</summary>
    internal static int ClosedPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port; // closed again when disposed: connections are refused
    }

    [Fact]
    public async Task RunOnce_ToAiosmtpd_DeliversBytesUnchangedAndEmptiesTheQueue()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = Queue(Client(sink.Port));
        await queue.EnqueueAsync(Envelope(Sender, "x@example.test"), Message, CancellationToken.None);

        var result = await queue.RunOnceAsync(T0, CancellationToken.None);

        Assert.Equal((1, 1, 0), (result.Attempted, result.Completed, result.BouncesQueued));
        Assert.Equal(Message, sink.Single());
        Assert.Empty(await queue.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RunOnce_NothingListening_RetriesAtFiveTenTwentyMinutes()
    {
        using var queue = Queue(Client(ClosedPort()));
        await queue.EnqueueAsync(Envelope(Sender, "x@example.test"), Message, CancellationToken.None);

        var first = await queue.RunOnceAsync(T0, CancellationToken.None);
        var early = await queue.RunOnceAsync(T0.AddMinutes(4), CancellationToken.None);
        var second = await queue.RunOnceAsync(T0.AddMinutes(5), CancellationToken.None);
        var third = await queue.RunOnceAsync(T0.AddMinutes(15), CancellationToken.None);

        Assert.Equal(T0.AddMinutes(5), first.NextDueAt);
        Assert.Equal(0, early.Attempted);
        Assert.Equal(T0.AddMinutes(15), second.NextDueAt);
        Assert.Equal(T0.AddMinutes(35), third.NextDueAt);
        var pending = Assert.Single(await queue.PendingAsync(CancellationToken.None));
        Assert.Equal(3, pending.Attempts);
        Assert.Equal(QueuedRecipientState.Pending, Assert.Single(pending.Recipients).State);
    }

    [Fact]
    public async Task RunOnce_RecipientAnswered4xx_StaysPendingWhileOthersAreDelivered()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = Queue(Client(sink.Port));
        await queue.EnqueueAsync(Envelope(Sender, "busy@example.test", "x@example.test"), Message, CancellationToken.None);

        var result = await queue.RunOnceAsync(T0, CancellationToken.None);

        Assert.Equal(T0.AddMinutes(5), result.NextDueAt);
        var recipients = Assert.Single(await queue.PendingAsync(CancellationToken.None)).Recipients;
        Assert.Equal(QueuedRecipientState.Pending, recipients[0].State);
        Assert.Equal(QueuedRecipientState.Delivered, recipients[1].State);
        Assert.Equal(Message, sink.Single());
    }

    [Fact]
    public async Task Restart_NewQueueOnSameDirectory_DeliversThePendingMessageOnce()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using (var before = Queue(Client(ClosedPort())))
        {
            await before.EnqueueAsync(Envelope(Sender, "x@example.test"), Message, CancellationToken.None);
            await before.RunOnceAsync(T0, CancellationToken.None); // fails: the smarthost is down
        }

        using var after = Queue(Client(sink.Port));
        var early = await after.RunOnceAsync(T0.AddMinutes(1), CancellationToken.None);
        var due = await after.RunOnceAsync(T0.AddMinutes(5), CancellationToken.None);
        var later = await after.RunOnceAsync(T0.AddDays(1), CancellationToken.None);

        Assert.Equal(0, early.Attempted);
        Assert.Equal(1, due.Completed);
        Assert.Equal(0, later.Attempted);
        Assert.Equal(Message, sink.Single());
    }

    [Fact]
    public async Task Restart_AfterHalfWrittenEnqueue_DropsTheLeftoverAndKeepsCommittedMessages()
    {
        using (var before = Queue(Client(ClosedPort())))
        {
            await before.EnqueueAsync(Envelope(Sender, "x@example.test"), Message, CancellationToken.None);
        }
        var queueDir = Path.Combine(_data, "queue");
        var old = DateTime.UtcNow - OutboundQueue.LeftoverAge - TimeSpan.FromMinutes(1);
        var leftover = Path.Combine(queueDir, "20300102T030405000-00000000000000aa.eml"); // no .state: never committed
        var leftoverTmp = Path.Combine(queueDir, "tmp", "x.tmp");
        await File.WriteAllBytesAsync(leftover, Message);
        await File.WriteAllBytesAsync(leftoverTmp, Message);
        File.SetLastWriteTimeUtc(leftover, old);
        File.SetLastWriteTimeUtc(leftoverTmp, old);
        // An enqueue in flight in another process (written just now, its .state not yet): left alone.
        var inFlight = Path.Combine(queueDir, "20300102T030405001-00000000000000bb.eml");
        var inFlightTmp = Path.Combine(queueDir, "tmp", "y.tmp");
        await File.WriteAllBytesAsync(inFlight, Message);
        await File.WriteAllBytesAsync(inFlightTmp, Message);

        using var after = Queue(Client(ClosedPort()));

        Assert.Single(await after.PendingAsync(CancellationToken.None));
        Assert.Equal((false, false, true, true), (File.Exists(leftover), File.Exists(leftoverTmp), File.Exists(inFlight), File.Exists(inFlightTmp)));
    }

    [Fact]
    public async Task RunOnce_Permanent5xx_QueuesAnRfc3464DsnToTheSender()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = Queue(Client(sink.Port));
        await queue.EnqueueAsync(Envelope(Sender, "unknown@example.test"), Message, CancellationToken.None);

        var result = await queue.RunOnceAsync(T0, CancellationToken.None);

        Assert.Equal((1, 1), (result.Completed, result.BouncesQueued));
        var dsn = Assert.Single(await queue.PendingAsync(CancellationToken.None));
        Assert.Equal("", dsn.ReversePath);
        Assert.Equal(Sender, Assert.Single(dsn.Recipients).Address);
        var report = Parse(await queue.ReadContentAsync(dsn.Id, CancellationToken.None));
        Assert.Contains("Final-Recipient: rfc822; unknown@example.test\r\n", report.Status, StringComparison.Ordinal);
        Assert.Contains("Status: 5.1.1\r\n", report.Status, StringComparison.Ordinal);
        Assert.Contains("Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n", report.Status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunOnce_Dsn_IsDeliveredWithNullReversePathAndParsesAsMultipartReport()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = Queue(Client(sink.Port));
        await queue.EnqueueAsync(Envelope(Sender, "unknown@example.test"), Message, CancellationToken.None);
        await queue.RunOnceAsync(T0, CancellationToken.None);

        var second = await queue.RunOnceAsync(T0, CancellationToken.None);

        Assert.Equal((1, 0), (second.Completed, second.BouncesQueued));
        var report = Parse(sink.Single());
        Assert.Contains("Reporting-MTA: dns; mx.veil.test\r\n", report.Status, StringComparison.Ordinal);
        Assert.Equal("From: sender@veil.test\r\nTo: x@example.test\r\nSubject: Grüße\r\nMessage-ID: <m1@veil.test>\r\n", report.Headers);
        Assert.DoesNotContain("leading dot", report.Headers, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunOnce_Permanent5xxFromNullSender_IsDroppedWithoutDsn()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = Queue(Client(sink.Port));
        await queue.EnqueueAsync(Envelope("", "unknown@example.test"), Message, CancellationToken.None);

        var result = await queue.RunOnceAsync(T0, CancellationToken.None);

        Assert.Equal((1, 0), (result.Completed, result.BouncesQueued));
        Assert.Empty(await queue.PendingAsync(CancellationToken.None));
        Assert.Empty(sink.Files());
    }

    [Fact]
    public async Task RunOnce_StillFailingAtMaxAge_GivesUpWithA4xxDsn()
    {
        using var queue = Queue(Client(ClosedPort()));
        var id = await queue.EnqueueAsync(Envelope(Sender, "x@example.test"), Message, CancellationToken.None);
        var now = T0;
        var lastPass = T0;
        OutboundRunResult result;
        int passes = 0;
        do
        {
            lastPass = now;
            result = await queue.RunOnceAsync(now, CancellationToken.None);
            passes++;
            now = result.NextDueAt ?? now;
        }
        while (result.Completed == 0 && passes < 100);

        Assert.Equal(T0.AddDays(5), lastPass); // the last attempt is made exactly at MaxAge
        Assert.Equal(1, result.BouncesQueued);
        var dsn = Assert.Single(await queue.PendingAsync(CancellationToken.None));
        Assert.NotEqual(id, dsn.Id);
        var report = Parse(await queue.ReadContentAsync(dsn.Id, CancellationToken.None));
        Assert.Contains("Action: failed\r\n", report.Status, StringComparison.Ordinal);
        Assert.Contains("Status: 4.4.7\r\n", report.Status, StringComparison.Ordinal);
        Assert.Contains("Diagnostic-Code: X-Veil; Connection failed", report.Status, StringComparison.Ordinal);
    }

    private sealed record ParsedReport(string Human, string Status, string Headers);

    /// <summary>Parses with Veil's MIME parser and checks the RFC 3464 / RFC 6522 shape.</summary>
    [Fact]
    public async Task RunOnce_TwentyMessagesFourWorkers_DeliversEachOnceOverAtMostFourConnections()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = new OutboundQueue(_data, Client(sink.Port), _clock, new OutboundQueueOptions { ReportingMta = "mx.veil.test", MaxConcurrentDeliveries = 4 });
        for (var i = 0; i < 20; i++)
        {
            var body = Encoding.ASCII.GetBytes($"Message-ID: <n{i}@veil.test>\r\nSubject: {i}\r\n\r\n{i}\r\n");
            await queue.EnqueueAsync(Envelope(Sender, "x@example.test"), body, CancellationToken.None);
        }

        var result = await queue.RunOnceAsync(T0, CancellationToken.None);

        Assert.Equal((20, 20), (result.Attempted, result.Completed));
        var ids = sink.Files().Select(f => Encoding.ASCII.GetString(File.ReadAllBytes(f)).Split("\r\n")[0]).ToList();
        Assert.Equal(20, ids.Distinct().Count());
        var connections = sink.PeerPorts().Distinct().Count();
        Assert.InRange(connections, 1, 4);
        Assert.Empty(await queue.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RunAsync_Enqueue_WakesTheLoopWithoutTheClockMoving()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = Queue(Client(sink.Port));
        using var stop = new CancellationTokenSource();
        var loop = queue.RunAsync(stop.Token);
        await queue.RunOnceAsync(T0, CancellationToken.None); // the loop has found nothing and sleeps (an hour on this clock)

        await queue.EnqueueAsync(Envelope(Sender, "x@example.test"), Message, CancellationToken.None);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (sink.Files().Length == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        await stop.CancelAsync();
        await loop;

        Assert.Equal(Message, sink.Single());
    }

    [Fact]
    public void Options_ZeroConcurrentDeliveries_AreRefused() =>
        Assert.Throws<ArgumentException>(() => new OutboundQueue(_data, Client(ClosedPort()), _clock, new OutboundQueueOptions { MaxConcurrentDeliveries = 0 }));

    private static ParsedReport Parse(byte[] bytes)
    {
        var message = MimeMessage.Parse(bytes);
        var root = message.Root;
        Assert.Equal("multipart/report", root.ContentType.Value);
        Assert.Equal("delivery-status", root.ContentType["report-type"]);
        Assert.Equal("auto-replied", root.GetHeader("Auto-Submitted")?.Value?.Trim());
        Assert.Equal(3, root.Children.Count);
        Assert.Equal("text/plain", root.Children[0].ContentType.Value);
        Assert.Equal("message/delivery-status", root.Children[1].ContentType.Value);
        Assert.Equal("text/rfc822-headers", root.Children[2].ContentType.Value);
        var status = Encoding.UTF8.GetString(root.Children[1].RawBody.Span);
        Assert.Contains("Action: failed\r\n", status, StringComparison.Ordinal);
        return new(root.Children[0].GetText(), status, Encoding.UTF8.GetString(root.Children[2].RawBody.Span));
    }
}
