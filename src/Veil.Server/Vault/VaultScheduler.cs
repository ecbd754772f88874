// The switch scheduler. Each tick reads due switches through the NextActionAt index only
// (WHERE NextActionAt <= now ORDER BY NextActionAt LIMIT batch), so its cost follows the number of
// switches due, not the number of switches: a million idle vaults cost one index probe. For each
// due switch it either sends the latest reminder that is due (earlier ones missed while the server
// was down are skipped, not sent in a burst) or, once releaseAt has passed, releases the vault:
// one fresh claim link per recipient, mailed to them, and a notice to the owner.
// Each batch is one database transaction (one commit, one fsync, however many switches it holds);
// its mail goes out after the commit (the outbox is durable), so no mail announces a change that was
// rolled back. A switch changed concurrently by a check-in fails its optimistic version check and is
// left to the next tick; the rest of the batch goes on.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Vault;

internal sealed class VaultScheduler(IOptions<VaultOptions> options, TimeProvider time, ILogger<VaultScheduler> logger) : IPeriodicJob, IDisposable
{
    // One tick at a time in this process: a tick run on demand (operators, tests) waits for a timer tick
    // in progress, so when it returns, everything due up to its start has been handled and mailed.
    private readonly SemaphoreSlim _oneTick = new(1, 1);

    public const string JobName = "vault-switch";

    /// <summary>At most this many batches per tick, so one tick stays bounded; the rest waits for the next.</summary>
    private const int MaxBatchesPerTick = 20;

    public string Name => JobName;

    public TimeSpan Interval => options.Value.SchedulerInterval;

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        await TickAsync(services, cancellationToken);

    public void Dispose() => _oneTick.Dispose();

    /// <summary>One tick; returns how many switches it acted on (the benchmark reads it).</summary>
    public async Task<int> TickAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await _oneTick.WaitAsync(cancellationToken);
        try
        {
            return await TickOnceAsync(services, cancellationToken);
        }
        finally
        {
            _oneTick.Release();
        }
    }

    private async Task<int> TickOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<VeilDbContext>();
        var secrets = services.GetRequiredService<VaultSecrets>();
        var mail = services.GetRequiredService<VaultMail>();
        var now = time.GetUtcNow();
        var batchSize = options.Value.SchedulerBatchSize;
        int reminders = 0, releases = 0, skipped = 0;
        for (var batch = 0; batch < MaxBatchesPerTick; batch++)
        {
            var due = await db.Set<VaultSwitch>()
                .Where(s => s.NextActionAt != null && s.NextActionAt <= now)
                .OrderBy(s => s.NextActionAt)
                .Take(batchSize)
                .ToListAsync(cancellationToken);
            if (due.Count == 0)
            {
                break;
            }

            var mails = new List<Func<Task>>();
            var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await using (transaction)
            {
                foreach (var outcome in await ProcessAsync(db, secrets, mail, due, now, mails, cancellationToken))
                {
                    _ = outcome switch
                    {
                        Outcome.Released => releases++,
                        Outcome.Reminded => reminders++,
                        _ => skipped++,
                    };
                }

                await transaction.CommitAsync(cancellationToken);
            }

            foreach (var send in mails)
            {
                await send();
            }

            db.ChangeTracker.Clear();
            if (due.Count < batchSize)
            {
                break;
            }
        }

        if (reminders + releases + skipped > 0)
        {
            VaultLog.Ticked(logger, reminders, releases, skipped);
        }

        return reminders + releases;
    }

    private async Task<List<Outcome>> ProcessAsync(
        VeilDbContext db, VaultSecrets secrets, VaultMail mail, List<VaultSwitch> due, DateTimeOffset now, List<Func<Task>> mails, CancellationToken cancellationToken)
    {
        // Two lookups per batch, not per switch: each vault's owner, then the owners' addresses
        // (field-decrypted as the context materialises them).
        var vaultIds = due.Select(s => s.VaultId).ToList();
        var owners = await db.Set<VaultRecord>().AsNoTracking().Where(v => vaultIds.Contains(v.Id))
            .Select(v => new { v.Id, v.OwnerId }).ToDictionaryAsync(v => v.Id, v => v.OwnerId, cancellationToken);
        var ownerIds = owners.Values.Distinct().ToList();
        var addresses = await db.Set<Account>().AsNoTracking().Where(a => ownerIds.Contains(a.Id))
            .Select(a => new { a.Id, a.Email }).ToDictionaryAsync(a => a.Id, a => a.Email, cancellationToken);
        var outcomes = new List<Outcome>(due.Count);
        foreach (var s in due)
        {
            var ownerAddress = addresses.GetValueOrDefault(owners[s.VaultId]);
            outcomes.Add(s.ReleaseAt <= now
                ? await ReleaseAsync(db, secrets, mail, s, ownerAddress, now, mails, cancellationToken)
                : await RemindAsync(db, secrets, mail, s, ownerAddress, now, mails, cancellationToken));
        }

        return outcomes;
    }

    private enum Outcome
    {
        Reminded,
        Released,
        Skipped,
    }

    private static async Task<Outcome> RemindAsync(
        VeilDbContext db, VaultSecrets secrets, VaultMail mail, VaultSwitch s, string? owner, DateTimeOffset now, List<Func<Task>> mails, CancellationToken cancellationToken)
    {
        var schedule = VaultSchedule.Reminders(s);
        var latestDue = -1;
        for (var i = s.RemindersSent; i < schedule.Count && schedule[i].At <= now; i++)
        {
            latestDue = i;
        }

        if (latestDue < 0)
        {
            // NextActionAt was stale (settings changed); recompute it.
            s.NextActionAt = VaultSchedule.NextAction(s);
            s.Version++;
            await TrySaveAsync(db, cancellationToken);
            return Outcome.Skipped;
        }

        s.RecordReminder(latestDue + 1);
        if (!await TrySaveAsync(db, cancellationToken))
        {
            return Outcome.Skipped;
        }

        if (owner is not null)
        {
            var (kind, token) = (schedule[latestDue].Kind, secrets.NewCheckInToken(s.VaultId, s.Generation));
            mails.Add(() => mail.SendReminderAsync(owner, kind, s, token, cancellationToken));
        }

        return Outcome.Reminded;
    }

    private async Task<Outcome> ReleaseAsync(
        VeilDbContext db, VaultSecrets secrets, VaultMail mail, VaultSwitch s, string? owner, DateTimeOffset now, List<Func<Task>> mails, CancellationToken cancellationToken)
    {
        s.Release(now);
        var recipients = await db.Set<VaultRecipient>().Where(r => r.VaultId == s.VaultId && r.State == VaultRecipientState.Waiting && r.SealedDeliveryKey != null)
            .ToListAsync(cancellationToken);
        var expires = now + options.Value.ClaimLinkLifetime;
        var letters = new List<(string To, string Token)>();
        foreach (var recipient in recipients)
        {
            var (token, digest) = secrets.NewLinkToken(recipient.Id);
            db.Add(new VaultClaimLink { Digest = digest, VaultId = s.VaultId, SubjectId = recipient.Id, CreatedAt = now, ExpiresAt = expires });
            recipient.State = VaultRecipientState.Notified;
            recipient.NotifiedAt = now;
            letters.Add((recipient.Email, token));
        }

        if (!await TrySaveAsync(db, cancellationToken))
        {
            return Outcome.Skipped;
        }

        foreach (var (to, token) in letters)
        {
            mails.Add(() => mail.SendLinkToRecipientAsync(to, token, expires, cancellationToken));
        }

        if (owner is not null)
        {
            mails.Add(() => mail.SendReleasedToOwnerAsync(owner, now, letters.Count, cancellationToken));
        }

        VaultLog.Released(logger, s.VaultId, letters.Count);
        return Outcome.Released;
    }

    private static async Task<bool> TrySaveAsync(VeilDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateConcurrencyException)
        {
            // A check-in, pause or cancel won the race; the next tick sees the new state. Only this
            // switch's pending changes are dropped: the rest of the batch stays tracked.
            foreach (var entry in db.ChangeTracker.Entries().Where(e => e.State != EntityState.Unchanged).ToList())
            {
                entry.State = EntityState.Detached;
            }

            return false;
        }
    }
}
