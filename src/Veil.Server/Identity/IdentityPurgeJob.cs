// Forgets what Identity no longer needs (hourly): email links (registration, magic link, email change) and pending
// second-factor challenges once expired, refresh tokens once expired, and sessions that have no refresh token left
// and were last used more than a day ago (nothing can renew them, and their last access token expired long since).
// Rotated refresh tokens stay until they expire: presenting one again is how a stolen token is detected.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Identity;

internal sealed partial class IdentityPurgeJob(TimeProvider time, ILogger<IdentityPurgeJob> logger) : IPeriodicJob
{
    public const string JobName = "identity-purge";

    /// <summary>How long a session without refresh tokens is kept after its last use.</summary>
    public static readonly TimeSpan IdleSessionGrace = TimeSpan.FromDays(1);

    public string Name => JobName;

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<VeilDbContext>();
        var now = time.GetUtcNow();
        var idleBefore = now - IdleSessionGrace;
        var links = await db.Set<EmailToken>().Where(t => t.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
        var challenges = await db.Set<TwoFactorChallenge>().Where(c => c.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
        var refreshTokens = await db.Set<RefreshToken>().Where(r => r.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
        var sessions = await db.Set<Session>()
            .Where(s => s.LastUsedAt < idleBefore && !db.Set<RefreshToken>().Any(r => r.SessionId == s.Id))
            .ExecuteDeleteAsync(cancellationToken);
        LogPurged(logger, links, challenges, refreshTokens, sessions);
    }

    [LoggerMessage(EventId = 2050, Level = LogLevel.Information, Message = "Identity purge: {Links} expired email links, {Challenges} expired 2FA challenges, {RefreshTokens} expired refresh tokens, {Sessions} dead sessions removed")]
    private static partial void LogPurged(ILogger logger, int links, int challenges, int refreshTokens, int sessions);
}
