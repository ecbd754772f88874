using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Veil.Server.Tests.Kit;

/// <summary>Runs the real <c>pg_dump</c> against a test database, for canary scans of what PostgreSQL stores.</summary>
public static class PostgresDump
{
    /// <summary>A data-only dump (INSERT statements) of the database the connection string names.</summary>
    public static async Task<string> DataAsync(string? connectionString)
    {
        Assert.False(string.IsNullOrEmpty(connectionString), "No PostgreSQL connection string: the dump needs the postgres test database.");

        // The server's own major version's pg_dump (Debian installs it under /usr/lib/postgresql/<major>/bin).
        var pgDump = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", "pg_dump")).Where(File.Exists).Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        Assert.True(pgDump is not null, "pg_dump is missing (Debian: postgresql-client); the canary scan needs it.");

        var connection = new NpgsqlConnectionStringBuilder(connectionString);
        var start = new ProcessStartInfo(pgDump, ["-h", connection.Host!, "-p", connection.Port.ToString(CultureInfo.InvariantCulture), "-U", connection.Username!, "-d", connection.Database!, "--data-only", "--inserts"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, "pg_dump failed: " + await error);
        return await output;
    }
}
