// The owner's controls: stats, change expiry/limit, delete. Authorization: the owner token (or the
// signed-in creator); anyone else gets not-owner, whether or not they know the id.
using System.Buffers.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Drop;

internal sealed class OwnerStatsCommand(VeilDbContext db, TimeProvider time)
{
    public async Task<Result<OwnerStatsResponse>> ExecuteAsync(string id, DropCaller caller, CancellationToken cancellationToken)
    {
        var drop = await DropQueries.FindOwnedAsync(db, id, caller, cancellationToken);
        return drop.IsSuccess ? OwnerStatsResponse.Of(drop.Value, time.GetUtcNow()) : drop.Error;
    }
}

/// <summary>
/// PATCH body. Kept as a JSON element so "maxDownloads": null (remove the limit) and an absent member
/// (leave it) can be told apart.
/// </summary>
internal sealed class ChangeDropCommand(VeilDbContext db, TimeProvider time)
{
    public async Task<Result<OwnerStatsResponse>> ExecuteAsync(string id, JsonElement body, DropCaller caller, CancellationToken cancellationToken)
    {
        var drop = await DropQueries.FindOwnedAsync(db, id, caller, cancellationToken);
        if (!drop.IsSuccess)
        {
            return drop.Error;
        }

        var record = drop.Value;
        var now = time.GetUtcNow();
        if (record.TakenDownAt is not null || record.PurgedAt is not null)
        {
            return DropErrors.ForState(record.StateAt(now));
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            return PlatformErrors.MalformedJson;
        }

        if (TryGet(body, "expiresInSeconds", out var expiry))
        {
            if (expiry.ValueKind != JsonValueKind.Number || !expiry.TryGetInt64(out var seconds)
                || seconds < DropLimits.MinExpirySeconds || seconds > DropLimits.MaxExpirySeconds)
            {
                return DropErrors.InvalidExpiry;
            }

            record.ExpiresInSeconds = (int)seconds;
            if (record.FinalizedAt is not null)
            {
                record.ExpiresAt = now.AddSeconds(seconds);
            }
        }

        if (TryGet(body, "maxDownloads", out var limit))
        {
            if (limit.ValueKind == JsonValueKind.Null)
            {
                record.MaxDownloads = null;
            }
            else if (limit.ValueKind == JsonValueKind.Number && limit.TryGetInt64(out var max) && max is >= 1 and <= DropLimits.MaxDownloadLimit)
            {
                record.MaxDownloads = (int)max;
            }
            else
            {
                return DropErrors.InvalidDownloadLimit;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        return OwnerStatsResponse.Of(record, now);
    }

    private static bool TryGet(JsonElement body, string name, out JsonElement value)
    {
        foreach (var property in body.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}

internal sealed class DeleteDropCommand(VeilDbContext db, IBlobStore blobs, ILogger<DeleteDropCommand> logger)
{
    public async Task<Result<bool>> ExecuteAsync(string id, DropCaller caller, CancellationToken cancellationToken)
    {
        var drop = await DropQueries.FindOwnedAsync(db, id, caller, cancellationToken);
        if (!drop.IsSuccess)
        {
            return drop.Error;
        }

        // Row first (parts and tickets cascade), so no new download starts; then the blobs. If the
        // blob deletion fails, the purge job's orphan sweep removes them later.
        await db.Set<DropRecord>().Where(d => d.Id == id).ExecuteDeleteAsync(cancellationToken);
        await blobs.DeletePrefixAsync(DropRecord.BlobFolder(id), cancellationToken);
        DropLog.Deleted(logger, id);
        return true;
    }
}

/// <summary>
/// One of the signed-in owner's drops: the owner stats, whether a password wraps its key, and — when the sender
/// kept one — the name key wrapped under the user key with the metadata ciphertext it opens (spec/drop.md §8).
/// </summary>
internal sealed record OwnedDrop(
    string Id, DateTimeOffset CreatedAt, bool Finalized, DateTimeOffset? ExpiresAt, int? MaxDownloads, int Downloads,
    long ContentSize, string State, bool PasswordProtected, string? NameKey, string? Metadata);

internal sealed record OwnedDropsResponse(IReadOnlyList<OwnedDrop> Drops);

/// <summary>
/// <c>GET /api/v1/drops</c>: the drops the signed-in caller created, newest first, until the purge job has removed
/// their blobs. The server still cannot name a file: the name is in the metadata ciphertext, which the link's key
/// opens, or the owner's user key through the wrapped name key. Anonymous callers (owner tokens name one drop each)
/// get 401.
/// </summary>
internal sealed class ListOwnedDropsCommand(VeilDbContext db, TimeProvider time)
{
    /// <summary>A bound on the answer; the per-account quota keeps real lists far below it.</summary>
    public const int MaxDrops = 500;

    public async Task<Result<OwnedDropsResponse>> ExecuteAsync(DropCaller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (caller.UserId is null)
        {
            return AuthErrors.Unauthorized;
        }

        var ownerKey = "u:" + caller.UserId;
        var drops = await db.Set<DropRecord>().AsNoTracking()
            .Where(d => d.OwnerKey == ownerKey && d.PurgedAt == null)
            .ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        return new OwnedDropsResponse(drops
            .OrderByDescending(d => d.CreatedAt).ThenBy(d => d.Id, StringComparer.Ordinal)
            .Take(MaxDrops)
            .Select(d => new OwnedDrop(d.Id, d.CreatedAt, d.FinalizedAt is not null, d.ExpiresAt, d.MaxDownloads, d.Downloads,
                d.ContentSize, OwnerStatsResponse.StateName(d.StateAt(now)), d.WrappedKey is not null, d.OwnerNameKey,
                d.OwnerNameKey is not null && d.Metadata is not null ? Base64Url.EncodeToString(d.Metadata) : null))
            .ToList());
    }
}
