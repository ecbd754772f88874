// The scheduled backup (Veil:Backup:Schedule): a leased periodic job, so one node of several writes each backup. It
// writes veil-backup-<UTC time>.vbk into Veil:Backup:Directory and keeps the newest Veil:Backup:Keep of them; a
// partial file from a crash (.partial) is never counted and is removed by the next run.
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Audit;
using Veil.Server.Platform.Jobs;

namespace Veil.Server.Platform.Backup;

internal sealed partial class BackupJob(BackupOptions options, TimeProvider time, ILogger<BackupJob> logger) : IPeriodicJob
{
    public const string FilePrefix = "veil-backup-";
    public const string FileExtension = ".vbk";

    public string Name => "backup";

    public TimeSpan Interval => options.Schedule ?? TimeSpan.FromDays(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var directory = options.Directory!;
        Hosting.DataDirectory.CreateOwnerOnly(directory);
        foreach (var partial in Directory.EnumerateFiles(directory, FilePrefix + "*" + FileExtension + ".partial"))
        {
            File.Delete(partial);
        }

        var now = time.GetUtcNow();
        var path = Path.Combine(directory, FilePrefix + now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + FileExtension);
        var admin = services.GetRequiredService<BackupAdmin>();
        var outcome = await admin.CreateAsync(path, options.Recipients, progress: null, scheduled: true, cancellationToken);
        if (outcome.Error is not null)
        {
            // The doctor reports the age of the last good backup; the reason stays out of the log (it may name paths of data).
            LogFailed(logger);
            return;
        }

        var pruned = 0;
        foreach (var old in Directory.EnumerateFiles(directory, FilePrefix + "*" + FileExtension).Order(StringComparer.Ordinal).Reverse().Skip(options.Keep))
        {
            File.Delete(old);
            pruned++;
        }

        LogWritten(logger, outcome.Summary!.FileBytes, pruned);
    }

    [LoggerMessage(EventId = 1750, Level = LogLevel.Information, Message = "Scheduled backup written ({Bytes} bytes); {Pruned} older removed")]
    private static partial void LogWritten(ILogger logger, long bytes, int pruned);

    [LoggerMessage(EventId = 1751, Level = LogLevel.Error, Message = "Scheduled backup failed; run 'veil admin backup create' to see why")]
    private static partial void LogFailed(ILogger logger);
}
