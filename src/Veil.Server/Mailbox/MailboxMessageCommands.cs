// Reading the mailbox: the server hands out what it holds — sealed summaries, sealed raw messages and the
// delivery metadata — and the client decrypts. Every lookup is by (id, owner): another account's message
// answers exactly like a missing one.
// Confidential copies (spec/mailbox-api.md "Confidential mode"): fetching the body of a copy with a view limit
// counts one view, by a compare-and-set UPDATE on the count, so parallel fetches can never exceed the limit; the fetch
// that reaches it gets the body and destroys it. An expired copy is refused at once, even before the job has swept it.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox;

/// <summary>One message as listed: metadata in clear, the summary sealed to the address key (base64; empty once destroyed).</summary>
internal sealed record MailMessageDto(
    Guid Id, Guid AddressId, string EnvelopeFrom, long Size, long SealedSize, DateTimeOffset ReceivedAt, string? ThreadId, string Summary,
    string Folder, DateTimeOffset? ExpiresAt, int? MaxViews, int Views, string? Gone);

internal sealed class MailboxMessageCommands(VeilDbContext db, IBlobStore blobs, TimeProvider time, ILogger<MailboxMessageCommands> logger)
{
    /// <summary>Most messages listed at once.</summary>
    public const int MaxPage = 500;

    public async Task<Result<IReadOnlyList<MailMessageDto>>> ListAsync(Guid accountId, DateTimeOffset? before, int? limit, string? folder, CancellationToken ct)
    {
        MailFolder wanted;
        switch (folder)
        {
            case null or "" or "inbox":
                wanted = MailFolder.Inbox;
                break;
            case "sent":
                wanted = MailFolder.Sent;
                break;
            default:
                return MailboxErrors.InvalidFolder;
        }

        var take = Math.Clamp(limit ?? 100, 1, MaxPage);
        var query = db.Set<MailMessage>().AsNoTracking().Where(m => m.AccountId == accountId && m.Folder == wanted);
        if (before is { } b)
        {
            query = query.Where(m => m.ReceivedAt < b);
        }

        var rows = await query.OrderByDescending(m => m.ReceivedAt).ThenBy(m => m.Id).Take(take).ToListAsync(ct);
        var now = time.GetUtcNow();
        return rows.Select(r => ToDto(r, now)).ToList();
    }

    public async Task<Result<MailMessageDto>> GetAsync(Guid id, Guid accountId, CancellationToken ct) =>
        await db.Set<MailMessage>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == id && m.AccountId == accountId, ct) is { } row
            ? ToDto(row, time.GetUtcNow())
            : MailboxErrors.MessageNotFound;

    public async Task<Result<Stream>> OpenSealedAsync(Guid id, Guid accountId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var row = await db.Set<MailMessage>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == id && m.AccountId == accountId, ct);
        if (row is null)
        {
            return MailboxErrors.MessageNotFound;
        }

        if (row.GoneAt(now) is { } gone)
        {
            return GoneError(gone);
        }

        if (row.MaxViews is not { } max)
        {
            return await blobs.OpenReadAsync(row.BlobKey, ct) is { } whole ? whole : MailboxErrors.MessageNotFound;
        }

        // The body is opened before the view is counted: a parallel fetch that takes the last view deletes the blob,
        // and a stream already open reads on (FileShare.Delete), so every counted view gets its body.
        var stream = await blobs.OpenReadAsync(row.BlobKey, ct);
        if (stream is null)
        {
            return MailboxErrors.ViewLimitReached;
        }

        var mine = await ViewCounter.CountOneAsync(db.Set<MailMessage>(), m => m.Id == id, max, ct);
        if (mine is null)
        {
            await stream.DisposeAsync();
            return MailboxErrors.ViewLimitReached;
        }

        if (mine < max)
        {
            return stream;
        }

        // The last view: the body is read into memory, then destroyed before it is answered.
        var copy = new MemoryStream();
        await using (stream)
        {
            await stream.CopyToAsync(copy, ct);
        }

        copy.Position = 0;
        await DestroyAsync(db, blobs, logger, id, MailDestroyReason.ViewLimitReached, now, ct);
        return copy;
    }

    public async Task<Result<bool>> DeleteAsync(Guid id, Guid accountId, CancellationToken ct)
    {
        var row = await db.Set<MailMessage>().FirstOrDefaultAsync(m => m.Id == id && m.AccountId == accountId, ct);
        if (row is null)
        {
            return MailboxErrors.MessageNotFound;
        }

        // Row first: a crash between the two leaves an orphan blob nobody can list, never a row without its message.
        // The copy's large attachments go with it when it was the last copy referencing them.
        db.Remove(row);
        await db.SaveChangesAsync(ct);
        await blobs.DeletePrefixAsync(MailMessage.BlobFolderOf(accountId, id), ct);
        await MailAttachmentCommands.ReleaseAsync(db, blobs, [id], ct);
        return true;
    }

    /// <summary>
    /// Deletes a copy's ciphertext for good and leaves its tombstone. Blob first, then the row: a crash between leaves
    /// a row that still reads as gone (its limit is past) and that the job destroys again, never ciphertext without a
    /// row to find it. Running it twice changes nothing more.
    /// </summary>
    public static async Task DestroyAsync(VeilDbContext db, IBlobStore blobs, ILogger logger, Guid id, MailDestroyReason reason, DateTimeOffset now, CancellationToken ct)
    {
        var row = await db.Set<MailMessage>().FirstOrDefaultAsync(m => m.Id == id, ct);
        if (row is null || row.DestroyedAt is not null)
        {
            return;
        }

        await blobs.DeletePrefixAsync(MailMessage.BlobFolderOf(row.AccountId, row.Id), ct);
        row.Destroy(reason, now);
        await db.SaveChangesAsync(ct);
        if (reason == MailDestroyReason.Expired)
        {
            // Expiry takes the large attachments at once. The last view leaves them for Veil:Mail:AttachmentViewGrace
            // (the attachment job releases them), so the reader who used that view can still fetch them.
            await MailAttachmentCommands.ReleaseAsync(db, blobs, [id], ct);
        }

        MailboxLog.Destroyed(logger, id, reason);
    }

    public static Error GoneError(MailDestroyReason reason) =>
        reason == MailDestroyReason.Expired ? MailboxErrors.MessageExpired : MailboxErrors.ViewLimitReached;

    private static MailMessageDto ToDto(MailMessage m, DateTimeOffset now)
    {
        var gone = m.GoneAt(now);
        return new(m.Id, m.AddressId, m.EnvelopeFrom, m.Size, m.SealedSize, m.ReceivedAt,
            m.ThreadIndex is null ? null : Convert.ToHexStringLower(m.ThreadIndex.AsSpan(0, Math.Min(16, m.ThreadIndex.Length))),
            gone is null ? m.SealedSummary : "",
            m.Folder == MailFolder.Sent ? "sent" : "inbox", m.ExpiresAt, m.MaxViews, m.Views,
            gone switch { MailDestroyReason.Expired => "expired", MailDestroyReason.ViewLimitReached => "view-limit-reached", _ => null });
    }
}
