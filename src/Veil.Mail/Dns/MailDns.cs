// The DNS lookups mail needs (TXT, MX, A/AAAA), on DnsClient. Every lookup says which of three things happened,
// because callers must treat them differently: a record set was found; the name or the type provably does not exist
// (NXDOMAIN or an empty answer: "publish this record"); or the lookup failed (timeout, SERVFAIL, REFUSED: "try
// again later", never "the record is wrong"). A custom domain must not lose its verification, nor an SPF check
// turn into a fail, because a resolver was down for a minute.
// The servers are configurable (Veil:Dns:Servers) so tests and operators can point Veil at a resolver of their
// choice; empty means the system's resolvers. No cache: answers are wanted fresh after a user changed a record.
using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace Veil.Mail.Dns;

/// <summary>What a DNS lookup found.</summary>
public enum DnsLookupStatus
{
    /// <summary>At least one record of the type was found.</summary>
    Found,

    /// <summary>The name does not exist, or has no record of the type.</summary>
    NotFound,

    /// <summary>The lookup failed transiently (timeout, SERVFAIL, REFUSED, network error).</summary>
    Failed,
}

/// <summary>The outcome of one lookup.</summary>
/// <typeparam name="T">The record's value type.</typeparam>
/// <param name="Status">Found, not found or failed.</param>
/// <param name="Records">The records when found; empty otherwise.</param>
public sealed record DnsAnswer<T>(DnsLookupStatus Status, IReadOnlyList<T> Records);

/// <summary>One MX record.</summary>
/// <param name="Host">The exchange, lowercase, without the trailing dot (empty for a null MX, RFC 7505).</param>
/// <param name="Preference">Lower is tried first.</param>
public sealed record MxHost(string Host, int Preference);

/// <summary>The DNS lookups of mail: DKIM keys, SPF and DMARC policies, custom-domain checks, direct delivery.</summary>
public interface IMailDns
{
    /// <summary>TXT records of <paramref name="name"/>, each with its character-strings concatenated (RFC 7208 §3.3).</summary>
    Task<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken);

    /// <summary>MX records of <paramref name="domain"/>, ordered by preference.</summary>
    Task<DnsAnswer<MxHost>> MxAsync(string domain, CancellationToken cancellationToken);

    /// <summary>A and AAAA records of <paramref name="host"/> (IPv4 first).</summary>
    Task<DnsAnswer<IPAddress>> AddressesAsync(string host, CancellationToken cancellationToken);
}

/// <summary><see cref="IMailDns"/> over DnsClient.</summary>
public sealed class MailDns : IMailDns
{
    private readonly LookupClient _client;

    /// <summary>A resolver asking <paramref name="servers"/>, or the system's resolvers when empty.</summary>
    /// <param name="servers">Name servers (address and port).</param>
    /// <param name="timeout">Per-try timeout.</param>
    public MailDns(IReadOnlyList<IPEndPoint> servers, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(servers);
        var options = servers.Count == 0 ? new LookupClientOptions() : new LookupClientOptions([.. servers]);
        options.UseCache = false;
        options.Timeout = timeout;
        options.Retries = 2;
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = false;
        options.UseTcpFallback = true;
        _client = new LookupClient(options);
    }

    /// <inheritdoc />
    public async Task<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken)
    {
        var response = await QueryAsync(name, QueryType.TXT, cancellationToken).ConfigureAwait(false);
        return Answer(response, r => r.Answers.TxtRecords().Select(t => string.Concat(t.Text)));
    }

    /// <inheritdoc />
    public async Task<DnsAnswer<MxHost>> MxAsync(string domain, CancellationToken cancellationToken)
    {
        var response = await QueryAsync(domain, QueryType.MX, cancellationToken).ConfigureAwait(false);
        return Answer(response, r => r.Answers.MxRecords()
            .Select(m => new MxHost(Normalize(m.Exchange.Value), m.Preference))
            .OrderBy(m => m.Preference));
    }

    /// <inheritdoc />
    public async Task<DnsAnswer<IPAddress>> AddressesAsync(string host, CancellationToken cancellationToken)
    {
        var v4 = await QueryAsync(host, QueryType.A, cancellationToken).ConfigureAwait(false);
        var v6 = await QueryAsync(host, QueryType.AAAA, cancellationToken).ConfigureAwait(false);
        var a = Answer(v4, r => r.Answers.ARecords().Select(x => x.Address));
        var aaaa = Answer(v6, r => r.Answers.AaaaRecords().Select(x => x.Address));
        if (a.Status == DnsLookupStatus.Found || aaaa.Status == DnsLookupStatus.Found)
        {
            return new(DnsLookupStatus.Found, [.. a.Records, .. aaaa.Records]);
        }

        return a.Status == DnsLookupStatus.Failed || aaaa.Status == DnsLookupStatus.Failed ? new(DnsLookupStatus.Failed, []) : new(DnsLookupStatus.NotFound, []);
    }

    /// <summary>
    /// The value of tag <paramref name="name"/> in a <c>tag=value; …</c> TXT record (DKIM key and DMARC records),
    /// trimmed; null if absent.
    /// </summary>
    public static string? TagValue(string record, string name)
    {
        ArgumentNullException.ThrowIfNull(record);
        foreach (var part in record.Split(';'))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return part[(eq + 1)..].Trim();
            }
        }

        return null;
    }

    /// <summary>Lowercase, no trailing dot.</summary>
    public static string Normalize(string name) => (name ?? "").TrimEnd('.').ToLowerInvariant();

    private async Task<IDnsQueryResponse?> QueryAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.QueryAsync(name, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException)
        {
            // Timeouts and unreachable servers: a failed lookup, not an answer.
            return null;
        }
    }

    private static DnsAnswer<T> Answer<T>(IDnsQueryResponse? response, Func<IDnsQueryResponse, IEnumerable<T>> select)
    {
        if (response is null)
        {
            return new(DnsLookupStatus.Failed, []);
        }

        var code = response.Header.ResponseCode;
        if (code == DnsHeaderResponseCode.NotExistentDomain)
        {
            return new(DnsLookupStatus.NotFound, []);
        }

        if (code != DnsHeaderResponseCode.NoError)
        {
            return new(DnsLookupStatus.Failed, []);
        }

        var records = select(response).ToList();
        return records.Count == 0 ? new(DnsLookupStatus.NotFound, []) : new(DnsLookupStatus.Found, records);
    }
}
