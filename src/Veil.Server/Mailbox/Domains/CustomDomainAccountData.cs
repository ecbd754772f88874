using Microsoft.EntityFrameworkCore;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Mailbox.Domains;

internal sealed record CustomDomainExport(string Domain, bool Verified, DateTimeOffset CreatedAt, DateTimeOffset? VerifiedAt);

/// <summary>Account deletion removes the account's domains (and their DKIM keys); export lists them (never the keys).</summary>
internal sealed class CustomDomainAccountData(VeilDbContext db, VerifiedDomains verified) : IAccountDataDeleter, IAccountDataExporter
{
    public string Module => "mailDomains";

    public async Task DeleteAccountDataAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await db.Set<CustomDomain>().Where(x => x.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        // Inside the deletion's transaction: this reload may still see the rows; the next check or restart settles it,
        // and the account's aliases are deleted in the same transaction, so nothing routes to it meanwhile.
        await verified.ReloadAsync(db, cancellationToken);
    }

    public async Task<object?> ExportAccountDataAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var rows = await db.Set<CustomDomain>().AsNoTracking().Where(x => x.AccountId == accountId).ToListAsync(cancellationToken);
        return rows.Count == 0 ? null : rows.Select(x => new CustomDomainExport(x.Domain, x.Verified, x.CreatedAt, x.VerifiedAt)).ToList();
    }
}
