// What Veil concluded about who sent an inbound message: SPF for the envelope, DKIM for each signature, DMARC for the
// From domain. It is a small record of plain values so a mailbox can store it beside a message (it reveals nothing
// the envelope does not: domains and verdicts, no local parts) and show it to the reader ("this message really comes
// from bank.example" or "this claims to be from bank.example but failed DMARC").
// Limits, stated so no reader trusts more than this: DMARC's organizational domain is not computed (no Public Suffix
// List on the machine), so relaxed alignment accepts only a domain equal to, or a subdomain of, the other one — this
// can call aligned mail unaligned (a.example.com vs b.example.com), never the reverse; the policy record is sought at
// the From domain and then its parents (at most 4 labels up, never the top-level domain alone).
using Veil.Mail.Dkim;

namespace Veil.Mail.Authentication;

/// <summary>The DMARC result (RFC 7489 §11.2).</summary>
public enum DmarcResult
{
    /// <summary>The From domain publishes no DMARC policy.</summary>
    None,

    /// <summary>An aligned SPF or DKIM pass.</summary>
    Pass,

    /// <summary>A policy exists and nothing aligned passed.</summary>
    Fail,

    /// <summary>A DNS lookup failed transiently.</summary>
    TempError,

    /// <summary>The From header is missing, duplicated or has no domain, or the policy record is malformed.</summary>
    PermError,
}

/// <summary>One DKIM signature's verdict.</summary>
/// <param name="Domain">d=, or null when unparseable.</param>
/// <param name="Status">pass, fail, permerror or temperror.</param>
public sealed record DkimSignatureVerdict(string? Domain, DkimVerificationStatus Status);

/// <summary>The authentication verdicts of one inbound message, for storing beside it and showing to its reader.</summary>
/// <param name="Spf">SPF for <paramref name="SpfDomain"/>.</param>
/// <param name="SpfDomain">The MAIL FROM domain (or the HELO name for the null sender), or null.</param>
/// <param name="Dkim">One per DKIM-Signature field (at most <see cref="DkimVerifier.MaxSignatures"/>).</param>
/// <param name="Dmarc">The DMARC result for <paramref name="FromDomain"/>.</param>
/// <param name="FromDomain">The domain of the From header, or null when it has none.</param>
/// <param name="DmarcPolicy">The policy the From domain asks for on failure (none, quarantine, reject), or null.</param>
public sealed record InboundAuthentication(
    SpfResult Spf,
    string? SpfDomain,
    IReadOnlyList<DkimSignatureVerdict> Dkim,
    DmarcResult Dmarc,
    string? FromDomain,
    string? DmarcPolicy)
{
    /// <summary>An <c>Authentication-Results</c> value (RFC 8601) naming <paramref name="authServId"/>, without the field name.</summary>
    public string ToAuthenticationResults(string authServId)
    {
        var parts = new List<string> { authServId };
        parts.Add($"spf={Name(Spf)}" + (SpfDomain is null ? "" : $" smtp.mailfrom={SpfDomain}"));
        parts.AddRange(Dkim.Count == 0 ? ["dkim=none"] : Dkim.Select(d => $"dkim={d.Status.ToString().ToLowerInvariant()}" + (d.Domain is null ? "" : $" header.d={d.Domain}")));
        parts.Add($"dmarc={Name(Dmarc)}" + (FromDomain is null ? "" : $" header.from={FromDomain}"));
        return string.Join("; ", parts);
    }

    private static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
