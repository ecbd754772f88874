using Microsoft.EntityFrameworkCore;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Drop;

internal static class DropQueries
{
    public static async Task<Result<DropRecord>> FindAsync(VeilDbContext db, string id, CancellationToken cancellationToken)
    {
        if (!DropSecrets.IsWellFormedId(id))
        {
            return DropErrors.NotFound;
        }

        var drop = await db.Set<DropRecord>().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        return drop is null ? DropErrors.NotFound : drop;
    }

    /// <summary>The drop, if the caller owns it (owner token or signed-in creator).</summary>
    public static async Task<Result<DropRecord>> FindOwnedAsync(VeilDbContext db, string id, DropCaller caller, CancellationToken cancellationToken)
    {
        var drop = await FindAsync(db, id, cancellationToken);
        if (!drop.IsSuccess)
        {
            return drop;
        }

        return caller.Owns(drop.Value) ? drop : DropErrors.NotOwner;
    }

    public static async Task<IReadOnlyList<int>> ReceivedPartsAsync(VeilDbContext db, DropRecord drop, CancellationToken cancellationToken)
    {
        var parts = await db.Set<DropPart>().AsNoTracking().Where(p => p.DropId == drop.Id).OrderBy(p => p.Index).ToListAsync(cancellationToken);
        return [.. parts.Where(p => p.Size == drop.PartLength(p.Index)).Select(p => p.Index)];
    }
}

/// <summary>What the owner sees (spec/drop-api.md, owner stats).</summary>
internal sealed record OwnerStatsResponse(
    string Id, DateTimeOffset CreatedAt, bool Finalized, DateTimeOffset? ExpiresAt, int ExpiresInSeconds,
    int? MaxDownloads, int Downloads, long ContentSize, string State)
{
    public static OwnerStatsResponse Of(DropRecord drop, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(drop);
        return new(drop.Id, drop.CreatedAt, drop.FinalizedAt is not null, drop.ExpiresAt, drop.ExpiresInSeconds,
            drop.MaxDownloads, drop.Downloads, drop.ContentSize, StateName(drop.StateAt(now)));
    }

    public static string StateName(DropState state) => state switch
    {
        DropState.Uploading => "uploading",
        DropState.Available => "available",
        DropState.Expired => "expired",
        DropState.Exhausted => "exhausted",
        DropState.TakenDown => "taken-down",
        _ => "unknown",
    };
}
