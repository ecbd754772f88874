using Npgsql;

namespace Veil.Server.Tests.Kit;

/// <summary>
/// The database a test server uses, chosen by VEIL_TEST_DATABASE (sqlite, the default, or postgres).
/// For postgres, VEIL_TEST_POSTGRES is an admin connection string; each server gets a fresh database
/// (veil_t_&lt;random&gt;), dropped afterwards. Asking for postgres without a connection string fails
/// the test: a suite that silently skipped PostgreSQL would prove nothing.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string DatabaseVariable = "VEIL_TEST_DATABASE";
    public const string PostgresVariable = "VEIL_TEST_POSTGRES";

    private readonly string? _adminConnectionString;
    private readonly string? _databaseName;

    private TestDatabase(string provider, string? adminConnectionString, string? databaseName, string? connectionString)
    {
        Provider = provider;
        _adminConnectionString = adminConnectionString;
        _databaseName = databaseName;
        ConnectionString = connectionString;
    }

    /// <summary>"sqlite" or "postgres".</summary>
    public string Provider { get; }

    /// <summary>The PostgreSQL connection string for the server, or null for SQLite.</summary>
    public string? ConnectionString { get; }

    public static string ChosenProvider =>
        (Environment.GetEnvironmentVariable(DatabaseVariable) ?? "sqlite").Trim().ToLowerInvariant() switch
        {
            "" or "sqlite" => "sqlite",
            "postgres" or "postgresql" => "postgres",
            var other => throw new InvalidOperationException($"{DatabaseVariable}={other}: expected sqlite or postgres."),
        };

    public static async Task<TestDatabase> CreateAsync(CancellationToken cancellationToken)
    {
        if (ChosenProvider == "sqlite")
        {
            return new TestDatabase("sqlite", null, null, null);
        }

        var admin = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            throw new InvalidOperationException(
                $"{DatabaseVariable}=postgres but {PostgresVariable} is not set: give an admin connection string, e.g. Host=127.0.0.1;Port=55441;Username=veil;Database=postgres");
        }

        var name = "veil_t_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection); // name is generated hex, not input
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        return new TestDatabase("postgres", admin, name, builder.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        if (_adminConnectionString is null || _databaseName is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_databaseName} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
