// PGP/MIME encryption of a forwarded copy (RFC 3156 §4; spec/openpgp.md §Alias copies).
//
// The top-level entity (its Content-* fields and its body, bytes as received, line endings made CRLF as RFC 3156
// §3 requires of the signed/encrypted form) is encrypted to the recipient's key, armored, and becomes the second
// part of a multipart/encrypted; every other header field (From, To, Subject, Date, Message-ID, the Received
// chain, the alias's own fields) stays outside, raw, so replies, threading and DKIM (applied afterwards, to the
// encrypted message) work as for any forwarded copy. The Subject therefore stays readable in transit, as with any
// PGP/MIME mail that carries no protected headers.
using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.OpenPgp;
using Veil.Mail.Mime;

namespace Veil.Mail.Forwarding;

/// <summary>Turns a complete message into its PGP/MIME (multipart/encrypted) form for one recipient key.</summary>
public static class PgpMime
{
    private const string Eol = "\r\n";

    /// <summary>Encrypts the content of <paramref name="message"/> to <paramref name="recipient"/>, keeping its transport headers outside.</summary>
    /// <param name="message">A complete RFC 5322 message.</param>
    /// <param name="recipient">The key of the mailbox that receives this copy.</param>
    /// <param name="now">The time written into the OpenPGP packets.</param>
    /// <returns>The multipart/encrypted message, CRLF line endings.</returns>
    public static byte[] Encrypt(byte[] message, OpenPgpPublicKey recipient, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(recipient);
        var parsed = MimeMessage.Parse(LineEndings.ToCrlf(message));
        var root = parsed.Root;

        // The encrypted entity: the content fields and the body.
        using var inner = new MemoryStream(parsed.Length + 64);
        var outer = new ArrayBufferWriter<byte>(parsed.Length * 2 + 1024);
        var hasContentType = false;
        foreach (var header in root.Headers)
        {
            if (header.Name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                hasContentType |= header.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase);
                inner.Write(header.Raw.Span);
            }
            else if (!header.Name.Equals("MIME-Version", StringComparison.OrdinalIgnoreCase))
            {
                outer.Write(header.Raw.Span);
            }
        }

        if (!hasContentType)
        {
            // RFC 2045 §5.2: a message without Content-Type is US-ASCII text; say so, as the outer type changes.
            inner.Write("Content-Type: text/plain; charset=us-ascii\r\n"u8);
        }

        inner.Write("\r\n"u8);
        inner.Write(root.RawBody.Span);
        inner.Position = 0;

        using var armored = new MemoryStream(parsed.Length * 4 / 3 + 1024);
        OpenPgpMessage.Encrypt(inner, armored, [recipient], new OpenPgpEncryptOptions(now, Armor: true));
        var ciphertext = LineEndings.ToCrlf(armored.ToArray());

        var boundary = "veil-pgp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        Write(outer, "MIME-Version: 1.0" + Eol);
        Write(outer, HeaderBlockEditor.Fold("Content-Type", $"multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"{boundary}\"") + Eol);
        Write(outer, Eol);
        Write(outer, "This is an OpenPGP/MIME encrypted message (RFC 3156)." + Eol);
        Write(outer, $"--{boundary}{Eol}Content-Type: application/pgp-encrypted{Eol}Content-Description: PGP/MIME version identification{Eol}{Eol}Version: 1{Eol}{Eol}");
        Write(outer, $"--{boundary}{Eol}Content-Type: application/octet-stream; name=\"encrypted.asc\"{Eol}Content-Description: OpenPGP encrypted message{Eol}Content-Disposition: inline; filename=\"encrypted.asc\"{Eol}{Eol}");
        outer.Write(ciphertext);
        if (ciphertext.Length > 0 && ciphertext[^1] != '\n')
        {
            Write(outer, Eol);
        }

        Write(outer, $"{Eol}--{boundary}--{Eol}");
        return outer.WrittenSpan.ToArray();
    }

    private static void Write(ArrayBufferWriter<byte> output, string text) => output.Write(Encoding.ASCII.GetBytes(text));
}
