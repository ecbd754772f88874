// Account deletion and export for Drop. A signed-in user's drops are keyed by OwnerKey "u:<account id>"
// (indexed), the same key quotas and strikes use.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Drop;

internal static class DropAccountKeys
{
    public static string OwnerKey(Guid accountId) => "u:" + accountId.ToString("D");
}

/// <summary>
/// "Delete my account" removes the account's drops (rows, parts, tickets, blobs), its standing (strikes,
/// ban) and the abuse reports filed against its drops: once the drops are gone, an open report has
/// nothing left to act on, and keeping rows keyed by the account id would keep the account in the database.
/// </summary>
internal sealed class DropAccountDataDeleter(VeilDbContext db, IBlobStore blobs, ILogger<DropAccountDataDeleter> logger) : IAccountDataDeleter
{
    public async Task DeleteAccountDataAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var ownerKey = DropAccountKeys.OwnerKey(accountId);
        var ids = await db.Set<DropRecord>().Where(d => d.OwnerKey == ownerKey).Select(d => d.Id).ToListAsync(cancellationToken);

        // Rows first (parts and tickets cascade), inside the deletion's transaction, then the blobs. The
        // blob store is not transactional: if the transaction rolls back after this, the rows come back
        // without content — acceptable for data its owner asked to erase, and never the other way round
        // (blobs left behind after the account is gone). A part that lands while this runs is removed by
        // the purge job's orphan sweep.
        await db.Set<DropRecord>().Where(d => d.OwnerKey == ownerKey).ExecuteDeleteAsync(cancellationToken);
        await db.Set<DropReport>().Where(r => r.OwnerKey == ownerKey).ExecuteDeleteAsync(cancellationToken);
        await db.Set<DropOwnerStanding>().Where(s => s.OwnerKey == ownerKey).ExecuteDeleteAsync(cancellationToken);
        foreach (var id in ids)
        {
            await blobs.DeletePrefixAsync(DropRecord.BlobFolder(id), cancellationToken);
        }

        DropLog.AccountDropsDeleted(logger, ids.Count);
    }
}

/// <summary>One exported drop. There is no key to export: the server never had one.</summary>
internal sealed record DropExportItem(
    string Id, long ContentSize, string State, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, int? MaxDownloads, int Downloads, bool PasswordProtected);

/// <summary>The account's drops (ids, ciphertext sizes, expiry, download counts) under <c>modules.drop</c>.</summary>
internal sealed class DropAccountDataExporter(VeilDbContext db, TimeProvider time) : IAccountDataExporter
{
    public string Module => "drop";

    public async Task<object?> ExportAccountDataAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var ownerKey = DropAccountKeys.OwnerKey(accountId);
        var drops = await db.Set<DropRecord>().AsNoTracking().Where(d => d.OwnerKey == ownerKey).ToListAsync(cancellationToken);
        if (drops.Count == 0)
        {
            return null;
        }

        var now = time.GetUtcNow();
        return new
        {
            drops = drops.OrderBy(d => d.CreatedAt).ThenBy(d => d.Id, StringComparer.Ordinal)
                .Select(d => new DropExportItem(d.Id, d.ContentSize, OwnerStatsResponse.StateName(d.StateAt(now)), d.CreatedAt, d.ExpiresAt,
                    d.MaxDownloads, d.Downloads, d.WrappedKey is not null))
                .ToList(),
        };
    }
}
