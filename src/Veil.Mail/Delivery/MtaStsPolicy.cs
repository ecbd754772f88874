// An MTA-STS policy (RFC 8461): a recipient domain's statement, fetched over validated HTTPS, that its mail must go only
// to the MX hosts it names and only over TLS with a certificate valid for that host. This file is the parsing and the MX
// matching; MtaStsPolicies does the discovery (DNS TXT), the fetch and the cache.
// Format (§3.2): lines "key: value" separated by CRLF or LF; "version: STSv1", "mode: enforce|testing|none",
// "max_age: <seconds, at most 31557600>", and one "mx: <pattern>" per allowed host ("*." allows one leftmost label).
// Unknown keys are ignored (§3.2); a policy missing version, mode or max_age, or naming no mx outside mode none, is invalid.
using System.Globalization;

namespace Veil.Mail.Delivery;

/// <summary>What a policy asks of senders (RFC 8461 §5).</summary>
public enum MtaStsMode
{
    /// <summary>The domain withdrew its policy: deliver as though it had none.</summary>
    None,

    /// <summary>Report failures, deliver anyway.</summary>
    Testing,

    /// <summary>Deliver only to matching MX hosts over validated TLS; otherwise do not deliver (a temporary failure).</summary>
    Enforce,
}

/// <summary>A parsed MTA-STS policy.</summary>
/// <param name="Mode">enforce, testing or none.</param>
/// <param name="Mx">The MX host patterns, lowercase (<c>mail.example.com</c> or <c>*.example.com</c>).</param>
/// <param name="MaxAge">How long the policy may be cached.</param>
public sealed record MtaStsPolicy(MtaStsMode Mode, IReadOnlyList<string> Mx, TimeSpan MaxAge)
{
    /// <summary>The largest max_age a policy may give (§3.2: one year).</summary>
    public static readonly TimeSpan LongestMaxAge = TimeSpan.FromSeconds(31_557_600);

    /// <summary>Parses a policy body; null when it is not a valid STSv1 policy.</summary>
    public static MtaStsPolicy? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? version = null, mode = null, maxAge = null;
        var mx = new List<string>();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var value = line[(colon + 1)..].Trim(' ', '\t');
            switch (line[..colon])
            {
                case "version": version ??= value; break;
                case "mode": mode ??= value; break;
                case "max_age": maxAge ??= value; break;
                case "mx": mx.Add(value.ToLowerInvariant().TrimEnd('.')); break;
            }
        }

        var parsedMode = mode switch { "enforce" => MtaStsMode.Enforce, "testing" => MtaStsMode.Testing, "none" => MtaStsMode.None, _ => (MtaStsMode?)null };
        if (version != "STSv1" || parsedMode is null
            || maxAge is not { Length: > 0 and <= 10 } || !maxAge.All(char.IsAsciiDigit)
            || !long.TryParse(maxAge, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return null;
        }

        if (parsedMode != MtaStsMode.None && (mx.Count == 0 || !mx.All(IsPattern)))
        {
            return null;
        }

        var age = TimeSpan.FromSeconds(Math.Min(seconds, (long)LongestMaxAge.TotalSeconds));
        return new MtaStsPolicy(parsedMode.Value, mx, age);
    }

    /// <summary>Whether MX host <paramref name="host"/> is allowed (§4.1): equal to a pattern, or one label under a "*." one.</summary>
    public bool Matches(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var name = host.ToLowerInvariant().TrimEnd('.');
        foreach (var pattern in Mx)
        {
            if (pattern.StartsWith("*.", StringComparison.Ordinal))
            {
                var dot = name.IndexOf('.', StringComparison.Ordinal);
                if (dot > 0 && name[(dot + 1)..] == pattern[2..])
                {
                    return true;
                }
            }
            else if (name == pattern)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsPattern(string pattern)
    {
        var name = pattern.StartsWith("*.", StringComparison.Ordinal) ? pattern[2..] : pattern;
        return name.Length is > 0 and <= 253 && name.Contains('.', StringComparison.Ordinal)
            && name.Split('.').All(l => l.Length is > 0 and <= 63 && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
    }
}
