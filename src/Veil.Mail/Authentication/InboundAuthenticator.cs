// Evaluates SPF, DKIM (Veil's own verifier, keys from DNS) and DMARC (RFC 7489 §3.1, §6.6) for one inbound message.
// See InboundAuthentication for what the result means and its stated limits.
using System.Net;
using System.Text;
using Veil.Mail.Dkim;
using Veil.Mail.Dns;

namespace Veil.Mail.Authentication;

/// <summary>Evaluates the authentication of inbound messages.</summary>
/// <param name="dns">The resolver (SPF, DKIM keys, DMARC policies).</param>
/// <param name="time">The clock for DKIM x= expiry.</param>
public sealed class InboundAuthenticator(IMailDns dns, TimeProvider time)
{
    private const int MaxPolicyWalk = 4;

    private readonly SpfEvaluator _spf = new(dns);
    private readonly DkimVerifier _dkim = new(new DnsDkimKeyResolver(dns), time);

    /// <summary>Evaluates <paramref name="message"/> (raw bytes, CRLF) received from <paramref name="client"/>.</summary>
    /// <param name="message">The whole message as received.</param>
    /// <param name="client">The SMTP client's address.</param>
    /// <param name="mailFrom">The envelope sender (empty for the null sender).</param>
    /// <param name="helo">The EHLO/HELO name.</param>
    /// <param name="cancellationToken">Cancels lookups.</param>
    public async Task<InboundAuthentication> EvaluateAsync(ReadOnlyMemory<byte> message, IPAddress client, string mailFrom, string helo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var at = (mailFrom ?? "").LastIndexOf('@');
        var spfDomain = at >= 0 ? MailDns.Normalize(mailFrom![(at + 1)..]) : string.IsNullOrWhiteSpace(helo) ? null : MailDns.Normalize(helo);
        var spf = spfDomain is null ? SpfResult.None : await _spf.CheckHostAsync(client, spfDomain, cancellationToken).ConfigureAwait(false);
        var dkim = (await _dkim.VerifyAsync(message, cancellationToken).ConfigureAwait(false))
            .Select(r => new DkimSignatureVerdict(r.Domain, r.Status)).ToList();

        var fromDomain = FromDomain(message);
        if (fromDomain is null)
        {
            return new(spf, spfDomain, dkim, DmarcResult.PermError, null, null);
        }

        var (status, record) = await PolicyAsync(fromDomain, cancellationToken).ConfigureAwait(false);
        if (status != DmarcResult.Pass)
        {
            return new(spf, spfDomain, dkim, status, fromDomain, null);
        }

        var policy = MailDns.TagValue(record!, "p")?.ToLowerInvariant();
        if (policy is not ("none" or "quarantine" or "reject"))
        {
            return new(spf, spfDomain, dkim, DmarcResult.PermError, fromDomain, null);
        }

        var strictSpf = MailDns.TagValue(record!, "aspf")?.Equals("s", StringComparison.OrdinalIgnoreCase) ?? false;
        var strictDkim = MailDns.TagValue(record!, "adkim")?.Equals("s", StringComparison.OrdinalIgnoreCase) ?? false;
        var aligned = (spf == SpfResult.Pass && at >= 0 && Aligned(fromDomain, spfDomain!, strictSpf))
            || dkim.Any(d => d.Status == DkimVerificationStatus.Pass && d.Domain is not null && Aligned(fromDomain, d.Domain, strictDkim));
        return new(spf, spfDomain, dkim, aligned ? DmarcResult.Pass : DmarcResult.Fail, fromDomain, policy);
    }

    /// <summary>Strict: equal. Relaxed: equal or one is a subdomain of the other (see InboundAuthentication's limits).</summary>
    private static bool Aligned(string from, string other, bool strict) =>
        from == other || (!strict && (from.EndsWith("." + other, StringComparison.Ordinal) || other.EndsWith("." + from, StringComparison.Ordinal)));

    /// <summary>The DMARC record of <paramref name="domain"/> or its nearest parent (Pass means found).</summary>
    private async Task<(DmarcResult Status, string? Record)> PolicyAsync(string domain, CancellationToken ct)
    {
        var name = domain;
        for (var i = 0; i <= MaxPolicyWalk && name.Contains('.', StringComparison.Ordinal); i++)
        {
            var txt = await dns.TxtAsync("_dmarc." + name, ct).ConfigureAwait(false);
            if (txt.Status == DnsLookupStatus.Failed)
            {
                return (DmarcResult.TempError, null);
            }

            var records = txt.Records.Where(r => r.StartsWith("v=DMARC1", StringComparison.Ordinal)).ToList();
            if (records.Count == 1)
            {
                return (DmarcResult.Pass, records[0]);
            }

            if (records.Count > 1)
            {
                return (DmarcResult.None, null); // §6.6.3: several records mean no policy
            }

            name = name[(name.IndexOf('.', StringComparison.Ordinal) + 1)..];
        }

        return (DmarcResult.None, null);
    }

    /// <summary>The domain of the single From header's address, lowercase; null when absent, duplicated or without one.</summary>
    internal static string? FromDomain(ReadOnlyMemory<byte> message)
    {
        if (!DkimMessage.TryParse(message, out var parsed))
        {
            return null;
        }

        var from = parsed.Fields.Where(f => f.Name.Equals("From", StringComparison.OrdinalIgnoreCase)).ToList();
        if (from.Count != 1)
        {
            return null;
        }

        var value = Encoding.Latin1.GetString(from[0].ValueBytes);
        var open = value.LastIndexOf('<');
        var address = open >= 0 && value.IndexOf('>', open) is var close and > 0 ? value[(open + 1)..close] : value;
        var at = address.LastIndexOf('@');
        if (at < 0)
        {
            return null;
        }

        var domain = MailDns.Normalize(address[(at + 1)..].Trim().TrimEnd(')', ' ', '\r', '\n', '\t'));
        return domain.Length > 0 && domain.Contains('.', StringComparison.Ordinal) && domain.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-') ? domain : null;
    }
}

/// <summary>DKIM key lookups (RFC 6376 §3.6.2.2) over <see cref="IMailDns"/>.</summary>
/// <param name="dns">The resolver.</param>
public sealed class DnsDkimKeyResolver(IMailDns dns) : IDkimKeyResolver
{
    /// <inheritdoc />
    public async ValueTask<DkimKeyLookup> ResolveAsync(string selector, string domain, CancellationToken cancellationToken)
    {
        var txt = await dns.TxtAsync(DkimDnsRecord.Name(selector, domain), cancellationToken).ConfigureAwait(false);
        return txt.Status switch
        {
            DnsLookupStatus.Found => DkimKeyLookup.Found(txt.Records[0]),
            DnsLookupStatus.NotFound => DkimKeyLookup.NotFound,
            _ => DkimKeyLookup.TemporaryFailure,
        };
    }
}
