// RFC 5322 §3.4 address lists (From, Reply-To, To, Cc, Sender …), read tolerantly: groups (their mailboxes are
// returned, the group name is dropped), comments (nested, with quoted pairs; a comment after a bare addr-spec is
// taken as its display name, the old "jane@example.org (Jane Doe)" style), quoted strings, domain literals,
// obsolete routes ("<@relay:user@domain>", route dropped), RFC 2047 encoded words in display names (decoded also
// inside quoted strings, which RFC 2047 §5 forbids but many mailers write) and RFC 6532 UTF-8.
// Limits: only mailboxes whose address has a local part, "@" and a domain are returned; an unparseable entry is
// skipped up to the next comma, never guessed at; at most 1,000 mailboxes per header value.
// Writing (Format) quotes an ASCII display name and writes a non-ASCII one as UTF-8 B encoded words (RFC 2047 §5(3)).
using System.Text;
using Veil.Mail.Mime;

namespace Veil.Mail.Forwarding;

/// <summary>One mailbox of an address header: an optional display name (decoded) and the address.</summary>
/// <param name="DisplayName">The decoded display name, or null when there is none.</param>
/// <param name="Address">The addr-spec, <c>local@domain</c>; a local part that is not a dot-atom stays quoted.</param>
public sealed record MailboxAddress(string? DisplayName, string Address);

/// <summary>Reads and writes RFC 5322 address lists.</summary>
public static class HeaderAddresses
{
    private const int MaxMailboxes = 1000;
    private const int MaxEncodedWord = 75;

    /// <summary>Parses an address-list header value (unfolded; encoded words not yet decoded). Never throws.</summary>
    /// <param name="headerValue">The field value, e.g. <c>"Doe, Jane" &lt;jane@example.org&gt;, team: a@b.c;</c>.</param>
    /// <returns>The mailboxes in order; empty when there are none or nothing could be read.</returns>
    public static IReadOnlyList<MailboxAddress> Parse(string headerValue)
    {
        if (string.IsNullOrEmpty(headerValue))
        {
            return [];
        }

        var tokens = Tokenize(headerValue);
        var result = new List<MailboxAddress>();
        var i = 0;
        while (i < tokens.Count && result.Count < MaxMailboxes)
        {
            i = ReadMailbox(tokens, i, result);
        }

        return result;
    }

    /// <summary>
    /// Writes one mailbox for a header field: <c>"Display Name" &lt;address&gt;</c>, the display name as encoded
    /// words when it is not ASCII, or the bare address when there is no display name. Control characters in the
    /// display name become spaces. The result is not folded.
    /// </summary>
    /// <param name="address">The mailbox.</param>
    public static string Format(MailboxAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var name = Clean(address.DisplayName);
        if (name.Length == 0)
        {
            return address.Address;
        }

        return FormatPhrase(name) + " <" + address.Address + ">";
    }

    /// <summary>Writes several mailboxes separated by ", ".</summary>
    /// <param name="addresses">The mailboxes.</param>
    public static string Format(IEnumerable<MailboxAddress> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        return string.Join(", ", addresses.Select(a => Format(a)));
    }

    /// <summary>The first mailbox of a list, or null.</summary>
    internal static MailboxAddress? First(IReadOnlyList<MailboxAddress> list) => list.Count > 0 ? list[0] : null;

    /// <summary>A display name as a quoted string (ASCII) or as UTF-8 B encoded words (otherwise).</summary>
    internal static string FormatPhrase(string name)
    {
        if (name.All(c => c is >= ' ' and < (char)127) && !name.Contains("=?", StringComparison.Ordinal))
        {
            return "\"" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        }

        // Each word holds whole characters only; words are separated by a space, which decoders drop (RFC 2047 §6.2).
        const string Prefix = "=?utf-8?B?";
        var maxBytes = (MaxEncodedWord - Prefix.Length - 2) / 4 * 3;
        var words = new List<string>();
        var chunk = new StringBuilder();
        var chunkBytes = 0;
        foreach (var rune in name.EnumerateRunes())
        {
            if (chunkBytes + rune.Utf8SequenceLength > maxBytes)
            {
                words.Add(Prefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(chunk.ToString())) + "?=");
                chunk.Clear();
                chunkBytes = 0;
            }

            chunk.Append(rune.ToString());
            chunkBytes += rune.Utf8SequenceLength;
        }

        if (chunk.Length > 0)
        {
            words.Add(Prefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(chunk.ToString())) + "?=");
        }

        return string.Join(' ', words);
    }

    private static string Clean(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return string.Empty;
        }

        var sb = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            sb.Append(c is < ' ' or '\x7f' ? ' ' : c);
        }

        return sb.ToString().Trim();
    }

    private enum Kind { Atom, Quoted, Comment, Literal, Special }

    private readonly record struct Token(Kind Kind, string Text, bool SpaceBefore);

    /// <summary>Splits a value into atoms, quoted strings, comments, domain literals and single specials.</summary>
    private static List<Token> Tokenize(string s)
    {
        var tokens = new List<Token>();
        var i = 0;
        var space = false;
        while (i < s.Length)
        {
            var c = s[i];
            if (c is ' ' or '\t' or '\r' or '\n')
            {
                space = true;
                i++;
                continue;
            }

            if (c == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (i < s.Length && s[i] != '"')
                {
                    if (s[i] == '\\' && i + 1 < s.Length)
                    {
                        i++;
                    }

                    sb.Append(s[i] is '\r' or '\n' ? ' ' : s[i]);
                    i++;
                }

                i++; // closing quote (or past the end when unterminated)
                tokens.Add(new Token(Kind.Quoted, sb.ToString(), space));
            }
            else if (c == '(')
            {
                var sb = new StringBuilder();
                var depth = 1;
                i++;
                while (i < s.Length && depth > 0)
                {
                    if (s[i] == '\\' && i + 1 < s.Length)
                    {
                        sb.Append(s[i + 1]);
                        i += 2;
                        continue;
                    }

                    depth += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
                    if (depth > 0)
                    {
                        sb.Append(s[i]);
                    }

                    i++;
                }

                tokens.Add(new Token(Kind.Comment, sb.ToString(), space));
            }
            else if (c == '[')
            {
                var end = s.IndexOf(']', i + 1);
                end = end < 0 ? s.Length : end + 1;
                tokens.Add(new Token(Kind.Literal, s[i..end], space));
                i = end;
            }
            else if (c is ',' or ';' or ':' or '<' or '>' or '@' or '.' or ')' or ']' or '\\')
            {
                tokens.Add(new Token(Kind.Special, c.ToString(), space));
                i++;
            }
            else
            {
                var start = i;
                while (i < s.Length && !(s[i] is ' ' or '\t' or '\r' or '\n' or '"' or '(' or '[' or ',' or ';' or ':' or '<' or '>' or '@' or '.' or ')' or ']' or '\\'))
                {
                    i++;
                }

                tokens.Add(new Token(Kind.Atom, s[start..i], space));
            }

            space = false;
        }

        return tokens;
    }

    private static bool IsSpecial(Token t, char c) => t.Kind == Kind.Special && t.Text[0] == c;

    /// <summary>Reads one list entry (a mailbox, or a group and its mailboxes) starting at <paramref name="i"/>; returns the next index.</summary>
    private static int ReadMailbox(List<Token> tokens, int i, List<MailboxAddress> result)
    {
        // Collect the entry's tokens up to a top-level ',' (or ';' closing a group), noting a group's ':'.
        var start = i;
        var angle = false;
        while (i < tokens.Count)
        {
            var t = tokens[i];
            if (IsSpecial(t, '<'))
            {
                angle = true;
            }
            else if (IsSpecial(t, '>'))
            {
                angle = false;
            }
            else if (!angle && IsSpecial(t, ':'))
            {
                // "display-name:" starts a group: the mailboxes follow; the name is not an address.
                return i + 1;
            }
            else if (!angle && (IsSpecial(t, ',') || IsSpecial(t, ';')))
            {
                break;
            }

            i++;
        }

        var entry = tokens.GetRange(start, i - start);
        if (TryMailbox(entry, out var mailbox))
        {
            result.Add(mailbox);
        }

        return i + 1;
    }

    private static bool TryMailbox(List<Token> entry, out MailboxAddress mailbox)
    {
        mailbox = null!;
        var open = entry.FindIndex(t => IsSpecial(t, '<'));
        if (open >= 0)
        {
            var close = entry.FindIndex(open + 1, t => IsSpecial(t, '>'));
            var inner = entry.GetRange(open + 1, (close < 0 ? entry.Count : close) - open - 1);

            // Obsolete route: "<@a.example,@b.example:user@domain>".
            var colon = inner.FindLastIndex(t => IsSpecial(t, ':'));
            if (colon >= 0)
            {
                inner = inner.GetRange(colon + 1, inner.Count - colon - 1);
            }

            var address = AddrSpec(inner);
            if (address is null)
            {
                return false;
            }

            var name = Phrase(entry.GetRange(0, open));
            if (name.Length == 0 && close >= 0)
            {
                // A comment after the angle address (rare) still names the mailbox.
                name = CommentName(entry.GetRange(close + 1, entry.Count - close - 1));
            }

            mailbox = new MailboxAddress(name.Length == 0 ? null : name, address);
            return true;
        }

        var bare = AddrSpec(entry);
        if (bare is null)
        {
            return false;
        }

        var comment = CommentName(entry);
        mailbox = new MailboxAddress(comment.Length == 0 ? null : comment, bare);
        return true;
    }

    /// <summary>local-part "@" domain from the entry's non-comment tokens, or null when it is not one.</summary>
    private static string? AddrSpec(List<Token> tokens)
    {
        var parts = tokens.Where(t => t.Kind != Kind.Comment).ToList();
        var at = parts.FindLastIndex(t => IsSpecial(t, '@'));
        if (at <= 0 || at == parts.Count - 1)
        {
            return null;
        }

        var local = new StringBuilder();
        var dotAtom = true;
        var raw = new StringBuilder();
        foreach (var t in parts.GetRange(0, at))
        {
            switch (t.Kind)
            {
                case Kind.Atom:
                    local.Append(t.Text);
                    raw.Append(t.Text);
                    break;
                case Kind.Quoted:
                    dotAtom &= t.Text.Length > 0 && t.Text.All(IsAtext);
                    local.Append(t.Text);
                    raw.Append(t.Text);
                    break;
                case Kind.Special when t.Text == ".":
                    local.Append('.');
                    raw.Append('.');
                    break;
                default:
                    return null;
            }
        }

        var domain = new StringBuilder();
        foreach (var t in parts.GetRange(at + 1, parts.Count - at - 1))
        {
            switch (t.Kind)
            {
                case Kind.Atom or Kind.Literal:
                    domain.Append(t.Text);
                    break;
                case Kind.Special when t.Text == ".":
                    domain.Append('.');
                    break;
                default:
                    return null;
            }
        }

        var localText = local.ToString();
        if (localText.Length == 0 || domain.Length == 0 || localText.StartsWith('.') || localText.EndsWith('.') || localText.Contains("..", StringComparison.Ordinal))
        {
            dotAtom = false;
        }

        if (localText.Length == 0)
        {
            return null;
        }

        var written = dotAtom
            ? localText
            : "\"" + localText.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        return written + "@" + domain;
    }

    private static bool IsAtext(char c) =>
        char.IsAsciiLetterOrDigit(c) || c > 127 || "!#$%&'*+-/=?^_`{|}~.".Contains(c, StringComparison.Ordinal);

    /// <summary>The display name: words joined by single spaces (comments dropped), encoded words decoded.</summary>
    private static string Phrase(List<Token> tokens)
    {
        var sb = new StringBuilder();
        foreach (var t in tokens)
        {
            if (t.Kind == Kind.Comment)
            {
                continue;
            }

            if (sb.Length > 0 && (t.SpaceBefore || t.Kind == Kind.Quoted))
            {
                sb.Append(' ');
            }

            sb.Append(t.Kind == Kind.Quoted ? EncodedWords.Decode(t.Text) : t.Text);
        }

        // Adjacent encoded words in atoms are joined by the decoder across the spaces between them.
        return Collapse(EncodedWords.Decode(sb.ToString()));
    }

    /// <summary>The trailing comment of an entry, as a display name; empty when the entry does not end with one.</summary>
    private static string CommentName(List<Token> tokens) =>
        tokens.Count > 0 && tokens[^1].Kind == Kind.Comment ? Collapse(EncodedWords.Decode(tokens[^1].Text)) : string.Empty;

    private static string Collapse(string s)
    {
        var sb = new StringBuilder(s.Length);
        var space = false;
        foreach (var c in s)
        {
            if (c is ' ' or '\t' or '\r' or '\n')
            {
                space = sb.Length > 0;
                continue;
            }

            if (space)
            {
                sb.Append(' ');
                space = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}
