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
public sealed class SpoolDispatcher(ISpool spool, IMessageSink sink, TimeProvider time, TimeSpan pollInterval, Microsoft.Extensions.Logging.ILogger? logger = null) : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <inheritdoc/>
    public void Dispose() => _signal.Dispose();

    /// <summary>Wakes the dispatcher now (for example after a commit).</summary>
    public void Signal()
    {
        try { _signal.Release(); }
        catch (SemaphoreFullException) { /* a wake-up is already pending, one is enough */ }
    }

    /// <summary>Offers every pending message to the sink once; returns how many were completed.</summary>
    public async Task<int> DrainOnceAsync(CancellationToken cancellationToken)
    {
        int done = 0;
        foreach (var message in await spool.PendingAsync(cancellationToken).ConfigureAwait(false))
        {
            SinkResult result;
            try
            {
                await using var content = spool.OpenContent(message.Id);
                result = await sink.ProcessAsync(message, content, cancellationToken).ConfigureAwait(false);
            }
            catch (FileNotFoundException)
            {
                continue; // completed concurrently
            }
            if (logger?.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug) == true)
            {
                var outcome = result == SinkResult.Done ? "done" : "deferred";
                MailEngineLog.SpoolDispatched(logger, message.Id.Value, outcome);
            }

            if (result == SinkResult.Done)
            {
                await spool.CompleteAsync(message.Id, cancellationToken).ConfigureAwait(false);
                done++;
            }
        }
        return done;
    }

    /// <summary>Drains, then waits for a signal or the poll interval, until cancelled.</summary>
    /// <remarks>A sink exception escapes and ends the loop: the host restarts it and nothing is lost.</remarks>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await DrainOnceAsync(cancellationToken).ConfigureAwait(false);
            using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                await _signal.WaitAsync(Timeout.InfiniteTimeSpan, delay.Token)
                    .WaitAsync(pollInterval, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                await delay.CancelAsync().ConfigureAwait(false);
            }
        }
    }
}
