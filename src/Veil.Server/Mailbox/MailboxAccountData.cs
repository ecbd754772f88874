// Account deletion for Mailbox: every address (so it can be taken again) and every stored message with its blob.
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
        var messages = await db.Set<MailMessage>().Where(m => m.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        var addresses = await db.Set<MailAddress>().Where(a => a.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        await blobs.DeletePrefixAsync("mail/" + accountId.ToString("N"), cancellationToken);
        MailboxLog.AccountDeleted(logger, addresses, messages);
    }
}
