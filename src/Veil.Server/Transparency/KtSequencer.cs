// The sequencer: a leased periodic job (one node at a time) that moves pending entries into the tree.
// Each batch, in one database transaction:
//   1. takes up to BatchSize pending entries in id order and gives them the next leaf indexes;
//   2. appends their leaf hashes to the right frontier, collecting the nodes on tile levels (0, 8, 16, …);
//   3. writes the entry bundles and hash tiles the batch changed (the right-edge partial tile of each level
//      is read back and extended) — before the commit, so a committed checkpoint never lacks a tile;
//   4. signs the checkpoint of the new size and updates the head row only if its size is still the one read
//      (a second sequencer that slipped past the lease fails there and rolls back).
// An empty log gets its size-0 checkpoint on the first tick.
// After the batches, the tick publishes (PublishAsync): with witnesses, the head's checkpoint once a quorum of them
// cosigned it (KtWitnessing) — one round of witness requests per tick, however many batches it ran; without
// witnesses, the head's checkpoint as it is. Lookups and GET /kt/checkpoint serve only the published checkpoint.
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Crypto.Transparency;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Transparency;

internal sealed partial class KtSequencer(
    IOptions<KtOptions> options, KtLogKey logKey, KtWitnessPolicy policy, KtWitnessing witnessing, IOptions<VeilOptions> veil, TimeProvider time, ILogger<KtSequencer> logger)
    : IPeriodicJob
{
    public const string JobName = "kt-sequencer";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.SequencerInterval;

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<VeilDbContext>();
        var tiles = services.GetRequiredService<KtTiles>();
        var origin = services.GetRequiredService<PublicOrigin>();
        for (var batch = 0; batch < options.Value.MaxBatchesPerTick; batch++)
        {
            if (!await SequenceBatchAsync(db, tiles, origin, cancellationToken))
            {
                break;
            }

            db.ChangeTracker.Clear();
        }

        await PublishAsync(db, tiles, cancellationToken);
    }

    /// <summary>Publishes the head's checkpoint: with a quorum of witness cosignatures, or as it is when the log has no witnesses.</summary>
    private async Task PublishAsync(VeilDbContext db, KtTiles tiles, CancellationToken cancellationToken)
    {
        var head = await db.Set<KtLogHead>().AsNoTracking().FirstOrDefaultAsync(h => h.Id == KtLogHead.SingleId, cancellationToken);
        if (head is null || (head.PublishedCheckpoint is not null && head.PublishedSize == head.Size))
        {
            return;
        }

        var published = head.Checkpoint;
        if (!policy.HasWitnesses)
        {
            if (veil.Value.Production && !_warnedNoWitnesses)
            {
                _warnedNoWitnesses = true;
                LogNoWitnesses(logger);
            }
        }
        else
        {
            if (!SignedNote.TryParse(Encoding.UTF8.GetBytes(head.Checkpoint), out var note) || !Checkpoint.TryParse(note.Text, out var checkpoint))
            {
                throw new InvalidOperationException("The log head's checkpoint does not parse.");
            }

            var size = head.Size;
            published = await witnessing.CosignAsync(head.Checkpoint, checkpoint, new Ed25519NoteVerifier(head.Origin, logKey.PublicKey),
                async (from, ct) => MerkleProof.Consistency(from, size, await tiles.NodesAsync(MerkleProof.ConsistencyNodes(from, size), size, ct)),
                cancellationToken);
            if (published is null)
            {
                return;
            }
        }

        // Only forward: a slower node's older checkpoint never replaces a newer published one.
        var updated = await db.Set<KtLogHead>()
            .Where(h => h.Id == KtLogHead.SingleId && (h.PublishedCheckpoint == null || h.PublishedSize < head.Size))
            .ExecuteUpdateAsync(s => s.SetProperty(h => h.PublishedSize, head.Size).SetProperty(h => h.PublishedCheckpoint, published), cancellationToken);
        if (updated == 1)
        {
            LogPublished(logger, head.Size);
        }
    }

    /// <summary>Sequences one batch; false when there was nothing to do.</summary>
    private async Task<bool> SequenceBatchAsync(VeilDbContext db, KtTiles tiles, PublicOrigin origin, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var head = await db.Set<KtLogHead>().AsNoTracking().FirstOrDefaultAsync(h => h.Id == KtLogHead.SingleId, cancellationToken);
        var pending = await db.Set<KtEntry>().AsNoTracking().Where(e => e.LeafIndex == null).OrderBy(e => e.Id)
            .Take(options.Value.BatchSize).Select(e => new { e.Id, e.Body }).ToListAsync(cancellationToken);
        if (head is not null && pending.Count == 0)
        {
            return false;
        }

        var logOrigin = head?.Origin ?? options.Value.OriginOr(origin.Value);
        var oldSize = head?.Size ?? 0;
        var frontier = head is null ? new MerkleFrontier() : MerkleFrontier.Restore(oldSize, Split(head.Frontier));
        var levelNodes = new Dictionary<int, List<byte[]>>();
        foreach (var entry in pending)
        {
            frontier.Append(MerkleHasher.HashLeaf(entry.Body), (id, hash) =>
            {
                if (id.Level % TlogTiles.Height == 0)
                {
                    var tileLevel = id.Level / TlogTiles.Height;
                    if (!levelNodes.TryGetValue(tileLevel, out var list))
                    {
                        levelNodes[tileLevel] = list = [];
                    }

                    list.Add(hash);
                }
            });
        }

        var newSize = frontier.Size;
        await WriteTilesAsync(tiles, TileId.EntriesLevel, oldSize, newSize, pending.Select(e => e.Body).ToList(), cancellationToken);
        foreach (var (level, hashes) in levelNodes)
        {
            await WriteTilesAsync(tiles, level, oldSize >> (TlogTiles.Height * level), newSize >> (TlogTiles.Height * level), hashes, cancellationToken);
        }

        var root = frontier.Root();
        var checkpoint = SignedNote.Sign(new Checkpoint(logOrigin, newSize, root).ToText(), logKey.SignerFor(logOrigin)).ToString();
        var frontierBytes = frontier.Hashes.SelectMany(h => h).ToArray();
        var now = time.GetUtcNow();
        await AssignLeafIndexesAsync(db, pending.Select(e => e.Id).ToList(), oldSize, cancellationToken);
        if (head is null)
        {
            db.Add(new KtLogHead { Origin = logOrigin, Size = newSize, RootHash = root, Frontier = frontierBytes, Checkpoint = checkpoint, UpdatedAt = now });
            await db.SaveChangesAsync(cancellationToken);
        }
        else
        {
            var updated = await db.Set<KtLogHead>().Where(h => h.Id == KtLogHead.SingleId && h.Size == oldSize)
                .ExecuteUpdateAsync(s => s.SetProperty(h => h.Size, newSize).SetProperty(h => h.RootHash, root)
                    .SetProperty(h => h.Frontier, frontierBytes).SetProperty(h => h.Checkpoint, checkpoint).SetProperty(h => h.UpdatedAt, now), cancellationToken);
            if (updated != 1)
            {
                throw new InvalidOperationException("The log head moved during sequencing; this batch is rolled back.");
            }
        }

        await transaction.CommitAsync(cancellationToken);
        LogSequenced(logger, pending.Count, newSize);
        return true;
    }

    /// <summary>
    /// Gives the entries (ids ascending) the leaf indexes <paramref name="firstIndex"/>, +1, …: one set-based UPDATE per run
    /// of consecutive ids (usually the whole batch), rather than one statement per row.
    /// </summary>
    private static async Task AssignLeafIndexesAsync(VeilDbContext db, List<long> ids, long firstIndex, CancellationToken cancellationToken)
    {
        var runStart = 0;
        for (var i = 1; i <= ids.Count; i++)
        {
            if (i < ids.Count && ids[i] == ids[i - 1] + 1)
            {
                continue;
            }

            var fromId = ids[runStart];
            var toId = ids[i - 1];
            var offset = firstIndex + runStart - fromId;
            var updated = await db.Set<KtEntry>().Where(e => e.Id >= fromId && e.Id <= toId && e.LeafIndex == null)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.LeafIndex, e => e.Id + offset), cancellationToken);
            if (updated != i - runStart)
            {
                throw new InvalidOperationException("Pending entries changed during sequencing; this batch is rolled back.");
            }

            runStart = i;
        }
    }

    /// <summary>
    /// Writes the tiles of one level for items [<paramref name="oldCount"/>, <paramref name="newCount"/>): the partial
    /// tile at the old right edge is read back and extended; full tiles are written once, partial ones per width.
    /// </summary>
    private static async Task WriteTilesAsync(KtTiles tiles, int level, long oldCount, long newCount, List<byte[]> items, CancellationToken cancellationToken)
    {
        if (newCount == oldCount)
        {
            return;
        }

        var firstTile = oldCount / TlogTiles.Width;
        var carried = (int)(oldCount % TlogTiles.Width);
        var current = new List<byte[]>(TlogTiles.Width);
        if (carried > 0)
        {
            var existing = await tiles.ReadAsync(new TileId(level, firstTile, carried), cancellationToken)
                ?? throw new InvalidOperationException("The right-edge tile of the committed tree is missing from the blob store.");
            current.AddRange(level == TileId.EntriesLevel
                ? TlogTiles.DecodeEntryBundle(existing) ?? throw new InvalidOperationException("A stored entry bundle does not decode.")
                : existing.Chunk(MerkleHasher.HashLength));
        }

        var index = firstTile;
        foreach (var item in items)
        {
            current.Add(item);
            if (current.Count == TlogTiles.Width)
            {
                await tiles.WriteAsync(new TileId(level, index, TlogTiles.Width), Content(level, current), cancellationToken);
                current.Clear();
                index++;
            }
        }

        if (current.Count > 0)
        {
            await tiles.WriteAsync(new TileId(level, index, current.Count), Content(level, current), cancellationToken);
        }
    }

    private static byte[] Content(int level, List<byte[]> items)
        => level == TileId.EntriesLevel ? TlogTiles.EncodeEntryBundle(items) : items.SelectMany(h => h).ToArray();

    internal static List<byte[]> Split(byte[] frontier) => frontier.Chunk(MerkleHasher.HashLength).ToList();

    private bool _warnedNoWitnesses;

    [LoggerMessage(EventId = 3801, Level = LogLevel.Warning, Message = "Key transparency has no witnesses: checkpoints are published with the log's signature alone, so a split view is not detected (Veil:KeyTransparency:Witnesses)")]
    private static partial void LogNoWitnesses(ILogger logger);

    [LoggerMessage(EventId = 3802, Level = LogLevel.Information, Message = "Key transparency: published checkpoint {Size}")]
    private static partial void LogPublished(ILogger logger, long size);

    [LoggerMessage(EventId = 3800, Level = LogLevel.Information, Message = "Key transparency: sequenced {Count} entries, tree size {Size}")]
    private static partial void LogSequenced(ILogger logger, int count, long size);
}
