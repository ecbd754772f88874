using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Tests.Persistence;

/// <summary>The real context: migrations exist for every model change, on both providers, and apply at start.</summary>
public sealed class MigrationTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    [Fact]
    public void SqliteModel_HasNoChangesMissingFromItsMigrations()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var options = new DbContextOptionsBuilder<SqliteVeilDbContext>();
        VeilDatabase.ConfigureSqlite(options, "Data Source=:memory:");
        using var context = new SqliteVeilDbContext(options.Options, keyring, TimeProvider.System);

        Assert.NotEmpty(context.Database.GetMigrations());
        Assert.False(context.Database.HasPendingModelChanges(), "The model changed without a SQLite migration: run src/Veil.Server/Migrations/add-migration.sh.");
    }

    [Fact]
    public void PostgresModel_HasNoChangesMissingFromItsMigrations()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var options = new DbContextOptionsBuilder<PostgresVeilDbContext>();
        VeilDatabase.ConfigurePostgres(options, "Host=127.0.0.1;Database=unused");
        using var context = new PostgresVeilDbContext(options.Options, keyring, TimeProvider.System);

        Assert.NotEmpty(context.Database.GetMigrations());
        Assert.False(context.Database.HasPendingModelChanges(), "The model changed without a PostgreSQL migration: run src/Veil.Server/Migrations/add-migration.sh.");
    }

    [Fact]
    public void EachProvider_HasItsOwnMigrations()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var sqliteOptions = new DbContextOptionsBuilder<SqliteVeilDbContext>();
        VeilDatabase.ConfigureSqlite(sqliteOptions, "Data Source=:memory:");
        var postgresOptions = new DbContextOptionsBuilder<PostgresVeilDbContext>();
        VeilDatabase.ConfigurePostgres(postgresOptions, "Host=127.0.0.1;Database=unused");
        using var sqlite = new SqliteVeilDbContext(sqliteOptions.Options, keyring, TimeProvider.System);
        using var postgres = new PostgresVeilDbContext(postgresOptions.Options, keyring, TimeProvider.System);

        var sqliteAssembly = sqlite.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrationsAssembly>();
        var postgresAssembly = postgres.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrationsAssembly>();

        Assert.All(sqliteAssembly.Migrations.Values, type => Assert.Equal("Veil.Server.Migrations.Sqlite", type.Namespace));
        Assert.All(postgresAssembly.Migrations.Values, type => Assert.Equal("Veil.Server.Migrations.Postgres", type.Namespace));
    }

    [Fact]
    public async Task MigrateAtStart_AppliesEveryMigration_AndLeavesNothingPending()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        await using var services = database.BuildServices(keyring, TimeProvider.System);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();

        Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Equal(0, await db.JobLeases.CountAsync());
    }

    [Fact]
    public async Task MigrateAtStart_RunTwice_IsHarmless()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        await using var services = database.BuildServices(keyring, TimeProvider.System);

        await services.MigrateVeilDatabaseAsync(CancellationToken.None);

        await using var scope = services.CreateAsyncScope();
        Assert.Empty(await scope.ServiceProvider.GetRequiredService<VeilDbContext>().Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task AddVeilPersistence_ChoosesTheProvider_FromConfiguration()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        await using var services = database.BuildServices(keyring, TimeProvider.System);
        await using var scope = services.CreateAsyncScope();

        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        var info = services.GetRequiredService<IDatabaseInfo>();

        Assert.Equal(database.ProviderName, info.ProviderName);
        Assert.IsType(database.IsPostgres ? typeof(PostgresVeilDbContext) : typeof(SqliteVeilDbContext), db);
        Assert.Same(db, scope.ServiceProvider.GetRequiredService<VeilDbContext>());
    }

    [Fact]
    public async Task UnreachablePostgres_FailsWithOneLine_NamingTheServer_WithoutThePassword()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("ConnectionStrings:Postgres", "Host=127.0.0.1;Port=1;Username=veil;Password=hunter2-canary;Database=veil;Timeout=3")])
            .Build();
        var services = new ServiceCollection().AddSingleton(keyring).AddSingleton(TimeProvider.System);
        services.AddVeilPersistence(configuration, database.DataDirectory);
        await using var provider = services.BuildServiceProvider();

        var error = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => provider.MigrateVeilDatabaseAsync(CancellationToken.None));

        Assert.Contains("postgres", error.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-canary", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task UnopenableSqliteFile_FailsWithOneLine()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var missing = Path.Combine(database.DataDirectory, "no-such-dir", "deeper");
        var services = new ServiceCollection().AddSingleton(keyring).AddSingleton(TimeProvider.System);
        services.AddVeilPersistence(new ConfigurationBuilder().Build(), missing);
        await using var provider = services.BuildServiceProvider();

        var error = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => provider.MigrateVeilDatabaseAsync(CancellationToken.None));

        Assert.Contains("sqlite", error.Message, StringComparison.Ordinal);
        Assert.Contains("veil.db", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("Host=db;Username=veil;Password=s3cret", "s3cret")]
    [InlineData("Host=db;Username=veil;PWD=s3cret", "s3cret")]
    [InlineData("Host=db;Username=veil;password = 's3cret;x'", "s3cret")]
    public void Redact_RemovesThePassword(string connectionString, string password)
    {
        var redacted = VeilDatabase.Redact(connectionString);

        Assert.DoesNotContain(password, redacted, StringComparison.Ordinal);
        Assert.Contains("db", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void PostgresPoolDefaults_ApplyOnlyWhereTheOperatorSetNothing()
    {
        var defaulted = new Npgsql.NpgsqlConnectionStringBuilder(VeilDatabase.WithPoolDefaults("Host=db"));
        var chosen = new Npgsql.NpgsqlConnectionStringBuilder(VeilDatabase.WithPoolDefaults("Host=db;Maximum Pool Size=7;Timeout=60"));

        Assert.Equal(30, defaulted.MaxPoolSize);
        Assert.Equal(10, defaulted.Timeout);
        Assert.Equal("veil", defaulted.ApplicationName);
        Assert.Equal(7, chosen.MaxPoolSize);
        Assert.Equal(60, chosen.Timeout);
    }
}
