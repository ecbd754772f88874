// Forgets what Alias must not keep: routing log entries and "handled" markers older than the retention
// (7 days), bounce records older than the hard-bounce window, and daily usage rows of past days.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Alias;

internal sealed class AliasPurgeJob(IOptions<AliasOptions> options, TimeProvider time, ILogger<AliasPurgeJob> logger) : IPeriodicJob
{
    public const string JobName = "alias-purge";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.PurgeInterval;

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<VeilDbContext>();
        var now = time.GetUtcNow();
        var logBefore = now - options.Value.LogRetention;
        var bounceBefore = now - options.Value.HardBounceWindow;
        var today = now.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var log = await db.Set<AliasLogEntry>().Where(e => e.At < logBefore).ExecuteDeleteAsync(cancellationToken);
        var handled = await db.Set<AliasHandledMessage>().Where(h => h.At < logBefore).ExecuteDeleteAsync(cancellationToken);
        var bounces = await db.Set<AliasBounce>().Where(b => b.At < bounceBefore).ExecuteDeleteAsync(cancellationToken);
        var usage = await db.Set<AliasDailyUsage>().Where(u => u.Day != today).ExecuteDeleteAsync(cancellationToken);
        AliasLog.Purged(logger, log, handled, bounces, usage);
    }
}
