// Direct delivery (RFC 5321 §5.1) for a server with no smarthost: the recipients are grouped by domain; for each
// domain the MX hosts are tried in preference order (no MX: the domain's own A/AAAA, the "implicit MX"; a null MX,
// RFC 7505: refused permanently), each address of a host in turn, until one gives an answer that is not a temporary
// failure. STARTTLS is opportunistic (RFC 7435): used whenever offered, and the certificate is not checked, because
// without MTA-STS or DANE nothing says which name it should carry and refusing would only push mail back to
// plaintext — unless the domain publishes an MTA-STS policy (RFC 8461, MtaStsPolicies):
//   enforce — only the MX hosts matching the policy are tried, each only over STARTTLS with a certificate that
//             validates for that host name; when none takes the message it is deferred (4xx: the queue retries, and
//             bounces it with a DSN once the queue lifetime has passed);
//   testing — delivered as without a policy, and what enforce would have refused is logged;
//   none    — as without a policy.
// Not implemented: DANE (RFC 7672) and TLS reporting (RFC 8460).
// The outcome is one SmtpDeliveryResult for the whole envelope, as the outbound queue expects: a domain that failed
// temporarily lists its recipients as refused with a 4xx reply (the queue keeps them pending and retries only them),
// a domain that failed permanently lists them with its 5xx reply (the queue bounces them with a DSN).
using System.Net;
using System.Net.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Veil.Mail.Dns;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;

namespace Veil.Mail.Delivery;

/// <summary>Delivers to each recipient domain's MX hosts.</summary>
/// <param name="dns">The resolver for MX and address lookups.</param>
/// <param name="template">EHLO name, timeouts and connection limits; Host, TLS mode and credentials are ignored.</param>
/// <param name="port">The SMTP port of every MX host (25; tests point it at a sink on loopback).</param>
/// <param name="mtaSts">The MTA-STS policy source; null: every domain gets opportunistic TLS.</param>
/// <param name="logger">Reports MTA-STS mismatches (counts and modes only, never a domain or an address).</param>
public sealed class DirectMxTransport(IMailDns dns, SmtpClientOptions template, int port = 25, MtaStsPolicies? mtaSts = null, ILogger? logger = null) : IDeliveryTransport
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>At most this many MX hosts are tried per domain and attempt, and this many addresses per host.</summary>
    public const int MaxHosts = 5;

    /// <inheritdoc />
    public async Task<SmtpDeliveryResult> DeliverAsync(SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(content);
        var groups = envelope.Recipients.GroupBy(DomainOf, StringComparer.Ordinal).ToList();
        if (groups.Count == 1)
        {
            return await DeliverDomainAsync(groups[0].Key, envelope, content, cancellationToken).ConfigureAwait(false);
        }

        if (!content.CanSeek)
        {
            throw new ArgumentException("Delivering to several domains reads the content once per domain: it must be seekable.", nameof(content));
        }

        var start = content.Position;
        var rejected = new List<KeyValuePair<string, string>>();
        var accepted = false;
        var last = "";
        foreach (var group in groups)
        {
            content.Position = start;
            var part = envelope with { Recipients = [.. group] };
            var result = await DeliverDomainAsync(group.Key, part, content, cancellationToken).ConfigureAwait(false);
            accepted |= result.Success || result.DataAccepted;
            rejected.AddRange(result.RejectedRecipients);
            if (!result.Success && !result.DataAccepted)
            {
                // The whole domain failed: its recipients carry the reply, 4xx (retried) or 5xx (bounced).
                var reply = result.Permanent ? EnsureCode(result.Reply, '5') : EnsureCode(result.Reply, '4');
                rejected.AddRange(group.Where(r => rejected.All(x => x.Key != r)).Select(r => new KeyValuePair<string, string>(r, reply)));
            }

            last = result.Reply;
        }

        var success = rejected.Count == 0;
        return new SmtpDeliveryResult(success, !accepted && rejected.All(r => r.Value.StartsWith('5')), last, rejected) { DataAccepted = accepted };
    }

    private async Task<SmtpDeliveryResult> DeliverDomainAsync(string domain, SmtpEnvelope envelope, Stream content, CancellationToken ct)
    {
        var mx = await dns.MxAsync(domain, ct).ConfigureAwait(false);
        List<string> hosts;
        switch (mx.Status)
        {
            case DnsLookupStatus.Failed:
                return Temporary($"451 4.4.3 MX lookup for {domain} failed");
            case DnsLookupStatus.NotFound:
                hosts = [domain]; // the implicit MX (RFC 5321 §5.1)
                break;
            default:
                if (mx.Records.Count == 1 && mx.Records[0].Host.Length == 0)
                {
                    return Permanent($"556 5.1.10 {domain} accepts no mail (null MX, RFC 7505)");
                }

                hosts = [.. mx.Records.Where(m => m.Host.Length > 0).Select(m => m.Host).Distinct(StringComparer.Ordinal).Take(MaxHosts)];
                break;
        }

        var policy = mtaSts is null ? null : await mtaSts.GetAsync(domain, ct).ConfigureAwait(false);
        var mode = policy?.Mode ?? MtaStsMode.None;
        if (mode != MtaStsMode.None)
        {
            var matching = hosts.Where(policy!.Matches).ToList();
            if (matching.Count < hosts.Count)
            {
                MailEngineLog.MtaStsMxMismatch(_logger, hosts.Count - matching.Count, mode == MtaStsMode.Enforce ? "enforce" : "testing");
            }

            if (mode == MtaStsMode.Enforce)
            {
                if (matching.Count == 0)
                {
                    MailEngineLog.MtaStsDeferred(_logger);
                    return Temporary($"451 4.7.5 no MX host of {domain} matches its MTA-STS policy");
                }

                hosts = matching;
            }
        }

        var start = content.CanSeek ? content.Position : 0;
        SmtpDeliveryResult? lastFailure = null;
        var anyAddress = false;
        foreach (var host in hosts)
        {
            var addresses = await dns.AddressesAsync(host, ct).ConfigureAwait(false);
            if (addresses.Status == DnsLookupStatus.Failed)
            {
                lastFailure = Temporary($"451 4.4.3 address lookup for an MX host of {domain} failed");
                continue;
            }

            foreach (var address in addresses.Records.Take(MaxHosts))
            {
                anyAddress = true;
                if (content.CanSeek)
                {
                    content.Position = start;
                }
                else if (lastFailure is not null)
                {
                    return lastFailure; // the content was consumed; the queue retries later
                }

                var options = OptionsFor(host, address, mode);
                var sawTls = false;
                var certificateErrors = SslPolicyErrors.None;
                if (mode == MtaStsMode.Testing)
                {
                    options.CertificateObserver = errors => (sawTls, certificateErrors) = (true, errors);
                }

                var result = await new SmtpDeliveryClient(options).DeliverAsync(envelope, content, ct).ConfigureAwait(false);
                if (mode == MtaStsMode.Testing && (result.Success || result.DataAccepted))
                {
                    if (!policy!.Matches(host))
                    {
                        MailEngineLog.MtaStsTestingFailure(_logger, "the policy does not list");
                    }
                    else if (!sawTls)
                    {
                        MailEngineLog.MtaStsTestingFailure(_logger, "offered no STARTTLS");
                    }
                    else if (certificateErrors != SslPolicyErrors.None)
                    {
                        MailEngineLog.MtaStsTestingFailure(_logger, "showed a certificate that does not validate (" + certificateErrors + ")");
                    }
                }

                if (result.Success || result.DataAccepted || result.Permanent)
                {
                    return result;
                }

                // A temporary failure or a dead host (in enforce mode also: no STARTTLS, or a certificate that does not
                // validate for the host): the next address, then the next MX.
                lastFailure = mode == MtaStsMode.Enforce ? Temporary($"451 4.7.5 {host} gave no MTA-STS-valid delivery: {result.Reply}") : result;
            }
        }

        if (!anyAddress && lastFailure is null)
        {
            return mx.Status == DnsLookupStatus.NotFound
                ? Permanent($"550 5.1.2 {domain} has no MX and no address")
                : Temporary($"451 4.4.4 no MX host of {domain} has an address");
        }

        if (mode == MtaStsMode.Enforce)
        {
            MailEngineLog.MtaStsDeferred(_logger);
        }

        return lastFailure ?? Temporary($"451 4.4.1 no MX host of {domain} answered");
    }

    /// <summary>
    /// The client settings for one MX address: in enforce mode STARTTLS is required and the certificate must validate
    /// for <paramref name="host"/> (the system's roots or the configured ones); otherwise TLS is opportunistic.
    /// </summary>
    private SmtpClientOptions OptionsFor(string host, IPAddress address, MtaStsMode mode) => new()
    {
        Host = host,
        ConnectAddress = address,
        Port = port,
        HeloName = template.HeloName,
        Tls = mode == MtaStsMode.Enforce ? SmtpTlsMode.Required : SmtpTlsMode.Opportunistic,
        AcceptAnyCertificate = mode != MtaStsMode.Enforce,
        TrustedRoots = mode == MtaStsMode.Enforce ? mtaSts!.TrustedRoots : null,
        ReplyTimeout = template.ReplyTimeout,
        MaxMessagesPerConnection = template.MaxMessagesPerConnection,
    };

    private static string DomainOf(string address) => MailDns.Normalize(address[(address.LastIndexOf('@') + 1)..]);

    private static string EnsureCode(string reply, char first) => reply.Length > 0 && reply[0] == first ? reply : (first == '5' ? "550 " : "451 ") + reply;

    private static SmtpDeliveryResult Temporary(string reply) => new(false, false, reply, []);

    private static SmtpDeliveryResult Permanent(string reply) => new(false, true, reply, []);
}
