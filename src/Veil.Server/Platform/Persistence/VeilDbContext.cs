using Microsoft.EntityFrameworkCore;
using Veil.Crypto.Keys;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Platform.Persistence;

/// <summary>
/// Veil's one database context. Modules add their tables as <see cref="IEntityTypeConfiguration{TEntity}"/>
/// classes in their own folders; every configuration in the Veil.Server assembly is applied here, so a
/// module needs no line in this file. Provider selection lives in the two sealed subclasses
/// (<see cref="SqliteVeilDbContext"/>, <see cref="PostgresVeilDbContext"/>) so that each provider keeps
/// its own migrations history; code asks DI for <see cref="VeilDbContext"/> and never sees the difference.
/// </summary>
public abstract class VeilDbContext : DbContext
{
    protected VeilDbContext(DbContextOptions options, Keyring keyring, TimeProvider clock)
        : base(options)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        ArgumentNullException.ThrowIfNull(clock);
        Keyring = keyring;
        Clock = clock;
    }

    /// <summary>The server keyring: its <c>field</c> key seals encrypted columns, its <c>index</c> key computes blind indexes.</summary>
    internal Keyring Keyring { get; }

    /// <summary>The injected clock, for code that stamps rows (leases, expiries).</summary>
    public TimeProvider Clock { get; }

    public DbSet<JobLease> JobLeases => Set<JobLease>();

    /// <summary>Seals changed encrypted properties and recomputes blind indexes, then saves.</summary>
    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        FieldEncryption.SealPendingChanges(this);
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    /// <summary>Seals changed encrypted properties and recomputes blind indexes, then saves.</summary>
    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        FieldEncryption.SealPendingChanges(this);
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder)
    {
        ArgumentNullException.ThrowIfNull(optionsBuilder);
        // One stateless instance for every context: materialization interceptors are singletons
        // inside EF's internal service provider, so they must not differ between contexts.
        optionsBuilder.AddInterceptors(FieldDecryptionInterceptor.Instance);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // SQLite has no timestamp type: EF would store DateTimeOffset as text that neither orders nor
        // compares correctly. Unix microseconds (a 64-bit integer) order, compare, and keep the same
        // precision as PostgreSQL's timestamptz, so a value round-trips identically on both.
        if (Database.IsSqlite())
        {
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMicrosecondsConverter>();
            configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<UnixMicrosecondsConverter>();
        }
        else
        {
            // Npgsql refuses to write a non-UTC offset to timestamptz; normalise instead of failing.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcDateTimeOffsetConverter>();
            configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<UtcDateTimeOffsetConverter>();
        }
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        // Every module's IEntityTypeConfiguration<T> in this assembly (Identity/, Drop/, ...).
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(VeilDbContext).Assembly);
    }
}
