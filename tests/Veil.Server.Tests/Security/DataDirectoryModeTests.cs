// Issue 14, finding 8: with an existing 0755 data directory, veil.db, -wal and -shm were created 0644 and the
// directory stayed 0755. Now the directory is 0700 and every file in it 0600 whatever existed before, and a
// directory other users can write is refused with one line naming the setting.
using System.Net;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Security;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DataDirectoryModeTests : IDisposable
{
    private const UnixFileMode Mode0755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private const UnixFileMode Mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly string _data = Path.Combine(Path.GetTempPath(), "veil-mode-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task ExistingOpenDirectory_IsTightened_AndEveryFileInItIsOwnerOnly()
    {
        Directory.CreateDirectory(_data, Mode0755);
        Directory.CreateDirectory(Path.Combine(_data, "blobs"), Mode0755);
        File.WriteAllText(Path.Combine(_data, "blobs", "old"), "x");
        File.SetUnixFileMode(Path.Combine(_data, "blobs", "old"), Mode0644);
        File.SetUnixFileMode(_data, Mode0755);

        await using (var server = await IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:DataDirectory"] = _data))
        {
            // A registration writes: the database's WAL and shared-memory files exist now.
            using (var register = await server.PostAsync("/api/v1/accounts", new { email = IdentityKit.NewEmail(), authToken = IdentityKit.NewAuthToken(), kdf = IdentityKit.DefaultKdf(), protectedUserKey = "v1.k" }))
            {
                Assert.Equal(HttpStatusCode.Accepted, register.StatusCode);
            }

            // SQLite deletes -wal and -shm when the server's last connection closes (a background job's may close
            // between listing and stat). A connection of the test's own keeps them; SQLite creates them again, if it
            // must, with the database file's mode, so holding one open cannot hide a wrong mode.
            using var keepOpen = server.Database == "sqlite"
                ? new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_data, "veil.db")};Pooling=False")
                : null;
            if (keepOpen is not null)
            {
                keepOpen.Open();
                using var read = keepOpen.CreateCommand();
                read.CommandText = "SELECT count(*) FROM sqlite_master";
                read.ExecuteScalar();
            }

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_data));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_data, "blobs")));
            var files = Directory.GetFiles(_data, "*", SearchOption.AllDirectories);
            if (server.Database == "sqlite")
            {
                Assert.Contains(Path.Combine(_data, "veil.db"), files);
                Assert.Contains(Path.Combine(_data, "veil.db-wal"), files);
                Assert.Contains(Path.Combine(_data, "veil.db-shm"), files);
            }

            Assert.Contains(Path.Combine(_data, "keyring.dev.json"), files);
            Assert.All(files, f => Assert.True(File.GetUnixFileMode(f) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{Path.GetFileName(f)} is {File.GetUnixFileMode(f)}"));
        }
    }

    [Fact]
    public async Task DirectoryOthersCanWrite_IsRefusedWithOneLineNamingTheSetting()
    {
        Directory.CreateDirectory(_data);
        File.SetUnixFileMode(_data, Mode0755 | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);

        var refused = await Assert.ThrowsAsync<VeilStartupException>(() => VeilTestServer.StartAsync(o => o.Settings["Veil:DataDirectory"] = _data));

        var problem = Assert.Single(refused.Problems);
        Assert.StartsWith("Veil:DataDirectory (env Veil__DataDirectory):", problem, StringComparison.Ordinal);
        Assert.Contains("writable by other users (mode 0777)", problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem);
        Assert.Empty(Directory.GetFileSystemEntries(_data)); // nothing was created in it
    }

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }
}
