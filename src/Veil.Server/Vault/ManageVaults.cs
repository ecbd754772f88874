using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Vault;

internal sealed record CreateVaultRequest(string? Id, string? Name, string? WrappedKey);

/// <summary>Reads shared by the Vault commands: ownership and quota.</summary>
internal static class VaultQueries
{
    /// <summary>
    /// The caller's vault, or null. A vault that exists but belongs to someone else is reported exactly
    /// like a missing one: a user must not learn anything about another user's vaults, not even that an id is taken.
    /// </summary>
    public static Task<VaultRecord?> FindOwnedAsync(VeilDbContext db, string id, Guid ownerId, CancellationToken cancellationToken) =>
        VaultFormat.IsId(id)
            ? db.Set<VaultRecord>().FirstOrDefaultAsync(v => v.Id == id && v.OwnerId == ownerId, cancellationToken)
            : Task.FromResult<VaultRecord?>(null);

    /// <summary>Stored encrypted bytes of every vault of <paramref name="ownerId"/> (spec/vault-api.md, quota).</summary>
    public static async Task<long> UsedBytesAsync(VeilDbContext db, Guid ownerId, CancellationToken cancellationToken)
    {
        var vaults = db.Set<VaultRecord>().Where(v => v.OwnerId == ownerId);
        var own = await vaults.SumAsync(v => v.Size, cancellationToken);
        var items = await db.Set<VaultItem>().Where(i => vaults.Any(v => v.Id == i.VaultId)).SumAsync(i => i.Size, cancellationToken);
        var files = await db.Set<VaultFile>().Where(f => vaults.Any(v => v.Id == f.VaultId))
            .SumAsync(f => f.Size + f.Name.Length + f.Key.Length, cancellationToken);
        return own + items + files;
    }

    public static async Task<IReadOnlyList<VaultDto>> DescribeAsync(VeilDbContext db, IReadOnlyList<VaultRecord> vaults, CancellationToken cancellationToken)
    {
        var ids = vaults.Select(v => v.Id).ToList();
        var items = await db.Set<VaultItem>().Where(i => ids.Contains(i.VaultId))
            .GroupBy(i => i.VaultId).Select(g => new { g.Key, Count = g.Count(), Bytes = g.Sum(i => i.Size) }).ToListAsync(cancellationToken);
        var files = await db.Set<VaultFile>().Where(f => ids.Contains(f.VaultId))
            .GroupBy(f => f.VaultId).Select(g => new { g.Key, Bytes = g.Sum(f => f.Size + f.Name.Length + f.Key.Length) }).ToListAsync(cancellationToken);
        var recipients = await db.Set<VaultRecipient>().Where(r => ids.Contains(r.VaultId))
            .GroupBy(r => r.VaultId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var switches = await db.Set<VaultSwitch>().AsNoTracking().Where(s => ids.Contains(s.VaultId)).ToListAsync(cancellationToken);
        return [.. vaults.Select(v =>
        {
            var i = items.FirstOrDefault(x => x.Key == v.Id);
            var f = files.FirstOrDefault(x => x.Key == v.Id);
            var s = switches.FirstOrDefault(x => x.VaultId == v.Id);
            return new VaultDto(v.Id, v.Name, v.WrappedKey, v.CreatedAt, v.Size + (i?.Bytes ?? 0) + (f?.Bytes ?? 0), i?.Count ?? 0,
                recipients.FirstOrDefault(x => x.Key == v.Id)?.Count ?? 0, s is null ? null : SwitchDto.From(s));
        })];
    }
}

internal sealed class CreateVaultCommand(VeilDbContext db, IOptionsSnapshot<VaultOptions> options, TimeProvider time, ILogger<CreateVaultCommand> logger)
{
    public async Task<Result<VaultDto>> ExecuteAsync(CreateVaultRequest request, Guid ownerId, CancellationToken cancellationToken)
    {
        if (!VaultFormat.IsId(request.Id))
        {
            return VaultErrors.InvalidId;
        }

        if (!VaultFormat.IsCt(request.Name))
        {
            return new InvalidCiphertextError("name");
        }

        if (!VaultFormat.IsCt(request.WrappedKey))
        {
            return new InvalidCiphertextError("wrappedKey");
        }

        if (await db.Set<VaultRecord>().CountAsync(v => v.OwnerId == ownerId, cancellationToken) >= options.Value.MaxVaults)
        {
            return VaultErrors.TooManyVaults;
        }

        if (await db.Set<VaultRecord>().AnyAsync(v => v.Id == request.Id, cancellationToken))
        {
            return VaultErrors.AlreadyExists;
        }

        var size = (long)request.Name!.Length + request.WrappedKey!.Length;
        if (await VaultQueries.UsedBytesAsync(db, ownerId, cancellationToken) + size > options.Value.QuotaBytes)
        {
            return VaultErrors.QuotaExceeded;
        }

        var vault = new VaultRecord { Id = request.Id!, OwnerId = ownerId, Name = request.Name, WrappedKey = request.WrappedKey, Size = size, CreatedAt = time.GetUtcNow() };
        db.Add(vault);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return VaultErrors.AlreadyExists; // a concurrent create took the id
        }

        VaultLog.VaultCreated(logger, vault.Id);
        return new VaultDto(vault.Id, vault.Name, vault.WrappedKey, vault.CreatedAt, size, 0, 0, null);
    }
}

internal sealed class ReadVaultsCommand(VeilDbContext db)
{
    public async Task<VaultListDto> ListAsync(Guid ownerId, CancellationToken cancellationToken)
    {
        var vaults = await db.Set<VaultRecord>().AsNoTracking().Where(v => v.OwnerId == ownerId).ToListAsync(cancellationToken);
        var ordered = vaults.OrderBy(v => v.CreatedAt).ThenBy(v => v.Id, StringComparer.Ordinal).ToList();
        return new VaultListDto(await VaultQueries.DescribeAsync(db, ordered, cancellationToken));
    }

    public async Task<Result<VaultDto>> GetAsync(string id, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, id, ownerId, cancellationToken);
        return vault is null ? VaultErrors.VaultNotFound : (await VaultQueries.DescribeAsync(db, [vault], cancellationToken))[0];
    }
}

internal sealed class DeleteVaultCommand(VeilDbContext db, IBlobStore blobs, ILogger<DeleteVaultCommand> logger)
{
    public async Task<Result<bool>> ExecuteAsync(string id, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, id, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        await DeleteAsync(db, blobs, [vault.Id], cancellationToken);
        VaultLog.VaultDeleted(logger, vault.Id);
        return true;
    }

    /// <summary>Deletes vaults with everything they hold: rows first (children cascade), then the blobs.</summary>
    public static async Task DeleteAsync(VeilDbContext db, IBlobStore blobs, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        // Explicit deletes rather than relying on cascades alone: SQLite enforces them only with its
        // foreign-key pragma, and a bulk delete must not depend on that.
        await db.Set<VaultClaimLink>().Where(l => ids.Contains(l.VaultId)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<VaultRecipient>().Where(r => ids.Contains(r.VaultId)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<VaultSwitch>().Where(s => ids.Contains(s.VaultId)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<VaultFile>().Where(f => ids.Contains(f.VaultId)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<VaultItem>().Where(i => ids.Contains(i.VaultId)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<VaultRecord>().Where(v => ids.Contains(v.Id)).ExecuteDeleteAsync(cancellationToken);
        foreach (var id in ids)
        {
            await blobs.DeletePrefixAsync(VaultRecord.BlobFolder(id), cancellationToken);
        }
    }
}
