// Sending from a Veil client (issue 17, point 4; spec/mailbox-api.md "Sending"). Everything that touches the content
// happens here, never on the server:
//   1. each recipient's key comes from the key directory; a recipient without one is an outsider (the server rejects
//      an outsider at one of its own mail domains: an address nobody holds);
//   2. the message is built once with Veil's MIME writer (headers, subject, body, attachments); attachments at or
//      above the request's threshold are encrypted under keys of their own and uploaded first, and the message
//      carries a reference to each (MailboxAttachments);
//   3. for every Veil recipient it is encrypted to that recipient's key and signed by the sender address's key, and a
//      listing summary is sealed to the same key; the sender's own "Sent" copy is encrypted to the sender's key;
//   4. one request uploads every copy; outsiders get the same MIME message in clear for the outbound queue (SMTP
//      cannot carry it otherwise: docs/THREAT-MODEL.md, Mail), or, with an outsider password, a package encrypted
//      under that password and a notice with a link to the page that opens it (Veil.Crypto.Mailbox.OutsiderPackage).
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Veil.Crypto.Mailbox;
using Veil.Crypto.OpenPgp;
using Veil.Crypto.Primitives;
using Veil.Mail.Mime;

namespace Veil.Client.Mailbox;

public sealed partial class MailboxClient
{
    /// <summary>Most recipients of one message.</summary>
    public const int MaxRecipients = 50;

    /// <summary>Encrypts and sends a message (see the file header); outsiders get it through the server's outbound queue.</summary>
    /// <exception cref="MailboxKeyException">No usable sender address, a recipient key that is not usable, or confidential mode with outsiders.</exception>
    public async Task<MailSendResult> SendAsync(MailSendRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var recipients = request.To.Select(Canonical).Distinct(StringComparer.Ordinal).ToList();
        if (recipients.Count is 0 or > MaxRecipients)
        {
            throw new MailboxKeyException($"a message needs 1 to {MaxRecipients} recipients");
        }

        var now = _client.Options.TimeProvider.GetUtcNow();
        var addresses = await ListAddressesAsync(cancellationToken).ConfigureAwait(false);
        var from = (request.From is { } wanted ? addresses.FirstOrDefault(a => a.Address == Canonical(wanted)) : addresses.Count > 0 ? addresses[0] : null)
            ?? throw new MailboxKeyException(request.From is null ? "you have no address to send from (veil mail address add NAME@DOMAIN)" : "you have no address " + Canonical(request.From));
        var signer = OpenPgpSecretKey.Load(KeyOf(from), now) ?? throw new MailboxKeyException("the sender address key is not usable");

        // 1. Keys: a published key makes a Veil recipient; "key-not-found" an outsider.
        var veil = new List<(string Address, OpenPgpPublicKey Key)>();
        var outsiders = new List<string>();
        foreach (var recipient in recipients)
        {
            PublishedKey published;
            try
            {
                published = KeyTransparency is { } kt
                    ? (await LookupVerifiedKeyAsync(recipient, kt, cancellationToken).ConfigureAwait(false)).Key
                    : await LookupKeyAsync(recipient, cancellationToken).ConfigureAwait(false);
            }
            catch (VeilApiException e) when (e.Code == "key-not-found")
            {
                outsiders.Add(recipient);
                continue;
            }
            catch (Veil.Client.Transparency.KtRefusedException e)
            {
                throw new MailboxKeyException("refusing to encrypt to " + recipient + ": " + e.Message);
            }

            var key = OpenPgpPublicKey.Parse(published.PublicKey, now).Key;
            if (key is null || !string.Equals(key.Fingerprint, published.Fingerprint, StringComparison.OrdinalIgnoreCase))
            {
                throw new MailboxKeyException("the published key of " + recipient + " is not usable");
            }

            veil.Add((recipient, key));
        }

        var password = string.IsNullOrEmpty(request.OutsiderPassword) ? null : request.OutsiderPassword;
        if (password is not null && outsiders.Count == 0)
        {
            throw new MailboxKeyException("--outsider-password applies to recipients outside Veil, and every recipient is a Veil address");
        }

        if (password is null && outsiders.Count > 0 && (request.ExpiresIn is not null || request.MaxViews is not null))
        {
            // Expiry and view limits are enforced by this server on the copies it holds; mail that leaves by SMTP is
            // out of its reach, so confidential mode refuses rather than pretend.
            throw new MailboxKeyException("--expires and --max-views work only between Veil users; not Veil addresses: " + string.Join(", ", outsiders));
        }

        // 2. Large attachments: each encrypted under its own key and uploaded once for every copy (MailboxAttachments).
        var inline = new List<MailAttachment>();
        var large = new List<(string FileName, string MediaType, Func<Stream> Open, long Size)>();
        foreach (var attachment in request.Attachments)
        {
            if (attachment.Content.LongLength >= request.LargeAttachmentThreshold)
            {
                large.Add((attachment.FileName, attachment.MediaType, () => new MemoryStream(attachment.Content, writable: false), attachment.Content.LongLength));
            }
            else
            {
                inline.Add(attachment);
            }
        }

        foreach (var file in request.Files)
        {
            var size = new FileInfo(file.Path).Length;
            if (size >= request.LargeAttachmentThreshold)
            {
                large.Add((file.FileName, file.MediaType, () => File.OpenRead(file.Path), size));
            }
            else
            {
                inline.Add(new MailAttachment(file.FileName, file.MediaType, await File.ReadAllBytesAsync(file.Path, cancellationToken).ConfigureAwait(false)));
            }
        }

        if (large.Count > 0 && outsiders.Count > 0)
        {
            // An outsider's copy is plain SMTP mail: a reference to a blob on this server would be a link it cannot open.
            throw new MailboxKeyException($"attachments of {request.LargeAttachmentThreshold} bytes or more go only to Veil users (they are stored encrypted on this server); not Veil addresses: " + string.Join(", ", outsiders));
        }

        var references = new List<(Guid BlobId, string FileName, byte[] Json)>();
        foreach (var (fileName, mediaType, open, size) in large)
        {
            var (blobId, json) = await UploadLargeAsync(fileName, mediaType, open, size, cancellationToken).ConfigureAwait(false);
            references.Add((blobId, fileName, json));
        }

        // 3. One MIME message for every copy.
        var builder = new MimeMessageBuilder { Text = request.Body };
        builder.AddHeader("From", from.Address);
        builder.AddHeader("To", string.Join(", ", recipients));
        builder.AddHeader("Subject", request.Subject);
        var date = now.ToUniversalTime().ToString("ddd, dd MMM yyyy HH':'mm':'ss '+0000'", CultureInfo.InvariantCulture);
        builder.AddHeader("Date", date);
        builder.AddHeader("Message-ID", $"<{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}@{from.Address[(from.Address.IndexOf('@', StringComparison.Ordinal) + 1)..]}>");
        foreach (var attachment in inline)
        {
            builder.AddAttachment(attachment.FileName, attachment.MediaType, attachment.Content);
        }

        foreach (var reference in references)
        {
            builder.AddAttachment(reference.FileName, AttachmentReferenceMediaType, reference.Json);
        }

        var mime = builder.Build();
        foreach (var reference in references)
        {
            CryptographicOperations.ZeroMemory(reference.Json);
        }

        var snippet = string.Join(' ', request.Body.Split((char[])[' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
        var summary = JsonSerializer.SerializeToUtf8Bytes(
            new SummaryBody(1, from.Address, request.Subject, date, snippet.Length > 200 ? snippet[..200] : snippet,
                [.. inline.Select(a => a.FileName), .. references.Select(r => r.FileName)], recipients), Json);

        try
        {
            // 4. A sealed copy and summary per Veil recipient, and the sender's own.
            var copies = veil.Select(r => Seal(r.Address, r.Key, mime, summary, signer, now)).ToList();
            var senderKey = signer.PublicKey;
            var sentCopy = Seal(null, senderKey, mime, summary, signer, now);
            var outside = outsiders.Count == 0 || password is not null ? null : new SendOutsideBody(outsiders, Convert.ToBase64String(mime));
            var packages = password is null ? null : outsiders.Select(o => Package(o, mime, password, request, from.Address, date, senderKey, now)).ToList();
            var body = new SendBody(from.Id, copies, sentCopy, outside, request.ExpiresIn is { } expires ? (long)expires.TotalSeconds : null, request.MaxViews, packages,
                references.Count == 0 ? null : [.. references.Select(r => r.BlobId)]);
            SendResponse response;
            try
            {
                response = await _client.AuthenticatedAsync<SendResponse>(HttpMethod.Post, $"{Base}/messages", body, cancellationToken).ConfigureAwait(false);
            }
            catch (VeilApiException e) when (e.Code is "unknown-recipient" or "recipient-has-key" && RecipientNamed(e.Detail, veil.Select(v => v.Address).ToList(), outsiders) is { } who)
            {
                // The server names recipients by position only (a problem detail carries no address): name it here.
                throw new MailboxKeyException(e.Code == "unknown-recipient"
                    ? who + " is not a Veil address (its domain is this server's, but no one holds it); nothing was sent"
                    : who + " is a Veil address but had no key a moment ago; send again", e);
            }

            return new MailSendResult(response.SentId, response.VeilRecipients, response.Outsiders) { PasswordRecipients = response.PasswordRecipients ?? [] };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(mime);
            CryptographicOperations.ZeroMemory(summary);
        }
    }

    // Password mail to one outsider: a fresh X25519 reply key pair; its public half goes inside the password-encrypted
    // package (so the server cannot swap it), its private half into the reply summary, sealed to the sender's own
    // address key like the Sent copy. The password derives the package key here (Argon2id), never on the server.
    private static SendPackageBody Package(
        string outsider, byte[] mime, string password, MailSendRequest request, string sender, string date, OpenPgpPublicKey senderKey, DateTimeOffset now)
    {
        using var replyKey = X25519PrivateKey.Generate();
        var package = OutsiderPackage.Seal(mime, replyKey.PublicKey, password);
        var secret = new byte[X25519PrivateKey.Length];
        byte[] summary = [];
        try
        {
            replyKey.ExportPrivateKey(secret);
            summary = JsonSerializer.SerializeToUtf8Bytes(
                new ReplySummaryBody(1, outsider, "Re: " + request.Subject, null, "", [], [sender], "outsider-reply", Convert.ToBase64String(secret)), Json);
            return new SendPackageBody(outsider, Convert.ToBase64String(package), Convert.ToBase64String(Encrypt(summary, senderKey, null, now)), request.PasswordHint);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            CryptographicOperations.ZeroMemory(summary);
        }
    }

    private static string? RecipientNamed(string? detail, List<string> copies, List<string> outsiders)
    {
        var match = System.Text.RegularExpressions.Regex.Match(detail ?? "", @"(Copy|Outside recipient) #(\d+)");
        if (!match.Success || !int.TryParse(match.Groups[2].Value, CultureInfo.InvariantCulture, out var position))
        {
            return null;
        }

        var list = match.Groups[1].Value == "Copy" ? copies : outsiders;
        return position >= 1 && position <= list.Count ? list[position - 1] : null;
    }

    private static SendCopyBody Seal(string? recipient, OpenPgpPublicKey key, byte[] mime, byte[] summary, OpenPgpSecretKey signer, DateTimeOffset now) =>
        new(recipient, Convert.ToBase64String(Encrypt(mime, key, signer, now)), Convert.ToBase64String(Encrypt(summary, key, null, now)), mime.Length);

    // The message is signed inside the encryption (one-pass signature); the summary is not (it is a listing aid, and
    // what it says is checked against the signed message when read).
    private static byte[] Encrypt(byte[] plaintext, OpenPgpPublicKey key, OpenPgpSecretKey? signer, DateTimeOffset now)
    {
        using var input = new MemoryStream(plaintext, writable: false);
        using var output = new MemoryStream();
        OpenPgpMessage.Encrypt(input, output, [key], new OpenPgpEncryptOptions(now, signer));
        return output.ToArray();
    }

    private static string SignatureName(OpenPgpSignatureStatus status) => status switch
    {
        OpenPgpSignatureStatus.Valid => "valid",
        OpenPgpSignatureStatus.Invalid => "invalid",
        OpenPgpSignatureStatus.UnknownSigner => "unknown-signer",
        _ => "none",
    };
}
