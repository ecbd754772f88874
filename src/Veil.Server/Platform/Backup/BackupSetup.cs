// Backups (issue 24 point 1, spec/backup.md): settings, the record of each good backup, and registration.
//   Veil:Backup:Recipients:0..   operator recipients (veil-backup1…); the server holds no identity, so it cannot read its backups
//   Veil:Backup:Schedule         interval of the scheduled job, e.g. 1d, 12h, 30m (unset: no scheduled backups)
//   Veil:Backup:Directory        where the job writes veil-backup-<UTC time>.vbk
//   Veil:Backup:Keep             how many of the job's backups stay (default 7); older ones are deleted
//   Veil:Backup:PostgresBin      directory of pg_dump/pg_restore (default: the newest /usr/lib/postgresql/*/bin, else PATH)
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Veil.Crypto.Backup;
using Veil.Server.Platform.Jobs;

namespace Veil.Server.Platform.Backup;

internal sealed record BackupOptions(IReadOnlyList<BackupRecipient> Recipients, TimeSpan? Schedule, string? Directory, int Keep, string? PostgresBin)
{
    /// <summary>The doctor warns when the last good backup is older than this: two schedule periods, or 8 days without a schedule.</summary>
    public TimeSpan MaximumAge => Schedule is { } schedule ? schedule * 2 : TimeSpan.FromDays(8);

    /// <summary>Reads the settings; every problem, named by its setting, goes to <paramref name="problems"/> (start refuses them).</summary>
    public static BackupOptions Read(IConfiguration configuration, List<string> problems)
    {
        var recipients = new List<BackupRecipient>();
        foreach (var child in configuration.GetSection("Veil:Backup:Recipients").GetChildren())
        {
            if (BackupRecipient.TryParse(child.Value, out var recipient))
            {
                recipients.Add(recipient);
            }
            else
            {
                problems.Add($"Veil:Backup:Recipients:{child.Key} (env Veil__Backup__Recipients__{child.Key}): not a backup recipient (veil-backup1…, from 'veil admin backup keygen')");
            }
        }

        TimeSpan? schedule = null;
        if (configuration["Veil:Backup:Schedule"] is { Length: > 0 } text)
        {
            schedule = ParseInterval(text);
            if (schedule is null || schedule < TimeSpan.FromMinutes(1))
            {
                problems.Add("Veil:Backup:Schedule (env Veil__Backup__Schedule): an interval such as 1d, 12h or 30m (at least 1 minute)");
            }
        }

        var directory = configuration["Veil:Backup:Directory"];
        if (schedule is not null && string.IsNullOrWhiteSpace(directory))
        {
            problems.Add("Veil:Backup:Directory (env Veil__Backup__Directory): required with Veil:Backup:Schedule");
        }

        if (schedule is not null && recipients.Count == 0)
        {
            problems.Add("Veil:Backup:Recipients (env Veil__Backup__Recipients__0): at least one recipient is required with Veil:Backup:Schedule");
        }

        var keep = configuration.GetValue<int?>("Veil:Backup:Keep") ?? 7;
        if (keep is < 1 or > 10_000)
        {
            problems.Add("Veil:Backup:Keep (env Veil__Backup__Keep): a whole number from 1 to 10000");
        }

        if (recipients.Count > BackupEnvelope.MaxRecipients)
        {
            problems.Add($"Veil:Backup:Recipients: at most {BackupEnvelope.MaxRecipients} recipients");
        }

        return new BackupOptions(recipients, schedule, string.IsNullOrWhiteSpace(directory) ? null : Path.GetFullPath(directory), keep, configuration["Veil:Backup:PostgresBin"]);
    }

    /// <summary><c>30m</c>, <c>12h</c>, <c>1d</c>, <c>2w</c>, or a TimeSpan (<c>1.00:00:00</c>).</summary>
    public static TimeSpan? ParseInterval(string text)
    {
        text = text.Trim();
        if (text.Length >= 2 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and < 100_000)
        {
            switch (char.ToLowerInvariant(text[^1]))
            {
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
                case 'w': return TimeSpan.FromDays(7 * n);
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero ? span : null;
    }
}

/// <summary>One good backup: written completely, renamed into place, then recorded here (the doctor reports the newest).</summary>
internal sealed class BackupRun
{
    public long Id { get; private set; }

    public DateTimeOffset CompletedAt { get; private set; }

    public long FileBytes { get; private set; }

    public int Entries { get; private set; }

    public bool Scheduled { get; private set; }

    public static BackupRun Create(DateTimeOffset completedAt, long fileBytes, int entries, bool scheduled) =>
        new() { CompletedAt = completedAt, FileBytes = fileBytes, Entries = entries, Scheduled = scheduled };
}

internal sealed class BackupRunConfiguration : IEntityTypeConfiguration<BackupRun>
{
    public void Configure(EntityTypeBuilder<BackupRun> builder)
    {
        builder.ToTable("BackupRuns");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedOnAdd();
        builder.HasIndex(x => x.CompletedAt);
    }
}

internal static class BackupSetup
{
    public static IServiceCollection AddVeilBackups(this IServiceCollection services, IConfiguration configuration)
    {
        var options = BackupOptions.Read(configuration, []); // VeilServer.Build refused the problems already
        services.TryAddSingleton(options);
        services.TryAddScoped(sp => new BackupAdmin(sp.GetRequiredService<Persistence.VeilDbContext>(), sp.GetRequiredService<Persistence.IDatabaseInfo>(),
            sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<VeilPaths>(), sp.GetRequiredService<Veil.Crypto.Keys.Keyring>(),
            sp.GetRequiredService<Audit.AdminAudit>(), sp.GetRequiredService<BackupOptions>(), sp.GetRequiredService<TimeProvider>()));
        if (options.Schedule is not null)
        {
            services.AddPeriodicJob<BackupJob>();
        }

        return services;
    }
}

internal static class OwnerOnlyFiles
{
    /// <summary>New files mode 0600 (ignored on Windows).</summary>
    public static FileStreamOptions OwnerOnly(this FileStreamOptions options)
    {
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }
}
