// `veil admin doctor` as a process (issue 24 point 6): a development data directory has warnings and nothing unsafe
// (exit 0); production with a smarthost reached in clear is unsafe (exit 1) and says which setting fixes it; with
// STARTTLS required the same check is ok; a configuration `veil serve` would refuse is printed as refusals, exit 1.
using System.Text.Json;

namespace Veil.Cli.Tests.Admin;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes, as ServeTests
public sealed class AdminDoctorTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "veil-doctor-cli-" + Guid.NewGuid().ToString("N"));

    private string DataDirectory => Path.Combine(_root, "data");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private Task<CliResult> DoctorAsync(IReadOnlyDictionary<string, string>? environment = null, params string[] args) =>
        new VeilCli(null, Path.Combine(_root, "config")).RunAsync(["admin", "doctor", "--data", DataDirectory, "--json", .. args], environment: environment);

    private static JsonElement Finding(CliResult result, string check) =>
        Assert.Single(result.Json).GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("check").GetString() == check);

    [Fact]
    public async Task Development_WarnsAboutTheDevelopmentKeyring_NothingUnsafe_Exit0()
    {
        var result = await DoctorAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(0, Assert.Single(result.Json).GetProperty("unsafe").GetInt32());
        Assert.Equal("warn", Finding(result, "server-keys").GetProperty("status").GetString());
        Assert.Contains("development keyring", Finding(result, "server-keys").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("ok", Finding(result, "data-directory").GetProperty("status").GetString());
        Assert.Equal("ok", Finding(result, "database").GetProperty("status").GetString());
        Assert.Equal("warn", Finding(result, "backup").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Production_SmarthostInClear_IsUnsafe_Exit1_RequiredTlsIsOk()
    {
        var clear = Production(new() { ["Veil__Mail__Smarthost"] = "mail.example.org:25", ["Veil__Mail__SmarthostTls"] = "None" });
        var unsafeRun = await DoctorAsync(clear, "--production");

        Assert.True(unsafeRun.ExitCode == 1, unsafeRun.ToString());
        var outgoing = Finding(unsafeRun, "outgoing-mail");
        Assert.Equal("unsafe", outgoing.GetProperty("status").GetString());
        Assert.Contains("set Veil:Mail:SmarthostTls=Required", outgoing.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("ok", Finding(unsafeRun, "server-keys").GetProperty("status").GetString());
        Assert.Equal("ok", Finding(unsafeRun, "public-origin").GetProperty("status").GetString());

        var required = Production(new() { ["Veil__Mail__Smarthost"] = "mail.example.org:587", ["Veil__Mail__SmarthostTls"] = "Required" });
        var safeRun = await DoctorAsync(required, "--production");
        Assert.True(safeRun.ExitCode == 0, safeRun.ToString());
        Assert.Equal("ok", Finding(safeRun, "outgoing-mail").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Production_ConfigurationServeWouldRefuse_PrintsTheRefusals_Exit1()
    {
        var result = await DoctorAsync(Production(new() { ["ConnectionStrings__Postgres"] = "Host=db.example.org;Username=veil;Password=canary-doctor-pw" }), "--production");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("ConnectionStrings:Postgres (env ConnectionStrings__Postgres): in production", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("canary-doctor-pw", result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Production(Dictionary<string, string> more)
    {
        var environment = new Dictionary<string, string>(more) { ["Veil__PublicOrigin"] = "https://veil.example.org" };
        foreach (var name in Veil.Cli.Tests.ServeTests.KeyNames)
        {
            environment[$"Veil__Keys__{name}"] = Convert.ToBase64String(Enumerable.Range(name.Length, 32).Select(i => (byte)i).ToArray());
        }

        return environment;
    }
}
