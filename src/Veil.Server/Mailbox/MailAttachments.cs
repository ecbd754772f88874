// Large attachments (issue 17, point 8; spec/mailbox-api.md "Large attachments"). The sending client encrypts each
// large attachment under its own random key as a Cobblestone-256 stream and uploads the ciphertext here before it
// sends; the end-to-end encrypted message then carries a reference (blob id, key, size, name, hash) instead of the
// bytes, inside each recipient's own encryption. So one blob serves every copy and the server learns only its size.
//
// Ownership: a blob belongs to the messages that reference it (MailMessageAttachments, one row per copy). The send
// links it to every copy it stores; a copy's links go when the copy is deleted, when it expires, a short grace after
// its last view (so the reader that used that view can still fetch the attachment), and with its account. A blob
// whose last link went is deleted at once (or by the job after a crash). An upload that no send claimed within
// Veil:Mail:AttachmentOrphanAfter is purged by the job. Reading is allowed only through a link: a caller fetches a blob
// only if one of their own copies references it, otherwise the answer is the same 404 as for a blob that never was.
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox;

/// <summary>One uploaded attachment ciphertext. The server knows its size, who uploaded it and when, nothing more.</summary>
internal sealed class MailAttachmentBlob
{
    public Guid Id { get; init; }

    /// <summary>The uploading account: its quota counts this blob while it exists.</summary>
    public Guid UploaderAccountId { get; init; }

    public long Size { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When a send linked it to its copies; null while it is an upload waiting for its send.</summary>
    public DateTimeOffset? AttachedAt { get; set; }

    public string BlobKey => BlobFolderOf(Id) + "/data";

    public static string BlobFolderOf(Guid id) => $"mail-attachments/{id:N}";
}

/// <summary>A copy references a blob (one row per copy and blob).</summary>
internal sealed class MailMessageAttachment
{
    public Guid MessageId { get; init; }

    public Guid BlobId { get; init; }

    /// <summary>The copy's account, so that authorizing a download is one indexed lookup.</summary>
    public Guid AccountId { get; init; }
}

internal sealed class MailAttachmentBlobConfiguration : IEntityTypeConfiguration<MailAttachmentBlob>
{
    public void Configure(EntityTypeBuilder<MailAttachmentBlob> builder)
    {
        builder.ToTable("MailAttachmentBlobs");
        builder.HasKey(x => x.Id);
        builder.HasIndex(x => x.UploaderAccountId);
        builder.HasIndex(x => new { x.AttachedAt, x.CreatedAt });
    }
}

internal sealed class MailMessageAttachmentConfiguration : IEntityTypeConfiguration<MailMessageAttachment>
{
    public void Configure(EntityTypeBuilder<MailMessageAttachment> builder)
    {
        builder.ToTable("MailMessageAttachments");
        builder.HasKey(x => new { x.MessageId, x.BlobId });
        builder.HasIndex(x => x.BlobId);
        builder.HasIndex(x => new { x.AccountId, x.BlobId });
    }
}

internal sealed record AttachmentUploaded(Guid Id, long Size);

internal sealed class MailAttachmentCommands(VeilDbContext db, IBlobStore blobs, IOptions<MailboxOptions> options, TimeProvider time, ILogger<MailAttachmentCommands> logger)
{
    /// <summary>Streams one Cobblestone-256 ciphertext from the request into the blob store (one 64 KiB buffer, whatever its size).</summary>
    public async Task<Result<AttachmentUploaded>> UploadAsync(HttpRequest request, Guid accountId, CancellationToken ct)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return MailboxErrors.NotEnabled;
        }

        if (request.ContentLength is not { } length || length < Veil.Crypto.Streams.Cobblestone256.HeaderSize + Veil.Crypto.Streams.Cobblestone256.TagSize)
        {
            return MailboxErrors.InvalidAttachment("Send the encrypted attachment (Cobblestone-256) as the body, with a Content-Length.");
        }

        if (length > settings.MaxAttachmentSize)
        {
            return MailboxErrors.AttachmentTooLarge(settings.MaxAttachmentSize);
        }

        // The ciphertext length of a Cobblestone-256 stream says the plaintext length; anything else is not one.
        if (!Veil.Crypto.Streams.Cobblestone256.TryGetPlaintextLength(length, out _))
        {
            return MailboxErrors.InvalidAttachment("The body's length is not that of a Cobblestone-256 stream.");
        }

        var used = await db.Set<MailAttachmentBlob>().Where(b => b.UploaderAccountId == accountId).SumAsync(b => (long?)b.Size, ct) ?? 0;
        if (used + length > settings.AttachmentQuotaBytes)
        {
            return MailboxErrors.AttachmentQuotaExceeded(settings.AttachmentQuotaBytes);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = length + 1;
        }

        var now = time.GetUtcNow();
        var blob = new MailAttachmentBlob { Id = Guid.CreateVersion7(now), UploaderAccountId = accountId, Size = length, CreatedAt = now };
        BlobWriteResult written;
        try
        {
            written = await blobs.WriteAsync(blob.BlobKey, request.Body, length, ct);
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException or OperationCanceledException)
        {
            return MailboxErrors.InvalidAttachment("The body did not arrive whole; nothing was stored.");
        }

        if (written.Status != BlobWriteStatus.Stored)
        {
            return MailboxErrors.InvalidAttachment("The body's length is not its Content-Length; nothing was stored.");
        }

        // Blob first, then the row: a crash between leaves a folder without a row, which the job sweeps.
        db.Add(blob);
        await db.SaveChangesAsync(ct);
        MailboxLog.AttachmentUploaded(logger, blob.Id, length);
        return new AttachmentUploaded(blob.Id, length);
    }

    /// <summary>The ciphertext, to a caller one of whose copies references it (or who uploaded it and has not sent it yet).</summary>
    public async Task<Result<Stream>> OpenAsync(Guid id, Guid accountId, CancellationToken ct)
    {
        var allowed = await db.Set<MailMessageAttachment>().AnyAsync(l => l.AccountId == accountId && l.BlobId == id, ct)
            || await db.Set<MailAttachmentBlob>().AnyAsync(b => b.Id == id && b.UploaderAccountId == accountId && b.AttachedAt == null, ct);
        if (!allowed)
        {
            return MailboxErrors.AttachmentNotFound;
        }

        return await blobs.OpenReadAsync(MailAttachmentBlob.BlobFolderOf(id) + "/data", ct) is { } stream ? stream : MailboxErrors.AttachmentNotFound;
    }

    /// <summary>
    /// Removes the links of these copies and deletes every blob that no copy references any more. Links first, then
    /// blobs: a crash in between leaves a blob without links, which the job deletes; never a link to a missing blob
    /// that a reader could be promised.
    /// </summary>
    public static async Task ReleaseAsync(VeilDbContext db, IBlobStore blobs, IReadOnlyCollection<Guid> messageIds, CancellationToken ct)
    {
        if (messageIds.Count == 0)
        {
            return;
        }

        var blobIds = await db.Set<MailMessageAttachment>().Where(l => messageIds.Contains(l.MessageId)).Select(l => l.BlobId).Distinct().ToListAsync(ct);
        if (blobIds.Count == 0)
        {
            return;
        }

        await db.Set<MailMessageAttachment>().Where(l => messageIds.Contains(l.MessageId)).ExecuteDeleteAsync(ct);
        await DeleteUnreferencedAsync(db, blobs, blobIds, ct);
    }

    /// <summary>Deletes those of <paramref name="blobIds"/> that were attached and have no link left.</summary>
    public static async Task<int> DeleteUnreferencedAsync(VeilDbContext db, IBlobStore blobs, IReadOnlyCollection<Guid> blobIds, CancellationToken ct)
    {
        var links = db.Set<MailMessageAttachment>();
        var unreferenced = await db.Set<MailAttachmentBlob>()
            .Where(b => blobIds.Contains(b.Id) && b.AttachedAt != null && !links.Any(l => l.BlobId == b.Id))
            .Select(b => b.Id).ToListAsync(ct);
        foreach (var id in unreferenced)
        {
            await blobs.DeletePrefixAsync(MailAttachmentBlob.BlobFolderOf(id), ct);
        }

        if (unreferenced.Count > 0)
        {
            await db.Set<MailAttachmentBlob>().Where(b => unreferenced.Contains(b.Id) && !links.Any(l => l.BlobId == b.Id)).ExecuteDeleteAsync(ct);
        }

        return unreferenced.Count;
    }
}
