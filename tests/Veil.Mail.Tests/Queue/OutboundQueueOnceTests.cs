using System.Text;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Mail.Tests.Dkim;
using Veil.Mail.Tests.Smtp;
using Sink = Veil.Mail.Tests.Smtp.SmtpDeliveryClientTests.Sink;

namespace Veil.Mail.Tests.Queue;

/// <summary>
/// <see cref="OutboundQueue.EnqueueOnceAsync"/>: a caller that hands the same message over again under its id (a
/// breach notice resumed after a kill) gets exactly one delivery — while the first is queued, after it was delivered
/// (aiosmtpd as the smarthost), and after an enqueue that never committed — until the caller forgets the id.
/// </summary>
public sealed class OutboundQueueOnceTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly byte[] Message = Encoding.UTF8.GetBytes("From: veil@veil.test\r\nTo: x@example.test\r\nSubject: Notice\r\n\r\nbody\r\n");
    private readonly string _data = SmtpTestHost.NewTempDir();
    private readonly FixedTimeProvider _clock = new(T0);

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private static SmtpEnvelope Envelope() => new("veil@veil.test", ["x@example.test"], false, false, T0);

    private OutboundQueue Queue(int port) =>
        new(_data, new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = port, Tls = SmtpTlsMode.None, HeloName = "veil.test" }),
            _clock, new OutboundQueueOptions { ReportingMta = "mx.veil.test" });

    [Fact]
    public async Task EnqueueOnce_AgainWhileQueuedAndAfterDelivery_TheSmarthostGetsOneCopy()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = Queue(sink.Port);

        var first = await queue.EnqueueOnceAsync("notice-a-1", Envelope(), Message, CancellationToken.None);
        var whileQueued = await queue.EnqueueOnceAsync("notice-a-1", Envelope(), Message, CancellationToken.None);
        var pending = (await queue.PendingAsync(CancellationToken.None)).Count;
        await queue.RunOnceAsync(T0, CancellationToken.None);
        var afterDelivery = await queue.EnqueueOnceAsync("notice-a-1", Envelope(), Message, CancellationToken.None);

        Assert.True(first);
        Assert.False(whileQueued);
        Assert.Equal(1, pending);
        Assert.False(afterDelivery);
        Assert.Equal(Message, sink.Single());
        Assert.Empty(await queue.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EnqueueOnce_AfterAnEnqueueThatNeverCommitted_StoresItUnderTheSameQueueId()
    {
        using var queue = Queue(OutboundQueueTests.ClosedPort());
        await queue.EnqueueOnceAsync("notice-b-7", Envelope(), Message, CancellationToken.None);
        var id = Assert.Single(await queue.PendingAsync(CancellationToken.None)).Id;
        // A kill after the marker and before the .state: only the marker is left.
        File.Delete(Path.Combine(queue.DirectoryPath, id + ".state"));
        File.Delete(Path.Combine(queue.DirectoryPath, id + ".eml"));

        var again = await queue.EnqueueOnceAsync("notice-b-7", Envelope(), Message, CancellationToken.None);

        Assert.True(again);
        Assert.Equal(id, Assert.Single(await queue.PendingAsync(CancellationToken.None)).Id);
    }

    [Fact]
    public async Task RunAsync_MessageEnqueuedByAnotherProcess_IsDeliveredAtTheNextRescan()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        var options = new OutboundQueueOptions { ReportingMta = "mx.veil.test", RescanInterval = TimeSpan.FromMilliseconds(200) };
        using var serving = new OutboundQueue(_data, new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = sink.Port, Tls = SmtpTlsMode.None, HeloName = "veil.test" }), _clock, options);
        using var stop = new CancellationTokenSource();
        var loop = serving.RunAsync(stop.Token);
        await serving.RunOnceAsync(T0, CancellationToken.None); // idle: nothing due, the loop sleeps

        // Another OutboundQueue over the same directory, as `veil admin notify` opens it: no wake-up reaches `serving`.
        using (var admin = Queue(OutboundQueueTests.ClosedPort()))
        {
            Assert.True(await admin.EnqueueOnceAsync("notice-e-1", Envelope(), Message, CancellationToken.None));
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (sink.Files().Length == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        await stop.CancelAsync();
        await loop;

        Assert.Equal(Message, sink.Single());
        Assert.True(File.Exists(Path.Combine(serving.DirectoryPath, "once", "notice-e-1.done")));
    }

    [Fact]
    public async Task ForgetOnce_DropsTheMarkersOfThePrefixOnly()
    {
        using var queue = Queue(OutboundQueueTests.ClosedPort());
        await queue.EnqueueOnceAsync("notice-c-1", Envelope(), Message, CancellationToken.None);
        await queue.EnqueueOnceAsync("notice-d-1", Envelope(), Message, CancellationToken.None);

        queue.ForgetOnce("notice-c-");

        Assert.False(File.Exists(Path.Combine(queue.DirectoryPath, "once", "notice-c-1")));
        Assert.True(File.Exists(Path.Combine(queue.DirectoryPath, "once", "notice-d-1")));
        Assert.Throws<ArgumentException>(() => queue.ForgetOnce("../x"));
    }
}
