using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Veil.Server.Tests.Kit;

/// <summary>Everything a test server's database holds, as text, for canary scans and breach tests.</summary>
public static class StoredData
{
    /// <summary>A <c>pg_dump</c> of the server's PostgreSQL database, or the raw SQLite file with its WAL.</summary>
    public static async Task<string> ReadAsync(VeilTestServer server) =>
        server.Database == "postgres"
            ? await PostgresDump.DataAsync(server.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Postgres"])
            : SqliteFiles(server);

    /// <summary>The bytes of <c>veil.db</c>, <c>veil.db-wal</c> and <c>veil.db-shm</c> as Latin-1 text (pools cleared first).</summary>
    public static string SqliteFiles(VeilTestServer server)
    {
        SqliteConnection.ClearAllPools();
        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(server.DataDirectory).Where(f => Path.GetFileName(f).StartsWith("veil.db", StringComparison.Ordinal)))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            text.Append(Encoding.Latin1.GetString(copy.ToArray()));
        }

        Assert.True(text.Length > 0, "no SQLite file found");
        return text.ToString();
    }
}
