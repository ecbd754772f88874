using System.Collections.Concurrent;
using Veil.Mail.Spool;
using Veil.Mail.Tests.Smtp;

namespace Veil.Mail.Tests.Queue;

/// <summary><see cref="SpoolDispatcher.RunAsync"/>: continuous dispatch over a real <see cref="FileSpool"/>.</summary>
public sealed class SpoolDispatcherRunTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    private readonly string _dir = SmtpTestHost.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<SpoolId> CommitAsync(FileSpool spool, string text)
    {
        await using var writer = await spool.BeginAsync(new Veil.Mail.Smtp.SmtpEnvelope("s@veil.test", ["r@veil.test"], false, false, DateTimeOffset.UnixEpoch), CancellationToken.None);
        await writer.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"Subject: {text}\r\n\r\n{text}\r\n"), CancellationToken.None);
        return await writer.CommitAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Run_MessageCommittedWhileAnotherIsHeld_IsHandledWithoutWaitingForIt()
    {
        var spool = new FileSpool(_dir);
        var held = await CommitAsync(spool, "held");
        var sink = new ControlledSink();
        sink.Hold(held);
        using var dispatcher = new SpoolDispatcher(spool, sink, TimeProvider.System, TimeSpan.FromMinutes(10), maxConcurrency: 4);
        spool.Committed += (_, _) => dispatcher.Signal();
        using var stop = new CancellationTokenSource();
        var run = dispatcher.RunAsync(stop.Token);
        await sink.Started(held).WaitAsync(Generous);

        var later = await CommitAsync(spool, "later");

        // The later message is done (and removed) while the first one is still with the sink.
        await sink.Finished(later).WaitAsync(Generous);
        await WaitUntilAsync(async () => (await spool.PendingAsync(CancellationToken.None)).Count == 1);
        Assert.Equal(held, Assert.Single(await spool.PendingAsync(CancellationToken.None)).Id);

        sink.Release(held);
        await WaitUntilAsync(async () => (await spool.PendingAsync(CancellationToken.None)).Count == 0);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(1, sink.Calls(held));
        Assert.Equal(1, sink.Calls(later));
    }

    [Fact]
    public async Task Run_DeferredMessage_RestsUntilThePollIntervalInsteadOfBeingOfferedInALoop()
    {
        var spool = new FileSpool(_dir);
        var deferred = await CommitAsync(spool, "deferred");
        var sink = new ControlledSink { Defer = deferred };
        using var dispatcher = new SpoolDispatcher(spool, sink, TimeProvider.System, TimeSpan.FromMinutes(10), maxConcurrency: 4);
        spool.Committed += (_, _) => dispatcher.Signal();
        using var stop = new CancellationTokenSource();
        var run = dispatcher.RunAsync(stop.Token);
        await sink.Finished(deferred).WaitAsync(Generous);

        // More commits wake the dispatcher; each wake-up lists the spool, but the deferred message is not offered again.
        var others = new List<SpoolId>();
        for (var i = 0; i < 5; i++) others.Add(await CommitAsync(spool, "other" + i));
        foreach (var id in others) await sink.Finished(id).WaitAsync(Generous);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(1, sink.Calls(deferred));
        Assert.Equal(deferred, Assert.Single(await spool.PendingAsync(CancellationToken.None)).Id);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(Generous);
        while (!await condition())
        {
            await Task.Yield();
            timeout.Token.ThrowIfCancellationRequested();
        }
    }

    /// <summary>A sink whose answers the test controls: held messages wait for Release; one id can be deferred.</summary>
    private sealed class ControlledSink : IMessageSink
    {
        private readonly ConcurrentDictionary<SpoolId, TaskCompletionSource> _holds = new();
        private readonly ConcurrentDictionary<SpoolId, TaskCompletionSource> _started = new();
        private readonly ConcurrentDictionary<SpoolId, TaskCompletionSource> _finished = new();
        private readonly ConcurrentDictionary<SpoolId, int> _calls = new();

        public SpoolId? Defer { get; init; }

        public void Hold(SpoolId id) => _holds[id] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release(SpoolId id) => _holds[id].TrySetResult();

        public Task Started(SpoolId id) => Signal(_started, id).Task;

        public Task Finished(SpoolId id) => Signal(_finished, id).Task;

        public int Calls(SpoolId id) => _calls.GetValueOrDefault(id);

        public async ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken)
        {
            _calls.AddOrUpdate(message.Id, 1, (_, n) => n + 1);
            Signal(_started, message.Id).TrySetResult();
            if (_holds.TryGetValue(message.Id, out var hold)) await hold.Task.WaitAsync(cancellationToken);
            var result = message.Id == Defer ? SinkResult.RetryLater : SinkResult.Done;
            Signal(_finished, message.Id).TrySetResult();
            return result;
        }

        private static TaskCompletionSource Signal(ConcurrentDictionary<SpoolId, TaskCompletionSource> map, SpoolId id) =>
            map.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
