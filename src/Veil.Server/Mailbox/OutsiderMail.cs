// The public side of password mail (spec/mailbox-api.md "Password mail to outsiders"). Anyone holding the link
// {PublicOrigin}/app/m/{id} may fetch the package (an opaque ciphertext) and post replies; the password never reaches
// this server, so the link alone opens nothing.
//   * Fetching counts one view, by the same compare-and-set as confidential copies (MailboxMessageCommands), and the
//     view that reaches the limit gets the package and destroys it. The page keeps the ciphertext in memory and
//     tries every password on it there, so a wrong password costs no view.
//   * A reply is an opaque sealed box to the reply key inside the package. It is stored as a message in the
//     sender's Inbox whose summary is the reply summary the sender's client sealed at sending (it carries the reply
//     private key); the server can read neither. At most one reply per counted view, and at most MaxReplies.
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Mime;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox;

/// <summary>A reply from the page: the sealed box (base64), made in the browser to the package's reply key.</summary>
internal sealed record OutsiderReplyRequest(string? Reply);

internal sealed record OutsiderReplyResponse(int RepliesLeft);

/// <summary>What the page shows before anything is fetched: the limits, and views left (null: no view limit).</summary>
internal sealed record OutsiderPackageInfo(DateTimeOffset ExpiresAt, int? ViewsLeft, long Size);

internal sealed class OutsiderMailCommands(VeilDbContext db, IBlobStore blobs, IOptions<MailboxOptions> options, TimeProvider time, ILogger<OutsiderMailCommands> logger)
{
    /// <summary>Most replies to one package.</summary>
    public const int MaxReplies = 5;

    /// <summary>Longest reply text (the sealed box adds <see cref="Veil.Crypto.Mailbox.OutsiderPackage.ReplyOverhead"/>).</summary>
    public const int MaxReplyText = 64 * 1024;

    /// <summary>The package's limits, or why it is gone; counts nothing (the page asks before fetching).</summary>
    public async Task<Result<OutsiderPackageInfo>> InfoAsync(string id, CancellationToken ct)
    {
        if (!options.Value.Enabled)
        {
            return MailboxErrors.NotEnabled;
        }

        var row = OutsiderPackageRow.IsId(id) ? await db.Set<OutsiderPackageRow>().AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct) : null;
        if (row is null)
        {
            return MailboxErrors.PackageNotFound;
        }

        return row.GoneAt(time.GetUtcNow()) is { } gone
            ? MailboxMessageCommands.GoneError(gone)
            : new OutsiderPackageInfo(row.ExpiresAt, row.MaxViews is { } max ? max - row.Views : null, row.Size);
    }

    public async Task<Result<Stream>> OpenAsync(string id, CancellationToken ct)
    {
        if (!options.Value.Enabled)
        {
            return MailboxErrors.NotEnabled;
        }

        if (!OutsiderPackageRow.IsId(id))
        {
            return MailboxErrors.PackageNotFound;
        }

        var now = time.GetUtcNow();
        var row = await db.Set<OutsiderPackageRow>().AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct);
        if (row is null)
        {
            return MailboxErrors.PackageNotFound;
        }

        if (row.GoneAt(now) is { } gone)
        {
            return MailboxMessageCommands.GoneError(gone);
        }

        // Opened before the view is counted: see MailboxMessageCommands.OpenSealedAsync.
        var stream = await blobs.OpenReadAsync(row.BlobKey, ct);
        if (stream is null)
        {
            return MailboxErrors.ViewLimitReached;
        }

        var mine = await ViewCounter.CountOneAsync(db.Set<OutsiderPackageRow>(), p => p.Id == id, row.MaxViews, ct);
        if (mine is null)
        {
            await stream.DisposeAsync();
            return MailboxErrors.ViewLimitReached;
        }

        MailboxLog.PackageViewed(logger, mine.Value);
        if (row.MaxViews is not { } max || mine < max)
        {
            return stream;
        }

        var copy = new MemoryStream();
        await using (stream)
        {
            await stream.CopyToAsync(copy, ct);
        }

        copy.Position = 0;
        await DestroyAsync(db, blobs, logger, id, MailDestroyReason.ViewLimitReached, now, ct);
        return copy;
    }

    public async Task<Result<OutsiderReplyResponse>> ReplyAsync(string id, OutsiderReplyRequest? body, CancellationToken ct)
    {
        if (!options.Value.Enabled)
        {
            return MailboxErrors.NotEnabled;
        }

        if (!OutsiderPackageRow.IsId(id))
        {
            return MailboxErrors.PackageNotFound;
        }

        var reply = body?.Reply is { Length: > 0 and <= (MaxReplyText + 1024) * 2 } text ? TryBase64(text) : null;
        if (reply is null || reply.Length < Veil.Crypto.Mailbox.OutsiderPackage.ReplyOverhead
            || reply.Length > MaxReplyText + Veil.Crypto.Mailbox.OutsiderPackage.ReplyOverhead || reply[0] != Veil.Crypto.Mailbox.OutsiderPackage.Version)
        {
            return MailboxErrors.InvalidMessage($"reply is a v1 sealed reply (base64) of at most {MaxReplyText} bytes of text.");
        }

        var now = time.GetUtcNow();
        var row = await db.Set<OutsiderPackageRow>().AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct);
        if (row is null)
        {
            return MailboxErrors.PackageNotFound;
        }

        // Past its expiry the conversation is over; after the last view, the replies that view earned still count.
        if (row.ExpiresAt <= now || row.DestroyedReason == MailDestroyReason.Expired)
        {
            return MailboxErrors.MessageExpired;
        }

        var allowed = Math.Min(row.Views, MaxReplies);
        var before = row.Replies;
        if (before >= allowed)
        {
            return MailboxErrors.ReplyLimitReached;
        }

        var counted = await db.Set<OutsiderPackageRow>()
            .Where(p => p.Id == id && p.Replies == before)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Replies, before + 1), ct);
        if (counted != 1)
        {
            return MailboxErrors.ReplyLimitReached;
        }

        var message = new MailMessage
        {
            Id = Guid.CreateVersion7(now),
            AccountId = row.AccountId,
            AddressId = row.AddressId,
            Folder = MailFolder.Inbox,
            EnvelopeFrom = row.Recipient,
            Size = reply.Length - Veil.Crypto.Mailbox.OutsiderPackage.ReplyOverhead,
            SealedSize = reply.Length,
            ReceivedAt = now,
            SealedSummary = row.ReplySummary,
        };
        using (var stream = new MemoryStream(reply, writable: false))
        {
            var written = await blobs.WriteAsync(message.BlobKey, stream, reply.Length, ct);
            if (written.Status != BlobWriteStatus.Stored)
            {
                throw new IOException("A reply did not reach the blob store whole.");
            }
        }

        db.Add(message);
        await db.SaveChangesAsync(ct);
        MailboxLog.PackageReplied(logger, message.Id);
        return new OutsiderReplyResponse(Math.Max(0, Math.Min(row.Views, MaxReplies) - before - 1));
    }

    /// <summary>Deletes a package's ciphertext for good; the row stays as a tombstone. Idempotent, like <see cref="MailboxMessageCommands.DestroyAsync"/>.</summary>
    public static async Task DestroyAsync(VeilDbContext db, IBlobStore blobs, ILogger logger, string id, MailDestroyReason reason, DateTimeOffset now, CancellationToken ct)
    {
        var row = await db.Set<OutsiderPackageRow>().FirstOrDefaultAsync(p => p.Id == id, ct);
        if (row is null || row.DestroyedAt is not null)
        {
            return;
        }

        await blobs.DeletePrefixAsync(row.BlobFolder, ct);
        row.Destroy(reason, now);
        await db.SaveChangesAsync(ct);
        MailboxLog.PackageDestroyed(logger, reason);
    }

    private static byte[]? TryBase64(string value)
    {
        var bytes = new byte[value.Length * 3 / 4 + 3];
        return Convert.TryFromBase64String(value, bytes, out var written) ? bytes[..written] : null;
    }
}

/// <summary>
/// The notice mail an outsider gets: who sent a password-protected message, the link, the hint, the limits. Never the
/// subject or the body (the server has neither), never the password.
/// </summary>
internal sealed class OutsiderNotice(PublicOrigin origin)
{
    public byte[] Build(string from, string to, string id, string? hint, DateTimeOffset expiresAt, int? maxViews, DateTimeOffset now)
    {
        var link = $"{origin.Value}/app/m/{id}";
        var limits = $"The link works until {Format(expiresAt)}" + (maxViews is { } views ? $", for {views.ToString(CultureInfo.InvariantCulture)} view(s)" : "") + ".";
        var text = $"{from} sent you a message protected by a password.\r\n\r\n"
            + $"Open it in your web browser:\r\n\r\n{link}\r\n\r\n"
            + (hint is null ? "" : $"Password hint from the sender: {hint}\r\n\r\n")
            + "The sender gives you the password another way (it is not in this mail). The message is decrypted in your "
            + "browser; you can reply from the same page, and only the sender can read your reply.\r\n\r\n"
            + limits + "\r\n";
        var builder = new MimeMessageBuilder { Text = text };
        builder.AddHeader("From", from);
        builder.AddHeader("To", to);
        builder.AddHeader("Subject", "A password-protected message from " + from);
        builder.AddHeader("Date", now.ToUniversalTime().ToString("ddd, dd MMM yyyy HH':'mm':'ss '+0000'", CultureInfo.InvariantCulture));
        builder.AddHeader("Message-ID", $"<{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}@{MailboxAddresses.DomainOf(from)}>");
        return builder.Build();
    }

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
