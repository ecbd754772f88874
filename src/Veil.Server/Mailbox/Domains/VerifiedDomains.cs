// The verified custom domains and the account holding each, in memory, for the SMTP path: RCPT decisions are made
// per recipient and must not cost a database query to learn that a domain is not ours. Loaded at start and replaced
// after every change (a check, a removal, an account deletion); Veil is one process, so this copy is the truth.
using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Mailbox.Domains;

internal sealed class VerifiedDomains(IServiceScopeFactory scopes) : IHostedService
{
    private volatile FrozenDictionary<string, Guid> _holders = FrozenDictionary<string, Guid>.Empty;

    /// <summary>The account that holds <paramref name="domain"/> verified, if any.</summary>
    public bool TryGetHolder(string domain, out Guid accountId) => _holders.TryGetValue(domain, out accountId);

    public async Task ReloadAsync(VeilDbContext db, CancellationToken ct)
    {
        var rows = await db.Set<CustomDomain>().AsNoTracking().Where(x => x.VerifiedAt != null)
            .Select(x => new { x.Domain, x.AccountId }).ToListAsync(ct);
        // At most one verified claim per domain (CustomDomains refuses a second); the oldest wins if a race made two.
        _holders = rows.GroupBy(r => r.Domain, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.First().AccountId, StringComparer.Ordinal);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await ReloadAsync(scope.ServiceProvider.GetRequiredService<VeilDbContext>(), cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
