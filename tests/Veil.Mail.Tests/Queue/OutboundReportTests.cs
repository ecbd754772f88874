using System.Text;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Mail.Tests.Dkim;
using Veil.Mail.Tests.Smtp;
using Sink = Veil.Mail.Tests.Smtp.SmtpDeliveryClientTests.Sink;

namespace Veil.Mail.Tests.Queue;

/// <summary>
/// <see cref="OutboundQueue.SendAndReportAsync"/> and the <see cref="IQueuedDeliveryObserver"/>: a caller that forwards
/// mail learns every refusal (at once, or when the queue gives up) instead of the queue bouncing to the reverse path.
/// </summary>
public sealed class OutboundReportTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly string _data = SmtpTestHost.NewTempDir();
    private readonly FixedTimeProvider _clock = new(T0);
    private static readonly byte[] Message = Encoding.UTF8.GetBytes("From: sender@veil.test\r\nSubject: reported\r\n\r\nbody\r\n");

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private OutboundQueue Queue(int port, IQueuedDeliveryObserver? observer = null) =>
        new(_data, new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = port, Tls = SmtpTlsMode.None, HeloName = "veil.test", ReplyTimeout = TimeSpan.FromSeconds(30) }),
            _clock, new OutboundQueueOptions { ReportingMta = "mx.veil.test", MaxConcurrentDeliveries = 1 }, logger: null, observer);

    private static SmtpEnvelope Envelope(params string[] to) => new("SRS0=hash=AB=sender.test=jane@alias.test", to, true, false, T0);

    [Fact]
    public async Task SendAndReport_Permanent5xx_IsHandedBackAndNothingIsQueued()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = Queue(sink.Port);

        var report = await queue.SendAndReportAsync(Envelope("unknown@example.test", "x@example.test"), Message, "tag", CancellationToken.None);

        Assert.Null(report.QueueId);
        Assert.Equal(["x@example.test"], report.Delivered);
        var refused = Assert.Single(report.Refused);
        Assert.Equal("unknown@example.test", refused.Address);
        Assert.StartsWith("5", refused.LastReply, StringComparison.Ordinal);
        Assert.Empty(await queue.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task QueuedTaggedMessage_GivenUp_GoesToTheObserverAndTheQueueSendsNoDsnOfItsOwn()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        var observer = new RecordingObserver();
        using var queue = Queue(sink.Port, observer);

        var report = await queue.SendAndReportAsync(Envelope("busy@example.test"), Message, "the-tag", CancellationToken.None);
        Assert.NotNull(report.QueueId);
        Assert.Empty(observer.Outcomes);

        var pass = await queue.RunOnceAsync(T0 + new OutboundQueueOptions().MaxAge, CancellationToken.None);

        Assert.Equal(0, pass.BouncesQueued);
        var outcome = Assert.Single(observer.Outcomes);
        Assert.Equal(("the-tag", report.QueueId), (outcome.Tag, outcome.QueueId));
        Assert.Equal(QueuedRecipientState.Failed, Assert.Single(outcome.Recipients).State);
        Assert.Contains("Subject: reported", Encoding.ASCII.GetString(outcome.Headers), StringComparison.Ordinal);
        Assert.Empty(await queue.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EnqueueDeliveryReport_QueuesADsnWithTheNullReversePathToTheSender()
    {
        using var queue = Queue(1);

        var id = await queue.EnqueueDeliveryReportAsync("jane@sender.test", T0,
            [new QueuedRecipient("alias@alias.test", QueuedRecipientState.Failed, "550 5.6.0 (refused by the next hop)")], Message, CancellationToken.None);

        var queued = Assert.Single(await queue.PendingAsync(CancellationToken.None));
        Assert.Equal((id, "", "jane@sender.test"), (queued.Id, queued.ReversePath, Assert.Single(queued.Recipients).Address));
        var dsn = Encoding.UTF8.GetString(await queue.ReadContentAsync(id!, CancellationToken.None));
        Assert.Contains("Final-Recipient: rfc822; alias@alias.test", dsn, StringComparison.Ordinal);
        Assert.Contains("Status: 5.6.0", dsn, StringComparison.Ordinal);
        Assert.Null(await queue.EnqueueDeliveryReportAsync("", T0, [new QueuedRecipient("a@b.test", QueuedRecipientState.Failed, "550")], Message, CancellationToken.None));
    }

    private sealed class RecordingObserver : IQueuedDeliveryObserver
    {
        public List<QueuedDeliveryOutcome> Outcomes { get; } = [];

        public Task CompletedAsync(QueuedDeliveryOutcome outcome, CancellationToken cancellationToken)
        {
            Outcomes.Add(outcome);
            return Task.CompletedTask;
        }
    }
}
