using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.Versioning;

namespace Veil.Cli.Tests;

[UnsupportedOSPlatform("windows")] // SIGTERM and file modes
public sealed class ServeTests : IDisposable
{
    internal static readonly string[] KeyNames = ["field", "index", "session", "refresh", "recovery", "reply", "srs", "escrow", "report", "chat", "transparency"];
    private readonly string _root = Directory.CreateTempSubdirectory("veil-cli-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Data => Path.Combine(_root, "data");

    [Fact]
    public async Task Serve_EmptyDataDirectory_AnswersHealthWithin10Seconds_WithOwnerOnlyKeyring()
    {
        var clock = Stopwatch.StartNew();
        using var veil = VeilProcess.Start(["serve", "--data", Data, "--http", "http://127.0.0.1:0"]);
        var address = await veil.WaitForListeningAsync(TimeSpan.FromSeconds(10));
        using var client = new HttpClient { BaseAddress = address };
        var health = await client.GetFromJsonAsync<Health>("/health");
        clock.Stop();

        Assert.Equal("ok", health!.Status);
        Assert.Equal("sqlite", health.Database);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Data, "keyring.dev.json")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Data));
        Assert.Contains($"Data directory: {Data}", veil.Stdout, StringComparison.Ordinal);
        Assert.Single(veil.Stdout.Split('\n'), l => l.Contains("DEVELOPMENT KEYRING", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Serve_Sigterm_StopsGracefullyWithExitCode0()
    {
        using var veil = VeilProcess.Start(["serve", "--data", Data, "--http", "http://127.0.0.1:0"]);
        await veil.WaitForListeningAsync(TimeSpan.FromSeconds(10));

        await veil.TerminateAsync();
        var exitCode = await veil.WaitForExitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, exitCode);
        Assert.Contains("Veil stopped.", veil.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_Production_WithoutKeys_NamesEveryMissingSetting()
    {
        using var veil = VeilProcess.Start(["serve", "--production", "--data", Data, "--http", "http://127.0.0.1:0"]);

        var exitCode = await veil.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.NotEqual(0, exitCode);
        var lines = veil.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in KeyNames)
        {
            Assert.Single(lines, l => l.StartsWith($"veil: Veil:Keys:{name} (env Veil__Keys__{name}): missing", StringComparison.Ordinal));
        }

        Assert.False(File.Exists(Path.Combine(Data, "keyring.dev.json")));
    }

    [Fact]
    public async Task Serve_Production_ShortKey_IsNamedAsShortAndItsValueNeverPrinted()
    {
        var shortKey = Convert.ToBase64String(Enumerable.Range(100, 16).Select(i => (byte)i).ToArray());
        var environment = KeyNames.ToDictionary(n => $"Veil__Keys__{n}", n => Convert.ToBase64String(Enumerable.Repeat((byte)n.Length, 32).ToArray()));
        environment["Veil__Keys__session"] = shortKey;
        using var veil = VeilProcess.Start(["serve", "--production", "--data", Data, "--http", "http://127.0.0.1:0"], environment);

        var exitCode = await veil.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(veil.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("veil: Veil:Keys:session (env Veil__Keys__session): too short (16 bytes", line, StringComparison.Ordinal);
        Assert.DoesNotContain(shortKey, veil.Stdout + veil.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_ConsoleOutput_HasNoCanaryTokenOrKey()
    {
        const string Token = "CliCanaryT0kenZq81";
        var key = Convert.ToBase64String(Enumerable.Range(200, 32).Select(i => (byte)i).ToArray());
        using var veil = VeilProcess.Start(["serve", "--data", Data, "--http", "http://127.0.0.1:0"], new Dictionary<string, string> { ["Veil__Keys__field"] = key });
        var address = await veil.WaitForListeningAsync(TimeSpan.FromSeconds(10));
        using var client = new HttpClient { BaseAddress = address };

        using (await client.GetAsync(new Uri($"/d/{Token}?key={Token}", UriKind.Relative)))
        using (await client.GetAsync(new Uri("/health", UriKind.Relative)))
        {
        }

        await veil.TerminateAsync();
        Assert.Equal(0, await veil.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var output = veil.Stdout + veil.Stderr;
        Assert.Contains("HTTP GET /health -> 200", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, output, StringComparison.Ordinal);
        Assert.DoesNotContain(key, output, StringComparison.Ordinal);
    }

    private sealed record Health(string Status, string Version, string Database);
}

public sealed class ArgumentTests
{
    [Theory]
    [InlineData("serve", "--bogus")]
    [InlineData("serve", "--http", "not a url")]
    [InlineData("frobnicate")]
    public async Task BadArguments_PrintOneLineAndExit2(params string[] args)
    {
        using var veil = VeilProcess.Start(args);

        var exitCode = await veil.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(veil.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("veil: ", line, StringComparison.Ordinal);
        Assert.Equal(string.Empty, veil.Stdout.Trim());
    }

    [Fact]
    public async Task Version_PrintsTheVersionAndExits0()
    {
        using var veil = VeilProcess.Start(["--version"]);

        Assert.Equal(0, await veil.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Matches(@"^\d+\.\d+\.\d+", veil.Stdout.Trim());
    }

    [Fact]
    public async Task Help_ListsTheServeVerb()
    {
        using var veil = VeilProcess.Start(["--help"]);

        Assert.Equal(0, await veil.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("serve", veil.Stdout, StringComparison.Ordinal);
    }
}
