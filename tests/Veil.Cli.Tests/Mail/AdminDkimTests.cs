using System.Text.Json;

namespace Veil.Cli.Tests.Mail;

/// <summary>`veil admin dkim create|show` as a process over a fresh data directory (SQLite).</summary>
public sealed class AdminDkimTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "veil-dkim-cli-" + Guid.NewGuid().ToString("N"));

    private string DataDirectory => Path.Combine(_root, "data");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private Task<CliResult> AdminAsync(params string[] args) =>
        new VeilCli(null, Path.Combine(_root, "config")).RunAsync(["admin", "dkim", .. args, "--data", DataDirectory]);

    [Fact]
    public async Task CreateThenShow_Ed25519_PrintsTheSameDnsRecord()
    {
        var created = await AdminAsync("create", "Example.ORG", "--selector", "s1", "--algorithm", "ed25519", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        JsonElement record = Assert.Single(created.Json);
        Assert.Equal("s1._domainkey.example.org", record.GetProperty("name").GetString());
        Assert.Equal("ed25519-sha256", record.GetProperty("algorithm").GetString());
        string value = record.GetProperty("value").GetString()!;
        Assert.StartsWith("v=DKIM1; k=ed25519; p=", value, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(value["v=DKIM1; k=ed25519; p=".Length..]).Length);

        var shown = await AdminAsync("show", "example.org", "--json");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Equal(value, Assert.Single(shown.Json).GetProperty("value").GetString());
    }

    [Fact]
    public async Task Create_RsaByDefault_PrintsNameValueAndSplitZoneStrings()
    {
        var created = await AdminAsync("create", "example.net", "--selector", "mail");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains("Name:  mail._domainkey.example.net", created.Stdout, StringComparison.Ordinal);
        Assert.Contains("Value: v=DKIM1; k=rsa; p=", created.Stdout, StringComparison.Ordinal);
        Assert.Matches("Zone file: mail\\._domainkey\\.example\\.net\\. IN TXT \"[^\"]{255}\" \"", created.Stdout);
    }

    [Fact]
    public async Task Create_SameSelectorTwice_FailsAndKeepsTheFirstKey()
    {
        var first = await AdminAsync("create", "example.com", "--selector", "s1", "--algorithm", "ed25519", "--json");
        var second = await AdminAsync("create", "example.com", "--selector", "s1", "--algorithm", "ed25519", "--json");

        Assert.Equal(1, second.ExitCode);
        Assert.Contains("already exists", second.Stderr, StringComparison.Ordinal);
        var shown = await AdminAsync("show", "example.com", "--json");
        Assert.Equal(Assert.Single(first.Json).GetProperty("value").GetString(), Assert.Single(shown.Json).GetProperty("value").GetString());
    }

    [Fact]
    public async Task Show_UnknownDomain_FailsWithAHint()
    {
        var shown = await AdminAsync("show", "nothing.example");
        Assert.Equal(1, shown.ExitCode);
        Assert.Contains("veil admin dkim create", shown.Stderr, StringComparison.Ordinal);
    }
}
