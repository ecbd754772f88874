using Microsoft.EntityFrameworkCore;
using Veil.Server.Platform.Plans;
using Veil.Server.Platform.Results;

namespace Veil.Server.Alias;

/// <summary>Creates aliases for the API and for catch-all domains, under the daily creation limit.</summary>
internal sealed class AliasCreator(AliasDirectory directory, AccountPlans plans, Mailbox.Domains.IMailDomainVerification customDomains, TimeProvider time)
{
    /// <summary>
    /// Creates and saves an alias. <paramref name="catchAllAddress"/> is the exact address a catch-all
    /// domain received mail for; otherwise the address is generated.
    /// </summary>
    public async Task<Result<AliasRecord>> CreateAsync(
        Guid accountId, string? prefix, string? domain, string? note, string? label, IReadOnlyList<Guid>? recipientIds,
        string? catchAllAddress, CancellationToken ct)
    {
        var options = directory.Options;
        if (!options.Enabled)
        {
            return AliasErrors.Invalid("domain", "this server has no alias domain");
        }

        var d = domain is null ? options.NormalizedDomains[0] : Mail.DkimKeyAdmin.NormalizeDomain(domain);
        if (d is null || !(options.IsAliasDomain(d) || await customDomains.IsVerifiedForAccountAsync(accountId, d, ct)))
        {
            return AliasErrors.Invalid("domain", "must be one of GET /api/v1/alias/domains or one of your verified custom domains");
        }

        string? p = null;
        if (prefix is not null && (p = AliasAddresses.NormalizePrefix(prefix)) is null)
        {
            return AliasErrors.Invalid("prefix", $"1..{AliasAddresses.MaxPrefixLength} of a-z, 0-9, '_' and '-', starting with a letter or digit");
        }

        if (note is { Length: > AliasEndpoints.MaxNoteLength } || (note?.Any(char.IsControl) ?? false))
        {
            return AliasErrors.Invalid("note", $"at most {AliasEndpoints.MaxNoteLength} characters, no control characters");
        }

        if (label is { Length: > AliasEndpoints.MaxLabelLength } || (label?.Any(char.IsControl) ?? false))
        {
            return AliasErrors.Invalid("label", $"at most {AliasEndpoints.MaxLabelLength} characters, no control characters");
        }

        IReadOnlyList<Guid> recipients;
        if (recipientIds is null)
        {
            recipients = [.. (await directory.RecipientsOfAsync(accountId, ct)).Where(r => r.Verified).Select(r => r.Id)];
            if (recipients.Count == 0)
            {
                return AliasErrors.NoVerifiedRecipient;
            }
        }
        else
        {
            var checkedIds = await CheckRecipientsAsync(directory, accountId, recipientIds, ct);
            if (!checkedIds.IsSuccess)
            {
                return checkedIds.Error;
            }

            recipients = checkedIds.Value;
        }

        var usage = await directory.UsageAsync(accountId, ct);
        if (usage.Created >= (await plans.LimitsAsync(accountId, ct)).AliasDailyCreates)
        {
            return AliasErrors.DailyLimit;
        }

        var address = catchAllAddress
            ?? await directory.NewAddressAsync(p is null ? AliasAddresses.RandomLocalPart : () => AliasAddresses.PrefixedLocalPart(p), d, ct);
        if (address is null)
        {
            return AliasErrors.Invalid("prefix", "no free address with this prefix; try another");
        }

        var alias = new AliasRecord
        {
            Id = Guid.NewGuid(),
            AccountId = accountId,
            Address = address,
            Domain = d,
            Note = string.IsNullOrEmpty(note) ? null : note,
            Label = string.IsNullOrEmpty(label) ? null : label,
            CreatedByCatchAll = catchAllAddress is not null,
            CreatedAt = time.GetUtcNow(),
        };
        alias.RecipientIds = recipients;
        usage.Created++;
        directory.Db.Add(alias);
        try
        {
            await directory.Db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two creations raced on the same address (the unique blind index decided) or on the usage row.
            directory.Db.ChangeTracker.Clear();
            return AliasErrors.Invalid("prefix", "the address was taken meanwhile; try again");
        }

        return alias;
    }

    /// <summary>The ids, if every one is a verified recipient of the account (and there is at least one).</summary>
    public static async Task<Result<IReadOnlyList<Guid>>> CheckRecipientsAsync(AliasDirectory directory, Guid accountId, IReadOnlyList<Guid> ids, CancellationToken ct)
    {
        var distinct = ids.Distinct().ToList();
        if (distinct.Count == 0)
        {
            return AliasErrors.Invalid("recipientIds", "must name at least one verified recipient");
        }

        var found = await directory.Db.Set<AliasRecipient>()
            .Where(r => r.AccountId == accountId && r.VerifiedAt != null && distinct.Contains(r.Id)).CountAsync(ct);
        return found == distinct.Count
            ? Result<IReadOnlyList<Guid>>.Success(distinct)
            : AliasErrors.Invalid("recipientIds", "every id must be one of your verified recipients");
    }
}
