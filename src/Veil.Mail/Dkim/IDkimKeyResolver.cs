// The key lookup of DKIM verification (RFC 6376 §3.6.2): DNS TXT at selector._domainkey.domain.
// An interface so tests supply keys and the server plugs in a DNS resolver later.
namespace Veil.Mail.Dkim;

/// <summary>Fetches a DKIM key record.</summary>
public interface IDkimKeyResolver
{
    /// <summary>
    /// Looks up the TXT record at <c>selector._domainkey.domain</c>, with the record's strings
    /// concatenated. Returns <see cref="DkimKeyLookup.NotFound"/> for NXDOMAIN or no TXT record and
    /// <see cref="DkimKeyLookup.TemporaryFailure"/> for timeouts and SERVFAIL.
    /// </summary>
    /// <param name="selector">The s= value.</param>
    /// <param name="domain">The d= value, lowercase.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    ValueTask<DkimKeyLookup> ResolveAsync(string selector, string domain, CancellationToken cancellationToken);
}

/// <summary>What a key lookup found.</summary>
public enum DkimKeyLookupStatus
{
    /// <summary>A record was found.</summary>
    Found,

    /// <summary>No record exists.</summary>
    NotFound,

    /// <summary>The lookup failed transiently.</summary>
    TemporaryFailure,
}

/// <summary>The outcome of a key lookup.</summary>
/// <param name="Status">Found, not found or a transient failure.</param>
/// <param name="Record">The TXT record text when found; otherwise null.</param>
public readonly record struct DkimKeyLookup(DkimKeyLookupStatus Status, string? Record)
{
    /// <summary>A found record.</summary>
    public static DkimKeyLookup Found(string record) => new(DkimKeyLookupStatus.Found, record ?? throw new ArgumentNullException(nameof(record)));

    /// <summary>No record exists.</summary>
    public static DkimKeyLookup NotFound => new(DkimKeyLookupStatus.NotFound, null);

    /// <summary>The lookup failed transiently.</summary>
    public static DkimKeyLookup TemporaryFailure => new(DkimKeyLookupStatus.TemporaryFailure, null);
}
