// Account deletion for Mailbox: every address (so it can be taken again), every stored message with its blob, the
// search index, the account's unsent uploads, and every large attachment no other account's copy still references.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Mailbox;

internal sealed class MailboxAccountDataDeleter(VeilDbContext db, IBlobStore blobs, ILogger<MailboxAccountDataDeleter> logger) : IAccountDataDeleter
{
    public async Task DeleteAccountDataAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await db.Set<OutsiderPackageRow>().Where(p => p.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        var linked = await db.Set<MailMessageAttachment>().Where(l => l.AccountId == accountId).Select(l => l.BlobId).Distinct().ToListAsync(cancellationToken);
        await db.Set<MailMessageAttachment>().Where(l => l.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        await MailAttachmentCommands.DeleteUnreferencedAsync(db, blobs, linked, cancellationToken);
        var unsent = await db.Set<MailAttachmentBlob>().Where(b => b.UploaderAccountId == accountId && b.AttachedAt == null).Select(b => b.Id).ToListAsync(cancellationToken);
        await db.Set<MailAttachmentBlob>().Where(b => unsent.Contains(b.Id) && b.AttachedAt == null).ExecuteDeleteAsync(cancellationToken);
        foreach (var id in unsent)
        {
            await blobs.DeletePrefixAsync(MailAttachmentBlob.BlobFolderOf(id), cancellationToken);
        }

        await db.Set<MailSearchIndex>().Where(x => x.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        var messages = await db.Set<MailMessage>().Where(m => m.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        var addresses = await db.Set<MailAddress>().Where(a => a.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        await blobs.DeletePrefixAsync("mail/" + accountId.ToString("N"), cancellationToken);
        MailboxLog.AccountDeleted(logger, addresses, messages);
    }
}
