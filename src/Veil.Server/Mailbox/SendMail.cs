// Sending from a Veil client (issue 17, point 4; spec/mailbox-api.md "Sending"). The client did every piece of
// cryptography: it fetched each recipient's key from the key directory, built the MIME message, encrypted and signed
// it per recipient and sealed each listing summary. This command only stores what it is handed:
//   * one sealed copy per Veil recipient (Inbox of the recipient's account) and one for the sender (Sent), each a
//     blob plus a row with its sealed summary; the server never sees their plaintext;
//   * for outside recipients (not Veil addresses) the same MIME message in clear, DKIM-signed by the sender's domain
//     when it has a key, and handed to the durable outbound queue: SMTP to another server cannot be end-to-end here,
//     which docs/THREAT-MODEL.md ("Mail") states.
// All or nothing: every check (shape, sizes, the sender address is the caller's, every Veil copy names an address
// that exists, no outside recipient is at one of this server's mail domains) runs before anything is stored; then the
// blobs are written, the rows committed in one SaveChanges, and only then is the outside copy queued.
// Confidential mode (expiresInSeconds, maxViews) is accepted only when there are no outside recipients: this server
// can destroy the copies it holds, never mail that has left.
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Mime;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Server.Mail;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;
using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox;

/// <summary>
/// A send. <c>AttachmentIds</c> names large attachments uploaded before (POST /api/v1/mail/attachments) that the
/// sealed copies reference: each is linked to every copy stored here, so it lives as long as one of them does.
/// </summary>
internal sealed record SendMailRequest(
    Guid FromAddressId, IReadOnlyList<SendCopy>? Copies, SendCopy? SentCopy, SendOutside? Outside, long? ExpiresInSeconds, int? MaxViews,
    IReadOnlyList<SendOutsiderPackage>? OutsiderPackages = null, IReadOnlyList<Guid>? AttachmentIds = null);

/// <summary>
/// Password mail to one outsider (spec/mailbox-api.md "Password mail to outsiders"): the package the client encrypted
/// under the password (base64, Veil.Crypto.Mailbox.OutsiderPackage v1), the reply summary sealed to the sender's
/// address key, and an optional hint that goes in clear into the notice mail.
/// </summary>
internal sealed record SendOutsiderPackage(string? Recipient, string? Package, string? ReplySummary, string? Hint);

/// <summary>One sealed copy: the whole MIME message and its summary, each an OpenPGP message (base64) made by the client.</summary>
internal sealed record SendCopy(string? Recipient, string? SealedMessage, string? SealedSummary, long Size);

/// <summary>The copy for outside recipients: the MIME message in clear (base64), for the outbound queue.</summary>
internal sealed record SendOutside(IReadOnlyList<string>? Recipients, string? Message);

internal sealed record SendMailResponse(Guid SentId, IReadOnlyList<string> VeilRecipients, IReadOnlyList<string> Outsiders, IReadOnlyList<string> PasswordRecipients);

internal sealed class SendMailCommand(
    VeilDbContext db,
    IBlobStore blobs,
    IOptions<MailboxOptions> options,
    IServiceProvider services,
    TimeProvider time,
    ILogger<SendMailCommand> logger)
{
    public const int MaxRecipients = 50;
    public const int MaxSummaryBytes = 64 * 1024;
    public const int MaxViewsLimit = 100;
    public const int MaxHintLength = 200;
    public const int MaxAttachments = 100;
    public static readonly TimeSpan MinExpiry = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxExpiry = TimeSpan.FromDays(30);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The request may carry one copy per recipient, each up to Veil:Mail:MaxMessageSize before base64: the body limit
    /// is raised here (the JSON body guard skips this endpoint, which reads its own body) to four times that.
    /// </summary>
    public async Task<Result<SendMailResponse>> ExecuteAsync(HttpRequest request, Guid accountId, CancellationToken ct)
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.Value.MaxMessageSize * 4;
        }

        if (!request.HasJsonContentType())
        {
            return MailboxErrors.InvalidMessage("The body is JSON (Content-Type: application/json).");
        }

        SendMailRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<SendMailRequest>(request.Body, Json, ct);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or DecoderFallbackException)
        {
            return MailboxErrors.InvalidMessage("The body is not a send request (spec/mailbox-api.md, Sending).");
        }

        return await ExecuteAsync(body, accountId, ct);
    }

    public async Task<Result<SendMailResponse>> ExecuteAsync(SendMailRequest? body, Guid accountId, CancellationToken ct)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return MailboxErrors.NotEnabled;
        }

        if (body?.SentCopy is null)
        {
            return MailboxErrors.InvalidMessage("fromAddressId and sentCopy are required.");
        }

        var copies = body.Copies ?? [];
        var outsiders = body.Outside?.Recipients ?? [];
        var packages = body.OutsiderPackages ?? [];
        if (copies.Count + outsiders.Count + packages.Count is 0 or > MaxRecipients)
        {
            return MailboxErrors.InvalidMessage($"A message has 1 to {MaxRecipients} recipients (copies, outside.recipients and outsiderPackages).");
        }

        TimeSpan? expiresIn = body.ExpiresInSeconds is { } seconds ? TimeSpan.FromSeconds(Math.Clamp(seconds, 0, (long)MaxExpiry.TotalSeconds + 1)) : null;
        if (expiresIn is { } e && (e < MinExpiry || e > MaxExpiry))
        {
            return MailboxErrors.InvalidMessage("expiresInSeconds is from 60 (one minute) to 2592000 (30 days).");
        }

        if (body.MaxViews is < 1 or > MaxViewsLimit)
        {
            return MailboxErrors.InvalidMessage($"maxViews is from 1 to {MaxViewsLimit}.");
        }

        if (outsiders.Count > 0 && (expiresIn is not null || body.MaxViews is not null))
        {
            return MailboxErrors.ConfidentialNeedsVeil;
        }

        var attachmentIds = body.AttachmentIds?.Distinct().ToList() ?? [];
        if (attachmentIds.Count > MaxAttachments)
        {
            return MailboxErrors.InvalidMessage($"A message references at most {MaxAttachments} large attachments.");
        }

        if (attachmentIds.Count > 0 && outsiders.Count > 0)
        {
            // An outsider's copy is plain MIME: a reference to a blob here would be a link it cannot open.
            return MailboxErrors.InvalidMessage("Large attachments (attachmentIds) go only to Veil recipients; send outsiders the attachment inline.");
        }

        if (attachmentIds.Count > 0 && await db.Set<MailAttachmentBlob>()
                .CountAsync(b => attachmentIds.Contains(b.Id) && b.UploaderAccountId == accountId && b.AttachedAt == null, ct) != attachmentIds.Count)
        {
            return MailboxErrors.AttachmentNotFound;
        }

        var from = await db.Set<MailAddress>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == body.FromAddressId && a.AccountId == accountId, ct);
        if (from is null)
        {
            return MailboxErrors.AddressNotFound;
        }

        // Every Veil copy: decoded, within limits, for an address someone holds (each at most once).
        var sealedCopies = new List<(MailAddress Address, byte[] Message, string Summary, long Size)>(copies.Count);
        var seen = new HashSet<Guid>();
        for (var i = 0; i < copies.Count; i++)
        {
            var copy = copies[i];
            if (MailboxAddresses.Normalize(copy?.Recipient) is not { } recipient)
            {
                return MailboxErrors.InvalidMessage($"Copy #{i + 1} needs a recipient address.");
            }

            var decoded = Decode(copy!, settings);
            if (decoded.Error is { } bad)
            {
                return bad;
            }

            var address = await db.Set<MailAddress>().WhereBlindIndexMatches(a => a.AddressIndex, recipient).AsNoTracking().FirstOrDefaultAsync(ct);
            if (address is null)
            {
                return MailboxErrors.NotAVeilRecipient(i + 1);
            }

            if (!seen.Add(address.Id))
            {
                return MailboxErrors.InvalidMessage($"Copy #{i + 1} repeats a recipient.");
            }

            sealedCopies.Add((address, decoded.Value, copy!.SealedSummary!, copy.Size));
        }

        var sentMessage = Decode(body.SentCopy, settings);
        if (sentMessage.Error is { } badSent)
        {
            return badSent;
        }

        // Outsiders: plain addresses, none at this server's mail domains (those are Veil addresses or nobody's).
        byte[]? outsideMessage = null;
        var outsideList = new List<string>(outsiders.Count);
        if (outsiders.Count > 0)
        {
            for (var i = 0; i < outsiders.Count; i++)
            {
                var checkedRecipient = await OutsiderAsync(outsiders[i], i + 1, "Outside recipient", settings, ct);
                if (checkedRecipient.Error is { } bad)
                {
                    return bad;
                }

                outsideList.Add(checkedRecipient.Value!);
            }

            if (TryBase64(body.Outside!.Message) is not { } clear || clear.Length == 0 || clear.Length > settings.MaxMessageSize)
            {
                return MailboxErrors.InvalidMessage($"outside.message is the MIME message in base64, at most {settings.MaxMessageSize} bytes.");
            }

            // The server signs this copy with its DKIM key for the sender's domain: the From header must be the sender.
            if (!FromIs(clear, from.Address))
            {
                return MailboxErrors.InvalidMessage("The From header of outside.message must be the sending address.");
            }

            outsideMessage = clear;
        }

        // Password mail: each package opaque (version byte and size checked only), each reply summary an OpenPGP message.
        var packageList = new List<(string Recipient, byte[] Package, string ReplySummary, string? Hint)>(packages.Count);
        for (var i = 0; i < packages.Count; i++)
        {
            var package = packages[i];
            var checkedRecipient = await OutsiderAsync(package?.Recipient, i + 1, "Password recipient", settings, ct);
            if (checkedRecipient.Error is { } bad)
            {
                return bad;
            }

            if (TryBase64(package!.Package) is not { } bytes || bytes.Length < Veil.Crypto.Mailbox.OutsiderPackage.Overhead
                || bytes.Length > settings.MaxMessageSize + Veil.Crypto.Mailbox.OutsiderPackage.Overhead || bytes[0] != Veil.Crypto.Mailbox.OutsiderPackage.Version)
            {
                return MailboxErrors.InvalidMessage($"outsiderPackages #{i + 1}: package is a v1 password package (base64), within Veil:Mail:MaxMessageSize.");
            }

            if (TryBase64(package.ReplySummary) is not { } replySummary || replySummary.Length > MaxSummaryBytes || !IsOpenPgpEncrypted(replySummary))
            {
                return MailboxErrors.InvalidMessage($"outsiderPackages #{i + 1}: replySummary is an encrypted OpenPGP message (binary, base64) of at most {MaxSummaryBytes} bytes.");
            }

            var hint = package.Hint?.Trim();
            if (hint is { Length: > MaxHintLength } || (hint ?? "").Any(char.IsControl))
            {
                return MailboxErrors.InvalidMessage($"outsiderPackages #{i + 1}: hint is one line of at most {MaxHintLength} characters.");
            }

            if (outsideList.Contains(checkedRecipient.Value!) || packageList.Any(p => p.Recipient == checkedRecipient.Value))
            {
                return MailboxErrors.InvalidMessage($"Password recipient #{i + 1} is named twice (or also as an outside recipient).");
            }

            packageList.Add((checkedRecipient.Value!, bytes, package.ReplySummary!, string.IsNullOrEmpty(hint) ? null : hint));
        }

        var queue = outsideMessage is null && packageList.Count == 0 ? null : services.GetService<OutboundQueue>();
        if ((outsideMessage is not null || packageList.Count > 0) && queue is null)
        {
            return MailboxErrors.OutboundUnavailable;
        }

        // Stored: blobs first (an orphan blob is harmless and unlisted), then every row in one transaction.
        var now = time.GetUtcNow();
        DateTimeOffset? expiresAt = expiresIn is { } d ? now + d : null;
        var rows = new List<(MailMessage Row, byte[] Sealed)>();
        foreach (var (address, message, summary, size) in sealedCopies)
        {
            rows.Add((NewRow(address, MailFolder.Inbox, from.Address, message, summary, size, now, expiresAt, body.MaxViews), message));
        }

        var sent = NewRow(from, MailFolder.Sent, from.Address, sentMessage.Value, body.SentCopy.SealedSummary!, body.SentCopy.Size, now, expiresAt, null);
        rows.Add((sent, sentMessage.Value));

        // A public link never lives unbounded: without an expiry, a package lasts the longest confidential expiry.
        var packageRows = packageList.Select(p => (Row: new OutsiderPackageRow
        {
            Id = OutsiderPackageRow.NewId(),
            AccountId = accountId,
            AddressId = from.Id,
            SentId = sent.Id,
            Recipient = p.Recipient,
            Size = p.Package.Length,
            CreatedAt = now,
            ExpiresAt = expiresAt ?? now + MaxExpiry,
            MaxViews = body.MaxViews,
            ReplySummary = p.ReplySummary,
        }, p.Package, p.Hint)).ToList();

        bool claimed;
        try
        {
            foreach (var (key, sealedBytes) in rows.Select(r => (r.Row.BlobKey, r.Sealed)).Concat(packageRows.Select(p => (p.Row.BlobKey, p.Package))))
            {
                using var stream = new MemoryStream(sealedBytes, writable: false);
                var written = await blobs.WriteAsync(key, stream, sealedBytes.Length, ct);
                if (written.Status != BlobWriteStatus.Stored)
                {
                    throw new IOException("A sealed copy did not reach the blob store whole.");
                }
            }

            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // Claimed by compare-and-set on "not attached yet": a second send of the same upload, or the orphan purge
            // at the same moment, makes this one fail whole (nothing stored), never share a blob by accident.
            claimed = attachmentIds.Count == 0 || await db.Set<MailAttachmentBlob>()
                .Where(b => attachmentIds.Contains(b.Id) && b.UploaderAccountId == accountId && b.AttachedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(b => b.AttachedAt, now), ct) == attachmentIds.Count;
            if (claimed)
            {
                db.AddRange(rows.Select(r => r.Row));
                db.AddRange(packageRows.Select(p => p.Row));
                db.AddRange(rows.SelectMany(r => attachmentIds.Select(blob => new MailMessageAttachment { MessageId = r.Row.Id, BlobId = blob, AccountId = r.Row.AccountId })));
                await db.SaveChangesAsync(ct);
                await transaction.CommitAsync(ct);
            }
        }
        catch
        {
            foreach (var (row, _) in rows)
            {
                await blobs.DeletePrefixAsync(MailMessage.BlobFolderOf(row.AccountId, row.Id), CancellationToken.None);
            }

            foreach (var (row, _, _) in packageRows)
            {
                await blobs.DeletePrefixAsync(row.BlobFolder, CancellationToken.None);
            }

            throw;
        }

        if (!claimed)
        {
            foreach (var (row, _) in rows)
            {
                await blobs.DeletePrefixAsync(MailMessage.BlobFolderOf(row.AccountId, row.Id), CancellationToken.None);
            }

            foreach (var (row, _, _) in packageRows)
            {
                await blobs.DeletePrefixAsync(row.BlobFolder, CancellationToken.None);
            }

            return MailboxErrors.AttachmentNotFound;
        }

        string? queueId = null;
        if (outsideMessage is not null)
        {
            var domain = MailboxAddresses.DomainOf(from.Address);
            var (signed, _) = await services.GetRequiredService<OutgoingDkim>().SignAsync(domain, outsideMessage, ct);
            var envelope = new SmtpEnvelope(from.Address, outsideList, EightBitMime: false, SmtpUtf8: outsideList.Any(r => r.Any(c => c > '~')), now);
            queueId = await queue!.EnqueueAsync(envelope, signed, ct);
        }

        // Each password recipient gets a notice of its own (its own link): no subject, no body, only where to open it.
        var notices = services.GetService<OutsiderNotice>();
        foreach (var (row, _, hint) in packageRows)
        {
            var notice = notices!.Build(from.Address, row.Recipient, row.Id, hint, row.ExpiresAt, row.MaxViews, now);
            var domain = MailboxAddresses.DomainOf(from.Address);
            var (signed, _) = await services.GetRequiredService<OutgoingDkim>().SignAsync(domain, notice, ct);
            var envelope = new SmtpEnvelope(from.Address, [row.Recipient], EightBitMime: false, SmtpUtf8: row.Recipient.Any(c => c > '~'), now);
            await queue!.EnqueueAsync(envelope, signed, ct);
        }

        MailboxLog.Sent(logger, sent.Id, rows.Count, outsideList.Count + packageRows.Count, queueId);
        return new SendMailResponse(sent.Id, [.. sealedCopies.Select(c => c.Address.Address)], outsideList, [.. packageRows.Select(p => p.Row.Recipient)]);
    }

    /// <summary>An outside address (local@domain), not a Veil address and not at this server's mail domains; or the error.</summary>
    private async Task<Result<string>> OutsiderAsync(string? value, int position, string label, MailboxOptions settings, CancellationToken ct)
    {
        var recipient = value?.Trim() ?? "";
        var at = recipient.LastIndexOf('@');
        if (at <= 0 || recipient.Length > 254 || recipient.Any(c => c <= ' ' || c is '<' or '>' or ',' or '"' or (char)127)
            || DkimKeyAdmin.NormalizeDomain(recipient[(at + 1)..]) is not { } domain)
        {
            return MailboxErrors.InvalidMessage($"{label} #{position} is not an address (local@domain).");
        }

        if (MailboxAddresses.Normalize(recipient) is { } normalized
            && await db.Set<MailAddress>().WhereBlindIndexMatches(a => a.AddressIndex, normalized).AnyAsync(ct))
        {
            return MailboxErrors.RecipientHasKey(position);
        }

        return settings.IsMailDomain(domain) ? MailboxErrors.UnknownRecipient(position) : recipient[..at] + "@" + domain;
    }

    private static MailMessage NewRow(
        MailAddress address, MailFolder folder, string sender, byte[] sealedMessage, string sealedSummary, long size, DateTimeOffset now, DateTimeOffset? expiresAt, int? maxViews) =>
        new()
        {
            Id = Guid.CreateVersion7(now),
            AccountId = address.AccountId,
            AddressId = address.Id,
            Folder = folder,
            EnvelopeFrom = sender,
            Size = size,
            SealedSize = sealedMessage.Length,
            ReceivedAt = now,
            SealedSummary = sealedSummary,
            ExpiresAt = expiresAt,
            MaxViews = maxViews,
        };

    /// <summary>The copy's sealed message, decoded once (the caller stores these bytes).</summary>
    private static Result<byte[]> Decode(SendCopy copy, MailboxOptions settings)
    {
        // The server cannot check what is inside (it has no key); it checks that each part is an OpenPGP message of a
        // sane size, so a client bug cannot store plaintext by mistake.
        if (TryBase64(copy.SealedMessage) is not { } message || message.Length == 0 || message.Length > settings.MaxMessageSize + 64 * 1024 || !IsOpenPgpEncrypted(message))
        {
            return MailboxErrors.InvalidMessage("sealedMessage is an encrypted OpenPGP message (binary, base64), within Veil:Mail:MaxMessageSize.");
        }

        if (TryBase64(copy.SealedSummary) is not { } summary || summary.Length == 0 || summary.Length > MaxSummaryBytes || !IsOpenPgpEncrypted(summary))
        {
            return MailboxErrors.InvalidMessage($"sealedSummary is an encrypted OpenPGP message (binary, base64) of at most {MaxSummaryBytes} bytes.");
        }

        return copy.Size is < 0 || copy.Size > settings.MaxMessageSize
            ? MailboxErrors.InvalidMessage("size is the plaintext length, within Veil:Mail:MaxMessageSize.")
            : message;
    }

    // The first packet of an encrypted message is a public-key encrypted session key (tag 1), old or new format.
    private static bool IsOpenPgpEncrypted(byte[] data) =>
        data[0] is 0x84 or 0x85 or 0x86 or 0x87 or 0xC1;

    private static byte[]? TryBase64(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        // Sized exactly for well-formed input (no second copy); anything else fails to decode into it.
        var padding = value.EndsWith("==", StringComparison.Ordinal) ? 2 : value.EndsWith('=') ? 1 : 0;
        var bytes = new byte[Math.Max(0, value.Length / 4 * 3 - padding)];
        return value.Length % 4 == 0 && Convert.TryFromBase64String(value, bytes, out var written) && written == bytes.Length ? bytes : null;
    }

    private static bool FromIs(byte[] mime, string address)
    {
        var from = MimeMessage.Parse(mime).Root.GetHeader("From")?.DecodedValue.Trim() ?? "";
        var open = from.LastIndexOf('<');
        var close = from.LastIndexOf('>');
        var mailbox = open >= 0 && close > open ? from[(open + 1)..close] : from;
        return string.Equals(mailbox.Trim(), address, StringComparison.OrdinalIgnoreCase);
    }
}
