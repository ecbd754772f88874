namespace Veil.Mail.Spool;

/// <summary>
/// Hands spooled messages to an <see cref="IMessageSink"/> and removes each one only after the sink
/// said <see cref="SinkResult.Done"/>: at-least-once, across restarts (the first pass processes what a
/// previous process left behind).
/// </summary>
/// <param name="spool">The spool to drain.</param>
/// <param name="sink">Where messages go.</param>
/// <param name="time">The clock for the idle poll interval.</param>
/// <param name="pollInterval">How long to wait for new work when nothing signals it.</param>
/// <param name="logger">One debug line per message handed to the sink (spool id and result only); none when null.</param>
/// <param name="maxConcurrency">
/// Messages handed to the sink at once (the sink must then be safe for concurrent calls). Each pending message is
/// offered to one call at a time: a pass offers every message once and the next pass starts after it ended.
/// </param>
public sealed class SpoolDispatcher(ISpool spool, IMessageSink sink, TimeProvider time, TimeSpan pollInterval, Microsoft.Extensions.Logging.ILogger? logger = null, int maxConcurrency = 1) : IDisposable
{
    private readonly int _maxConcurrency = maxConcurrency is >= 1 and <= 1024 ? maxConcurrency : throw new ArgumentOutOfRangeException(nameof(maxConcurrency), "Between 1 and 1024.");
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <inheritdoc/>
    public void Dispose() => _signal.Dispose();

    /// <summary>Wakes the dispatcher now (for example after a commit).</summary>
    public void Signal()
    {
        if (_signal.CurrentCount > 0) return; // a wake-up is pending already (checked first: a throw per commit costs)
        try { _signal.Release(); }
        catch (SemaphoreFullException) { /* a wake-up is already pending, one is enough */ }
    }

    /// <summary>Offers every pending message to the sink once (up to the configured concurrency at a time); returns how many were completed.</summary>
    public async Task<int> DrainOnceAsync(CancellationToken cancellationToken)
    {
        int done = 0;
        var pending = await spool.PendingAsync(cancellationToken).ConfigureAwait(false);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _maxConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(pending, parallel, async (message, ct) =>
        {
            if (await OfferAsync(message, ct).ConfigureAwait(false) is SinkResult.Done)
            {
                Interlocked.Increment(ref done);
            }
        }).ConfigureAwait(false);
        return done;
    }

    /// <summary>
    /// Dispatches continuously until cancelled: up to the configured concurrency of messages are with the sink at
    /// any time, and a message committed meanwhile is offered as soon as a slot is free (no waiting for the others of
    /// its listing to finish). A message the sink deferred (<see cref="SinkResult.RetryLater"/>) rests for the poll
    /// interval before it is offered again.
    /// </summary>
    /// <remarks>A sink exception escapes and ends the loop: the host restarts it and nothing is lost.</remarks>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var inFlight = new System.Collections.Concurrent.ConcurrentDictionary<SpoolId, byte>();
        var resting = new System.Collections.Concurrent.ConcurrentDictionary<SpoolId, DateTimeOffset>();
        using var slots = new SemaphoreSlim(_maxConcurrency, _maxConcurrency);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = new List<Task>();
        Exception? failure = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var now = time.GetUtcNow();
                foreach (var (id, until) in resting)
                {
                    if (until <= now) resting.TryRemove(id, out _);
                }
                var pending = await spool.PendingAsync(stop.Token).ConfigureAwait(false);
                foreach (var message in pending)
                {
                    if (inFlight.ContainsKey(message.Id) || resting.ContainsKey(message.Id)) continue;
                    await slots.WaitAsync(stop.Token).ConfigureAwait(false);
                    inFlight[message.Id] = 0;
                    running.RemoveAll(t => t.IsCompleted);
                    running.Add(Task.Run(async () =>
                    {
                        try
                        {
                            if (await OfferAsync(message, stop.Token).ConfigureAwait(false) is SinkResult.RetryLater)
                            {
                                resting[message.Id] = time.GetUtcNow() + pollInterval;
                            }
                        }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            Interlocked.CompareExchange(ref failure, e, null);
                            await stop.CancelAsync().ConfigureAwait(false);
                        }
                        finally
                        {
                            inFlight.TryRemove(message.Id, out _);
                            slots.Release();
                        }
                    }, CancellationToken.None));
                }

                using var delay = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                try
                {
                    await _signal.WaitAsync(Timeout.InfiniteTimeSpan, delay.Token)
                        .WaitAsync(pollInterval, time, stop.Token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    await delay.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping, or a sink failed (rethrown below).
        }
        finally
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Hands one message to the sink and removes it from the spool when the sink is done with it.</summary>
    /// <returns>The sink's answer; null when the message was gone (completed concurrently).</returns>
    private async Task<SinkResult?> OfferAsync(SpooledMessage message, CancellationToken ct)
    {
        SinkResult result;
        try
        {
            var content = spool.OpenContent(message.Id);
            await using (content.ConfigureAwait(false))
            {
                result = await sink.ProcessAsync(message, content, ct).ConfigureAwait(false);
            }
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        if (logger?.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug) == true)
        {
            var outcome = result == SinkResult.Done ? "done" : "deferred";
            MailEngineLog.SpoolDispatched(logger, message.Id.Value, outcome);
        }

        if (result == SinkResult.Done)
        {
            await spool.CompleteAsync(message.Id, ct).ConfigureAwait(false);
        }
        return result;
    }
}
