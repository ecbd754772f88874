using System.Runtime.Versioning;
using System.Text.Json;
using Veil.Crypto.Drop;

namespace Veil.Cli.Tests.Drop;

/// <summary>`veil drop` for a signed-in user and for the sender who kept only the owner token (issue 15, point 8).</summary>
[UnsupportedOSPlatform("windows")]
[Collection(DropCliTestGroup.Name)]
public sealed class DropOwnedTests : IAsyncLifetime
{
    private DropCli _cli = null!;

    public async Task InitializeAsync() => _cli = await DropCli.StartAsync();

    public async Task DisposeAsync() => await _cli.DisposeAsync();

    [Fact]
    public async Task Send_SignedIn_Expires30d_IsOwnedByTheAccount_DeletableWithTheSessionAlone()
    {
        await SignInAsync();
        string file = _cli.WriteRandomFile("plan.txt", 2000);

        CliResult sent = await _cli.RunAsync(["--json", "drop", "send", file, "--expires", "30d"]);
        Assert.True(sent.ExitCode == 0, sent.ToString());
        using var json = JsonDocument.Parse(sent.StdoutLines.Last());
        string id = json.RootElement.GetProperty("id").GetString()!;
        // Forget the owner token: only the session can prove ownership now.
        File.Delete(Path.Combine(_cli.ConfigDirectory, "drops.json"));
        CliResult info = await _cli.RunAsync(["--json", "drop", "info", id]);
        CliResult deleted = await _cli.RunAsync(["drop", "delete", id]);

        Assert.True(json.RootElement.GetProperty("owned").GetBoolean());
        Assert.InRange(json.RootElement.GetProperty("expiresAt").GetDateTimeOffset() - _cli.Server.Time.GetUtcNow(), TimeSpan.FromDays(29.9), TimeSpan.FromDays(30));
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.True(JsonDocument.Parse(info.StdoutLines.Last()).RootElement.GetProperty("owner").GetBoolean(), info.ToString());
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal(1, (await _cli.RunAsync(["drop", "info", id])).ExitCode);
    }

    [Fact]
    public async Task Send_Anonymous_30d_IsRefusedInDays_WithTheWayToALongerOne()
    {
        string file = _cli.WriteRandomFile("plan.txt", 2000);

        CliResult sent = await _cli.RunAsync(["drop", "send", file, "--expires", "30d"]);
        CliResult week = await _cli.RunAsync(["drop", "send", file, "--expires", "7d"]);

        Assert.Equal(1, sent.ExitCode);
        Assert.Contains("7 days", sent.Stderr, StringComparison.Ordinal);
        Assert.Contains("signed-in drops up to 30 days", sent.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("expiresInSeconds", sent.Stderr, StringComparison.Ordinal);
        Assert.True(week.ExitCode == 0, week.ToString());
    }

    [Fact]
    public async Task Help_EveryExpiryItDocuments_TheServerAccepts()
    {
        CliResult help = await _cli.RunAsync(["drop", "send", "--help"]);
        string file = _cli.WriteRandomFile("a.bin", 100);

        Assert.Contains("5m to 30d when signed in", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("anonymous drops up to", help.Stdout, StringComparison.Ordinal);
        foreach (string expires in new[] { "5m", "7d" })
        {
            CliResult anonymous = await _cli.RunAsync(["drop", "send", file, "--expires", expires, "--no-resume"]);
            Assert.True(anonymous.ExitCode == 0, $"{expires}: {anonymous}");
        }

        await SignInAsync();
        foreach (string expires in new[] { "5m", "7d", "2w", "30d" })
        {
            CliResult owned = await _cli.RunAsync(["drop", "send", file, "--expires", expires, "--no-resume"]);
            Assert.True(owned.ExitCode == 0, $"{expires}: {owned}");
        }
    }

    [Fact]
    public async Task List_ShowsDropsSentFromThisMachine_WithStateAndDownloads()
    {
        string link = await _cli.SendAsync(_cli.WriteRandomFile("one.txt", 100), "--downloads", "2");
        string second = await _cli.SendAsync(_cli.WriteRandomFile("two.txt", 100));
        Assert.Equal(0, (await _cli.RunAsync(["drop", "get", link, "-o", _cli.Downloads])).ExitCode);
        Assert.Equal(0, (await _cli.RunAsync(["drop", "delete", second])).ExitCode);
        await _cli.RunAsync(["drop", "send", _cli.WriteRandomFile("three.txt", 100)]);

        CliResult json = await _cli.RunAsync(["--json", "drop", "list"]);
        CliResult human = await _cli.RunAsync(["drop", "list"]);

        Assert.True(json.ExitCode == 0, json.ToString());
        var drops = JsonDocument.Parse(json.StdoutLines.Last()).RootElement.GetProperty("drops").EnumerateArray().ToList();
        Assert.Equal(2, drops.Count);
        var first = drops.Single(d => d.GetProperty("id").GetString() == DropLink.TryParse(link)!.Id);
        Assert.Equal(1, first.GetProperty("downloads").GetInt32());
        Assert.Equal(2, first.GetProperty("maxDownloads").GetInt32());
        Assert.Contains(DropLink.TryParse(link)!.Id, human.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 of 2", human.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_FromAnotherMachine_WithTheOwnerTokenAndTheLink()
    {
        string file = _cli.WriteRandomFile("x.txt", 100);
        CliResult sent = await _cli.RunAsync(["--json", "drop", "send", file]);
        using var json = JsonDocument.Parse(sent.StdoutLines.Last());
        string link = json.RootElement.GetProperty("link").GetString()!;
        string token = json.RootElement.GetProperty("ownerToken").GetString()!;
        // "Another machine": no drops.json with the token.
        File.Delete(Path.Combine(_cli.ConfigDirectory, "drops.json"));

        CliResult without = await _cli.RunAsync(["drop", "delete", link]);
        CliResult wrong = await _cli.RunAsync(["drop", "delete", link, "--owner-token", "AAAA" + token[4..]]);
        CliResult with = await _cli.RunAsync(["drop", "delete", link, "--owner-token", token]);

        Assert.Equal(1, without.ExitCode);
        Assert.Contains("--owner-token", without.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, wrong.ExitCode);
        Assert.True(with.ExitCode == 0, with.ToString());
        Assert.Equal(1, (await _cli.RunAsync(["drop", "get", link, "-o", _cli.Downloads])).ExitCode);
    }

    private async Task SignInAsync()
    {
        var cli = new VeilCli(_cli.Server.BaseAddress, _cli.ConfigDirectory);
        await cli.SignUpAsync(_cli.Server, "sender@example.org");
    }
}
