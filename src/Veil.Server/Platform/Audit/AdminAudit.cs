// The admin audit log (issue 24 point 3): every operator action (admin verbs, plan changes, DKIM keys, takedowns and
// dismissals, report views, backups) as one row: who (the operator's login on the server host, or "server" for what
// Veil does by itself), what, the target as a keyed hash (BlindIndex: the log alone does not say which account or
// report, but `veil admin audit --target X` finds X's rows), and the day — no finer time, no content. Appending is the
// only write path: nothing updates a row; the retention job deletes rows past Veil:Audit:RetentionDays (90 by default).
// The database enforces it too (AdminAuditTriggers, created by the BreachNotices migration): a trigger refuses every
// UPDATE, and every DELETE of a row not older than the cutoff the retention job declares, in its own transaction, in
// AdminAuditPurges. So a bug or a stray query in Veil cannot rewrite or thin the log; whoever owns the database can still
// drop the trigger: the log records Veil's actions, it is not tamper-proof against the database's owner.
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Veil.Crypto.Keys;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Platform.Audit;

internal sealed class AdminAuditEntry
{
    public long Id { get; private set; }

    public DateOnly Day { get; private set; }

    public string Actor { get; private set; } = "";

    public string Action { get; private set; } = "";

    public byte[]? Target { get; private set; }

    public static AdminAuditEntry Create(DateOnly day, string actor, string action, byte[]? target) =>
        new() { Day = day, Actor = actor, Action = action, Target = target };
}

internal sealed class AdminAuditEntryConfiguration : IEntityTypeConfiguration<AdminAuditEntry>
{
    public void Configure(EntityTypeBuilder<AdminAuditEntry> builder)
    {
        builder.ToTable("AdminAuditEntries");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedOnAdd();
        builder.Property(x => x.Actor).HasMaxLength(AdminActor.MaxLength).IsRequired();
        builder.Property(x => x.Action).HasMaxLength(64).IsRequired();
        builder.Property(x => x.Target).HasMaxLength(BlindIndex.Length);
        builder.HasIndex(x => x.Day);
        builder.HasIndex(x => x.Target);
    }
}

/// <summary>Who acts in this scope: <c>server</c> unless the admin CLI says who runs it.</summary>
public sealed class AdminActor
{
    public const int MaxLength = 128;
    public const string Server = "server";

    private string _name = Server;

    public string Name
    {
        get => _name;
        set => _name = string.IsNullOrWhiteSpace(value) ? Server : value.Trim()[..Math.Min(value.Trim().Length, MaxLength)];
    }
}

/// <summary>One audit row as <c>veil admin audit</c> shows it; <see cref="Target"/> is the keyed hash, base64url.</summary>
public sealed record AdminAuditView(DateOnly Day, string Actor, string Action, string? Target);

public sealed class AdminAudit
{
    private const string Purpose = "admin-audit-target";
    private readonly VeilDbContext _db;
    private readonly Keyring _keyring;
    private readonly AdminActor _actor;
    private readonly TimeProvider _time;

    internal AdminAudit(VeilDbContext db, Keyring keyring, AdminActor actor, TimeProvider time)
    {
        _db = db;
        _keyring = keyring;
        _actor = actor;
        _time = time;
    }

    /// <summary>
    /// Adds the row to this scope's unit of work: the caller's own SaveChanges (or transaction) writes it together with
    /// the change it records, so there is no change without its row.
    /// </summary>
    internal void Add(string action, string? target) =>
        _db.Add(AdminAuditEntry.Create(DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime), _actor.Name, action, target is null ? null : BlindIndex.Compute(_keyring, Purpose, target)));

    /// <summary>Records an action that changes nothing else (a report viewed, a backup written).</summary>
    public async Task AppendAsync(string action, string? target, CancellationToken cancellationToken)
    {
        Add(action, target);
        await _db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The rows of the last <paramref name="days"/> days, newest first; only <paramref name="target"/>'s when given.</summary>
    public async Task<IReadOnlyList<AdminAuditView>> ReadAsync(int days, string? target, int limit, CancellationToken cancellationToken)
    {
        var since = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime).AddDays(-Math.Max(days, 0));
        var query = _db.Set<AdminAuditEntry>().AsNoTracking().Where(e => e.Day >= since);
        if (target is not null)
        {
            var hashes = BlindIndex.ComputeAll(_keyring, Purpose, target);
            query = query.Where(e => e.Target != null && hashes.Contains(e.Target));
        }

        var rows = await query.OrderByDescending(e => e.Id).Take(Math.Clamp(limit, 1, 100_000)).ToListAsync(cancellationToken);
        return [.. rows.Select(e => new AdminAuditView(e.Day, e.Actor, e.Action, e.Target is null ? null : Convert.ToBase64String(e.Target)))];
    }
}

/// <summary>Deletes audit rows older than the retention (leased, daily; deleting twice changes nothing more).</summary>
internal sealed class AdminAuditRetentionJob(AdminAuditOptions options, TimeProvider time) : IPeriodicJob
{
    public string Name => "admin-audit-retention";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var oldest = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).AddDays(-options.RetentionDays);
        var db = services.GetRequiredService<VeilDbContext>();
        // The append-only trigger lets a row go only when its day is before a cutoff declared in this transaction.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var purge = AdminAuditPurge.Create(oldest);
        db.Add(purge);
        await db.SaveChangesAsync(cancellationToken);
        await db.Set<AdminAuditEntry>().Where(e => e.Day < oldest).ExecuteDeleteAsync(cancellationToken);
        await db.Set<AdminAuditPurge>().Where(p => p.Id == purge.Id).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}

internal sealed record AdminAuditOptions(int RetentionDays);

internal static class AdminAuditSetup
{
    public static IServiceCollection AddVeilAdminAudit(this IServiceCollection services, IConfiguration configuration)
    {
        var days = configuration.GetValue<int?>("Veil:Audit:RetentionDays") ?? 90;
        if (days is < 1 or > 3650)
        {
            throw new InvalidOperationException("Veil:Audit:RetentionDays (env Veil__Audit__RetentionDays) must be a whole number of days from 1 to 3650.");
        }

        services.TryAddSingleton(new AdminAuditOptions(days));
        services.TryAddScoped<AdminActor>();
        services.TryAddScoped(sp => new AdminAudit(sp.GetRequiredService<VeilDbContext>(), sp.GetRequiredService<Keyring>(), sp.GetRequiredService<AdminActor>(), sp.GetRequiredService<TimeProvider>()));
        services.AddPeriodicJob<AdminAuditRetentionJob>();
        return services;
    }
}
