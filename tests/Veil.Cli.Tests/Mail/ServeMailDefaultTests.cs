using System.Runtime.Versioning;
using System.Text.RegularExpressions;

namespace Veil.Cli.Tests.Mail;

/// <summary>
/// `veil serve` with an alias domain (issue 15, point 4): in development it says where mail goes (the .eml outbox) and
/// prints the DNS record of the DKIM key it created for the domain, the record `veil admin dkim show` prints too; in
/// production without a smarthost it refuses to start, naming the setting.
/// </summary>
[UnsupportedOSPlatform("windows")] // SIGTERM
public sealed partial class ServeMailDefaultTests : IDisposable
{
    private static readonly string[] KeyNames = ["field", "index", "session", "refresh", "recovery", "reply", "srs", "escrow", "report"];
    private readonly string _root = Directory.CreateTempSubdirectory("veil-cli-mail-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Data => Path.Combine(_root, "data");

    [Fact]
    public async Task Serve_DevelopmentAliasDomain_PrintsOutboxAndTheDkimRecordAdminDkimShows()
    {
        var environment = new Dictionary<string, string> { ["Veil__Alias__Domains__0"] = "alias.test" };
        string printed;
        using (var veil = VeilProcess.Start(["serve", "--data", Data, "--http", "http://127.0.0.1:0"], environment))
        {
            await veil.WaitForListeningAsync(TimeSpan.FromSeconds(30));
            await WaitForLineAsync(veil, "Press Ctrl-C to stop.");
            printed = veil.Stdout;
            await veil.TerminateAsync();
            Assert.Equal(0, await veil.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }

        Assert.Contains($"Outgoing mail (no smarthost, Veil:Mail:Smarthost): written as .eml files to {Path.Combine(Data, "outbox")}", printed, StringComparison.Ordinal);
        var line = DkimLine().Match(printed);
        Assert.True(line.Success, printed);
        var shown = await new VeilCli(null, Path.Combine(_root, "config")).RunAsync(["admin", "dkim", "show", "alias.test", "--data", Data, "--json"]);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        var key = Assert.Single(shown.Json);
        Assert.Equal(line.Groups["name"].Value, key.GetProperty("name").GetString());
        Assert.Equal(line.Groups["value"].Value, key.GetProperty("value").GetString());

        // A second start keeps the key: the published record stays valid.
        using (var again = VeilProcess.Start(["serve", "--data", Data, "--http", "http://127.0.0.1:0"], environment))
        {
            await again.WaitForListeningAsync(TimeSpan.FromSeconds(30));
            await WaitForLineAsync(again, "Press Ctrl-C to stop.");
            Assert.Equal(line.Value, DkimLine().Match(again.Stdout).Value);
            await again.TerminateAsync();
            await again.WaitForExitAsync(TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public async Task Serve_ProductionAliasDomainWithoutSmarthost_RefusesNamingTheSetting()
    {
        var environment = KeyNames.ToDictionary(n => $"Veil__Keys__{n}", n => Convert.ToBase64String(Enumerable.Repeat((byte)n.Length, 32).ToArray()));
        environment["Veil__Alias__Domains__0"] = "alias.test";
        using var veil = VeilProcess.Start(["serve", "--production", "--data", Data, "--http", "http://127.0.0.1:0"], environment);

        var exitCode = await veil.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(veil.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("veil: Veil:Mail:Smarthost (env Veil__Mail__Smarthost) is not set", line, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", veil.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task WaitForLineAsync(VeilProcess veil, string text)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!veil.Stdout.Contains(text, StringComparison.Ordinal))
        {
            await Task.Delay(50, deadline.Token);
        }
    }

    [GeneratedRegex("DKIM for alias\\.test: publish TXT (?<name>veil[0-9]{6}\\._domainkey\\.alias\\.test) \"(?<value>v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+)\"")]
    private static partial Regex DkimLine();
}
