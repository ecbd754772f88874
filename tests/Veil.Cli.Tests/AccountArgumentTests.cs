using System.Runtime.Versioning;

namespace Veil.Cli.Tests;

/// <summary>Argument handling of the account verbs, no server needed.</summary>
[UnsupportedOSPlatform("windows")]
[Collection(AccountVerbsTestGroup.Name)]
public sealed class AccountArgumentTests : IDisposable
{
    private readonly string _config = Directory.CreateTempSubdirectory("veil-cli-args-").FullName;

    public void Dispose() => Directory.Delete(_config, recursive: true);

    [Theory]
    [InlineData("account", "login", "--email", "a@example.org", "--password", "hunter2")]
    [InlineData("account", "register", "--email", "a@example.org", "--password=hunter2")]
    [InlineData("account", "passwd", "--password", "hunter2")]
    [InlineData("apikey", "create", "x", "--password", "hunter2")]
    public async Task PasswordArgument_IsRefusedAsUsage_WithoutEchoingIt(params string[] args)
    {
        var result = await new VeilCli(new Uri("http://127.0.0.1:9/"), _config).RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--password-stdin", line, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("account", "login")]
    [InlineData("account", "login", "--email", "a@example.org", "--link", "http://x/magic-link#t")]
    [InlineData("account", "login", "--magic-link", "a@example.org", "--link", "http://x/magic-link#t")]
    public async Task Login_NotExactlyOneWayToSignIn_IsAUsageErrorOnOneLine(params string[] args)
    {
        var result = await new VeilCli(new Uri("http://127.0.0.1:9/"), _config).RunAsync(args, string.Empty);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("login", Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmailChange_NotLoggedIn_FailsWithOneLine()
    {
        var result = await new VeilCli(new Uri("http://127.0.0.1:9/"), _config).RunAsync(["account", "email", "change", "b@example.org", "--password-stdin", "--json"], "pw\n");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("veil: not-signed-in:", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_NoTerminalAndNoPasswordStdin_IsAUsageError()
    {
        var result = await new VeilCli(new Uri("http://127.0.0.1:9/"), _config).RunAsync(["account", "login", "--email", "a@example.org"], string.Empty);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--password-stdin", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Whoami_NotLoggedIn_FailsWithOneLine()
    {
        var result = await new VeilCli(new Uri("http://127.0.0.1:9/"), _config).RunAsync(["account", "whoami", "--json"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("veil: not-signed-in: Not logged in: run 'veil account login' first", result.Stderr.Trim());
    }

    [Fact]
    public async Task Login_UnreachableServer_FailsWithTheOneUnreachableLine()
    {
        var result = await new VeilCli(new Uri("http://127.0.0.1:9/"), _config).RunAsync(["account", "login", "--email", "a@example.org", "--password-stdin"], "pw\n");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("veil: cannot reach the Veil server at http://127.0.0.1:9: is it running?", result.Stderr, StringComparison.Ordinal);
    }
}
