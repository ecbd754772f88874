// The purge job: removes the blobs of expired and exhausted drops, deletes abandoned uploads (not
// finalized, idle for 24 h), sweeps blob folders that have no live drop (a part that arrived while
// its drop was being deleted), drops expired tickets, and forgets tombstone rows after 30 days.
// An exhausted drop keeps its blobs until its last ticket expires, so the counted download that
// used it up can still finish or resume.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Drop;

internal sealed class DropPurgeJob(IOptions<DropOptions> options, IBlobStore blobs, TimeProvider time, ILogger<DropPurgeJob> logger) : IPeriodicJob
{
    public const string JobName = "drop-purge";
    private const int Batch = 500;

    public string Name => JobName;

    public TimeSpan Interval => options.Value.PurgeInterval;

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<VeilDbContext>();
        var now = time.GetUtcNow();
        var drops = db.Set<DropRecord>();
        var tickets = db.Set<DropTicket>();

        var expired = 0;
        while (true)
        {
            var ids = await drops
                .Where(d => d.PurgedAt == null && d.FinalizedAt != null
                    && (d.ExpiresAt <= now
                        || (d.MaxDownloads != null && d.Downloads >= d.MaxDownloads && !tickets.Any(t => t.DropId == d.Id && t.ExpiresAt > now))))
                .Select(d => d.Id).Take(Batch).ToListAsync(cancellationToken);
            if (ids.Count == 0)
            {
                break;
            }

            // Mark first (no new download starts), then delete the blobs; a crash in between leaves
            // folders the orphan sweep below removes next time.
            await drops.Where(d => ids.Contains(d.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.PurgedAt, now).SetProperty(d => d.Metadata, (byte[]?)null), cancellationToken);
            foreach (var id in ids)
            {
                await blobs.DeletePrefixAsync(DropRecord.BlobFolder(id), cancellationToken);
            }

            expired += ids.Count;
        }

        var abandoned = 0;
        var idleSince = now - DropLimits.AbandonedAfter;
        while (true)
        {
            var ids = await drops.Where(d => d.FinalizedAt == null && d.LastActivityAt < idleSince)
                .Select(d => d.Id).Take(Batch).ToListAsync(cancellationToken);
            if (ids.Count == 0)
            {
                break;
            }

            await drops.Where(d => ids.Contains(d.Id)).ExecuteDeleteAsync(cancellationToken);
            foreach (var id in ids)
            {
                await blobs.DeletePrefixAsync(DropRecord.BlobFolder(id), cancellationToken);
            }

            abandoned += ids.Count;
        }

        var orphans = 0;
        await foreach (var folder in blobs.ListFoldersAsync("drops", cancellationToken))
        {
            var id = folder.Name;
            if (!await drops.AnyAsync(d => d.Id == id && d.PurgedAt == null, cancellationToken))
            {
                await blobs.DeletePrefixAsync(DropRecord.BlobFolder(id), cancellationToken);
                orphans++;
            }
        }

        if (blobs is FileSystemBlobStore files)
        {
            files.DeleteAbandonedWrites(idleSince);
        }

        var forgetBefore = now - DropLimits.TombstoneLifetime;
        var tombstones = await drops.Where(d => d.PurgedAt != null && d.PurgedAt < forgetBefore).ExecuteDeleteAsync(cancellationToken);
        var oldTickets = await tickets.Where(t => t.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
        DropLog.Purged(logger, expired, abandoned, orphans, tombstones, oldTickets);
    }
}
