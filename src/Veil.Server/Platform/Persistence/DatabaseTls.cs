// Production's rule for the connection to PostgreSQL (issue 24, "TLS to backing services"): a database reached over
// a network must be reached over TLS that verifies the server's certificate and name, so that nobody on the path
// reads the rows or poses as the database. Loopback and a Unix socket never leave the machine and are exempt.
using System.Net;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Veil.Server.Platform.Persistence;

internal static class DatabaseTls
{
    private const string Setting = "ConnectionStrings:Postgres (env ConnectionStrings__Postgres)";

    /// <summary>One line per problem, naming the setting and never its value; none outside production or on SQLite.</summary>
    public static IEnumerable<string> Problems(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var connectionString = configuration["ConnectionStrings:Postgres"];
        if (!configuration.GetValue<bool>("Veil:Production") || string.IsNullOrWhiteSpace(connectionString))
        {
            return [];
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            return [$"{Setting}: is not a valid PostgreSQL connection string"];
        }

        var hosts = (builder.Host ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (hosts.Length == 0 || hosts.All(StaysOnThisMachine) || builder.SslMode == SslMode.VerifyFull)
        {
            return [];
        }

        return [$"{Setting}: in production a database reached over the network must verify its TLS certificate: add 'SSL Mode=VerifyFull' "
            + $"(and 'Root Certificate=/path/to/ca.pem' unless the system trusts its CA), or connect over loopback or a Unix socket (now: SSL Mode={builder.SslMode})"];
    }

    /// <summary>A Unix socket directory, <c>localhost</c>, or a loopback address (a host may carry a <c>:port</c>).</summary>
    public static bool StaysOnThisMachine(string host)
    {
        if (host.StartsWith('/') || host.StartsWith('@'))
        {
            return true; // a Unix socket directory, or an abstract socket
        }

        var name = host;
        if (name.StartsWith('[') && name.IndexOf(']', StringComparison.Ordinal) is > 0 and var close)
        {
            name = name[1..close];
        }
        else if (name.Count(c => c == ':') == 1)
        {
            name = name[..name.IndexOf(':', StringComparison.Ordinal)];
        }

        return string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address));
    }
}
