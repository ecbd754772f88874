// DKIM-signs mail that leaves Veil: alias forwards and replies (signed by the alias domain) and the
// notification outbox (signed by its From domain). Keys come from MailDkimKeys (DkimKeyAdmin creates
// them); they are loaded per domain, cached, and reloaded after CacheLifetime so a key the operator
// adds is used without a restart. A domain with several keys gets one signature per algorithm (its
// newest key of each), so receivers that know only RSA still verify while Ed25519 is rolled out.
using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Mail.Dkim;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Mail;

internal sealed class OutgoingDkim(IServiceScopeFactory scopes, TimeProvider time) : IDisposable
{
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _loading = new(1, 1);
    private readonly List<Entry> _retired = [];

    /// <summary>
    /// <paramref name="message"/> with DKIM-Signature fields for <paramref name="domain"/> prepended, or the
    /// message unchanged (and Signed false) when the domain has no key.
    /// </summary>
    public async Task<(byte[] Message, bool Signed)> SignAsync(string domain, byte[] message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (DkimKeyAdmin.NormalizeDomain(domain) is not { } d)
        {
            return (message, false);
        }

        var signers = await SignersAsync(d, cancellationToken);
        if (signers.Count == 0)
        {
            return (message, false);
        }

        // Each signature covers the message as it stands; none signs another's DKIM-Signature field.
        var fields = new List<byte[]>(signers.Count);
        foreach (var signer in signers)
        {
            fields.Add(signer.CreateSignatureField(message));
        }

        var result = new byte[fields.Sum(f => f.Length) + message.Length];
        var offset = 0;
        foreach (var field in fields)
        {
            field.CopyTo(result, offset);
            offset += field.Length;
        }

        message.CopyTo(result, offset);
        return (result, true);
    }

    private async Task<IReadOnlyList<DkimSigner>> SignersAsync(string domain, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(domain, out var cached) && cached.LoadedAt + CacheLifetime > now)
        {
            return cached.Signers;
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (_cache.TryGetValue(domain, out cached) && cached.LoadedAt + CacheLifetime > now)
            {
                return cached.Signers;
            }

            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
            var keys = await db.Set<DkimKey>().AsNoTracking().Where(k => k.Domain == domain).ToListAsync(cancellationToken);
            var chosen = keys.GroupBy(k => k.Algorithm, StringComparer.Ordinal)
                .Select(g => g.OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Selector, StringComparer.Ordinal).First())
                .OrderBy(k => k.Algorithm, StringComparer.Ordinal)
                .ToList();
            // A user's custom domain has no MailDkimKeys row: its own key signs, only while the domain is verified (an
            // unverified claim must never sign; a domain that fails its check stops signing within CacheLifetime).
            var sources = chosen.Select(k => (k.Id, k.Selector, Open: (Func<DkimSigningKey>)k.OpenSigningKey)).ToList();
            if (sources.Count == 0
                && await db.Set<Mailbox.Domains.CustomDomain>().AsNoTracking().Where(x => x.Domain == domain && x.VerifiedAt != null)
                    .OrderBy(x => x.VerifiedAt).FirstOrDefaultAsync(cancellationToken) is { } custom)
            {
                sources.Add((custom.Id, custom.DkimSelector, custom.OpenDkimKey));
            }

            var ids = sources.Select(k => k.Id).ToArray();
            if (cached is not null && cached.KeyIds.SequenceEqual(ids))
            {
                _cache[domain] = cached with { LoadedAt = now };
                return cached.Signers;
            }

            var opened = sources.Select(k => (k.Selector, Key: k.Open())).ToList();
            var signers = opened.Select(o => new DkimSigner(new DkimSignerOptions { Domain = domain, Selector = o.Selector }, o.Key, time)).ToList();
            if (cached is not null)
            {
                // A signer of the old entry may be in use on another thread right now: its keys are
                // disposed with the service, not here (keys change rarely, so this stays small).
                _retired.Add(cached);
            }

            _cache[domain] = new Entry(ids, signers, [.. opened.Select(o => o.Key)], now);
            return signers;
        }
        finally
        {
            _loading.Release();
        }
    }

    public void Dispose()
    {
        foreach (var entry in _cache.Values.Concat(_retired))
        {
            entry.Dispose();
        }

        _loading.Dispose();
    }

    private sealed record Entry(Guid[] KeyIds, IReadOnlyList<DkimSigner> Signers, IReadOnlyList<DkimSigningKey> Keys, DateTimeOffset LoadedAt) : IDisposable
    {
        public void Dispose()
        {
            foreach (var key in Keys)
            {
                key.Dispose();
            }
        }
    }
}
