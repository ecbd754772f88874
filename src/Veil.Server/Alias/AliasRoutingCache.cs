// What RCPT TO knows of live aliases, kept in memory so that the SMTP hot path (mail to an existing
// alias) needs neither a DI scope nor a database round trip.
//
// Design:
// - Only found aliases are cached (address → AliasRouting: id, owner, enabled, disabled action), never
//   "unknown": a new alias, or a catch-all address seen for the first time, is answered from the database
//   at once. An entry lives at most RoutingLifetime (30 s) on the injected clock.
// - Each account's "forward quota left" is cached for QuotaLifetime (1 s). That answer is advisory:
//   AliasMessageSink checks the quota exactly for every spooled message, so RCPT may accept a few
//   messages past the limit for up to a second (spec/alias-api.md, SMTP behaviour).
// - Invalidation is a generation counter. AliasRoutingInterceptor (an EF Core interceptor on every
//   VeilDbContext of this process) bumps it once a save that added, deleted or changed an AliasRecord
//   (anything but its counters) has committed; a bump drops every entry. An entry remembers the
//   generation read BEFORE its database read, so a lookup racing a change cannot store the old row
//   under the new generation: the next RCPT after any in-process change sees it. The sink's
//   counter-only saves (Received, Forwarded, …, LastEmailAt) do not bump.
// - Changes another process makes (veil admin, a second node) bypass the interceptor: they show within
//   RoutingLifetime (docs/OPERATIONS.md, Alias). ExecuteUpdate/ExecuteDelete bypass interceptors too;
//   no code runs them on AliasRecord (code that adds one must call Invalidate after it).
// - Size is bounded: past MaxEntries stores, everything is dropped and the cache refills.
//
// AliasRecipientFastPath (AliasRecipientResolver.cs) reads this cache before ModuleRecipientResolver
// creates a scope; AliasRecipientResolver fills it on a miss.
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Veil.Server.Alias;

internal sealed class AliasRoutingCache(TimeProvider time)
{
    public static readonly TimeSpan RoutingLifetime = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan QuotaLifetime = TimeSpan.FromSeconds(1);
    public const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, RoutingEntry> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, QuotaEntry> _quotas = new();
    private long _generation;
    private int _routeStores;
    private int _quotaStores;

    /// <summary>Read before a database lookup and passed to <see cref="StoreRouting"/>.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public bool TryGetRouting(string address, [NotNullWhen(true)] out AliasRouting? routing)
    {
        if (_routes.TryGetValue(address, out var entry) && entry.Generation == Generation && time.GetUtcNow() < entry.Until)
        {
            routing = entry.Routing;
            return true;
        }

        routing = null;
        return false;
    }

    /// <summary>Caches a found alias read from the database after <paramref name="readGeneration"/> was taken.</summary>
    public void StoreRouting(string address, AliasRouting routing, long readGeneration)
    {
        if (readGeneration != Generation)
        {
            return; // something changed while the row was read: the next lookup reads again
        }

        if (Interlocked.Increment(ref _routeStores) > MaxEntries)
        {
            _routes.Clear();
            Interlocked.Exchange(ref _routeStores, 1);
        }

        _routes[address] = new RoutingEntry(routing, readGeneration, time.GetUtcNow() + RoutingLifetime);
    }

    public bool TryGetQuotaLeft(Guid accountId, out bool left)
    {
        if (_quotas.TryGetValue(accountId, out var entry) && time.GetUtcNow() < entry.Until)
        {
            left = entry.Left;
            return true;
        }

        left = false;
        return false;
    }

    public void StoreQuotaLeft(Guid accountId, bool left)
    {
        if (Interlocked.Increment(ref _quotaStores) > MaxEntries)
        {
            _quotas.Clear();
            Interlocked.Exchange(ref _quotaStores, 1);
        }

        _quotas[accountId] = new QuotaEntry(left, time.GetUtcNow() + QuotaLifetime);
    }

    /// <summary>Forgets every cached alias: the next RCPT reads the database.</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _routes.Clear();
        Interlocked.Exchange(ref _routeStores, 0);
    }

    private sealed record RoutingEntry(AliasRouting Routing, long Generation, DateTimeOffset Until);

    private readonly record struct QuotaEntry(bool Left, DateTimeOffset Until);
}

/// <summary>
/// Invalidates <see cref="AliasRoutingCache"/> after a committed save that added, deleted or changed an
/// <see cref="AliasRecord"/> beyond its counters. Registered as a DI <see cref="IInterceptor"/>, which
/// every VeilDbContext of the process picks up (PersistenceExtensions).
/// </summary>
internal sealed class AliasRoutingInterceptor(AliasRoutingCache cache) : ISaveChangesInterceptor, IDbTransactionInterceptor
{
    // What the sink writes after every batch: changing only these never changes an RCPT answer.
    private static readonly HashSet<string> Counters = new(StringComparer.Ordinal)
    {
        nameof(AliasRecord.Received), nameof(AliasRecord.Forwarded), nameof(AliasRecord.Blocked),
        nameof(AliasRecord.Replied), nameof(AliasRecord.Bounced), nameof(AliasRecord.LastEmailAt),
    };

    // Contexts whose pending save changes routing, until it has committed (or failed).
    private readonly ConditionalWeakTable<DbContext, object> _pending = new();

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Note(eventData.Context);
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Note(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        SaveEnded(eventData.Context);
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        SaveEnded(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public void SaveChangesFailed(DbContextErrorEventData eventData) => SaveEnded(eventData.Context);

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        SaveEnded(eventData.Context);
        return Task.CompletedTask;
    }

    public void SaveChangesCanceled(DbContextEventData eventData) => SaveEnded(eventData.Context);

    public Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        SaveEnded(eventData.Context);
        return Task.CompletedTask;
    }

    // The save's own transaction, or the caller's around it (account deletion): either way the change is
    // visible to other connections only now. A rollback drops the pending mark (and a bump is harmless).
    public void TransactionCommitted(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData) => Ended(eventData.Context);

    public Task TransactionCommittedAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Ended(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData) => Ended(eventData.Context);

    public Task TransactionRolledBackAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Ended(eventData.Context);
        return Task.CompletedTask;
    }

    /// <summary>Whether saving <paramref name="context"/> now would change what RCPT answers for some alias.</summary>
    internal static bool ChangesRouting(DbContext context)
    {
        // VeilDbContext detected changes while sealing encrypted columns, just before this runs; do not
        // scan every tracked entity a third time (the sink's batches track many).
        var tracker = context.ChangeTracker;
        var detect = tracker.AutoDetectChangesEnabled;
        tracker.AutoDetectChangesEnabled = false;
        try
        {
            foreach (var entry in tracker.Entries<AliasRecord>())
            {
                switch (entry.State)
                {
                    case EntityState.Added or EntityState.Deleted:
                        return true;
                    case EntityState.Modified when entry.Properties.Any(p => p.IsModified && !Counters.Contains(p.Metadata.Name)):
                        return true;
                }
            }

            return false;
        }
        finally
        {
            tracker.AutoDetectChangesEnabled = detect;
        }
    }

    private void Note(DbContext? context)
    {
        if (context is not null && ChangesRouting(context))
        {
            _pending.AddOrUpdate(context, this);
        }
    }

    private void SaveEnded(DbContext? context)
    {
        // Inside a caller's transaction the rows are not visible yet: wait for its commit.
        if (context is not null && context.Database.CurrentTransaction is null)
        {
            Ended(context);
        }
    }

    private void Ended(DbContext? context)
    {
        if (context is not null && _pending.Remove(context))
        {
            cache.Invalidate();
        }
    }
}
