// pg_dump and pg_restore for backups of a PostgreSQL installation. The connection string is handed to them as libpq
// environment variables (PGHOST, PGPASSWORD, PGSSLMODE, …), never as arguments: arguments show in `ps` to every user.
// The tools come from Veil:Backup:PostgresBin when set, else the newest /usr/lib/postgresql/<major>/bin (Debian), else PATH.
using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Veil.Server.Platform.Backup;

internal static class PostgresTools
{
    /// <summary>Runs <paramref name="tool"/> (pg_dump or pg_restore) against the database; null on success, else one line.</summary>
    public static async Task<string?> RunAsync(string tool, string? binDirectory, string connectionString, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Find(tool, binDirectory))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in Environment(connectionString))
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return $"{tool} was not found (install the PostgreSQL client of the server's major version, or set Veil:Backup:PostgresBin)";
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            await output;
            var message = (await error).ReplaceLineEndings(" ").Trim();
            return process.ExitCode == 0 ? null : $"{tool} failed (exit {process.ExitCode}): {(message.Length > 300 ? message[..300] + "…" : message)}";
        }
    }

    private static string Find(string tool, string? binDirectory)
    {
        if (!string.IsNullOrWhiteSpace(binDirectory))
        {
            return Path.Combine(binDirectory, tool);
        }

        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", tool)).Where(File.Exists)
                .OrderBy(p => int.TryParse(Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(p))), NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : 0)
                .LastOrDefault()
            : null;
        return debian ?? tool;
    }

    private static IEnumerable<(string Name, string Value)> Environment(string connectionString)
    {
        var c = new NpgsqlConnectionStringBuilder(connectionString);
        if (c.Host is { Length: > 0 } host)
        {
            yield return ("PGHOST", host);
        }

        yield return ("PGPORT", c.Port.ToString(CultureInfo.InvariantCulture));
        if (c.Username is { Length: > 0 } user)
        {
            yield return ("PGUSER", user);
        }

        if (c.Password is { Length: > 0 } password)
        {
            yield return ("PGPASSWORD", password);
        }

        if (c.Database is { Length: > 0 } database)
        {
            yield return ("PGDATABASE", database);
        }

        yield return ("PGSSLMODE", c.SslMode switch
        {
            SslMode.Disable => "disable",
            SslMode.Allow => "allow",
            SslMode.Require => "require",
            SslMode.VerifyCA => "verify-ca",
            SslMode.VerifyFull => "verify-full",
            _ => "prefer",
        });
        if (c.RootCertificate is { Length: > 0 } root)
        {
            yield return ("PGSSLROOTCERT", root);
        }

        if (c.SslCertificate is { Length: > 0 } certificate)
        {
            yield return ("PGSSLCERT", certificate);
        }

        if (c.SslKey is { Length: > 0 } key)
        {
            yield return ("PGSSLKEY", key);
        }

        yield return ("PGCONNECT_TIMEOUT", "15");
    }
}
