// MTA-STS discovery, fetch and cache for direct delivery (RFC 8461 §3, §5.1).
//   1. TXT "_mta-sts.<domain>": exactly one record starting "v=STSv1" with an id (1–32 letters or digits), else no policy.
//   2. Same id as the cached, unexpired policy: the cached one. Otherwise GET https://mta-sts.<domain>/.well-known/mta-sts.txt
//      — certificate validated for that name (the system's roots, or the configured ones), no redirects, 200 with
//      text/plain, at most 64 KiB, within 20 s — and cache it for its max_age.
//   3. Whatever fails (no TXT, DNS error, fetch error, invalid policy) falls back to a cached unexpired policy, and
//      without one to "no policy": RFC 8461 §5.1 wants delivery to go on as before rather than stop on a transient error.
// Names are resolved through IMailDns (Veil:Dns:Servers), like the MX hosts the policy is about.
// Limit: the cache is in memory; after a restart the first delivery to a domain fetches its policy again. An attacker
// who can strip the TXT record AND the HTTPS fetch at that moment downgrades that delivery to opportunistic TLS —
// the trust-on-first-use limit RFC 8461 §10.2 describes for every sender without a cached policy.
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Veil.Mail.Dns;

namespace Veil.Mail.Delivery;

/// <summary>Finds and caches recipient domains' MTA-STS policies.</summary>
public sealed class MtaStsPolicies : IDisposable
{
    /// <summary>The largest policy body accepted (RFC 8461 §3.3 suggests 64 KiB).</summary>
    public const int MaxPolicySize = 64 * 1024;

    /// <summary>How long one policy fetch may take.</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(20);

    private readonly IMailDns _dns;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _httpsPort;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, Cached> _cache = new(StringComparer.Ordinal);

    /// <summary>A policy source.</summary>
    /// <param name="dns">Resolves the TXT record, the policy host and (in the transport) the MX hosts.</param>
    /// <param name="time">The clock for max_age.</param>
    /// <param name="trustedRoots">
    /// When set, certificates (the policy host's and, in enforce mode, the MX hosts') must chain to one of these instead
    /// of the system's roots (a private CA, tests). Host names are checked either way; validation is never off.
    /// </param>
    /// <param name="httpsPort">The policy host's port (443; tests point it at a server on loopback).</param>
    /// <param name="logger">Where fetch failures are reported (never a domain: it is part of a recipient's address).</param>
    public MtaStsPolicies(IMailDns dns, TimeProvider time, X509Certificate2Collection? trustedRoots = null, int httpsPort = 443, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dns);
        ArgumentNullException.ThrowIfNull(time);
        _dns = dns;
        _time = time;
        _httpsPort = httpsPort;
        _logger = logger ?? NullLogger.Instance;
        TrustedRoots = trustedRoots is { Count: > 0 } ? trustedRoots : null;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // §3.3: redirects must not be followed
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = FetchTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = ConnectAsync,
        };
        if (TrustedRoots is not null)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = ChainPolicy(TrustedRoots) };
        }

        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The roots certificates must chain to, or null for the system's.</summary>
    public X509Certificate2Collection? TrustedRoots { get; }

    /// <summary>
    /// The policy of <paramref name="domain"/> (lowercase A-label), or null when it has none that applies. A policy in
    /// mode none is returned as such (it replaces an older cached one).
    /// </summary>
    public async Task<MtaStsPolicy?> GetAsync(string domain, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain);
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(domain, out var cached) && cached.Expires <= now)
        {
            _cache.TryRemove(new KeyValuePair<string, Cached>(domain, cached));
            cached = null;
        }

        var txt = await _dns.TxtAsync("_mta-sts." + domain, cancellationToken).ConfigureAwait(false);
        var id = txt.Status == DnsLookupStatus.Found ? IdOf(txt.Records) : null;
        if (id is null)
        {
            return cached?.Policy; // no record or a DNS failure: a cached policy still holds (§5.1)
        }

        if (cached is not null && cached.Id == id)
        {
            return cached.Policy;
        }

        var fetched = await FetchAsync(domain, cancellationToken).ConfigureAwait(false);
        if (fetched is null)
        {
            return cached?.Policy;
        }

        _cache[domain] = new Cached(id, fetched, now + fetched.MaxAge);
        return fetched;
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    internal static X509ChainPolicy ChainPolicy(X509Certificate2Collection roots)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(roots);
        return policy;
    }

    /// <summary>The id of the single "v=STSv1" record (§3.1), or null.</summary>
    private static string? IdOf(IReadOnlyList<string> records)
    {
        var sts = records.Where(r => r.StartsWith("v=STSv1", StringComparison.Ordinal)).ToList();
        if (sts.Count != 1 || MailDns.TagValue(sts[0], "v") != "STSv1")
        {
            return null;
        }

        var id = MailDns.TagValue(sts[0], "id");
        return id is { Length: > 0 and <= 32 } && id.All(char.IsAsciiLetterOrDigit) ? id : null;
    }

    private async Task<MtaStsPolicy?> FetchAsync(string domain, CancellationToken ct)
    {
        var port = _httpsPort == 443 ? "" : ":" + _httpsPort.ToString(CultureInfo.InvariantCulture);
        var url = new Uri($"https://mta-sts.{domain}{port}/.well-known/mta-sts.txt");
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        budget.CancelAfter(FetchTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, budget.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                MailEngineLog.MtaStsFetchFailed(_logger, "HTTP " + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
                return null;
            }

            if (response.Content.Headers.ContentType is not MediaTypeHeaderValue { MediaType: "text/plain" })
            {
                MailEngineLog.MtaStsFetchFailed(_logger, "not text/plain");
                return null;
            }

            var buffer = new byte[MaxPolicySize + 1];
            var length = 0;
            await using (var body = await response.Content.ReadAsStreamAsync(budget.Token).ConfigureAwait(false))
            {
                int read;
                while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), budget.Token).ConfigureAwait(false)) > 0)
                {
                    length += read;
                }
            }

            if (length > MaxPolicySize)
            {
                MailEngineLog.MtaStsFetchFailed(_logger, "larger than 64 KiB");
                return null;
            }

            var policy = MtaStsPolicy.Parse(Encoding.UTF8.GetString(buffer, 0, length));
            if (policy is null)
            {
                MailEngineLog.MtaStsFetchFailed(_logger, "invalid policy");
            }

            return policy;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or AuthenticationException
            || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            MailEngineLog.MtaStsFetchFailed(_logger, e.GetType().Name);
            return null;
        }
    }

    /// <summary>Connects to the policy host at an address from <see cref="IMailDns"/>, each address in turn.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var addresses = await _dns.AddressesAsync(context.DnsEndPoint.Host, ct).ConfigureAwait(false);
        if (addresses.Status != DnsLookupStatus.Found)
        {
            throw new HttpRequestException("The MTA-STS policy host has no address (" + addresses.Status + ").");
        }

        SocketException? last = null;
        foreach (var address in addresses.Records.Take(DirectMxTransport.MaxHosts))
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }

        throw new HttpRequestException("No address of the MTA-STS policy host accepted a connection.", last);
    }

    private sealed record Cached(string Id, MtaStsPolicy Policy, DateTimeOffset Expires);
}
