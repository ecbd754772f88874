// Proofs for key lookups: every sequenced entry of a subject (chat account, mail address) with its inclusion
// proof against the latest checkpoint, the entries still pending, and, given the size of the client's last
// checkpoint (?since=), the consistency proof from it. The client checks the checkpoint's signature (and,
// later, its witnesses), the consistency with what it saw before, each inclusion, and that the keys it is
// about to use are exactly those the entries add and do not remove (spec/kt.md, "Lookups").
using Microsoft.EntityFrameworkCore;
using Veil.Crypto.Transparency;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Transparency;

/// <summary>One logged entry: its leaf index (null while pending), its bytes and its inclusion proof.</summary>
internal sealed record KtEntryProofDto(long? Index, byte[] Entry, IReadOnlyList<byte[]> Inclusion);

/// <summary>The transparency part of a key lookup.</summary>
internal sealed record KtLookupDto(string Checkpoint, long Size, IReadOnlyList<KtEntryProofDto> Entries, long? Since, IReadOnlyList<byte[]>? Consistency);

internal sealed class KtProofs(VeilDbContext db, KtTiles tiles)
{
    /// <summary>The most entries a lookup returns (the newest ones).</summary>
    public const int MaxEntries = 256;

    /// <summary>The subject's entries with proofs, or null while the log has no checkpoint yet.</summary>
    public async Task<KtLookupDto?> ForSubjectAsync(string subject, long? since, CancellationToken cancellationToken)
    {
        var head = await db.Set<KtLogHead>().AsNoTracking().FirstOrDefaultAsync(h => h.Id == KtLogHead.SingleId, cancellationToken);
        if (head is null)
        {
            return null;
        }

        var entries = await db.Set<KtEntry>().AsNoTracking()
            .Where(e => e.Subject == subject && (e.LeafIndex == null || e.LeafIndex < head.Size))
            .OrderByDescending(e => e.Id).Take(MaxEntries).ToListAsync(cancellationToken);
        entries = [.. entries.OrderBy(e => e.LeafIndex ?? long.MaxValue).ThenBy(e => e.Id)];
        var sequenced = entries.Where(e => e.LeafIndex is not null).Select(e => e.LeafIndex!.Value).ToList();
        var validSince = since is { } s && s >= 0 && s <= head.Size ? s : (long?)null;

        var needed = sequenced.SelectMany(i => MerkleProof.InclusionNodes(i, head.Size)).ToHashSet();
        if (validSince is { } from)
        {
            needed.UnionWith(MerkleProof.ConsistencyNodes(from, head.Size));
        }

        var nodes = await tiles.NodesAsync(needed, head.Size, cancellationToken);
        var proofs = entries.Select(e => new KtEntryProofDto(e.LeafIndex, e.Body,
            e.LeafIndex is { } index ? MerkleProof.Inclusion(index, head.Size, nodes) : [])).ToList();
        var consistency = validSince is { } first ? MerkleProof.Consistency(first, head.Size, nodes) : null;
        return new KtLookupDto(head.Checkpoint, head.Size, proofs, validSince, consistency);
    }
}
