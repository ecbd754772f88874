// The SDK side of spec/mail-domains.md: a user's own mail domains, verified by DNS. Failures arrive as
// VeilApiException with the contract's problem codes (domain-exists, domain-limit, domain-reserved, domain-claimed).
namespace Veil.Client.Mailbox;

/// <summary>A record to publish for a custom domain.</summary>
/// <param name="Check">ownership, mx, spf, dkim or dmarc.</param>
/// <param name="Type">TXT or MX.</param>
/// <param name="Name">The owner name.</param>
/// <param name="Value">The value (for MX: the host, preference 10).</param>
public sealed record MailDomainRecord(string Check, string Type, string Name, string Value);

/// <summary>A custom domain.</summary>
public sealed record MailDomain(Guid Id, string Domain, bool Verified, DateTimeOffset CreatedAt, DateTimeOffset? CheckedAt,
    DateTimeOffset? VerifiedAt, IReadOnlyList<MailDomainRecord> Records);

/// <summary>One check's outcome: status ok, missing, wrong or dns-error; what DNS holds; what to fix.</summary>
public sealed record MailDomainCheckItem(string Check, string Status, IReadOnlyList<string> Found, string? Fix);

/// <summary>A check's result; <see cref="Conclusive"/> is false when a lookup failed (nothing changed).</summary>
public sealed record MailDomainCheck(MailDomain Domain, bool Conclusive, IReadOnlyList<MailDomainCheckItem> Checks);

internal sealed record MailDomainsResponse(IReadOnlyList<MailDomain> Domains);

internal sealed record AddMailDomainRequest(string Domain);

/// <summary>Custom mail domains (spec/mail-domains.md).</summary>
/// <param name="client">The signed-in client.</param>
public sealed class MailDomainClient(VeilClient client)
{
    private const string Base = "api/v1/mail/domains";

    private readonly VeilClient _client = client ?? throw new ArgumentNullException(nameof(client));

    /// <summary>Claims a domain; the result lists the records to publish.</summary>
    public Task<MailDomain> AddAsync(string domain, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(domain);
        return _client.AuthenticatedAsync<MailDomain>(HttpMethod.Post, Base, new AddMailDomainRequest(domain.Trim()), cancellationToken);
    }

    /// <summary>The account's domains.</summary>
    public async Task<IReadOnlyList<MailDomain>> ListAsync(CancellationToken cancellationToken = default) =>
        (await _client.AuthenticatedAsync<MailDomainsResponse>(HttpMethod.Get, Base, null, cancellationToken).ConfigureAwait(false)).Domains;

    /// <summary>Checks a domain's DNS records now.</summary>
    public Task<MailDomainCheck> CheckAsync(Guid id, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<MailDomainCheck>(HttpMethod.Post, $"{Base}/{id:D}/check", null, cancellationToken);

    /// <summary>Removes a domain claim.</summary>
    public Task RemoveAsync(Guid id, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, $"{Base}/{id:D}", null, cancellationToken);
}
