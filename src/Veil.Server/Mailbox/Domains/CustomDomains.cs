// Custom domains: add (a DKIM key and an ownership token are generated), list, check (DNS), remove. Authorization:
// every query is filtered by the caller's account, so another account's ids answer like ids that do not exist.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Veil.Server.Alias;
using Veil.Server.Mail;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox.Domains;

internal sealed record CustomDomainDto(Guid Id, string Domain, bool Verified, DateTimeOffset CreatedAt, DateTimeOffset? CheckedAt,
    DateTimeOffset? VerifiedAt, IReadOnlyList<DnsRecordDto> Records);

internal sealed record CustomDomainsResponse(IReadOnlyList<CustomDomainDto> Domains);

/// <summary>The result of a check: every record's status, and the domain as it stands after it.</summary>
/// <param name="Domain">The domain after the check.</param>
/// <param name="Conclusive">False when a DNS lookup failed: the verification state was left unchanged.</param>
/// <param name="Checks">One per record, in check order.</param>
internal sealed record CustomDomainCheckResponse(CustomDomainDto Domain, bool Conclusive, IReadOnlyList<DomainCheckDto> Checks);

/// <summary>
/// The seam for modules that put addresses on users' domains (Alias now, the mailbox later): is
/// <c>domain</c> a custom domain that <c>accountId</c> holds verified right now?
/// </summary>
internal interface IMailDomainVerification
{
    Task<bool> IsVerifiedForAccountAsync(Guid accountId, string domain, CancellationToken cancellationToken);

    /// <summary>The account's verified custom domains (A-labels, sorted): where it may add mailbox addresses.</summary>
    Task<IReadOnlyList<string>> VerifiedForAccountAsync(Guid accountId, CancellationToken cancellationToken);
}

internal sealed class CustomDomains(VeilDbContext db, DomainCheck check, CustomDomainOptions options, IOptions<AliasOptions> aliases, VerifiedDomains verified, TimeProvider time)
    : IMailDomainVerification
{
    public async Task<bool> IsVerifiedForAccountAsync(Guid accountId, string domain, CancellationToken cancellationToken) =>
        DkimKeyAdmin.NormalizeDomain(domain) is { } d
        && await db.Set<CustomDomain>().AnyAsync(x => x.AccountId == accountId && x.Domain == d && x.VerifiedAt != null, cancellationToken);

    public async Task<IReadOnlyList<string>> VerifiedForAccountAsync(Guid accountId, CancellationToken cancellationToken) =>
        await db.Set<CustomDomain>().Where(x => x.AccountId == accountId && x.VerifiedAt != null)
            .OrderBy(x => x.Domain).Select(x => x.Domain).ToListAsync(cancellationToken);

    public async Task<Result<CustomDomainDto>> AddAsync(Guid accountId, string? domain, CancellationToken ct)
    {
        if (DkimKeyAdmin.NormalizeDomain(domain) is not { } d)
        {
            return CustomDomainErrors.Invalid("domain", "must be a domain name such as example.com");
        }

        if (aliases.Value.IsAliasDomain(d) || d == options.MxHost || d.EndsWith("." + options.MxHost, StringComparison.Ordinal))
        {
            return CustomDomainErrors.OperatorDomain;
        }

        var mine = await db.Set<CustomDomain>().Where(x => x.AccountId == accountId).Select(x => x.Domain).ToListAsync(ct);
        if (mine.Contains(d))
        {
            return CustomDomainErrors.Exists;
        }

        if (mine.Count >= options.MaxPerAccount)
        {
            return CustomDomainErrors.Limit;
        }

        if (await ClaimedByOtherAsync(accountId, d, ct))
        {
            return CustomDomainErrors.Claimed;
        }

        var entity = CustomDomain.Create(accountId, d, time.GetUtcNow());
        db.Add(entity);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two adds of the same domain raced: the unique (account, domain) index decided.
            db.ChangeTracker.Clear();
            return CustomDomainErrors.Exists;
        }

        return Dto(entity);
    }

    public async Task<IReadOnlyList<CustomDomainDto>> ListAsync(Guid accountId, CancellationToken ct)
    {
        var domains = await db.Set<CustomDomain>().AsNoTracking().Where(x => x.AccountId == accountId).ToListAsync(ct);
        return [.. domains.OrderBy(x => x.Domain, StringComparer.Ordinal).Select(Dto)];
    }

    public async Task<Result<CustomDomainCheckResponse>> CheckAsync(Guid accountId, Guid id, CancellationToken ct)
    {
        var entity = await db.Set<CustomDomain>().FirstOrDefaultAsync(x => x.Id == id && x.AccountId == accountId, ct);
        if (entity is null)
        {
            return CustomDomainErrors.NotFound;
        }

        var checks = await check.RunAsync(entity, ct);
        var conclusive = checks.All(c => c.Status != DomainCheck.DnsError);
        var now = time.GetUtcNow();
        if (!conclusive)
        {
            entity.RecordInconclusiveCheck(now);
        }
        else if (checks.All(c => c.Ok) && await ClaimedByOtherAsync(accountId, entity.Domain, ct))
        {
            // The records are right, but another account holds the domain verified: the first verified claim stands
            // until its own check fails (its token gone from DNS), so a domain never has two owners at once.
            return CustomDomainErrors.Claimed;
        }
        else
        {
            entity.RecordCheck(checks.All(c => c.Ok), now);
        }

        await db.SaveChangesAsync(ct);
        await verified.ReloadAsync(db, ct);
        return new CustomDomainCheckResponse(Dto(entity), conclusive, checks);
    }

    public async Task<Result<bool>> RemoveAsync(Guid accountId, Guid id, CancellationToken ct)
    {
        var removed = await db.Set<CustomDomain>().Where(x => x.Id == id && x.AccountId == accountId).ExecuteDeleteAsync(ct);
        await verified.ReloadAsync(db, ct);
        return removed == 0 ? CustomDomainErrors.NotFound : Result<bool>.Success(true);
    }

    private Task<bool> ClaimedByOtherAsync(Guid accountId, string domain, CancellationToken ct) =>
        db.Set<CustomDomain>().AnyAsync(x => x.Domain == domain && x.AccountId != accountId && x.VerifiedAt != null, ct);

    private CustomDomainDto Dto(CustomDomain x) => new(x.Id, x.Domain, x.Verified, x.CreatedAt, x.CheckedAt, x.VerifiedAt, check.RecordsFor(x));
}
