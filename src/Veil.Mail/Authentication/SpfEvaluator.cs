// SPF (RFC 7208): is the connecting IP allowed to send with this MAIL FROM domain (or, for the null sender, the HELO
// name)? Implemented: the mechanisms all, include, a, mx, ip4, ip6, exists and ptr (ptr never matches: it is
// deprecated, §5.5, and costs reverse lookups), the redirect= modifier (exp= is ignored: Veil shows no explanation),
// qualifiers, CIDR lengths on a and mx, the limit of 10 DNS-querying terms (§4.6.4, permerror beyond), of 10 MX
// hosts per mx (§4.6.4) and of 2 void lookups (§4.6.4). Not implemented: macros (§7). A record that uses a macro
// evaluates to permerror — honest, rare in practice, and never a false pass.
using System.Net;
using System.Net.Sockets;
using Veil.Mail.Dns;

namespace Veil.Mail.Authentication;

/// <summary>An SPF result (RFC 7208 §2.6).</summary>
public enum SpfResult
{
    /// <summary>No SPF record, or no domain to check.</summary>
    None,

    /// <summary>The domain makes no assertion (<c>?</c>).</summary>
    Neutral,

    /// <summary>The IP is authorized.</summary>
    Pass,

    /// <summary>The IP is not authorized (<c>-</c>).</summary>
    Fail,

    /// <summary>Probably not authorized (<c>~</c>).</summary>
    SoftFail,

    /// <summary>A DNS lookup failed transiently.</summary>
    TempError,

    /// <summary>The record could not be interpreted (syntax, too many lookups, several SPF records, macros).</summary>
    PermError,
}

/// <summary>Evaluates SPF over <see cref="IMailDns"/>.</summary>
/// <param name="dns">The resolver.</param>
public sealed class SpfEvaluator(IMailDns dns)
{
    private const int MaxLookups = 10;
    private const int MaxVoidLookups = 2;
    private const int MaxMxHosts = 10;

    /// <summary>Evaluates <c>check_host(ip, domain)</c> (RFC 7208 §4).</summary>
    /// <param name="ip">The SMTP client's address.</param>
    /// <param name="domain">The MAIL FROM domain (or the HELO name for the null sender).</param>
    /// <param name="cancellationToken">Cancels lookups.</param>
    public async Task<SpfResult> CheckHostAsync(IPAddress ip, string domain, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ip);
        if (string.IsNullOrWhiteSpace(domain) || !domain.Contains('.', StringComparison.Ordinal))
        {
            return SpfResult.None;
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        return await EvaluateAsync(ip, MailDns.Normalize(domain), new Budget(), cancellationToken).ConfigureAwait(false);
    }

    private sealed class Budget
    {
        public int Lookups { get; set; }

        public int Voids { get; set; }
    }

    private async Task<SpfResult> EvaluateAsync(IPAddress ip, string domain, Budget budget, CancellationToken ct)
    {
        var txt = await dns.TxtAsync(domain, ct).ConfigureAwait(false);
        if (txt.Status == DnsLookupStatus.Failed)
        {
            return SpfResult.TempError;
        }

        var records = txt.Records.Where(r => r.Equals("v=spf1", StringComparison.OrdinalIgnoreCase) || r.StartsWith("v=spf1 ", StringComparison.OrdinalIgnoreCase)).ToList();
        if (records.Count == 0)
        {
            return SpfResult.None;
        }

        if (records.Count > 1)
        {
            return SpfResult.PermError; // §4.5
        }

        string? redirect = null;
        foreach (var term in records[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            if (term.Contains('%', StringComparison.Ordinal))
            {
                return SpfResult.PermError; // macros are not supported (see the header)
            }

            var eq = term.IndexOf('=', StringComparison.Ordinal);
            var colon = term.IndexOf(':', StringComparison.Ordinal);
            if (eq > 0 && (colon < 0 || eq < colon))
            {
                var name = term[..eq].ToLowerInvariant();
                if (name == "redirect")
                {
                    if (redirect is not null) return SpfResult.PermError;
                    redirect = term[(eq + 1)..];
                }

                continue; // exp= and unknown modifiers are ignored (§6)
            }

            var qualifier = term[0] switch { '+' => SpfResult.Pass, '-' => SpfResult.Fail, '~' => SpfResult.SoftFail, '?' => SpfResult.Neutral, _ => (SpfResult?)null };
            var mechanism = qualifier is null ? term : term[1..];
            var match = await MatchAsync(ip, domain, mechanism, budget, ct).ConfigureAwait(false);
            if (match is Match.Error error)
            {
                return error.Result;
            }

            if (match is Match.Yes)
            {
                return qualifier ?? SpfResult.Pass;
            }
        }

        if (redirect is null)
        {
            return SpfResult.Neutral; // §4.7: no match, no redirect
        }

        if (++budget.Lookups > MaxLookups)
        {
            return SpfResult.PermError;
        }

        var result = await EvaluateAsync(ip, MailDns.Normalize(redirect), budget, ct).ConfigureAwait(false);
        return result == SpfResult.None ? SpfResult.PermError : result; // §6.1
    }

    private abstract record Match
    {
        public sealed record Yes : Match;

        public sealed record No : Match;

        public sealed record Error(SpfResult Result) : Match;
    }

    private static readonly Match.Yes Matched = new();
    private static readonly Match.No NotMatched = new();

    private async Task<Match> MatchAsync(IPAddress ip, string domain, string mechanism, Budget budget, CancellationToken ct)
    {
        var (name, argument) = mechanism.IndexOf(':', StringComparison.Ordinal) is var c and > 0
            ? (mechanism[..c].ToLowerInvariant(), mechanism[(c + 1)..])
            : (mechanism.ToLowerInvariant(), null);
        string? cidr = null;
        if (name.Contains('/', StringComparison.Ordinal))
        {
            (name, cidr) = (name[..name.IndexOf('/', StringComparison.Ordinal)], name[name.IndexOf('/', StringComparison.Ordinal)..]);
        }
        else if (argument?.IndexOf('/', StringComparison.Ordinal) is int slash and >= 0 && name is "a" or "mx")
        {
            (argument, cidr) = (argument[..slash], argument[slash..]);
        }

        switch (name)
        {
            case "all":
                return Matched;
            case "ip4":
            case "ip6":
                return argument is not null && IpMatches(ip, argument, name == "ip6") is { } m ? (m ? Matched : NotMatched) : new Match.Error(SpfResult.PermError);
            case "include":
            {
                if (argument is null || ++budget.Lookups > MaxLookups) return new Match.Error(SpfResult.PermError);
                var inner = await EvaluateAsync(ip, MailDns.Normalize(argument), budget, ct).ConfigureAwait(false);
                return inner switch
                {
                    SpfResult.Pass => Matched,
                    SpfResult.Fail or SpfResult.SoftFail or SpfResult.Neutral => NotMatched,
                    SpfResult.TempError => new Match.Error(SpfResult.TempError),
                    _ => new Match.Error(SpfResult.PermError), // §5.2: none and permerror both become permerror
                };
            }

            case "a":
            case "mx":
            case "exists":
            {
                if (++budget.Lookups > MaxLookups) return new Match.Error(SpfResult.PermError);
                var target = MailDns.Normalize(argument ?? domain);
                if (!TryCidr(cidr, out var v4Bits, out var v6Bits)) return new Match.Error(SpfResult.PermError);
                List<string> hosts;
                if (name == "mx")
                {
                    var mx = await dns.MxAsync(target, ct).ConfigureAwait(false);
                    if (mx.Status == DnsLookupStatus.Failed) return new Match.Error(SpfResult.TempError);
                    if (mx.Status == DnsLookupStatus.NotFound && ++budget.Voids > MaxVoidLookups) return new Match.Error(SpfResult.PermError);
                    if (mx.Records.Count > MaxMxHosts) return new Match.Error(SpfResult.PermError);
                    hosts = [.. mx.Records.Select(m => m.Host).Where(h => h.Length > 0)];
                }
                else
                {
                    hosts = [target];
                }

                foreach (var host in hosts)
                {
                    var addresses = await dns.AddressesAsync(host, ct).ConfigureAwait(false);
                    if (addresses.Status == DnsLookupStatus.Failed) return new Match.Error(SpfResult.TempError);
                    if (addresses.Status == DnsLookupStatus.NotFound && name != "mx" && ++budget.Voids > MaxVoidLookups) return new Match.Error(SpfResult.PermError);
                    if (name == "exists" ? addresses.Records.Any(a => a.AddressFamily == AddressFamily.InterNetwork)
                        : addresses.Records.Any(a => InNetwork(ip, a, a.AddressFamily == AddressFamily.InterNetwork ? v4Bits : v6Bits)))
                    {
                        return Matched;
                    }
                }

                return NotMatched;
            }

            case "ptr":
                if (++budget.Lookups > MaxLookups) return new Match.Error(SpfResult.PermError);
                return NotMatched; // deprecated (§5.5); not evaluated, see the header
            default:
                return new Match.Error(SpfResult.PermError);
        }
    }

    /// <summary>Parses <c>/N</c>, <c>//M</c> or <c>/N//M</c>.</summary>
    private static bool TryCidr(string? cidr, out int v4Bits, out int v6Bits)
    {
        (v4Bits, v6Bits) = (32, 128);
        if (string.IsNullOrEmpty(cidr)) return true;
        var parts = cidr.Split("//");
        if (parts[0].Length > 0 && !(parts[0].StartsWith('/') && int.TryParse(parts[0].AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out v4Bits) && v4Bits <= 32)) return false;
        return parts.Length == 1 || (parts.Length == 2 && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out v6Bits) && v6Bits <= 128);
    }

    /// <summary>Whether <paramref name="ip"/> is in <c>ADDR[/N]</c>; null when the argument is malformed.</summary>
    private static bool? IpMatches(IPAddress ip, string argument, bool v6)
    {
        var slash = argument.IndexOf('/', StringComparison.Ordinal);
        var text = slash < 0 ? argument : argument[..slash];
        if (!IPAddress.TryParse(text, out var network) || (network.AddressFamily == AddressFamily.InterNetworkV6) != v6) return null;
        var max = v6 ? 128 : 32;
        var bits = max;
        if (slash >= 0 && !(int.TryParse(argument.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out bits) && bits <= max)) return null;
        return InNetwork(ip, network, bits);
    }

    private static bool InNetwork(IPAddress ip, IPAddress network, int bits)
    {
        if (ip.AddressFamily != network.AddressFamily) return false;
        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        ip.TryWriteBytes(a, out var length);
        network.TryWriteBytes(b, out _);
        for (var i = 0; i < length && bits > 0; i++, bits -= 8)
        {
            var mask = bits >= 8 ? 0xFF : (byte)(0xFF << (8 - bits));
            if ((a[i] & mask) != (b[i] & mask)) return false;
        }

        return true;
    }
}
