// RCPT TO decisions for alias domains (spec/alias-api.md, SMTP behaviour). The rule that keeps Veil
// from being an open relay lives here: a reverse address sends mail out to the world, so it accepts
// only mail whose MAIL FROM is a verified mailbox of the alias's owner. (MAIL FROM can be forged; the
// reply still leaves only to the contact that first wrote to the alias, from the alias, so a forger
// can at most write to that one contact as the alias — the same exposure every forwarding service
// has, and the reason the threat model asks operators to put SPF/DMARC-checking Postfix in front.)
// Live aliases and quota answers come from AliasRoutingCache when it has them (see its header); the
// AliasRecipientFastPath below accepts from it without a DI scope.
using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Smtp;
using Veil.Server.Mail;

namespace Veil.Server.Alias;

internal sealed class AliasRecipientResolver(
    AliasDirectory directory, AliasSrs srs, AliasRoutingCache cache, IOptions<AliasOptions> options, Mailbox.Domains.VerifiedDomains customDomains,
    ILogger<AliasRecipientResolver> logger) : IRecipientResolver
{
    // Without the envelope, a reverse address cannot be checked: refuse (the engine calls the query overload).
    public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken) =>
        ResolveAsync(new RecipientQuery(address, "", null), cancellationToken);

    public async ValueTask<RecipientDecision> ResolveAsync(RecipientQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var settings = options.Value;
        if (!IsOurs(settings, customDomains, query, out var address, out var local, out var domain))
        {
            return RecipientDecision.RelayDenied; // not ours: another module may accept it
        }

        try
        {
            return await DecideAsync(address, local, domain, query.ReversePath, settings, cancellationToken);
        }
        catch (Exception e) when (e is DbException or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            AliasLog.ResolveFailed(logger, e.GetType().Name);
            return RecipientDecision.TryLater;
        }
    }

    private async Task<RecipientDecision> DecideAsync(string address, string local, string domain, string reversePath, AliasOptions settings, CancellationToken ct)
    {
        if (AliasAddresses.IsSrsLocalPart(local))
        {
            // Only bounces (null reverse path) to an SRS address we issued and that has not expired.
            return reversePath.Length == 0 && srs.IsValid(address) ? RecipientDecision.Accept : RecipientDecision.Unknown;
        }

        if (await RoutingAsync(address, ct) is { } alias)
        {
            if (!HeldBy(customDomains, domain, alias.AccountId))
            {
                return RecipientDecision.Unknown;
            }

            if (!alias.Enabled)
            {
                if (alias.DisabledAction == AliasDisabledActions.Discard)
                {
                    return RecipientDecision.Accept;
                }

                // The owner sees refused mail in the routing log (time and reason only).
                directory.Log(alias.AccountId, alias.Id, AliasEvents.Rejected, "alias-disabled");
                await directory.Db.SaveChangesAsync(ct);
                return RecipientDecision.Unknown;
            }

            return await QuotaLeftAsync(alias.AccountId, ct) ? RecipientDecision.Accept : RecipientDecision.TryLater;
        }

        if (AliasAddresses.IsReverseLocalPart(local))
        {
            if (await directory.FindContactByReverseAsync(address, ct) is not { } contact)
            {
                return RecipientDecision.Unknown;
            }

            var sender = AliasAddresses.NormalizeMailbox(reversePath);
            return sender is not null && await directory.FindVerifiedRecipientAsync(contact.AccountId, sender, ct) is not null
                ? RecipientDecision.Accept
                : RecipientDecision.RelayDenied;
        }

        if (settings.CatchAllOwner(domain) is { } owner && AliasAddresses.IsCatchAllLocalPart(local) && !await directory.IsTombstonedAsync(address, ct))
        {
            return await directory.ForwardQuotaLeftAsync(owner, ct) ? RecipientDecision.Accept : RecipientDecision.TryLater;
        }

        return RecipientDecision.Unknown;
    }

    /// <summary>The alias at <paramref name="address"/>, from the cache or else the database (a found one is then cached).</summary>
    private async Task<AliasRouting?> RoutingAsync(string address, CancellationToken ct)
    {
        if (cache.TryGetRouting(address, out var cached))
        {
            return cached;
        }

        var generation = cache.Generation; // before the read: a change committed during it is not cached as current
        var alias = await directory.FindAliasRoutingAsync(address, ct);
        if (alias is not null)
        {
            cache.StoreRouting(address, alias, generation);
        }

        return alias;
    }

    private async Task<bool> QuotaLeftAsync(Guid accountId, CancellationToken ct)
    {
        if (cache.TryGetQuotaLeft(accountId, out var left))
        {
            return left;
        }

        left = await directory.ForwardQuotaLeftAsync(accountId, ct);
        cache.StoreQuotaLeft(accountId, left);
        return left;
    }

    /// <summary>
    /// Whether <paramref name="query"/> is at one of our alias domains or at a custom domain verified right now, with the
    /// address normalized.
    /// </summary>
    internal static bool IsOurs(AliasOptions settings, Mailbox.Domains.VerifiedDomains customDomains, RecipientQuery query, out string address, out string local, out string domain)
    {
        address = local = domain = "";
        if (!settings.Enabled || !AliasAddresses.TrySplit(query.Address, out local, out domain)
            || !(settings.IsAliasDomain(domain) || customDomains.TryGetHolder(domain, out _)))
        {
            return false;
        }

        address = local + "@" + domain;
        return true;
    }

    /// <summary>
    /// An alias at a custom domain routes only while its owner holds the domain verified: if the domain passed to
    /// another account, the old owner's aliases there must not keep receiving the new owner's mail.
    /// </summary>
    internal static bool HeldBy(Mailbox.Domains.VerifiedDomains customDomains, string domain, Guid accountId) =>
        !customDomains.TryGetHolder(domain, out var holder) || holder == accountId;

    /// <summary>
    /// The RCPT rule for a known alias, when memory is enough to accept: enabled with quota left, or disabled
    /// with <c>discard</c>. Everything else (reject writes a routing-log entry; no quota; a miss) needs the database.
    /// </summary>
    internal static bool AcceptsFromCache(AliasRoutingCache cache, string address) =>
        cache.TryGetRouting(address, out var alias)
        && (alias.Enabled
            ? cache.TryGetQuotaLeft(alias.AccountId, out var left) && left
            : alias.DisabledAction == AliasDisabledActions.Discard);
}

/// <summary>
/// Accepts mail to a live alias from <see cref="AliasRoutingCache"/> alone, before ModuleRecipientResolver
/// creates a scope; SRS, reverse and catch-all addresses, and every other answer, go to AliasRecipientResolver.
/// </summary>
internal sealed class AliasRecipientFastPath(AliasRoutingCache cache, IOptions<AliasOptions> options, Mailbox.Domains.VerifiedDomains customDomains) : IRecipientFastPath
{
    public bool Accepts(RecipientQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        // Custom domains take the full path, which checks that the alias's owner still holds the domain.
        return AliasRecipientResolver.IsOurs(options.Value, customDomains, query, out var address, out var local, out var domain)
            && !customDomains.TryGetHolder(domain, out _)
            && !AliasAddresses.IsSrsLocalPart(local)
            && AliasRecipientResolver.AcceptsFromCache(cache, address);
    }
}
