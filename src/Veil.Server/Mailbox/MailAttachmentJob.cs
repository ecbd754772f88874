// The attachment job (spec/mailbox-api.md "Large attachments"), leased like every periodic job:
//   1. uploads no send claimed within Veil:Mail:AttachmentOrphanAfter are deleted (row by compare-and-delete on
//      "still unattached", so a send claiming it at the same moment wins or loses whole);
//   2. copies destroyed by their last view release their attachments once Veil:Mail:AttachmentViewGrace passed;
//   3. links whose copy no longer exists are dropped, and attached blobs without any link left (a crash between
//      deleting a copy, releasing and deleting the blob) are deleted;
//   4. blob folders without a row (a crash between writing the blob and its row) are deleted once they are older
//      than the orphan time.
// Every rule is a condition on rows and the injected clock, so running it twice changes nothing more.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Mailbox;

internal sealed class MailAttachmentJob(IOptions<MailboxOptions> options, IBlobStore blobs, TimeProvider time, ILogger<MailAttachmentJob> logger) : IPeriodicJob
{
    public const string JobName = "mail-attachments";
    private const int Batch = 200;

    public string Name => JobName;

    public TimeSpan Interval => options.Value.AttachmentJobInterval;

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<VeilDbContext>();
        var settings = options.Value;
        var now = time.GetUtcNow();

        var orphans = 0;
        var unclaimedBefore = now - settings.AttachmentOrphanAfter;
        while (true)
        {
            var due = await db.Set<MailAttachmentBlob>().Where(b => b.AttachedAt == null && b.CreatedAt <= unclaimedBefore)
                .OrderBy(b => b.Id).Select(b => b.Id).Take(Batch).ToListAsync(cancellationToken);
            foreach (var id in due)
            {
                if (await db.Set<MailAttachmentBlob>().Where(b => b.Id == id && b.AttachedAt == null).ExecuteDeleteAsync(cancellationToken) == 1)
                {
                    await blobs.DeletePrefixAsync(MailAttachmentBlob.BlobFolderOf(id), cancellationToken);
                    orphans++;
                }
            }

            if (due.Count < Batch)
            {
                break;
            }
        }

        var released = 0;
        var viewedBefore = now - settings.AttachmentViewGrace;
        var links = db.Set<MailMessageAttachment>();
        while (true)
        {
            var due = await db.Set<MailMessage>()
                .Where(m => m.DestroyedReason == MailDestroyReason.ViewLimitReached && m.DestroyedAt <= viewedBefore && links.Any(l => l.MessageId == m.Id))
                .OrderBy(m => m.Id).Select(m => m.Id).Take(Batch).ToListAsync(cancellationToken);
            await MailAttachmentCommands.ReleaseAsync(db, blobs, due, cancellationToken);
            released += due.Count;
            if (due.Count < Batch)
            {
                break;
            }
        }

        // Links whose copy is gone without releasing them (a crash between deleting the row and releasing).
        var messages = db.Set<MailMessage>();
        await links.Where(l => !messages.Any(m => m.Id == l.MessageId)).ExecuteDeleteAsync(cancellationToken);

        var unreferencedIds = await db.Set<MailAttachmentBlob>().Where(b => b.AttachedAt != null && !links.Any(l => l.BlobId == b.Id))
            .Select(b => b.Id).Take(Batch * 5).ToListAsync(cancellationToken);
        var unreferenced = await MailAttachmentCommands.DeleteUnreferencedAsync(db, blobs, unreferencedIds, cancellationToken);

        var strays = new List<Guid>();
        await foreach (var folder in blobs.ListFoldersAsync("mail-attachments", cancellationToken))
        {
            if (folder.LastWrite <= unclaimedBefore && Guid.TryParseExact(folder.Name, "N", out var id))
            {
                strays.Add(id);
            }
        }

        foreach (var chunk in strays.Chunk(Batch))
        {
            var known = await db.Set<MailAttachmentBlob>().Where(b => chunk.Contains(b.Id)).Select(b => b.Id).ToListAsync(cancellationToken);
            foreach (var id in chunk.Except(known))
            {
                await blobs.DeletePrefixAsync(MailAttachmentBlob.BlobFolderOf(id), cancellationToken);
                orphans++;
            }
        }

        MailboxLog.AttachmentsSwept(logger, orphans, released, unreferenced);
    }
}
