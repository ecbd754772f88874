// RCPT TO decisions for alias domains (spec/alias-api.md, SMTP behaviour). The rule that keeps Veil
// from being an open relay lives here: a reverse address sends mail out to the world, so it accepts
// only mail whose MAIL FROM is a verified mailbox of the alias's owner. (MAIL FROM can be forged; the
// reply still leaves only to the contact that first wrote to the alias, from the alias, so a forger
// can at most write to that one contact as the alias — the same exposure every forwarding service
// has, and the reason the threat model asks operators to put SPF/DMARC-checking Postfix in front.)
using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Smtp;

namespace Veil.Server.Alias;

internal sealed class AliasRecipientResolver(
    AliasDirectory directory, AliasSrs srs, IOptions<AliasOptions> options, ILogger<AliasRecipientResolver> logger) : IRecipientResolver
{
    // Without the envelope, a reverse address cannot be checked: refuse (the engine calls the query overload).
    public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken) =>
        ResolveAsync(new RecipientQuery(address, "", null), cancellationToken);

    public async ValueTask<RecipientDecision> ResolveAsync(RecipientQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var settings = options.Value;
        if (!settings.Enabled || !AliasAddresses.TrySplit(query.Address, out var local, out var domain) || !settings.IsAliasDomain(domain))
        {
            return RecipientDecision.RelayDenied; // not ours: another module may accept it
        }

        var address = local + "@" + domain;
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

        if (await directory.FindAliasRoutingAsync(address, ct) is { } alias)
        {
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

            return await directory.ForwardQuotaLeftAsync(alias.AccountId, ct) ? RecipientDecision.Accept : RecipientDecision.TryLater;
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
}
