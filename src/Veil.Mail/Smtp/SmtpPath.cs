namespace Veil.Mail.Smtp;

/// <summary>
/// Parses the <c>&lt;path&gt; [params]</c> tail of MAIL FROM and RCPT TO (RFC 5321 §4.1.2, RFC 6531 §3.3).
/// Lenient only where RFC 5321 asks receivers to be (a space after the colon, source routes, which
/// are accepted and dropped); everything else is exact, and every length is bounded.
/// </summary>
internal static class SmtpPath
{
    public const int MaxPath = 256;      // RFC 5321 §4.5.3.1.3
    public const int MaxLocalPart = 64;  // §4.5.3.1.1
    public const int MaxDomain = 255;    // §4.5.3.1.2

    /// <summary>
    /// Splits <paramref name="argument"/> (the text after <c>FROM:</c> or <c>TO:</c>) into mailbox and params.
    /// The mailbox is empty for <c>&lt;&gt;</c> (only when <paramref name="allowNull"/>). Returns false on bad syntax.
    /// </summary>
    public static bool TryParse(string argument, bool allowNull, bool allowPostmaster, out string mailbox, out string parameters)
    {
        mailbox = "";
        parameters = "";
        int pos = 0;
        while (pos < argument.Length && argument[pos] == ' ') pos++; // tolerated: "MAIL FROM: <a@b>"
        if (pos >= argument.Length || argument[pos] != '<') return false;
        int open = pos++;
        if (pos < argument.Length && argument[pos] == '>')
        {
            if (!allowNull) return false;
            pos++;
            return TryTail(argument, pos, out parameters);
        }
        if (pos < argument.Length && argument[pos] == '@')
        {
            // A-d-l source route: "@a,@b:" — RFC 5321 §4.1.2 / appendix C: accept and ignore.
            int colon = argument.IndexOf(':', pos);
            if (colon < 0 || colon - pos > MaxPath) return false;
            pos = colon + 1;
        }
        int start = pos;
        if (pos < argument.Length && argument[pos] == '"')
        {
            pos++;
            while (true)
            {
                if (pos >= argument.Length) return false;
                char c = argument[pos];
                if (c == '"') { pos++; break; }
                if (c == '\\')
                {
                    pos++;
                    if (pos >= argument.Length || argument[pos] < ' ') return false;
                }
                else if (c < ' ') return false;
                pos++;
            }
        }
        else
        {
            while (pos < argument.Length && IsAtextOrDot(argument[pos])) pos++;
            if (pos == start) return false;
            var dotString = argument.AsSpan(start, pos - start);
            if (dotString[0] == '.' || dotString[^1] == '.' || dotString.Contains("..", StringComparison.Ordinal)) return false;
        }
        int localLength = pos - start;
        if (pos < argument.Length && argument[pos] == '>' && allowPostmaster
            && argument.AsSpan(start, localLength).Equals("postmaster", StringComparison.OrdinalIgnoreCase))
        {
            mailbox = argument[start..pos];
            return TryTail(argument, pos + 1, out parameters);
        }
        if (localLength > MaxLocalPart || pos >= argument.Length || argument[pos] != '@') return false;
        pos++;
        int domainStart = pos;
        if (pos < argument.Length && argument[pos] == '[')
        {
            int close = argument.IndexOf(']', pos);
            if (close < 0) return false;
            for (int i = pos + 1; i < close; i++)
            {
                char c = argument[i];
                if (c <= ' ' || c is '[' or '\\' or '>' || c >= 0x7f) return false;
            }
            pos = close + 1;
        }
        else
        {
            while (pos < argument.Length && IsDomainChar(argument[pos])) pos++;
            var domain = argument.AsSpan(domainStart, pos - domainStart);
            if (domain.IsEmpty || domain[0] is '.' or '-' || domain[^1] is '.' or '-' || domain.Contains("..", StringComparison.Ordinal)) return false;
        }
        if (pos - domainStart > MaxDomain || pos >= argument.Length || argument[pos] != '>') return false;
        mailbox = argument[start..pos];
        if (pos - open + 1 > MaxPath) return false;
        return TryTail(argument, pos + 1, out parameters);
    }

    /// <summary>Splits <c>KEY[=VALUE]</c> parameters (RFC 5321 §4.1.2 esmtp-param). False on bad syntax.</summary>
    public static bool TryParseParameters(string parameters, out List<KeyValuePair<string, string?>> result)
    {
        result = [];
        foreach (var part in parameters.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? part : part[..eq];
            string? value = eq < 0 ? null : part[(eq + 1)..];
            if (key.Length == 0 || !char.IsAsciiLetterOrDigit(key[0]) || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')) return false;
            if (value is not null && (value.Length == 0 || value.Any(c => c is < '!' or > '~' or '='))) return false;
            result.Add(new(key.ToUpperInvariant(), value));
        }
        return true;
    }

    private static bool TryTail(string argument, int pos, out string parameters)
    {
        parameters = "";
        if (pos == argument.Length) return true;
        if (argument[pos] != ' ') return false;
        parameters = argument[pos..];
        return true;
    }

    // RFC 5322 atext plus '.', plus any non-ASCII (RFC 6531 UTF8-non-ascii); the session decides if non-ASCII is allowed.
    private static bool IsAtextOrDot(char c) =>
        char.IsAsciiLetterOrDigit(c) || c >= 0x80 || "!#$%&'*+-/=?^_`{|}~.".Contains(c, StringComparison.Ordinal);

    private static bool IsDomainChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' || c >= 0x80;
}
