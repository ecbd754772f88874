using Veil.Mail.Spool;
using Veil.Mail.Tests.Smtp;

namespace Veil.Mail.Tests.Queue;

/// <summary>The dispatcher handing several spooled messages to the sink at once, over a real <see cref="FileSpool"/>.</summary>
public sealed class SpoolDispatcherConcurrencyTests : IDisposable
{
    private readonly string _dir = SmtpTestHost.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<FileSpool> SpoolWithAsync(int count)
    {
        var spool = new FileSpool(_dir);
        for (var i = 0; i < count; i++)
        {
            await using var writer = await spool.BeginAsync(new Veil.Mail.Smtp.SmtpEnvelope("s@veil.test", ["r@veil.test"], false, false, DateTimeOffset.UnixEpoch), CancellationToken.None);
            await writer.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"Subject: {i}\r\n\r\n{i}\r\n"), CancellationToken.None);
            await writer.CommitAsync(CancellationToken.None);
        }

        return spool;
    }

    [Fact]
    public async Task DrainOnce_ConcurrencyFour_HasFourInFlightAndCompletesEachMessageOnce()
    {
        var spool = await SpoolWithAsync(12);
        var sink = new GatedSink(target: 4);
        using var dispatcher = new SpoolDispatcher(spool, sink, TimeProvider.System, TimeSpan.FromMinutes(1), maxConcurrency: 4);

        var done = await dispatcher.DrainOnceAsync(CancellationToken.None);

        Assert.Equal(12, done);
        Assert.Equal(4, sink.MaxInFlight);
        Assert.Equal(12, sink.Seen.Distinct().Count());
        Assert.Equal(12, sink.Seen.Count);
        Assert.Empty(await spool.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task DrainOnce_ConcurrentSinkDefersSome_KeepsExactlyThoseSpooled()
    {
        var spool = await SpoolWithAsync(10);
        var sink = new GatedSink(target: 1) { DeferOdd = true };
        using var dispatcher = new SpoolDispatcher(spool, sink, TimeProvider.System, TimeSpan.FromMinutes(1), maxConcurrency: 3);

        var done = await dispatcher.DrainOnceAsync(CancellationToken.None);

        Assert.Equal(5, done);
        var left = await spool.PendingAsync(CancellationToken.None);
        Assert.Equal(5, left.Count);
        Assert.All(left, m => Assert.Contains(m.Id.Value, sink.Deferred));
    }

    [Fact]
    public void Constructor_ZeroConcurrency_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpoolDispatcher(new FileSpool(_dir), new GatedSink(1), TimeProvider.System, TimeSpan.FromMinutes(1), maxConcurrency: 0));

    /// <summary>Holds each call until <c>target</c> calls are in flight at once (or 10 s passed), then answers.</summary>
    private sealed class GatedSink(int target) : IMessageSink
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _gate = new();
        private int _inFlight;
        private int _calls;

        public bool DeferOdd { get; init; }
        public int MaxInFlight { get; private set; }
        public List<string> Seen { get; } = [];
        public List<string> Deferred { get; } = [];

        public async ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken)
        {
            int call;
            lock (_gate)
            {
                call = _calls++;
                Seen.Add(message.Id.Value);
                MaxInFlight = Math.Max(MaxInFlight, ++_inFlight);
                if (_inFlight >= target) _reached.TrySetResult();
            }

            await _reached.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            lock (_gate)
            {
                _inFlight--;
                if (DeferOdd && call % 2 == 1)
                {
                    Deferred.Add(message.Id.Value);
                    return SinkResult.RetryLater;
                }
            }

            return SinkResult.Done;
        }
    }
}
