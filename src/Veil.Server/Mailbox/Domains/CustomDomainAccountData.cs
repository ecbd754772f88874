using Microsoft.EntityFrameworkCore;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Mailbox.Domains;

internal sealed record CustomDomainExport(string Domain, bool Verified, DateTimeOffset CreatedAt, DateTimeOffset? VerifiedAt);

/// <summary>Account deletion removes the account's domains (and their DKIM keys); export lists them (never the keys).</summary>
internal sealed class CustomDomainAccountData(VeilDbContext db) : IAccountDataDeleter, IAccountDataExporter
{
    public string Module => "mailDomains";

    public Task DeleteAccountDataAsync(Guid accountId, CancellationToken cancellationToken) =>
        db.Set<CustomDomain>().Where(x => x.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);

    public async Task<object?> ExportAccountDataAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var rows = await db.Set<CustomDomain>().AsNoTracking().Where(x => x.AccountId == accountId).ToListAsync(cancellationToken);
        return rows.Count == 0 ? null : rows.Select(x => new CustomDomainExport(x.Domain, x.Verified, x.CreatedAt, x.VerifiedAt)).ToList();
    }
}
