// The in-app side of a breach notice: GET /api/v1/account/notices lists the notices the signed-in account has not
// acknowledged (the web app shows each as a banner on every page, the CLI prints it on stderr); POST …/{id}/ack marks
// one as read for this account only. A notice concerns the accounts that existed when it was written.
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.Results;

namespace Veil.Server.Notices;

internal sealed record AccountNoticeDto(Guid Id, string Subject, string Body, DateTimeOffset CreatedAt);

internal sealed record AccountNoticesResponse(IReadOnlyList<AccountNoticeDto> Notices);

internal static class AccountNotices
{
    public static async Task<IResult> ListAsync(ClaimsPrincipal user, VeilDbContext db, CancellationToken ct) =>
        TypedResults.Ok(new AccountNoticesResponse(await UnacknowledgedAsync(db, user.UserId(), ct)));

    public static async Task<IResult> AckAsync(Guid id, ClaimsPrincipal user, VeilDbContext db, TimeProvider time, CancellationToken ct)
    {
        var accountId = user.UserId();
        // Only a notice this account can see can be acknowledged: any other id is 404, whether or not it exists.
        if (!(await UnacknowledgedAsync(db, accountId, ct)).Any(n => n.Id == id))
        {
            return await db.Set<NoticeAck>().AnyAsync(a => a.NoticeId == id && a.AccountId == accountId, ct)
                ? TypedResults.NoContent()
                : PlatformErrors.NotFound.ToProblem();
        }

        db.Add(NoticeAck.Create(id, accountId, time.GetUtcNow()));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Acknowledged twice at once (two tabs): the first one counts, the second changes nothing.
            db.ChangeTracker.Clear();
            if (!await db.Set<NoticeAck>().AsNoTracking().AnyAsync(a => a.NoticeId == id && a.AccountId == accountId, ct))
            {
                throw;
            }
        }

        return TypedResults.NoContent();
    }

    private static async Task<List<AccountNoticeDto>> UnacknowledgedAsync(VeilDbContext db, Guid accountId, CancellationToken ct)
    {
        var createdAt = await db.Set<Account>().AsNoTracking().Where(a => a.Id == accountId).Select(a => (DateTimeOffset?)a.CreatedAt).FirstOrDefaultAsync(ct);
        if (createdAt is not { } since)
        {
            return [];
        }

        var notices = await db.Set<Notice>().AsNoTracking()
            .Where(n => n.CreatedAt >= since && !db.Set<NoticeAck>().Any(a => a.NoticeId == n.Id && a.AccountId == accountId))
            .OrderBy(n => n.CreatedAt)
            .Select(n => new AccountNoticeDto(n.Id, n.Subject, n.Body, n.CreatedAt))
            .ToListAsync(ct);
        return notices;
    }
}
