using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text.Json;
using Veil.Server.Tests.Kit;

namespace Veil.Cli.Tests;

/// <summary>The first hour with `veil` (issue 15, point 5): nothing to guess — help, suggestions, a default server, one wording for a server that is down.</summary>
[UnsupportedOSPlatform("windows")]
[Collection(AccountVerbsTestGroup.Name)]
public sealed class NewcomerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("veil-newcomer-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task BareVeil_PrintsHelpWithEveryVerb_Exit0()
    {
        var result = await new VeilCli(server: null, Path.Combine(_root, "config")).RunAsync([]);

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var verb in new[] { "serve", "account", "alias", "drop", "vault" })
        {
            Assert.Contains($"  {verb} ", result.Stdout, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("Required command", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "drpo" }, "did you mean 'veil drop'?")]
    [InlineData(new[] { "acount", "whoami" }, "did you mean 'veil account'?")]
    [InlineData(new[] { "drop", "lsit" }, "did you mean 'veil drop list'?")]
    [InlineData(new[] { "vault", "swtich" }, "did you mean 'veil vault switch'?")]
    public async Task UnknownCommand_CloseToAVerb_SuggestsIt_InOneLine_Exit2(string[] args, string suggestion)
    {
        var result = await new VeilCli(server: null, Path.Combine(_root, "config")).RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(suggestion, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerDown_EveryModuleSaysTheSameOneLine()
    {
        var dead = ClosedPort();
        var config = Path.Combine(_root, "config");
        Directory.CreateDirectory(config);
        // A session whose server has gone away: account, alias, vault and drop all start from it.
        await File.WriteAllTextAsync(Path.Combine(config, "session.json"), JsonSerializer.Serialize(new { server = dead.ToString(), email = "a@example.org", refreshToken = "rt_dead" }));
        var cli = new VeilCli(server: null, config);
        var file = Path.Combine(_root, "f.txt");
        await File.WriteAllTextAsync(file, "hello");
        var expected = $"veil: cannot reach the Veil server at {dead.GetLeftPart(UriPartial.Authority)}: is it running?";

        var runs = new[]
        {
            await cli.RunAsync(["account", "whoami"]),
            await cli.RunAsync(["account", "verify", "sometoken"]),
            await cli.RunAsync(["alias", "list"]),
            await cli.RunAsync(["recipient", "list"]),
            await cli.RunAsync(["vault", "list", "--password-stdin"], CliAccounts.StrongPassword + "\n"),
            await cli.RunAsync(["drop", "info", "AAAAAAAAAAAAAAAAAAAAAA"]),
            await cli.RunAsync(["drop", "send", file]),
            await cli.RunAsync(["drop", "send", file, "--anonymous"]),
        };

        foreach (var run in runs)
        {
            Assert.Equal(1, run.ExitCode);
            var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("veil:", StringComparison.Ordinal));
            Assert.StartsWith(expected, line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NoServerNamed_NoSession_UsesTheLocalDefault_NotAnError()
    {
        var cli = new VeilCli(server: null, Path.Combine(_root, "config"));

        var result = await cli.RunAsync(["drop", "info", "AAAAAAAAAAAAAAAAAAAAAA"]);

        // Whatever listens on 5080 here (nothing, or another veil), the CLI went there instead of refusing.
        Assert.DoesNotContain("no server", result.Stderr, StringComparison.Ordinal);
        Assert.True(
            result.Stderr.Contains("cannot reach the Veil server at http://127.0.0.1:5080", StringComparison.Ordinal)
            || result.Stderr.Contains("no such drop", StringComparison.Ordinal),
            result.ToString());
    }

    [Fact]
    public async Task AfterLogin_AnonymousVerbsUseTheLastLoginsServer()
    {
        await using var server = await VeilTestServer.StartAsync();
        var config = Path.Combine(_root, "config");
        await new VeilCli(server.BaseAddress, config).SignUpAsync(server, "newcomer@example.org");
        var unnamed = new VeilCli(server: null, config);
        var file = Path.Combine(_root, "hello.txt");
        await File.WriteAllTextAsync(file, "hello");

        var sent = await unnamed.RunAsync(["drop", "send", file]);

        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.StartsWith(server.BaseAddress.ToString().TrimEnd('/') + "/d/", sent.Stdout.Trim().Split('\n')[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_BusyPort_OneLineNamingTheAddress_NoStackTrace()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)busy.LocalEndpoint).Port}";
        using var veil = VeilProcess.Start(["serve", "--data", Path.Combine(_root, "data"), "--http", url]);

        var exit = await veil.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exit);
        var line = Assert.Single(veil.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("veil:", StringComparison.Ordinal));
        Assert.StartsWith($"veil: cannot listen on {url}: the address is already in use", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", veil.Stdout + veil.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", veil.Stdout + veil.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_Development_DoesNotClaimProduction()
    {
        using var veil = VeilProcess.Start(["serve", "--data", Path.Combine(_root, "data"), "--http", "http://127.0.0.1:0"]);
        await veil.WaitForListeningAsync(TimeSpan.FromSeconds(20));
        await veil.TerminateAsync();
        await veil.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.DoesNotContain("Hosting environment", veil.Stdout + veil.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Production", veil.Stdout, StringComparison.Ordinal);
        Assert.Contains("DEVELOPMENT KEYRING", veil.Stdout + veil.Stderr, StringComparison.Ordinal);
    }

    private static Uri ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }
}
