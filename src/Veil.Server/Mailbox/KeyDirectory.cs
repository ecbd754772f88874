// Public keys out: the key directory for Veil clients (GET /api/v1/mail/keys?address=…, JSON) and the Web Key
// Directory (draft-koch-openpgp-webkey-service) for everyone else, so `gpg --locate-keys` and Thunderbird find an
// address's key by themselves:
//   direct   GET /.well-known/openpgpkey/hu/<hash>[?l=<local>]            the domain is the request's Host
//   advanced GET /.well-known/openpgpkey/<domain>/hu/<hash>[?l=<local>]   (served on openpgpkey.<domain>)
//   policy   GET /.well-known/openpgpkey/policy, /.well-known/openpgpkey/<domain>/policy (empty: no options)
// Keys are found through a blind index of (hash, domain), so no address needs to be decrypted to answer, and the
// answer for an unknown address is the same 404 as for a domain this server does not serve. Verified custom domains
// are served like the operator's, for the addresses of the account that holds the domain now.
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;
using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox;

internal sealed record PublicKeyDto(string Address, string Fingerprint, string PublicKey, Transparency.KtLookupDto? Transparency = null);

internal sealed class KeyDirectory(VeilDbContext db, IOptions<MailboxOptions> options, Domains.VerifiedDomains customDomains, Transparency.KtProofs proofs, TimeProvider time)
{
    public async Task<Result<PublicKeyDto>> FindAsync(string? address, CancellationToken ct, long? since = null)
    {
        var normalized = MailboxAddresses.Normalize(address);
        if (normalized is null)
        {
            return MailboxErrors.InvalidAddress;
        }

        var row = await db.Set<MailAddress>().WhereBlindIndexMatches(a => a.AddressIndex, normalized).AsNoTracking().FirstOrDefaultAsync(ct);
        if (row is null || !Serves(MailboxAddresses.DomainOf(normalized), row.AccountId) || MailSealer.Read(row.PublicKey, time.GetUtcNow()) is not { } key)
        {
            return MailboxErrors.KeyNotFound;
        }

        // The address's key events with proofs: the sender's client encrypts only to a key the log shows added and not revoked.
        var transparency = await proofs.ForSubjectAsync(Veil.Crypto.Transparency.KeyEvent.MailSubject(normalized), since, ct);
        return new PublicKeyDto(row.Address, key.Fingerprint, row.PublicKey, transparency);
    }

    /// <summary>The binary key for a WKD request, or null (404).</summary>
    public async Task<byte[]?> WkdAsync(string? domain, string hash, CancellationToken ct)
    {
        var normalized = Mail.DkimKeyAdmin.NormalizeDomain(domain);
        if (normalized is null || !ServesDomain(normalized) || hash.Length != 32 || !hash.All(IsZBase32))
        {
            return null;
        }

        var row = await db.Set<MailAddress>().WhereBlindIndexMatches(a => a.WkdIndex, hash + "@" + normalized).AsNoTracking().FirstOrDefaultAsync(ct);
        return row is null || !Serves(normalized, row.AccountId) ? null : MailSealer.Read(row.PublicKey, time.GetUtcNow())?.Encoded.ToArray();
    }

    public bool ServesDomain(string? domain) =>
        Mail.DkimKeyAdmin.NormalizeDomain(domain) is { } d && (options.Value.IsMailDomain(d) || customDomains.TryGetHolder(d, out _));

    /// <summary>An address of <paramref name="accountId"/> at <paramref name="domain"/> is published: an operator domain, or a custom one that account holds now.</summary>
    private bool Serves(string domain, Guid accountId) =>
        options.Value.IsMailDomain(domain) || (customDomains.TryGetHolder(domain, out var holder) && holder == accountId);

    /// <summary>The domain of a direct-method request: the Host, without an <c>openpgpkey.</c> prefix or port.</summary>
    public static string DirectDomain(HttpRequest request) => request.Host.Host;

    private static bool IsZBase32(char c) => "ybndrfg8ejkmcpqxot1uwisza345h769".Contains(c, StringComparison.Ordinal);
}
