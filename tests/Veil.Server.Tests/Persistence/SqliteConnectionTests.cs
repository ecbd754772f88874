using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Tests.Persistence;

/// <summary>The embedded default's connection settings; provider-specific, so they run on SQLite only.</summary>
public sealed class SqliteConnectionTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("veil-sqlite-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private static async Task<long> PragmaAsync(VeilDbContext db, string pragma)
    {
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA " + pragma;
        var value = await command.ExecuteScalarAsync();
        return value is string text ? text == "wal" ? 1 : 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task SqliteConnections_UseWal_ForeignKeys_AndABusyTimeout()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var services = new ServiceCollection().AddSingleton(keyring).AddSingleton(TimeProvider.System);
        services.AddVeilPersistence(new ConfigurationBuilder().Build(), _dataDirectory);
        await using var provider = services.BuildServiceProvider();
        await provider.MigrateVeilDatabaseAsync(CancellationToken.None);
        await using var scope = provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();

        Assert.Equal(1, await PragmaAsync(db, "journal_mode"));
        Assert.Equal(1, await PragmaAsync(db, "foreign_keys"));
        Assert.Equal(VeilDatabase.SqliteBusyTimeoutMilliseconds, await PragmaAsync(db, "busy_timeout"));
        Assert.True(File.Exists(Path.Combine(_dataDirectory, "veil.db")));
    }
}
