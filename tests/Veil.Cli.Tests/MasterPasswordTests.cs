using System.Runtime.Versioning;
using Veil.Server.Tests.Kit;

namespace Veil.Cli.Tests;

/// <summary>Master-password strength in the CLI (issue 15, point 6): refused before any key is derived, logins never checked.</summary>
[UnsupportedOSPlatform("windows")]
[Collection(AccountVerbsTestGroup.Name)]
public sealed class MasterPasswordTests : IAsyncLifetime
{
    private readonly string _config = Directory.CreateTempSubdirectory("veil-cli-pw-").FullName;
    private VeilTestServer _server = null!;
    private VeilCli _cli = null!;

    public async Task InitializeAsync()
    {
        _server = await VeilTestServer.StartAsync();
        _cli = new VeilCli(_server.BaseAddress, _config);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_config, recursive: true);
    }

    [Theory]
    [InlineData("x", "too short")]
    [InlineData("password12", "too easy to guess")]
    [InlineData("newcomer@example.org", "too easy to guess")]
    public async Task Register_WeakPassword_RefusedWithWhyAndWhatWouldDo_NothingSent(string password, string why)
    {
        var result = await _cli.RunAsync(["account", "register", "--email", "newcomer@example.org", "--password-stdin"], password + "\n");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(why, line, StringComparison.Ordinal);
        Assert.Contains("at least 10 characters", line, StringComparison.Ordinal);
        Assert.Empty(_server.ReadOutbox());
    }

    [Fact]
    public async Task Passwd_WeakNewPassword_Refused_OldPasswordStillLogsIn()
    {
        await _cli.SignUpAsync(_server, "newcomer@example.org");

        var changed = await _cli.RunAsync(["account", "passwd", "--password-stdin"], CliAccounts.StrongPassword + "\nabc\n");
        var login = await _cli.RunAsync(["account", "login", "--email", "newcomer@example.org", "--password-stdin"], CliAccounts.StrongPassword + "\n");

        Assert.Equal(2, changed.ExitCode);
        Assert.Contains("too short", changed.Stderr, StringComparison.Ordinal);
        Assert.True(login.ExitCode == 0, login.ToString());
    }
}
