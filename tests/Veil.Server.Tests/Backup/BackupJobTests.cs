// The scheduled backup (Veil:Backup:Schedule): each run writes a timestamped backup that verifies, keeps the newest
// Veil:Backup:Keep, records the run in the audit log, and the doctor reports the last good backup's age: warn before
// the first one, ok after, warn again once it is older than two schedule periods (injected clock; runs are explicit).
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.Backup;
using Veil.Server.Platform.Audit;
using Veil.Server.Platform.Backup;
using Veil.Server.Platform.Diagnostics;
using Veil.Server.Platform.Jobs;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Backup;

public sealed class BackupJobTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "veil-backup-job-" + Guid.NewGuid().ToString("N"));
    private readonly BackupIdentity _identity = BackupIdentity.Generate();

    public void Dispose()
    {
        _identity.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task ScheduledRuns_WriteTimestampedBackups_KeepTheNewest_AndTheDoctorReportsTheirAge()
    {
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Backup:Schedule"] = "1d";
            o.Settings["Veil:Backup:Directory"] = _directory;
            o.Settings["Veil:Backup:Keep"] = "2";
            o.Settings["Veil:Backup:Recipients:0"] = _identity.Recipient.ToString();
        });
        Assert.Equal("warn", (await BackupFindingAsync(server)).Status);
        Assert.Contains("no good backup recorded", (await BackupFindingAsync(server)).Message, StringComparison.Ordinal);

        var runner = server.Services.GetRequiredService<PeriodicJobRunner>();
        var names = new List<string>();
        for (var day = 0; day < 3; day++)
        {
            await File.WriteAllTextAsync(Path.Combine(Directory.CreateDirectory(_directory).FullName, "veil-backup-crashed.vbk.partial"), "left by a crash");
            Assert.True(await runner.RunNowAsync("backup", CancellationToken.None));
            names.Add($"veil-backup-{server.Time.GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.vbk");
            server.Time.Advance(TimeSpan.FromDays(1) - TimeSpan.FromHours(1));
            var finding = await BackupFindingAsync(server);
            Assert.True(finding.Status == "ok", finding.Message);
            Assert.Contains("last good backup 23 hours ago", finding.Message, StringComparison.Ordinal);
            server.Time.Advance(TimeSpan.FromHours(1));
        }

        Assert.Equal(names[1..], Directory.GetFiles(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var file in Directory.GetFiles(_directory))
        {
            Assert.Null((await BackupRestore.VerifyAsync(file, _identity, null, CancellationToken.None)).Error);
        }

        server.Time.Advance(TimeSpan.FromDays(2));
        var stale = await BackupFindingAsync(server);
        Assert.Equal("warn", stale.Status);
        Assert.Contains("older than 2 days", stale.Message, StringComparison.Ordinal);

        await using var scope = server.Services.CreateAsyncScope();
        var audit = await scope.ServiceProvider.GetRequiredService<AdminAudit>().ReadAsync(30, null, 100, CancellationToken.None);
        Assert.Equal(3, audit.Count(a => a.Action == "backup.create.scheduled" && a.Actor == AdminActor.Server));
    }

    private static async Task<DoctorFinding> BackupFindingAsync(VeilTestServer server)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<ProductionDoctor>().RunAsync(CancellationToken.None)).Single(f => f.Check == "backup");
    }
}
