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
        // Proofs are against the published checkpoint (quorum-cosigned when the log has witnesses); an entry the tree
        // holds but no published checkpoint covers yet is shown as pending, like one not sequenced.
        var head = await db.Set<KtLogHead>().AsNoTracking().Where(h => h.Id == KtLogHead.SingleId)
            .Select(h => new { h.PublishedSize, h.PublishedCheckpoint }).FirstOrDefaultAsync(cancellationToken);
        if (head?.PublishedCheckpoint is not { } checkpoint)
        {
            return null;
        }

        var size = head.PublishedSize;
        var entries = await db.Set<KtEntry>().AsNoTracking().Where(e => e.Subject == subject)
            .OrderByDescending(e => e.Id).Take(MaxEntries).ToListAsync(cancellationToken);
        var shown = entries.Select(e => (Index: e.LeafIndex < size ? e.LeafIndex : null, e.Id, e.Body))
            .OrderBy(e => e.Index ?? long.MaxValue).ThenBy(e => e.Id).ToList();
        var validSince = since is { } s && s >= 0 && s <= size ? s : (long?)null;

        var needed = shown.Where(e => e.Index is not null).SelectMany(e => MerkleProof.InclusionNodes(e.Index!.Value, size)).ToHashSet();
        if (validSince is { } from)
        {
            needed.UnionWith(MerkleProof.ConsistencyNodes(from, size));
        }

        var nodes = await tiles.NodesAsync(needed, size, cancellationToken);
        var proofs = shown.Select(e => new KtEntryProofDto(e.Index, e.Body,
            e.Index is { } index ? MerkleProof.Inclusion(index, size, nodes) : [])).ToList();
        var consistency = validSince is { } first ? MerkleProof.Consistency(first, size, nodes) : null;
        return new KtLookupDto(checkpoint, size, proofs, validSince, consistency);
    }
}
