// Finds a chat account by its email address, so a client can address `veil chat send alice@example.org`:
// the relay addresses accounts by id. Only accounts that registered a chat device are found (an account
// that never opted into chat is indistinguishable from none), and only by a signed-in session under the
// per-IP rate limit of the chat group. The answer carries the account key the relay holds, which the
// client pins on first use (it is the relay's word, not a proof: safety numbers are the check).
using Microsoft.EntityFrameworkCore;
using Veil.Server.Identity.Data;
using Veil.Server.Identity.Services;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;
using Veil.Server.Platform.Results;

namespace Veil.Server.Chat;

internal sealed record ChatAccountDto(Guid AccountId, byte[] AccountKey);

internal sealed class FindChatAccountCommand(VeilDbContext db)
{
    public async Task<Result<ChatAccountDto>> ExecuteAsync(string? email, CancellationToken cancellationToken)
    {
        var normalized = IdentityValidation.Email(email, "email");
        if (!normalized.IsSuccess)
        {
            return ChatErrors.UnknownAccount;
        }

        var accountId = await db.Set<Account>().WhereBlindIndexMatches(a => a.EmailIndex, normalized.Value).AsNoTracking()
            .Select(a => (Guid?)a.Id).FirstOrDefaultAsync(cancellationToken);
        if (accountId is null)
        {
            return ChatErrors.UnknownAccount;
        }

        var chat = await db.Set<ChatAccount>().AsNoTracking().FirstOrDefaultAsync(a => a.AccountId == accountId.Value, cancellationToken);
        var hasDevice = chat is not null && await db.Set<ChatDevice>().AnyAsync(d => d.AccountId == accountId.Value, cancellationToken);
        return hasDevice ? new ChatAccountDto(accountId.Value, chat!.AccountKey) : ChatErrors.UnknownAccount;
    }
}
