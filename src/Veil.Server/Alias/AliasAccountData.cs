// Account deletion and export for Alias. Deleting an account tombstones every address it held (alias and
// reverse addresses are never reissued, even after the account is gone) and removes every other row.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Auth;

namespace Veil.Server.Alias;

internal sealed class AliasAccountDataDeleter(AliasDirectory directory, ILogger<AliasAccountDataDeleter> logger) : IAccountDataDeleter
{
    public async Task DeleteAccountDataAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var db = directory.Db;
        var aliases = await db.Set<AliasRecord>().Where(a => a.AccountId == accountId).ToListAsync(cancellationToken);
        foreach (var alias in aliases)
        {
            await AliasEndpoints.DeleteAliasAsync(directory, alias, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        var recipients = await db.Set<AliasRecipient>().Where(r => r.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        await db.Set<AliasLogEntry>().Where(e => e.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        await db.Set<AliasDailyUsage>().Where(u => u.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        AliasLog.AccountDeleted(logger, aliases.Count, recipients);
    }
}

internal sealed record AliasExportContact(string Address, string ReverseAddress, bool Blocked, DateTimeOffset CreatedAt, long Forwarded, long Blocks, long Replied);

internal sealed record AliasExportAlias(string Address, string? Note, string? Label, bool Enabled, string DisabledAction, IReadOnlyList<string> Recipients,
    DateTimeOffset CreatedAt, AliasCountersDto Counters, IReadOnlyList<AliasExportContact> Contacts);

internal sealed record AliasExportRecipient(string Email, bool Verified, bool Paused, DateTimeOffset CreatedAt);

/// <summary>The account's recipients and aliases with their contacts, under <c>modules.alias</c> (addresses in clear: the owner's own data).</summary>
internal sealed class AliasAccountDataExporter(AliasDirectory directory) : IAccountDataExporter
{
    public string Module => "alias";

    public async Task<object?> ExportAccountDataAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var db = directory.Db;
        var recipients = await db.Set<AliasRecipient>().AsNoTracking().Where(r => r.AccountId == accountId).ToListAsync(cancellationToken);
        var aliases = await db.Set<AliasRecord>().AsNoTracking().Where(a => a.AccountId == accountId).ToListAsync(cancellationToken);
        if (recipients.Count == 0 && aliases.Count == 0)
        {
            return null;
        }

        var contacts = (await db.Set<AliasContact>().AsNoTracking().Where(c => c.AccountId == accountId).ToListAsync(cancellationToken)).ToLookup(c => c.AliasId);
        var emails = recipients.ToDictionary(r => r.Id, r => r.Email);
        return new
        {
            recipients = recipients.OrderBy(r => r.CreatedAt).Select(r => new AliasExportRecipient(r.Email, r.Verified, r.PausedAt is not null, r.CreatedAt)).ToList(),
            aliases = aliases.OrderBy(a => a.CreatedAt).Select(a => new AliasExportAlias(a.Address, a.Note, a.Label, a.Enabled, a.DisabledAction,
                [.. a.RecipientIds.Where(emails.ContainsKey).Select(id => emails[id])], a.CreatedAt,
                new AliasCountersDto(a.Received, a.Forwarded, a.Blocked, a.Replied, a.Bounced, a.LastEmailAt),
                [.. contacts[a.Id].OrderBy(c => c.CreatedAt).Select(c => new AliasExportContact(c.Address, c.ReverseAddress, c.IsBlocked, c.CreatedAt, c.Forwarded, c.BlockedCount, c.Replied))])).ToList(),
        };
    }
}
