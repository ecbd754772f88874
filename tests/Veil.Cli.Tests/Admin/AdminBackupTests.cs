// `veil admin backup keygen|create|verify|restore` as processes (issue 24 point 1): the key file is 0600 and never
// overwritten; a backup made with the recipient verifies with the identity; a flipped byte is refused by verify and
// restore with one line and exit 1, and the restore target stays absent; a non-empty target is refused by name; a
// good backup restores into a fresh data directory with the same keys and the restore is in its audit log.
using System.Text.Json;

namespace Veil.Cli.Tests.Admin;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes
public sealed class AdminBackupTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "veil-backup-cli-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string> _keys = Veil.Cli.Tests.ServeTests.KeyNames.ToDictionary(
        name => $"Veil__Keys__{name}", name => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));

    public AdminBackupTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string PathOf(string name) => Path.Combine(_root, name);

    private Task<CliResult> VeilAsync(params string[] args) => new VeilCli(null, PathOf("config")).RunAsync(["admin", "backup", .. args], environment: _keys);

    [Fact]
    public async Task KeygenCreateVerifyRestore_RoundTrip_AndDamagedOrOccupiedTargetsAreRefused()
    {
        var keygen = await VeilAsync("keygen", "--out", PathOf("operator.key"), "--json");
        Assert.True(keygen.ExitCode == 0, keygen.ToString());
        var recipient = Assert.Single(keygen.Json).GetProperty("recipient").GetString()!;
        Assert.StartsWith("veil-backup1", recipient, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(PathOf("operator.key")));
        Assert.DoesNotContain(File.ReadAllText(PathOf("operator.key")).Split('\n')[1], keygen.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, (await VeilAsync("keygen", "--out", PathOf("operator.key"))).ExitCode);

        var create = await VeilAsync("create", "--to", PathOf("b.vbk"), "--recipient", recipient, "--data", PathOf("data"), "--json");
        Assert.True(create.ExitCode == 0, create.ToString());
        var created = create.Event("backup-created");
        Assert.True(created.GetProperty("entries").GetInt32() >= 3, create.ToString());
        Assert.Equal("sqlite", created.GetProperty("database").GetString());
        Assert.False(File.Exists(PathOf("b.vbk.partial")));

        var verify = await VeilAsync("verify", PathOf("b.vbk"), "--identity", PathOf("operator.key"));
        Assert.True(verify.ExitCode == 0, verify.ToString());

        var bytes = File.ReadAllBytes(PathOf("b.vbk"));
        bytes[bytes.Length / 2] ^= 0x04;
        File.WriteAllBytes(PathOf("flipped.vbk"), bytes);
        var badVerify = await VeilAsync("verify", PathOf("flipped.vbk"), "--identity", PathOf("operator.key"));
        Assert.Equal(1, badVerify.ExitCode);
        Assert.Contains("is damaged", badVerify.Stderr, StringComparison.Ordinal);
        Assert.Single(badVerify.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var badRestore = await VeilAsync("restore", PathOf("flipped.vbk"), "--identity", PathOf("operator.key"), "--data", PathOf("bad-target"));
        Assert.Equal(1, badRestore.ExitCode);
        Assert.Contains("is damaged", badRestore.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(PathOf("bad-target")) ? Directory.GetFileSystemEntries(PathOf("bad-target")) : []);

        var occupied = await VeilAsync("restore", PathOf("b.vbk"), "--identity", PathOf("operator.key"), "--data", PathOf("data"));
        Assert.Equal(1, occupied.ExitCode);
        Assert.Contains("is not empty (", occupied.Stderr, StringComparison.Ordinal);
        Assert.Contains("veil.db", occupied.Stderr, StringComparison.Ordinal);

        var restore = await VeilAsync("restore", PathOf("b.vbk"), "--identity", PathOf("operator.key"), "--data", PathOf("restored"), "--json");
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Equal(created.GetProperty("entries").GetInt32(), restore.Event("backup-restored").GetProperty("entries").GetInt32());
        Assert.True(File.Exists(PathOf("restored/veil.db")));

        var audit = await new VeilCli(null, PathOf("config")).RunAsync(["admin", "audit", "--data", PathOf("restored"), "--json"], environment: _keys);
        Assert.True(audit.ExitCode == 0, audit.ToString());
        Assert.Contains("backup.restore", audit.Stdout, StringComparison.Ordinal);
    }
}
