// The confidential-mail job (spec/mailbox-api.md "Confidential mode"): destroys the ciphertext of every copy whose
// expiry has passed on the injected clock, and of every copy whose view limit was reached but not yet destroyed (the
// last fetch destroys it itself; this catches a crash in between). Each rule is a condition on rows and the clock,
// and destroying twice changes nothing more, so a second run — or a second node, which the lease keeps out — is
// harmless. Password packages for outsiders follow the same rules.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Mailbox;

internal sealed class ConfidentialMailJob(IOptions<MailboxOptions> options, IBlobStore blobs, TimeProvider time, ILogger<ConfidentialMailJob> logger) : IPeriodicJob
{
    public const string JobName = "mail-confidential";
    private const int Batch = 200;

    public string Name => JobName;

    public TimeSpan Interval => options.Value.ConfidentialJobInterval;

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<VeilDbContext>();
        var now = time.GetUtcNow();
        var count = 0;
        while (true)
        {
            var due = await db.Set<MailMessage>().AsNoTracking()
                .Where(m => m.DestroyedAt == null && ((m.ExpiresAt != null && m.ExpiresAt <= now) || (m.MaxViews != null && m.Views >= m.MaxViews)))
                .OrderBy(m => m.Id).Take(Batch).Select(m => new { m.Id, m.ExpiresAt }).ToListAsync(cancellationToken);
            foreach (var message in due)
            {
                var reason = message.ExpiresAt <= now ? MailDestroyReason.Expired : MailDestroyReason.ViewLimitReached;
                await MailboxMessageCommands.DestroyAsync(db, blobs, logger, message.Id, reason, now, cancellationToken);
            }

            count += due.Count;
            if (due.Count < Batch)
            {
                break;
            }
        }

        // Password packages (OutsiderMail.cs): the same two rules on their own rows.
        while (true)
        {
            var due = await db.Set<OutsiderPackageRow>().AsNoTracking()
                .Where(p => p.DestroyedAt == null && (p.ExpiresAt <= now || (p.MaxViews != null && p.Views >= p.MaxViews)))
                .OrderBy(p => p.Id).Take(Batch).Select(p => new { p.Id, p.ExpiresAt }).ToListAsync(cancellationToken);
            foreach (var package in due)
            {
                var reason = package.ExpiresAt <= now ? MailDestroyReason.Expired : MailDestroyReason.ViewLimitReached;
                await OutsiderMailCommands.DestroyAsync(db, blobs, logger, package.Id, reason, now, cancellationToken);
            }

            count += due.Count;
            if (due.Count < Batch)
            {
                break;
            }
        }

        MailboxLog.ConfidentialSwept(logger, count);
    }
}
