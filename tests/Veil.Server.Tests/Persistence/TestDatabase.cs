using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Veil.Crypto.Keys;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Tests.Persistence;

/// <summary>
/// A fresh database for one test class: SQLite in a temporary data directory, or, when
/// VEIL_TEST_DATABASE=postgres, a new database veil_p_&lt;random&gt; on the server named by
/// VEIL_TEST_POSTGRES (an admin connection string), dropped afterwards. Asking for PostgreSQL
/// without a server fails the run instead of skipping it.
/// </summary>
public class TestDatabase : IAsyncLifetime
{
    private readonly string? _adminConnectionString;

    public TestDatabase()
    {
        IsPostgres = string.Equals(Environment.GetEnvironmentVariable("VEIL_TEST_DATABASE"), "postgres", StringComparison.OrdinalIgnoreCase);
        DataDirectory = Directory.CreateTempSubdirectory("veil-persist-").FullName;
        if (IsPostgres)
        {
            _adminConnectionString = Environment.GetEnvironmentVariable("VEIL_TEST_POSTGRES");
            if (string.IsNullOrWhiteSpace(_adminConnectionString))
            {
                throw new InvalidOperationException("VEIL_TEST_DATABASE=postgres needs VEIL_TEST_POSTGRES, an admin connection string to a throwaway server.");
            }

            DatabaseName = "veil_p_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            PostgresConnectionString = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = DatabaseName }.ConnectionString;
        }
    }

    public bool IsPostgres { get; }

    public string ProviderName => IsPostgres ? "postgres" : "sqlite";

    public string DataDirectory { get; }

    public string? DatabaseName { get; }

    public string? PostgresConnectionString { get; }

    public IConfiguration Configuration => new ConfigurationBuilder()
        .AddInMemoryCollection(IsPostgres ? [new("ConnectionStrings:Postgres", PostgresConnectionString)] : [])
        .Build();

    /// <summary>Services as the host registers them: keyring, clock and AddVeilPersistence.</summary>
    public ServiceProvider BuildServices(Keyring keyring, TimeProvider clock)
    {
        var services = new ServiceCollection();
        services.AddSingleton(keyring);
        services.AddSingleton(clock);
        services.AddVeilPersistence(Configuration, DataDirectory);
        return services.BuildServiceProvider(validateScopes: true);
    }

    /// <summary>A context over the real model plus the test-only entities, on this database.</summary>
    public TestVeilDbContext CreateTestContext(Keyring keyring)
    {
        var options = new DbContextOptionsBuilder<TestVeilDbContext>();
        if (IsPostgres)
        {
            VeilDatabase.ConfigurePostgres(options, PostgresConnectionString!);
        }
        else
        {
            VeilDatabase.ConfigureSqlite(options, VeilDatabase.SqliteConnectionString(DataDirectory));
        }

        return new TestVeilDbContext(options.Options, keyring, TimeProvider.System);
    }

    public virtual async Task InitializeAsync()
    {
        if (IsPostgres)
        {
            await using var admin = new NpgsqlConnection(_adminConnectionString);
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {DatabaseName}", admin);
            await create.ExecuteNonQueryAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (IsPostgres)
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(_adminConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {DatabaseName} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
        else
        {
            SqliteConnection.ClearAllPools();
        }

        Directory.Delete(DataDirectory, recursive: true);
    }
}

/// <summary>A test database with the test context's schema created (the test entities have no migration).</summary>
public sealed class TestEntitiesDatabase : TestDatabase
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var keyring = TestKeys.Keyring(fieldVersions: [1], indexVersions: [1]);
        await using var context = CreateTestContext(keyring);
        await context.Database.EnsureCreatedAsync();
    }
}

/// <summary>A test database migrated by MigrateVeilDatabaseAsync, as the server does at start.</summary>
public sealed class MigratedDatabase : TestDatabase
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var keyring = TestKeys.Keyring(fieldVersions: [1], indexVersions: [1]);
        await using var services = BuildServices(keyring, TimeProvider.System);
        await services.MigrateVeilDatabaseAsync(CancellationToken.None);
    }
}

/// <summary>Key material fixed for the test run, so keyrings built at different times share versions.</summary>
public static class TestKeys
{
    private static readonly byte[][] FieldMaterial = [RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32)];
    private static readonly byte[][] IndexMaterial = [RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32)];

    public static Keyring Keyring(ushort[] fieldVersions, ushort[] indexVersions)
    {
        var builder = new KeyringBuilder();
        foreach (var version in fieldVersions)
        {
            builder.Add(FieldEnvelope.KeyName, version, FieldMaterial[version - 1]);
        }

        foreach (var version in indexVersions)
        {
            builder.Add(BlindIndex.KeyName, version, IndexMaterial[version - 1]);
        }

        return builder.Build();
    }
}

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
