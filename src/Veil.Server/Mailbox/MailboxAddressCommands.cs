// Addresses: add (the client made the key pair and wrapped its private half; the server checks the public key and
// the form of the wrapped strings), list (with the wrapped strings, which only the owner's client can open) and
// remove (with the address's messages: without its private key they could never be read again).
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;
using Veil.Server.Platform.Results;
using Veil.Server.Transparency;
using Veil.Crypto.Transparency;

namespace Veil.Server.Mailbox;

internal sealed record AddAddressRequest(string? Address, string? PublicKey, string? WrappedToken, string? WrappedPrivateKey);

internal sealed record MailAddressDto(Guid Id, string Address, string Fingerprint, string PublicKey, string WrappedToken, string WrappedPrivateKey, DateTimeOffset CreatedAt);

/// <param name="Domains">Where the caller may add an address: the operator's mail domains, then the caller's verified custom domains.</param>
/// <param name="CustomDomains">Which of <paramref name="Domains"/> are the caller's own (verified) domains.</param>
/// <param name="MaxAddresses">The plan limit on addresses per account.</param>
internal sealed record MailDomainsDto(IReadOnlyList<string> Domains, IReadOnlyList<string> CustomDomains, int MaxAddresses);

internal sealed partial class MailboxAddressCommands(
    VeilDbContext db, IBlobStore blobs, IOptions<MailboxOptions> options, Domains.IMailDomainVerification customDomains, KeyTransparencyLog log, TimeProvider time)
{
    public async Task<MailDomainsDto> DomainsAsync(Guid accountId, CancellationToken ct)
    {
        var operatorDomains = options.Value.NormalizedDomains;
        // Another account's domains are never listed: a custom domain carries addresses for its holder only.
        var own = (await customDomains.VerifiedForAccountAsync(accountId, ct)).Where(d => !operatorDomains.Contains(d)).ToList();
        return new([.. operatorDomains, .. own], own, options.Value.MaxAddressesPerAccount);
    }

    public async Task<Result<MailAddressDto>> AddAsync(AddAddressRequest request, Guid accountId, CancellationToken ct)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return MailboxErrors.NotEnabled;
        }

        var address = MailboxAddresses.Normalize(request.Address);
        if (address is null)
        {
            return MailboxErrors.InvalidAddress;
        }

        // An operator's mail domain, or a custom domain this account holds verified right now (MX pointing here).
        var domain = MailboxAddresses.DomainOf(address);
        if (!settings.IsMailDomain(domain) && !await customDomains.IsVerifiedForAccountAsync(accountId, domain, ct))
        {
            return await db.Set<Domains.CustomDomain>().AnyAsync(d => d.AccountId == accountId && d.Domain == domain, ct)
                ? MailboxErrors.DomainNotVerified
                : MailboxErrors.UnknownDomain;
        }

        if (!IsWrapped(request.WrappedToken) || !IsWrapped(request.WrappedPrivateKey))
        {
            return MailboxErrors.InvalidWrappedKey;
        }

        if (MailSealer.CheckPublicKey(request.PublicKey, address, time.GetUtcNow()) is { } why)
        {
            return MailboxErrors.InvalidPublicKey(why);
        }

        if (await db.Set<MailAddress>().CountAsync(a => a.AccountId == accountId, ct) >= settings.MaxAddressesPerAccount)
        {
            return MailboxErrors.TooManyAddresses;
        }

        if (await db.Set<MailAddress>().WhereBlindIndexMatches(a => a.AddressIndex, address).AnyAsync(ct))
        {
            return MailboxErrors.AddressTaken;
        }

        var row = new MailAddress
        {
            Id = Guid.NewGuid(),
            AccountId = accountId,
            Address = address,
            PublicKey = request.PublicKey!,
            WrappedToken = request.WrappedToken!,
            WrappedPrivateKey = request.WrappedPrivateKey!,
            CreatedAt = time.GetUtcNow(),
        };
        db.Add(row);
        log.Record(new KeyEvent(KeyEventKinds.MailKeyAdded, KeyEvent.MailSubject(address), null, [Fingerprint(row.PublicKey)],
            KeyTransparencyLog.BySession(accountId), row.CreatedAt.ToUnixTimeSeconds()), row.CreatedAt);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two owners asked for the same address at once: the unique blind index let one in.
            return MailboxErrors.AddressTaken;
        }

        return ToDto(row);
    }

    public async Task<IReadOnlyList<MailAddressDto>> ListAsync(Guid accountId, CancellationToken ct) =>
        [.. (await db.Set<MailAddress>().AsNoTracking().Where(a => a.AccountId == accountId).ToListAsync(ct)).OrderBy(a => a.CreatedAt).Select(ToDto)];

    public async Task<Result<bool>> RemoveAsync(Guid id, Guid accountId, CancellationToken ct)
    {
        // Another owner's address answers exactly like a missing one.
        var row = await db.Set<MailAddress>().FirstOrDefaultAsync(a => a.Id == id && a.AccountId == accountId, ct);
        if (row is null)
        {
            return MailboxErrors.AddressNotFound;
        }

        var messages = await db.Set<MailMessage>().Where(m => m.AddressId == id).Select(m => m.Id).ToListAsync(ct);
        foreach (var message in messages)
        {
            await blobs.DeletePrefixAsync(MailMessage.BlobFolderOf(accountId, message), ct);
        }

        await db.Set<MailMessage>().Where(m => m.AddressId == id).ExecuteDeleteAsync(ct);
        db.Remove(row);
        var now = time.GetUtcNow();
        log.Record(new KeyEvent(KeyEventKinds.MailKeyRevoked, KeyEvent.MailSubject(row.Address), null, [Fingerprint(row.PublicKey)],
            KeyTransparencyLog.BySession(accountId), now.ToUnixTimeSeconds()), now);
        await db.SaveChangesAsync(ct); // the address's removal and its log entry commit together

        // The removed copies' large attachments go with them where no other copy references them.
        await MailAttachmentCommands.ReleaseAsync(db, blobs, messages, ct);
        return true;
    }

    private MailAddressDto ToDto(MailAddress a) =>
        new(a.Id, a.Address, MailSealer.Read(a.PublicKey, time.GetUtcNow())?.Fingerprint ?? "", a.PublicKey, a.WrappedToken, a.WrappedPrivateKey, a.CreatedAt);

    /// <summary>The key's OpenPGP fingerprint as logged (the whole key is served by the directory; the log binds its fingerprint).</summary>
    private byte[] Fingerprint(string armored) => Convert.FromHexString(MailSealer.Read(armored, time.GetUtcNow())?.Fingerprint ?? "");

    private static bool IsWrapped(string? value) =>
        value is { Length: > 3 and <= MailboxAddresses.MaxWrappedLength } && WrappedForm().IsMatch(value);

    [GeneratedRegex("^v1\\.[A-Za-z0-9_-]+$")]
    private static partial Regex WrappedForm();
}
