namespace Veil.Mail.Spool;

/// <summary>
/// Group commit of a blocking sync (the fdatasync of a spool segment, the fsync of a directory): callers that wrote
/// at about the same time share one sync instead of paying one each.
/// </summary>
/// <remarks>
/// Correctness: a caller writes (or renames) first, then calls <see cref="SyncAsync"/>, which adds it to the
/// <em>pending</em> batch. The flusher takes the pending batch away and only then starts the sync, so
/// every write in the batch happened before the sync began and is durable when the batch completes.
/// A caller that arrives while a sync is running joins the next batch, never the running one.
/// </remarks>
/// <param name="sync">The blocking sync; it runs on a sync thread (<see cref="SyncWorkers"/>), one at a time.</param>
internal sealed class GroupSync(Action sync)
{
    private readonly Lock _gate = new();
    private TaskCompletionSource? _pending;
    private bool _flushing;

    /// <summary>Completes once a sync that started after this call has finished.</summary>
    /// <param name="onSyncThread">
    /// The caller runs on a sync thread (<see cref="SyncWorkers"/>) and may block: when no sync is running, it runs
    /// its batch's sync itself (no handoff to another thread) and hands any batch formed meanwhile to a sync worker.
    /// </param>
    public Task SyncAsync(bool onSyncThread = false)
    {
        Task task;
        bool start = false;
        lock (_gate)
        {
            _pending ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            task = _pending.Task;
            if (!_flushing)
            {
                _flushing = true;
                start = true;
            }
        }
        if (start && onSyncThread && SyncWorkers.IsSyncThread) FlushOnce();
        else if (start) _ = SyncWorkers.RunAsync(Flush);
        return task;
    }

    /// <summary>Flushes the pending batch here; a batch that formed meanwhile goes to a sync worker.</summary>
    private void FlushOnce()
    {
        if (TakeBatch() is not { } batch) return;
        FlushBatch(batch);
        bool more;
        lock (_gate)
        {
            more = _pending is not null;
            if (!more) _flushing = false;
        }
        if (more) _ = SyncWorkers.RunAsync(Flush);
    }

    private TaskCompletionSource? TakeBatch()
    {
        lock (_gate)
        {
            if (_pending is null)
            {
                _flushing = false;
                return null;
            }
            var batch = _pending;
            _pending = null;
            return batch;
        }
    }

    private void Flush()
    {
        while (TakeBatch() is { } batch) FlushBatch(batch);
    }

    private void FlushBatch(TaskCompletionSource batch)
    {
        try
        {
            sync();
            batch.SetResult();
        }
#pragma warning disable CA1031 // every waiter of the batch must see the failure, whatever it is
        catch (Exception e)
#pragma warning restore CA1031
        {
            batch.SetException(e);
        }
    }
}
