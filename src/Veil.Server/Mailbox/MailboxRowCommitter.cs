// Group commit of the mailbox's stored rows. The spool hands up to 64 messages to the sink at once, and each one's row
// used to be its own transaction: on SQLite (synchronous FULL, one writer at a time) that is one WAL fsync per message
// and up to 63 sessions waiting on the write lock. Here each call seals its message on its own (in parallel), then
// queues only the finished row; one worker takes whatever rows are waiting (up to MaxBatch) and inserts them in one
// transaction, and only then are their callers answered (and their messages removed from the spool).
// Exactly once still holds: a row's id is derived from (spool id, recipient position), so if a batch fails because
// one of its rows was stored a moment ago by a redelivery, the batch is retried row by row and that row reports
// "stored before"; any other failure goes back to every caller of the batch, whose messages stay spooled.
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Mailbox;

internal sealed class MailboxRowCommitter : IDisposable
{
    /// <summary>Rows inserted in one transaction at most.</summary>
    public const int MaxBatch = 64;

    private readonly IServiceScopeFactory _scopes;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    public MailboxRowCommitter(IServiceScopeFactory scopes)
    {
        _scopes = scopes;
        _ = Task.Run(RunAsync); // ends when Dispose completes the queue
    }

    /// <summary>
    /// Inserts <paramref name="row"/> together with the rows queued beside it. True when this call stored it; false when a
    /// row with its id was stored before (a redelivery). Throws what the database threw (the message stays spooled).
    /// </summary>
    public Task<bool> CommitAsync(MailMessage row, CancellationToken cancellationToken)
    {
        var pending = new Pending(row, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);

        // A caller that stops waiting leaves its row in the batch: stored or not, the spool offers the message again
        // and the row's id makes the second offer find it.
        return pending.Stored.Task.WaitAsync(cancellationToken);
    }

    public void Dispose() => _queue.Writer.TryComplete();

    private async Task RunAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            try
            {
                await CommitBatchAsync(batch).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Handed to every caller of the batch, each of which decides (retry later, or fail loudly).
                foreach (var pending in batch)
                {
                    pending.Stored.TrySetException(e);
                }
            }
        }
    }

    private async Task CommitBatchAsync(List<Pending> batch)
    {
        if (batch.Count == 1)
        {
            batch[0].Stored.TrySetResult(await CommitOneAsync(batch[0].Row).ConfigureAwait(false));
            return;
        }

        try
        {
            await SaveAsync(batch.Select(p => p.Row)).ConfigureAwait(false);
        }
        catch (DbUpdateException)
        {
            // Most likely one row was stored a moment ago by a redelivery: alone, each row finds out for itself.
            foreach (var pending in batch)
            {
                try
                {
                    pending.Stored.TrySetResult(await CommitOneAsync(pending.Row).ConfigureAwait(false));
                }
                catch (Exception e)
                {
                    pending.Stored.TrySetException(e);
                }
            }

            return;
        }

        foreach (var pending in batch)
        {
            pending.Stored.TrySetResult(true);
        }
    }

    /// <summary>True when stored now, false when a row with its id was stored before; otherwise throws.</summary>
    private async Task<bool> CommitOneAsync(MailMessage row)
    {
        try
        {
            await SaveAsync([row]).ConfigureAwait(false);
            return true;
        }
        catch (DbUpdateException)
        {
            if (await StoredBeforeAsync(row.Id).ConfigureAwait(false))
            {
                return false;
            }

            throw;
        }
    }

    private async Task SaveAsync(IEnumerable<MailMessage> rows)
    {
        // A fresh context per attempt: a failed save leaves its context holding the rows it could not insert.
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        db.AddRange(rows);
        await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private async Task<bool> StoredBeforeAsync(Guid id)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        return await db.Set<MailMessage>().AsNoTracking().AnyAsync(m => m.Id == id).ConfigureAwait(false);
    }

    private sealed record Pending(MailMessage Row, TaskCompletionSource<bool> Stored);
}
