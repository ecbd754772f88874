// The metadata job: forgets what the relay no longer needs. Every rule is a condition on rows and the
// injected clock, so running it twice (or on two nodes: the lease admits one) changes nothing more.
//  - mailbox rows older than 30 days are deleted (undelivered messages expire);
//  - one-time prekeys claimed more than 7 days ago are deleted;
//  - audit rows older than 90 days are deleted;
//  - a conversation idle for 24 h loses its participant columns (only the keyed pair hash stays) and
//    its timestamp is cut to the day;
//  - a device not seen for 24 h keeps only the day it was created and last seen.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Chat;

internal sealed class ChatMetadataJob(IOptions<ChatOptions> options, TimeProvider time, ILogger<ChatMetadataJob> logger) : IPeriodicJob
{
    public const string JobName = "chat-metadata";
    private const int Batch = 500;

    public string Name => JobName;

    public TimeSpan Interval => options.Value.MetadataJobInterval;

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<VeilDbContext>();
        var now = time.GetUtcNow();

        var mailboxBefore = now - ChatLimits.MailboxLifetime;
        var expired = await db.Set<ChatMailboxEntry>().Where(m => m.CreatedAt < mailboxBefore).ExecuteDeleteAsync(cancellationToken);
        var claimedBefore = now - ChatLimits.ClaimedPreKeyLifetime;
        var preKeys = await db.Set<ChatOneTimePreKey>().Where(k => k.ClaimedAt != null && k.ClaimedAt < claimedBefore).ExecuteDeleteAsync(cancellationToken);
        var auditBefore = now - ChatLimits.AuditLifetime;
        var audit = await db.Set<ChatAuditEntry>().Where(a => a.At < auditBefore).ExecuteDeleteAsync(cancellationToken);

        var idleSince = now - ChatLimits.IdleBeforeHashing;
        var conversations = 0;
        while (true)
        {
            var idle = await db.Set<ChatConversation>().Where(c => !c.Hashed && c.LastActivityAt <= idleSince).Take(Batch).ToListAsync(cancellationToken);
            foreach (var conversation in idle)
            {
                conversation.ParticipantLow = null;
                conversation.ParticipantHigh = null;
                conversation.LastActivityAt = Day(conversation.LastActivityAt);
                conversation.Hashed = true;
            }

            await db.SaveChangesAsync(cancellationToken);
            conversations += idle.Count;
            if (idle.Count < Batch)
            {
                break;
            }
        }

        var devices = 0;
        while (true)
        {
            var idle = await db.Set<ChatDevice>().Where(d => !d.ActivityCoarse && d.LastSeenAt <= idleSince).Take(Batch).ToListAsync(cancellationToken);
            foreach (var device in idle)
            {
                device.CreatedAt = Day(device.CreatedAt);
                device.LastSeenAt = Day(device.LastSeenAt);
                device.ActivityCoarse = true;
            }

            await db.SaveChangesAsync(cancellationToken);
            devices += idle.Count;
            if (idle.Count < Batch)
            {
                break;
            }
        }

        ChatLog.MetadataSwept(logger, expired, preKeys, audit, conversations, devices);
    }

    private static DateTimeOffset Day(DateTimeOffset at) => new(at.UtcDateTime.Date, TimeSpan.Zero);
}
