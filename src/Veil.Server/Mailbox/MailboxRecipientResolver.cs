// RCPT TO for the operator's mail domains and for verified custom domains: an address someone holds is accepted
// (250), any other address at those domains is unknown (550 5.1.1, said before DATA so a sender learns at once and
// nothing is spooled), and other domains are left to other modules. On a custom domain the address must belong to
// the account that holds the domain verified now: a lapsed or removed domain is not ours any more (relay denied),
// and addresses left from an earlier holder of the same name receive nothing.
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Smtp;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Mailbox;

internal sealed class MailboxRecipientResolver(
    VeilDbContext db, IOptions<MailboxOptions> options, Domains.VerifiedDomains customDomains, ILogger<MailboxRecipientResolver> logger) : IRecipientResolver
{
    public async ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken)
    {
        var normalized = MailboxAddresses.Normalize(address);
        var at = address.LastIndexOf('@');
        var domain = at < 0 ? null : Mail.DkimKeyAdmin.NormalizeDomain(address[(at + 1)..]);
        if (domain is null)
        {
            return RecipientDecision.RelayDenied;
        }

        Guid? holder = null;
        if (!options.Value.IsMailDomain(domain))
        {
            if (!customDomains.TryGetHolder(domain, out var held))
            {
                return RecipientDecision.RelayDenied; // not ours: another module may accept it
            }

            holder = held;
        }

        if (normalized is null)
        {
            return RecipientDecision.Unknown;
        }

        try
        {
            var owners = await db.Set<MailAddress>().WhereBlindIndexMatches(a => a.AddressIndex, normalized).Select(a => a.AccountId).ToListAsync(cancellationToken);
            return owners.Count > 0 && (holder is null || owners[0] == holder)
                ? RecipientDecision.Accept
                : RecipientDecision.Unknown;
        }
        catch (Exception e) when (e is DbException or DbUpdateException)
        {
            MailboxLog.ResolveFailed(logger, e.GetType().Name);
            return RecipientDecision.TryLater;
        }
    }
}
