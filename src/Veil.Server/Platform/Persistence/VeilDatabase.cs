using System.Data.Common;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
using Veil.Crypto.Keys;

namespace Veil.Server.Platform.Persistence;

/// <summary>Provider set-up shared by DI, the design-time factories and tests.</summary>
internal static class VeilDatabase
{
    /// <summary>How long SQLite waits on a lock held by another connection before failing with SQLITE_BUSY.</summary>
    public const int SqliteBusyTimeoutMilliseconds = 5000;

    public static void ConfigureSqlite(DbContextOptionsBuilder options, string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            ForeignKeys = true,
            Pooling = true,
        };
        options.UseSqlite(builder.ToString(), sqlite => sqlite.MigrationsHistoryTable("__EFMigrationsHistory"));
        options.AddInterceptors(SqliteConnectionSetup.Instance);
    }

    public static void ConfigurePostgres(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(WithPoolDefaults(connectionString));

    public static string SqliteConnectionString(string dataDirectory) =>
        new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDirectory, "veil.db") }.ToString();

    /// <summary>
    /// Npgsql's defaults with three changes unless the operator set them: a bounded pool (several
    /// nodes share one server, whose max_connections defaults to 100), a short connect timeout so an
    /// unreachable database fails start quickly, and an application name visible in pg_stat_activity.
    /// </summary>
    public static string WithPoolDefaults(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!HasAny(given, "Maximum Pool Size", "Max Pool Size", "MaxPoolSize"))
        {
            builder.MaxPoolSize = 30;
        }

        if (!HasAny(given, "Timeout", "Connect Timeout", "ConnectTimeout"))
        {
            builder.Timeout = 10;
        }

        if (!HasAny(given, "Application Name", "ApplicationName"))
        {
            builder.ApplicationName = "veil";
        }

        return builder.ConnectionString;
    }

    /// <summary>The connection string with any password replaced, safe for an error message.</summary>
    public static string Redact(string connectionString)
    {
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
            foreach (var key in builder.Keys.Cast<string>().ToList())
            {
                if (key.Contains("password", StringComparison.OrdinalIgnoreCase) || key.Equals("pwd", StringComparison.OrdinalIgnoreCase)
                    || key.Contains("passfile", StringComparison.OrdinalIgnoreCase) || key.Contains("ssl key", StringComparison.OrdinalIgnoreCase))
                {
                    builder[key] = "***";
                }
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            // Unparseable: it may hold the password anywhere, so show nothing of it.
            return "(unparseable connection string)";
        }
    }

    /// <summary>A random keyring for design-time model building; never used to seal data.</summary>
    public static Keyring DesignTimeKeyring() => new KeyringBuilder()
        .Add(FieldEnvelope.KeyName, 1, RandomNumberGenerator.GetBytes(32))
        .Add(BlindIndex.KeyName, 1, RandomNumberGenerator.GetBytes(32))
        .Build();

    private static bool HasAny(DbConnectionStringBuilder builder, params string[] keys) =>
        keys.Any(key => builder.Keys.Cast<string>().Any(k => k.Equals(key, StringComparison.OrdinalIgnoreCase)));
}

/// <summary>
/// Sets each new SQLite connection up: WAL journal (readers do not block the writer; persistent in
/// the file), foreign keys enforced, and a busy timeout so concurrent writers wait instead of failing.
/// synchronous stays FULL (the default): mail accepted with 250 must survive a power cut.
/// </summary>
internal sealed class SqliteConnectionSetup : DbConnectionInterceptor
{
    public static readonly SqliteConnectionSetup Instance = new();

    private static readonly string Pragmas =
        $"PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {VeilDatabase.SqliteBusyTimeoutMilliseconds};";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
