// Account deletion and export for Vault. Vaults are keyed by OwnerId (indexed).
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Vault;

/// <summary>"Delete my account" removes every vault with its items, files, switch, recipients, escrows, sealed keys and links.</summary>
internal sealed class VaultAccountDataDeleter(VeilDbContext db, IBlobStore blobs, ILogger<VaultAccountDataDeleter> logger) : IAccountDataDeleter
{
    public async Task DeleteAccountDataAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var ids = await db.Set<VaultRecord>().Where(v => v.OwnerId == accountId).Select(v => v.Id).ToListAsync(cancellationToken);
        await DeleteVaultCommand.DeleteAsync(db, blobs, ids, cancellationToken);
        VaultLog.AccountVaultsDeleted(logger, ids.Count);
    }
}

internal sealed record VaultExportItem(string Id, DateTimeOffset CreatedAt, long UsedBytes, int ItemCount, int FileCount, int RecipientCount, string? SwitchState);

/// <summary>
/// The account's vaults under <c>modules.vault</c>: metadata only. The ciphertexts are the owner's
/// client's to keep; exporting them adds nothing the user key does not already open.
/// </summary>
internal sealed class VaultAccountDataExporter(VeilDbContext db) : IAccountDataExporter
{
    public string Module => "vault";

    public async Task<object?> ExportAccountDataAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var vaults = await db.Set<VaultRecord>().AsNoTracking().Where(v => v.OwnerId == accountId).ToListAsync(cancellationToken);
        if (vaults.Count == 0)
        {
            return null;
        }

        var ordered = vaults.OrderBy(v => v.CreatedAt).ThenBy(v => v.Id, StringComparer.Ordinal).ToList();
        var described = await VaultQueries.DescribeAsync(db, ordered, cancellationToken);
        var ids = ordered.Select(v => v.Id).ToList();
        var fileCounts = await db.Set<VaultFile>().Where(f => ids.Contains(f.VaultId)).GroupBy(f => f.VaultId)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        return new
        {
            vaults = described.Select(v => new VaultExportItem(v.Id, v.CreatedAt, v.UsedBytes, v.ItemCount, fileCounts.GetValueOrDefault(v.Id),
                v.RecipientCount, v.Switch?.State)).ToList(),
        };
    }
}
