// `veil admin plan set|clear|show|list`: the operator assigns plans to accounts, in process over the
// server's own database and configuration (like DkimKeyAdmin and DropReportAdmin: no admin HTTP API).
// Accounts are found by the blind index of their email; nothing is decrypted to find them.
using Microsoft.EntityFrameworkCore;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Platform.Plans;

/// <summary>The outcome of <see cref="PlanAdmin.SetAsync"/>.</summary>
public enum PlanSetStatus
{
    Done,
    UnknownAccount,
    UnknownPlan,
}

/// <summary>An account's plan as the operator sees it.</summary>
/// <param name="AccountId">The account.</param>
/// <param name="Plan">The stored plan; null: none (the account uses <c>default</c>).</param>
/// <param name="PlanConfigured">False when the stored plan is no longer in the configuration (the account gets <c>default</c>'s limits).</param>
/// <param name="Effective">The limits in force.</param>
public sealed record AccountPlanView(Guid AccountId, string? Plan, bool PlanConfigured, PlanLimits Effective);

/// <summary>Operator actions on account plans (<c>veil admin plan …</c>).</summary>
public sealed class PlanAdmin
{
    private readonly VeilDbContext _db;
    private readonly AccountPlans _plans;
    private readonly Audit.AdminAudit _audit;

    internal PlanAdmin(VeilDbContext db, AccountPlans plans, Audit.AdminAudit audit)
    {
        _db = db;
        _plans = plans;
        _audit = audit;
    }

    /// <summary>Every plan with its effective limits, <c>default</c> first (the global limits when not configured).</summary>
    public IReadOnlyList<PlanLimits> List() => _plans.All();

    /// <summary>Whether <c>default</c> is configured under <c>Veil:Plans</c>.</summary>
    public bool DefaultConfigured => _plans.DefaultConfigured;

    /// <summary>
    /// Gives the account with <paramref name="email"/> the plan <paramref name="plan"/>; null or <c>default</c>
    /// clears it. A plan that is not configured is refused.
    /// </summary>
    public async Task<PlanSetStatus> SetAsync(string email, string? plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(email);
        if (plan is not null && !_plans.IsKnown(plan))
        {
            return PlanSetStatus.UnknownPlan;
        }

        var stored = plan == PlansOptions.DefaultPlan ? null : plan;
        var id = await FindAsync(email, cancellationToken);
        if (id is not { } accountId)
        {
            return PlanSetStatus.UnknownAccount;
        }

        await using (var transaction = await _db.Database.BeginTransactionAsync(cancellationToken))
        {
            await _db.Set<Account>().Where(a => a.Id == accountId).ExecuteUpdateAsync(s => s.SetProperty(a => a.Plan, stored), cancellationToken);
            _audit.Add("plan-set", accountId.ToString("D"));
            await _db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        _plans.Forget(accountId);
        return PlanSetStatus.Done;
    }

    /// <summary>The plan of the account with <paramref name="email"/>, or null if there is no such account.</summary>
    public async Task<AccountPlanView?> ShowAsync(string email, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(email);
        var account = await _db.Set<Account>().WhereBlindIndexMatches(a => a.EmailIndex, email.Trim())
            .AsNoTracking().Select(a => new { a.Id, a.Plan }).FirstOrDefaultAsync(cancellationToken);
        return account is null
            ? null
            : new AccountPlanView(account.Id, account.Plan, account.Plan is null || _plans.IsKnown(account.Plan), _plans.Resolve(account.Plan));
    }

    private async Task<Guid?> FindAsync(string email, CancellationToken ct) =>
        await _db.Set<Account>().WhereBlindIndexMatches(a => a.EmailIndex, email.Trim()).Select(a => (Guid?)a.Id).FirstOrDefaultAsync(ct);
}
