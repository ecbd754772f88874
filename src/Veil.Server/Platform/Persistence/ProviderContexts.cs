using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Veil.Crypto.Keys;

namespace Veil.Server.Platform.Persistence;

/// <summary>The Veil model on SQLite; its migrations live in Migrations/Sqlite.</summary>
public sealed class SqliteVeilDbContext(DbContextOptions<SqliteVeilDbContext> options, Keyring keyring, TimeProvider clock)
    : VeilDbContext(options, keyring, clock);

/// <summary>The Veil model on PostgreSQL; its migrations live in Migrations/Postgres.</summary>
public sealed class PostgresVeilDbContext(DbContextOptions<PostgresVeilDbContext> options, Keyring keyring, TimeProvider clock)
    : VeilDbContext(options, keyring, clock);

// Design-time factories for `dotnet ef migrations add`: they build the model only, never connect,
// and never seal anything, so a throwaway keyring and a placeholder connection string are enough.
internal sealed class SqliteVeilDbContextDesignFactory : IDesignTimeDbContextFactory<SqliteVeilDbContext>
{
    public SqliteVeilDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<SqliteVeilDbContext>();
        VeilDatabase.ConfigureSqlite(options, "Data Source=veil-design-time.db");
        return new SqliteVeilDbContext(options.Options, VeilDatabase.DesignTimeKeyring(), TimeProvider.System);
    }
}

internal sealed class PostgresVeilDbContextDesignFactory : IDesignTimeDbContextFactory<PostgresVeilDbContext>
{
    public PostgresVeilDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PostgresVeilDbContext>();
        VeilDatabase.ConfigurePostgres(options, "Host=localhost;Database=veil_design_time");
        return new PostgresVeilDbContext(options.Options, VeilDatabase.DesignTimeKeyring(), TimeProvider.System);
    }
}
