// Which limits apply to an account. The SMTP path asks for every message (RCPT and again after the
// spool), so the account's plan name is cached in memory for at most CacheLifetime (60 s, on the
// injected clock). An in-process change (PlanAdmin) calls Forget and takes effect at once; a change
// made by another process (`veil admin plan set` on the host, or another node) takes effect within a
// minute. Limits come from configuration, fixed at start, so the resolved limits are cached with the name.
using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Alias;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Platform.Plans;

/// <summary>The limits in force for an account: its effective plan's name and its numbers.</summary>
/// <param name="Plan">The effective plan (<c>default</c> when the account has none, or its plan is no longer configured).</param>
/// <param name="AliasDailyForwards">Forwards and replies per UTC day.</param>
/// <param name="AliasDailyCreates">Aliases created per UTC day.</param>
public sealed record PlanLimits(string Plan, int AliasDailyForwards, int AliasDailyCreates);

internal sealed partial class AccountPlans(
    IServiceScopeFactory scopes,
    IOptions<PlansOptions> plans,
    IOptions<AliasOptions> alias,
    TimeProvider time,
    ILogger<AccountPlans> logger)
{
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(60);

    // Bounds the cache on a server with many accounts: beyond it, expired entries are swept (and if all
    // are fresh, the cache starts over; the next lookups go to the database).
    private const int MaxCachedAccounts = 50_000;

    private readonly ConcurrentDictionary<Guid, CachedPlan> _cache = new();
    private readonly ConcurrentDictionary<string, bool> _warned = new(StringComparer.Ordinal);

    // Bumped by Forget: a lookup that started before a Forget does not cache what it read (it may predate
    // the change that Forget announces).
    private long _generation;

    /// <summary>The limits for <paramref name="accountId"/> (an unknown account gets the default plan's).</summary>
    public async ValueTask<PlanLimits> LimitsAsync(Guid accountId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(accountId, out var cached) && cached.Until > now)
        {
            return cached.Limits;
        }

        var generation = Interlocked.Read(ref _generation);
        string? plan;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
            plan = await db.Set<Account>().AsNoTracking().Where(a => a.Id == accountId).Select(a => a.Plan).FirstOrDefaultAsync(ct);
        }

        var limits = Resolve(plan);
        if (Interlocked.Read(ref _generation) == generation)
        {
            if (_cache.Count >= MaxCachedAccounts)
            {
                Sweep(now);
            }

            _cache[accountId] = new CachedPlan(limits, now + CacheLifetime);
        }

        return limits;
    }

    /// <summary>Drops the cached plan of <paramref name="accountId"/>: the next lookup reads the database.</summary>
    public void Forget(Guid accountId)
    {
        Interlocked.Increment(ref _generation);
        _cache.TryRemove(accountId, out _);
    }

    /// <summary>Whether <paramref name="plan"/> is configured (<c>default</c> always is: it falls back to the globals).</summary>
    public bool IsKnown(string plan) => plan == PlansOptions.DefaultPlan || plans.Value.Plans.ContainsKey(plan);

    /// <summary>Every configured plan with its effective limits, <c>default</c> first (listed even when not configured).</summary>
    public IReadOnlyList<PlanLimits> All() =>
        [Default(), .. plans.Value.Plans.Keys.Where(p => p != PlansOptions.DefaultPlan).Order(StringComparer.Ordinal).Select(p => Limits(p, plans.Value.Plans[p]))];

    /// <summary>Whether <c>default</c> is configured (otherwise it is the global limits).</summary>
    public bool DefaultConfigured => plans.Value.Plans.ContainsKey(PlansOptions.DefaultPlan);

    /// <summary>The limits of a stored plan name; a plan no longer configured falls back to <c>default</c> (warned once per name).</summary>
    public PlanLimits Resolve(string? storedPlan)
    {
        if (storedPlan is null || storedPlan == PlansOptions.DefaultPlan)
        {
            return Default();
        }

        if (plans.Value.Plans.TryGetValue(storedPlan, out var settings))
        {
            return Limits(storedPlan, settings);
        }

        if (_warned.TryAdd(storedPlan, true))
        {
            LogUnconfiguredPlan(logger, storedPlan);
        }

        return Default();
    }

    private PlanLimits Default() =>
        plans.Value.Plans.TryGetValue(PlansOptions.DefaultPlan, out var settings)
            ? Limits(PlansOptions.DefaultPlan, settings)
            : new PlanLimits(PlansOptions.DefaultPlan, alias.Value.DailyForwardLimit, alias.Value.DailyCreateLimit);

    private PlanLimits Limits(string name, PlanSettings settings) =>
        new(name, settings.AliasDailyForwards ?? alias.Value.DailyForwardLimit, settings.AliasDailyCreates ?? alias.Value.DailyCreateLimit);

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (id, entry) in _cache)
        {
            if (entry.Until <= now)
            {
                _cache.TryRemove(id, out _);
            }
        }

        if (_cache.Count >= MaxCachedAccounts)
        {
            _cache.Clear();
        }
    }

    // Event ids 1800–1899: plans. A plan name is the operator's configuration, not user data.
    [LoggerMessage(EventId = 1800, Level = LogLevel.Warning,
        Message = "Accounts have plan {Plan}, which is not configured under Veil:Plans; they get the default plan's limits until it is configured again or they are moved (veil admin plan set)")]
    private static partial void LogUnconfiguredPlan(ILogger logger, string plan);

    private readonly record struct CachedPlan(PlanLimits Limits, DateTimeOffset Until);
}
