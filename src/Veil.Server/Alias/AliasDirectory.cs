// The lookups SMTP and the API share. Every address lookup goes through a blind index: no row is
// decrypted to find a match, and the database is never asked about a plaintext address.
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;
using Veil.Server.Platform.Plans;

namespace Veil.Server.Alias;

internal sealed class AliasDirectory(VeilDbContext db, IOptions<AliasOptions> options, AccountPlans plans, TimeProvider time)
{
    public VeilDbContext Db => db;

    public AliasOptions Options => options.Value;

    public Task<AliasRecord?> FindAliasAsync(string address, CancellationToken ct) =>
        db.Set<AliasRecord>().WhereBlindIndexMatches(a => a.AddressIndex, address).FirstOrDefaultAsync(ct);

    /// <summary>What RCPT needs to know of an alias, read without decrypting any column (the SMTP hot path).</summary>
    public Task<AliasRouting?> FindAliasRoutingAsync(string address, CancellationToken ct) =>
        db.Set<AliasRecord>().WhereBlindIndexMatches(a => a.AddressIndex, address).AsNoTracking()
            .Select(a => new AliasRouting(a.Id, a.AccountId, a.Enabled, a.DisabledAction)).FirstOrDefaultAsync(ct);

    public Task<AliasContact?> FindContactByReverseAsync(string address, CancellationToken ct) =>
        db.Set<AliasContact>().WhereBlindIndexMatches(c => c.ReverseAddressIndex, address).FirstOrDefaultAsync(ct);

    public Task<AliasContact?> FindContactAsync(Guid aliasId, string address, CancellationToken ct) =>
        db.Set<AliasContact>().WhereBlindIndexMatches(c => c.PairIndex, AliasContact.PairKeyOf(aliasId, address)).FirstOrDefaultAsync(ct);

    public Task<bool> IsTombstonedAsync(string address, CancellationToken ct) =>
        db.Set<AliasTombstone>().WhereBlindIndexMatches(t => t.AddressIndex, address).AnyAsync(ct);

    /// <summary>Whether <paramref name="address"/> is anything at all (live alias, reverse address, tombstone): never issue it again.</summary>
    public async Task<bool> IsTakenAsync(string address, CancellationToken ct) =>
        await FindAliasAsync(address, ct) is not null
        || await db.Set<AliasContact>().WhereBlindIndexMatches(c => c.ReverseAddressIndex, address).AnyAsync(ct)
        || await IsTombstonedAsync(address, ct);

    /// <summary>The account's verified recipient with this address, or null.</summary>
    public Task<AliasRecipient?> FindVerifiedRecipientAsync(Guid accountId, string email, CancellationToken ct) =>
        db.Set<AliasRecipient>().WhereBlindIndexMatches(r => r.EmailIndex, email)
            .Where(r => r.AccountId == accountId && r.VerifiedAt != null).FirstOrDefaultAsync(ct);

    public Task<List<AliasRecipient>> RecipientsOfAsync(Guid accountId, CancellationToken ct) =>
        db.Set<AliasRecipient>().Where(r => r.AccountId == accountId).OrderBy(r => r.CreatedAt).ToListAsync(ct);

    public string Today => time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public async Task<AliasDailyUsage> UsageAsync(Guid accountId, CancellationToken ct)
    {
        var day = Today;
        // A row this context already holds (possibly added and not saved yet) first: never two rows for one day.
        var usage = db.ChangeTracker.Entries<AliasDailyUsage>().Select(e => e.Entity).FirstOrDefault(u => u.AccountId == accountId && u.Day == day)
            ?? await db.Set<AliasDailyUsage>().FirstOrDefaultAsync(u => u.AccountId == accountId && u.Day == day, ct);
        if (usage is null)
        {
            usage = new AliasDailyUsage { AccountId = accountId, Day = day };
            db.Add(usage);
        }

        return usage;
    }

    public async Task<bool> ForwardQuotaLeftAsync(Guid accountId, CancellationToken ct)
    {
        var day = Today;
        var used = await db.Set<AliasDailyUsage>().Where(u => u.AccountId == accountId && u.Day == day).Select(u => (int?)u.Forwarded).FirstOrDefaultAsync(ct) ?? 0;
        return used < (await plans.LimitsAsync(accountId, ct)).AliasDailyForwards;
    }

    /// <summary>Writes a tombstone for <paramref name="address"/> (blind index only); the caller saves.</summary>
    public void Tombstone(string address) =>
        db.Add(new AliasTombstone { Id = Guid.NewGuid(), Address = address, CreatedAt = time.GetUtcNow() });

    public void Log(Guid accountId, Guid? aliasId, string @event, string? reason) =>
        db.Add(new AliasLogEntry { Id = Guid.NewGuid(), AccountId = accountId, AliasId = aliasId, At = time.GetUtcNow(), Event = @event, Reason = reason });

    /// <summary>A fresh address at <paramref name="domain"/> that never existed, or null after many collisions.</summary>
    public async Task<string?> NewAddressAsync(Func<string> localPart, string domain, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var address = localPart() + "@" + domain;
            if (!await IsTakenAsync(address, ct))
            {
                return address;
            }
        }

        return null;
    }

    /// <summary>Creates the contact for (alias, address) if it does not exist yet; the caller saves.</summary>
    public async Task<AliasContact> EnsureContactAsync(AliasRecord alias, string address, CancellationToken ct)
    {
        if (await FindContactAsync(alias.Id, address, ct) is { } existing)
        {
            return existing;
        }

        var local = db.ChangeTracker.Entries<AliasContact>().Select(e => e.Entity)
            .FirstOrDefault(c => c.AliasId == alias.Id && c.Address == address);
        if (local is not null)
        {
            return local;
        }

        var reverse = await NewAddressAsync(AliasAddresses.ReverseLocalPart, alias.Domain, ct)
            ?? throw new InvalidOperationException("No free reverse address.");
        var contact = new AliasContact
        {
            Id = Guid.NewGuid(),
            AliasId = alias.Id,
            AccountId = alias.AccountId,
            Address = address,
            ReverseAddress = reverse,
            CreatedAt = time.GetUtcNow(),
        };
        db.Add(contact);
        return contact;
    }
}

/// <summary>An alias as RCPT sees it.</summary>
internal sealed record AliasRouting(Guid Id, Guid AccountId, bool Enabled, string DisabledAction);

internal static class AliasEvents
{
    public const string Forwarded = "forwarded";
    public const string Blocked = "blocked";
    public const string Rejected = "rejected";
    public const string Discarded = "discarded";
    public const string Replied = "replied";
    public const string Bounced = "bounced";
    public const string Failed = "failed";

    /// <summary>The next hop did not take it yet; it waits in the outbound queue ("forwarded" or "failed" follows).</summary>
    public const string Deferred = "deferred";
}
