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
    public async Task List_SignedIn_ShowsTheAccountsDrops_NamesOpenWithTheUserKey_OldOnesSayTheNameIsInTheLink()
    {
        await SignInAsync();
        var unlocked = await new VeilCli(_cli.Server.BaseAddress, _cli.ConfigDirectory).RunAsync(["vault", "unlock", "--password-stdin", "--json"], CliAccounts.StrongPassword + "\n");
        Assert.True(unlocked.ExitCode == 0, unlocked.ToString());
        var session = new Dictionary<string, string> { ["VEIL_SESSION"] = unlocked.Event("unlocked").GetProperty("session").GetString()! };
        string name = "quarterly-canary-" + Guid.NewGuid().ToString("N")[..8] + ".txt";
        CliResult kept = await _cli.RunAsync(["--json", "drop", "send", _cli.WriteRandomFile(name, 2000), "--no-resume"], environment: session);
        CliResult linkOnly = await _cli.RunAsync(["--json", "drop", "send", _cli.WriteRandomFile("old.txt", 100), "--no-resume"]);
        Assert.True(kept.ExitCode == 0, kept.ToString());
        Assert.True(linkOnly.ExitCode == 0, linkOnly.ToString());
        string keptId = JsonDocument.Parse(kept.StdoutLines.Last()).RootElement.GetProperty("id").GetString()!;
        string oldId = JsonDocument.Parse(linkOnly.StdoutLines.Last()).RootElement.GetProperty("id").GetString()!;
        Assert.True(JsonDocument.Parse(kept.StdoutLines.Last()).RootElement.GetProperty("nameKept").GetBoolean());
        // Another machine: no owner tokens here; the account's list comes from the server.
        File.Delete(Path.Combine(_cli.ConfigDirectory, "drops.json"));

        CliResult locked = await _cli.RunAsync(["--json", "drop", "list"]);
        CliResult withSession = await _cli.RunAsync(["--json", "drop", "list"], environment: session);
        CliResult withPassword = await _cli.RunAsync(["--json", "drop", "list", "--password-stdin"], CliAccounts.StrongPassword + "\n");
        CliResult human = await _cli.RunAsync(["drop", "list"], environment: session);

        JsonElement Row(CliResult result, string id) =>
            JsonDocument.Parse(result.StdoutLines.Last()).RootElement.GetProperty("drops").EnumerateArray().Single(d => d.GetProperty("id").GetString() == id);
        Assert.True(locked.ExitCode == 0, locked.ToString());
        Assert.Equal("locked", Row(locked, keptId).GetProperty("nameStatus").GetString());
        Assert.Equal(JsonValueKind.Null, Row(locked, keptId).GetProperty("name").ValueKind);
        Assert.True(Row(locked, keptId).GetProperty("account").GetBoolean());
        foreach (CliResult opened in new[] { withSession, withPassword })
        {
            Assert.True(opened.ExitCode == 0, opened.ToString());
            Assert.Equal("shown", Row(opened, keptId).GetProperty("nameStatus").GetString());
            Assert.Equal(name, Row(opened, keptId).GetProperty("name").GetString());
            Assert.Equal(2000, Row(opened, keptId).GetProperty("size").GetInt64());
            Assert.Equal("link-only", Row(opened, oldId).GetProperty("nameStatus").GetString());
            Assert.Equal("available", Row(opened, oldId).GetProperty("state").GetString());
        }

        Assert.Contains(name, human.Stdout, StringComparison.Ordinal);
        Assert.Contains("(only in the link)", human.Stdout, StringComparison.Ordinal);
        // The name is a canary: the server's database never holds it.
        Assert.DoesNotContain(name, await Veil.Server.Tests.Kit.StoredData.ReadAsync(_cli.Server), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_PasswordStdin_WithoutASession_IsAUsageError()
    {
        CliResult result = await _cli.RunAsync(["drop", "list", "--password-stdin"], CliAccounts.StrongPassword + "\n");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("veil account login", result.Stderr, StringComparison.Ordinal);
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
