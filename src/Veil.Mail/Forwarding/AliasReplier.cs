// Rewrites a reply, sent from a user's real mailbox to a contact's reverse alias, into the message that leaves
// from the alias to the contact. The contact must learn nothing of the real mailbox, so:
//   - From becomes the alias address; the user's display name is kept only when it does not contain a removed address.
//   - To, Cc, Bcc: the reverse alias becomes the contact's address (with the contact's display name); any mailbox
//     that is a removed address is dropped, a display name that contains one is dropped; an emptied field is removed.
//   - Subject (and Comments): a removed address written in the text is replaced by the alias address.
//   - Received, Return-Path, DKIM-Signature, ARC-*, Authentication-Results are removed whatever they say: they
//     describe the path from the user's own provider (its host names, the user's IP, d= of the user's domain), and
//     the signatures could not verify after the From rewrite anyway. Veil signs the result for the alias domain.
//   - Any other field that mentions a removed address, case-insensitively, in its raw text, its RFC 2047-decoded
//     text or its %-decoded text, is removed (Sender, Reply-To, Disposition-Notification-To, Return-Receipt-To,
//     X-Original-From, List-* …).
// The body is not touched: quoted text in it ("On Monday, jane@real.example wrote:") is the user's to edit, and
// rewriting it would break signatures and encrypted bodies (OpenPGP, S/MIME). Message-ID, In-Reply-To and
// References are kept so both sides thread the conversation; a Message-ID chosen by the user's provider names that
// provider's domain, not the user's address.
using System.Text;
using Veil.Mail.Mime;

namespace Veil.Mail.Forwarding;

/// <summary>How to rewrite a reply.</summary>
/// <param name="AliasAddress">The alias the reply leaves from.</param>
/// <param name="ReverseAddress">The contact's reverse alias the user wrote to.</param>
/// <param name="ContactAddress">The contact's real address.</param>
/// <param name="ContactDisplayName">The contact's display name, or null.</param>
/// <param name="AddressesToRemove">The user's real mailboxes (every one that must not appear), compared case-insensitively.</param>
public sealed record ReplyOptions(string AliasAddress, string ReverseAddress, string ContactAddress, string? ContactDisplayName, IReadOnlyCollection<string> AddressesToRemove);

/// <summary>Rewrites replies sent through a reverse alias.</summary>
public static class AliasReplier
{
    private static readonly string[] AlwaysRemoved =
        ["Received", "Return-Path", "DKIM-Signature", "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results", "Authentication-Results"];

    private static readonly string[] AddressFields = ["To", "Cc", "Bcc"];

    private static readonly string[] TextFields = ["Subject", "Comments"];

    /// <summary>Rewrites a reply (see the file header for every rule). Never throws for any message bytes.</summary>
    /// <param name="message">The raw reply as received from the user's mailbox.</param>
    /// <param name="options">The alias, the contact and the addresses to remove.</param>
    public static byte[] Reply(ReadOnlySpan<byte> message, ReplyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.AliasAddress);
        ArgumentException.ThrowIfNullOrEmpty(options.ReverseAddress);
        ArgumentException.ThrowIfNullOrEmpty(options.ContactAddress);
        ArgumentNullException.ThrowIfNull(options.AddressesToRemove);

        var removed = options.AddressesToRemove.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a.Trim()).ToList();
        var editor = new HeaderBlockEditor(MimeMessage.Parse(message.ToArray()));
        MimeHeader? from = null;
        foreach (var header in editor.Headers)
        {
            var name = header.Name;
            if (name.Equals("From", StringComparison.OrdinalIgnoreCase))
            {
                if (from is null)
                {
                    from = header;
                    var original = HeaderAddresses.First(HeaderAddresses.Parse(header.Value));
                    var displayName = original?.DisplayName is { } n && !Mentions(n, removed) ? n : null;
                    editor.Replace(header, "From", HeaderAddresses.Format(new MailboxAddress(displayName, options.AliasAddress)));
                }
                else
                {
                    editor.Remove(header);
                }
            }
            else if (AlwaysRemoved.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                editor.Remove(header);
            }
            else if (AddressFields.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                RewriteRecipients(editor, header, options, removed);
            }
            else if (TextFields.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                if (MentionsField(header, removed))
                {
                    var text = header.DecodedValue;
                    foreach (var address in removed)
                    {
                        text = text.Replace(address, options.AliasAddress, StringComparison.OrdinalIgnoreCase);
                    }

                    editor.ReplaceField(header, EncodedWords.EncodeHeaderField(CanonicalName(name), text));
                }
            }
            else if (MentionsField(header, removed))
            {
                editor.Remove(header);
            }
        }

        if (from is null)
        {
            editor.Prepend("From", HeaderAddresses.Format(new MailboxAddress(null, options.AliasAddress)));
        }

        // The wire form is canonical CRLF (Mime/LineEndings.cs), whatever line endings the reply arrived with.
        return LineEndings.ToCrlf(editor.ToArray());
    }

    private static void RewriteRecipients(HeaderBlockEditor editor, MimeHeader header, ReplyOptions options, List<string> removed)
    {
        var mailboxes = HeaderAddresses.Parse(header.Value);
        var changed = false;
        var result = new List<MailboxAddress>(mailboxes.Count);
        foreach (var mailbox in mailboxes)
        {
            if (mailbox.Address.Equals(options.ReverseAddress, StringComparison.OrdinalIgnoreCase))
            {
                result.Add(new MailboxAddress(options.ContactDisplayName, options.ContactAddress));
                changed = true;
            }
            else if (removed.Any(a => a.Equals(mailbox.Address, StringComparison.OrdinalIgnoreCase)))
            {
                changed = true;
            }
            else if (mailbox.DisplayName is { } n && Mentions(n, removed))
            {
                result.Add(mailbox with { DisplayName = null });
                changed = true;
            }
            else
            {
                result.Add(mailbox);
            }
        }

        // A field left as written must not still carry a removed address somewhere the parser skipped (a comment, garbage).
        if (!changed && !MentionsField(header, removed))
        {
            return;
        }

        if (result.Count == 0)
        {
            editor.Remove(header);
        }
        else
        {
            editor.Replace(header, CanonicalName(header.Name), HeaderAddresses.Format(result));
        }
    }

    private static string CanonicalName(string name) =>
        name.ToLowerInvariant() switch
        {
            "to" => "To",
            "cc" => "Cc",
            "bcc" => "Bcc",
            "subject" => "Subject",
            "comments" => "Comments",
            _ => name,
        };

    private static bool MentionsField(MimeHeader header, List<string> removed)
    {
        if (removed.Count == 0)
        {
            return false;
        }

        var raw = Encoding.UTF8.GetString(header.Raw.Span);
        var value = header.Value;
        return Mentions(raw, removed) || Mentions(value, removed) || Mentions(header.DecodedValue, removed) || Mentions(PercentDecoded(value), removed);
    }

    private static bool Mentions(string text, List<string> removed)
    {
        foreach (var address in removed)
        {
            if (text.Contains(address, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>%XX sequences decoded (as in mailto: URLs); invalid sequences left as written.</summary>
    private static string PercentDecoded(string value)
    {
        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var bytes = new List<byte>(value.Length);
        var utf8 = Encoding.UTF8.GetBytes(value);
        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] == (byte)'%' && i + 2 < utf8.Length && char.IsAsciiHexDigit((char)utf8[i + 1]) && char.IsAsciiHexDigit((char)utf8[i + 2]))
            {
                bytes.Add(Convert.ToByte(Encoding.ASCII.GetString(utf8, i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add(utf8[i]);
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }
}
