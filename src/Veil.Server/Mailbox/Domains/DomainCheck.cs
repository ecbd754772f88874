// The DNS checks of a custom domain, in the order a user fixes them: ownership (TXT), MX, SPF, DKIM, DMARC. Each
// check says exactly what it found and what to publish instead, because the person reading it is at their DNS
// provider's form, not reading RFCs. A lookup that failed (timeout, SERVFAIL) is reported as such and makes the
// whole check inconclusive: a resolver outage must neither verify nor unverify a domain.
using Veil.Mail.Dkim;
using Veil.Mail.Dns;

namespace Veil.Server.Mailbox.Domains;

/// <summary>One record to publish.</summary>
/// <param name="Check">ownership, mx, spf, dkim or dmarc.</param>
/// <param name="Type">TXT or MX.</param>
/// <param name="Name">The owner name.</param>
/// <param name="Value">The record's value (for MX: the host, with <see cref="DomainCheck.MxPreference"/>).</param>
internal sealed record DnsRecordDto(string Check, string Type, string Name, string Value);

/// <summary>The outcome of one check.</summary>
/// <param name="Check">ownership, mx, spf, dkim or dmarc.</param>
/// <param name="Status">ok, missing, wrong or dns-error.</param>
/// <param name="Found">What DNS holds now (the relevant records), if anything.</param>
/// <param name="Fix">What to change, in one sentence; null when ok.</param>
internal sealed record DomainCheckDto(string Check, string Status, IReadOnlyList<string> Found, string? Fix)
{
    public bool Ok => Status == DomainCheck.Ok;
}

internal sealed class DomainCheck(IMailDns dns, CustomDomainOptions options)
{
    public const string Ok = "ok";
    public const string Missing = "missing";
    public const string Wrong = "wrong";
    public const string DnsError = "dns-error";
    public const int MxPreference = 10;

    /// <summary>The records <paramref name="domain"/> needs, in check order.</summary>
    public IReadOnlyList<DnsRecordDto> RecordsFor(CustomDomain domain)
    {
        using var key = domain.OpenDkimKey();
        var d = domain.Domain;
        return
        [
            new("ownership", "TXT", OwnershipName(d), OwnershipValue(domain)),
            new("mx", "MX", d, options.MxHost),
            new("spf", "TXT", d, $"v=spf1 {options.SpfMechanism} -all"),
            new("dkim", "TXT", DkimDnsRecord.Name(domain.DkimSelector, d), DkimDnsRecord.For(key)),
            new("dmarc", "TXT", "_dmarc." + d, $"v=DMARC1; p=quarantine; adkim=r; aspf=r"),
        ];
    }

    public static string OwnershipName(string domain) => "_veil." + domain;

    public static string OwnershipValue(CustomDomain domain) => "veil-verification=" + domain.VerificationToken;

    /// <summary>Runs every check (all of them, so the user sees everything to fix at once).</summary>
    public async Task<IReadOnlyList<DomainCheckDto>> RunAsync(CustomDomain domain, CancellationToken ct)
    {
        var records = RecordsFor(domain);
        return
        [
            await OwnershipAsync(domain, records[0], ct),
            await MxAsync(domain.Domain, records[1], ct),
            await SpfAsync(domain.Domain, records[2], ct),
            await DkimAsync(records[3], ct),
            await DmarcAsync(records[4], ct),
        ];
    }

    /// <summary>
    /// Checks one of the operator's own mail or alias domains (<c>veil admin doctor</c>): MX, SPF, the DKIM record of its
    /// newest key (<paramref name="dkim"/>; null when it has none), DMARC, and whether it publishes MTA-STS.
    /// </summary>
    public async Task<IReadOnlyList<DomainCheckDto>> RunOperatorAsync(string domain, DnsRecordDto? dkim, CancellationToken ct) =>
    [
        await MxAsync(domain, new("mx", "MX", domain, options.MxHost), ct),
        await SpfAsync(domain, new("spf", "TXT", domain, $"v=spf1 {options.SpfMechanism} -all"), ct),
        dkim is null ? new("dkim", Missing, [], $"{domain} has no DKIM key: create one with 'veil admin dkim create {domain}' and publish its record.") : await DkimAsync(dkim, ct),
        await DmarcAsync(new("dmarc", "TXT", "_dmarc." + domain, "v=DMARC1; p=quarantine; adkim=r; aspf=r"), ct),
        await MtaStsAsync(domain, ct),
    ];

    private async Task<DomainCheckDto> MtaStsAsync(string domain, CancellationToken ct)
    {
        var name = "_mta-sts." + domain;
        var txt = await dns.TxtAsync(name, ct);
        if (Failed(txt, "mta-sts") is { } failed) return failed;
        var sts = txt.Records.Where(r => r.StartsWith("v=STSv1", StringComparison.Ordinal)).ToList();
        return sts.Count == 1 && MailDns.TagValue(sts[0], "id") is { Length: > 0 }
            ? new("mta-sts", Ok, sts, null)
            : new("mta-sts", sts.Count == 0 ? Missing : Wrong, sts,
                $"Publish one TXT record at {name} (\"v=STSv1; id=<a new value at each policy change>\") and a policy at https://mta-sts.{domain}/.well-known/mta-sts.txt "
                + "(RFC 8461), so that senders deliver to this domain only over verified TLS.");
    }

    private async Task<DomainCheckDto> OwnershipAsync(CustomDomain domain, DnsRecordDto want, CancellationToken ct)
    {
        var txt = await dns.TxtAsync(want.Name, ct);
        if (Failed(txt, "ownership") is { } failed) return failed;
        if (txt.Records.Contains(want.Value, StringComparer.Ordinal))
        {
            return new("ownership", Ok, txt.Records, null);
        }

        return txt.Status == DnsLookupStatus.NotFound
            ? new("ownership", Missing, [], $"Publish a TXT record at {want.Name} with the value \"{want.Value}\".")
            : new("ownership", Wrong, txt.Records, $"The TXT records at {want.Name} do not include \"{want.Value}\"; add it (other values may stay).");
    }

    private async Task<DomainCheckDto> MxAsync(string domain, DnsRecordDto want, CancellationToken ct)
    {
        var mx = await dns.MxAsync(domain, ct);
        if (Failed(mx, "mx") is { } failed) return failed;
        var found = mx.Records.Select(m => $"{m.Preference} {m.Host}").ToList();
        if (mx.Status == DnsLookupStatus.NotFound)
        {
            return new("mx", Missing, [], $"Publish an MX record for {domain} pointing to {want.Value} (preference {MxPreference}).");
        }

        var target = MailDns.Normalize(want.Value);
        if (mx.Records.Any(m => m.Host == target) && mx.Records.All(m => m.Host == target))
        {
            return new("mx", Ok, found, null);
        }

        return mx.Records.Any(m => m.Host == target)
            ? new("mx", Wrong, found, $"Remove the MX records of {domain} that do not point to {want.Value}: mail sent to them would not reach Veil.")
            : new("mx", Wrong, found, $"Replace the MX records of {domain} with one pointing to {want.Value} (preference {MxPreference}).");
    }

    private async Task<DomainCheckDto> SpfAsync(string domain, DnsRecordDto want, CancellationToken ct)
    {
        var txt = await dns.TxtAsync(domain, ct);
        if (Failed(txt, "spf") is { } failed) return failed;
        var spf = txt.Records.Where(r => r.Equals("v=spf1", StringComparison.OrdinalIgnoreCase) || r.StartsWith("v=spf1 ", StringComparison.OrdinalIgnoreCase)).ToList();
        if (spf.Count == 0)
        {
            return new("spf", Missing, [], $"Publish a TXT record at {domain} with the value \"{want.Value}\".");
        }

        if (spf.Count > 1)
        {
            // RFC 7208 §4.5: more than one SPF record is a permerror for every receiver.
            return new("spf", Wrong, spf, $"{domain} has {spf.Count} SPF records; receivers then reject SPF entirely. Merge them into one that includes \"{options.SpfMechanism}\".");
        }

        var terms = spf[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (!terms.Any(t => t.Equals(options.SpfMechanism, StringComparison.OrdinalIgnoreCase) || t.Equals("+" + options.SpfMechanism, StringComparison.OrdinalIgnoreCase)))
        {
            return new("spf", Wrong, spf, $"Add \"{options.SpfMechanism}\" to the SPF record of {domain} (before its \"all\"), e.g. \"{want.Value}\".");
        }

        var all = terms.LastOrDefault(t => t.EndsWith("all", StringComparison.OrdinalIgnoreCase));
        if (all is not ("-all" or "~all"))
        {
            return new("spf", Wrong, spf, $"End the SPF record of {domain} with \"-all\" (or \"~all\"), so other senders are not authorized.");
        }

        return new("spf", Ok, spf, null);
    }

    private async Task<DomainCheckDto> DkimAsync(DnsRecordDto want, CancellationToken ct)
    {
        var txt = await dns.TxtAsync(want.Name, ct);
        if (Failed(txt, "dkim") is { } failed) return failed;
        if (txt.Status == DnsLookupStatus.NotFound)
        {
            return new("dkim", Missing, [], $"Publish a TXT record at {want.Name} with the value \"{want.Value}\".");
        }

        var wanted = PublicKeyOf(want.Value);
        return txt.Records.Count == 1 && PublicKeyOf(txt.Records[0]) == wanted
            ? new("dkim", Ok, txt.Records, null)
            : new("dkim", Wrong, txt.Records, $"The TXT record at {want.Name} must be exactly \"{want.Value}\" (one record; long values may be split into several strings).");
    }

    private async Task<DomainCheckDto> DmarcAsync(DnsRecordDto want, CancellationToken ct)
    {
        var txt = await dns.TxtAsync(want.Name, ct);
        if (Failed(txt, "dmarc") is { } failed) return failed;
        var dmarc = txt.Records.Where(r => r.StartsWith("v=DMARC1", StringComparison.Ordinal)).ToList();
        if (dmarc.Count == 0)
        {
            return new("dmarc", Missing, [], $"Publish a TXT record at {want.Name} with the value \"{want.Value}\".");
        }

        if (dmarc.Count > 1)
        {
            // RFC 7489 §6.6.3: several DMARC records mean no DMARC policy at all.
            return new("dmarc", Wrong, dmarc, $"{want.Name} has {dmarc.Count} DMARC records; receivers then ignore DMARC. Keep one: \"{want.Value}\".");
        }

        var policy = MailDns.TagValue(dmarc[0], "p")?.ToLowerInvariant();
        return policy switch
        {
            "quarantine" or "reject" => new("dmarc", Ok, dmarc, null),
            "none" => new("dmarc", Wrong, dmarc, $"p=none only asks for reports: mail forged as your domain is still delivered. Set p=quarantine (or reject) at {want.Name}."),
            _ => new("dmarc", Wrong, dmarc, $"The DMARC record at {want.Name} has no valid p= tag; use \"{want.Value}\"."),
        };
    }

    private static DomainCheckDto? Failed<T>(DnsAnswer<T> answer, string check) =>
        answer.Status == DnsLookupStatus.Failed
            ? new(check, DnsError, [], "The DNS lookup failed (timeout or server error); nothing was changed. Check again later.")
            : null;

    /// <summary>The p= tag of a DKIM record with its whitespace removed, or null.</summary>
    private static string? PublicKeyOf(string record) => MailDns.TagValue(record, "p") is { } p ? string.Concat(p.Where(c => !char.IsWhiteSpace(c))) : null;
}
