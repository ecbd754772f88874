// Reads delivery status notifications: RFC 3464 delivery-status bodies (message/delivery-status, or RFC 6533's
// message/global-delivery-status) inside RFC 6522 multipart/report, as Postfix, Exim, Veil's own queue and most MTAs
// send them. The per-recipient blocks are read for Final-Recipient (Original-Recipient when absent), Action, Status
// (RFC 3463 class.subject.detail) and Diagnostic-Code. A recipient whose Action is "failed" or "delayed" is reported:
// Hard for status class 5, Soft for class 4 (and for "delayed"). When Status is missing or unreadable, the enhanced
// code or the reply code of the Diagnostic-Code decides, then the Action ("failed" → 5.0.0, "delayed" → 4.0.0).
// The original Message-ID comes from the returned message or headers part (message/rfc822, message/global,
// text/rfc822-headers, message/global-headers).
// Limits: only the top-level entity and its multipart descendants are searched, never a message attached inside
// (a forwarded DSN is not a DSN about this mail); non-standard bounces without a delivery-status part (old Exim or
// qmail plain-text bounces) are not DSNs here and return null. At most 1,000 recipient blocks are read.
using System.Globalization;
using System.Text;
using Veil.Mail.Mime;

namespace Veil.Mail.Forwarding;

/// <summary>Whether a failure is permanent.</summary>
public enum BounceKind
{
    /// <summary>Permanent failure (status class 5): retrying will not help.</summary>
    Hard,

    /// <summary>Temporary failure or delay (status class 4): the sending queue retries.</summary>
    Soft,
}

/// <summary>One recipient a DSN reports as failed or delayed.</summary>
/// <param name="Recipient">The final recipient's address (the address type prefix removed, RFC 6533 escapes decoded).</param>
/// <param name="Kind">Hard or soft.</param>
/// <param name="Status">The RFC 3463 status, e.g. "5.1.1".</param>
/// <param name="Diagnostic">The Diagnostic-Code text without its type, or null.</param>
public sealed record BouncedRecipient(string Recipient, BounceKind Kind, string Status, string? Diagnostic);

/// <summary>What a DSN says.</summary>
/// <param name="Recipients">Failed or delayed recipients (empty for a DSN that reports only successes).</param>
/// <param name="OriginalMessageId">The Message-ID of the message the DSN is about, with angle brackets, or null.</param>
public sealed record BounceReport(IReadOnlyList<BouncedRecipient> Recipients, string? OriginalMessageId);

/// <summary>Parses RFC 3464 delivery status notifications.</summary>
public static class BounceParser
{
    private const int MaxRecipients = 1000;

    /// <summary>Parses a DSN. Never throws.</summary>
    /// <param name="message">The raw message.</param>
    /// <returns>The report, or null when the message is not a DSN (no delivery-status part).</returns>
    public static BounceReport? Parse(ReadOnlySpan<byte> message)
    {
        var parsed = MimeMessage.Parse(message.ToArray());
        MimeEntity? status = null;
        MimeEntity? original = null;
        foreach (var part in Parts(parsed.Root))
        {
            switch (part.ContentType.Value)
            {
                case "message/delivery-status" or "message/global-delivery-status":
                    status ??= part;
                    break;
                case "message/rfc822" or "message/global" or "text/rfc822-headers" or "message/global-headers":
                    original ??= part;
                    break;
            }
        }

        if (status is null)
        {
            return null;
        }

        var groups = FieldGroups(MimeCharsets.Decode(status.DecodeContent(), "utf-8", out _));
        var recipients = new List<BouncedRecipient>();
        foreach (var group in groups.Skip(1).Take(MaxRecipients))
        {
            if (ReadRecipient(group) is { } recipient)
            {
                recipients.Add(recipient);
            }
        }

        return new BounceReport(recipients, original is null ? null : OriginalMessageId(original));
    }

    /// <summary>The entity and its multipart descendants, not encapsulated messages.</summary>
    private static IEnumerable<MimeEntity> Parts(MimeEntity root)
    {
        var stack = new Stack<MimeEntity>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var entity = stack.Pop();
            yield return entity;
            for (var i = entity.Children.Count - 1; i >= 0; i--)
            {
                stack.Push(entity.Children[i]);
            }
        }
    }

    private static BouncedRecipient? ReadRecipient(Dictionary<string, string> fields)
    {
        var recipient = Address(fields.GetValueOrDefault("final-recipient")) ?? Address(fields.GetValueOrDefault("original-recipient"));
        if (recipient is null)
        {
            return null;
        }

        var action = (fields.GetValueOrDefault("action") ?? string.Empty).Trim().ToLowerInvariant();
        var paren = action.IndexOf('(', StringComparison.Ordinal);
        if (paren >= 0)
        {
            action = action[..paren].Trim();
        }

        if (action is not ("failed" or "delayed"))
        {
            return null;
        }

        var diagnostic = fields.GetValueOrDefault("diagnostic-code") is { } d ? WithoutType(d) : null;
        var status = StatusCode(fields.GetValueOrDefault("status"))
            ?? StatusFromDiagnostic(diagnostic)
            ?? (action == "failed" ? "5.0.0" : "4.0.0");
        var kind = action == "delayed" || status[0] == '4' ? BounceKind.Soft : BounceKind.Hard;
        return new BouncedRecipient(recipient, kind, status, string.IsNullOrEmpty(diagnostic) ? null : diagnostic);
    }

    /// <summary>"rfc822; user@example.org" → "user@example.org"; "utf-8; us\x{E9}r@…" decoded (RFC 6533 §3).</summary>
    private static string? Address(string? field)
    {
        if (string.IsNullOrWhiteSpace(field))
        {
            return null;
        }

        var semicolon = field.IndexOf(';', StringComparison.Ordinal);
        var type = semicolon < 0 ? "rfc822" : field[..semicolon].Trim().ToLowerInvariant();
        var value = (semicolon < 0 ? field : field[(semicolon + 1)..]).Trim().Trim('<', '>').Trim();
        if (type == "utf-8")
        {
            value = DecodeUtf8Escapes(value);
        }

        return value.Length == 0 || !value.Contains('@', StringComparison.Ordinal) ? null : value;
    }

    private static string DecodeUtf8Escapes(string value)
    {
        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 3 < value.Length && value[i + 1] == 'x' && value[i + 2] == '{')
            {
                var close = value.IndexOf('}', i + 3);
                if (close > i + 3 && close - i <= 10
                    && int.TryParse(value.AsSpan(i + 3, close - i - 3), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code)
                    && Rune.IsValid(code))
                {
                    sb.Append(new Rune(code).ToString());
                    i = close;
                    continue;
                }
            }

            sb.Append(value[i]);
        }

        return sb.ToString();
    }

    private static string WithoutType(string diagnostic)
    {
        var semicolon = diagnostic.IndexOf(';', StringComparison.Ordinal);
        return (semicolon >= 0 && semicolon < 20 ? diagnostic[(semicolon + 1)..] : diagnostic).Trim();
    }

    /// <summary>A well-formed "class.subject.detail" with class 4 or 5 at the start of the text, or null.</summary>
    private static string? StatusCode(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var t = text.Trim();
        var end = 0;
        while (end < t.Length && (char.IsAsciiDigit(t[end]) || t[end] == '.'))
        {
            end++;
        }

        var code = t[..end];
        var parts = code.Split('.');
        if (parts.Length != 3 || parts[0] is not ("4" or "5") || parts[1].Length is 0 or > 3 || parts[2].Length is 0 or > 3)
        {
            return null;
        }

        return code;
    }

    /// <summary>"550 5.1.1 …" → 5.1.1; "550 …" → 5.0.0; "421 …" → 4.0.0.</summary>
    private static string? StatusFromDiagnostic(string? diagnostic)
    {
        if (diagnostic is null || diagnostic.Length < 3 || !char.IsAsciiDigit(diagnostic[0]) || !char.IsAsciiDigit(diagnostic[1]) || !char.IsAsciiDigit(diagnostic[2]))
        {
            return null;
        }

        var rest = diagnostic[3..].TrimStart(' ', '-');
        return StatusCode(rest) is { } enhanced && enhanced[0] == diagnostic[0]
            ? enhanced
            : diagnostic[0] is '4' or '5' ? diagnostic[0] + ".0.0" : null;
    }

    /// <summary>RFC 3464 §2.1: header-like field groups separated by blank lines; folded lines unfolded; names lower case.</summary>
    private static List<Dictionary<string, string>> FieldGroups(string text)
    {
        var groups = new List<Dictionary<string, string>>();
        var current = new Dictionary<string, string>(StringComparer.Ordinal);
        string? last = null;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                if (current.Count > 0)
                {
                    groups.Add(current);
                    current = new Dictionary<string, string>(StringComparer.Ordinal);
                }

                last = null;
                continue;
            }

            if (line[0] is ' ' or '\t')
            {
                if (last is not null)
                {
                    current[last] = current[last] + " " + line.Trim();
                }

                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                last = null;
                continue;
            }

            last = line[..colon].Trim().ToLowerInvariant();
            current.TryAdd(last, line[(colon + 1)..].Trim());
            if (current[last] != line[(colon + 1)..].Trim())
            {
                last = null; // a repeated field: the first one counts
            }
        }

        if (current.Count > 0)
        {
            groups.Add(current);
        }

        return groups;
    }

    private static string? OriginalMessageId(MimeEntity part)
    {
        var headers = part.EncapsulatedMessage ?? MimeMessage.Parse(part.DecodeContent()).Root;
        var value = headers.GetHeader("Message-ID")?.Value.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var open = value.IndexOf('<', StringComparison.Ordinal);
        var close = open < 0 ? -1 : value.IndexOf('>', open);
        return open >= 0 && close > open ? value[open..(close + 1)] : value;
    }
}
