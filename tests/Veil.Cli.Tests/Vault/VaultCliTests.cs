using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Veil.Server;
using Veil.Server.Tests.Kit;

namespace Veil.Cli.Tests.Vault;

/// <summary>`veil vault` as processes against the real server on loopback, with the server's clock moved by hand.</summary>
[UnsupportedOSPlatform("windows")] // file modes
[Collection(AccountVerbsTestGroup.Name)]
public sealed partial class VaultCliTests : IAsyncLifetime
{
    private const string Owner = "olivia@example.org";
    private const string Password = "correct horse battery staple";
    private const string Seed = "abandon ability able about above absent absorb abstract absurd abuse access accident";

    private readonly string _root = Directory.CreateTempSubdirectory("veil-vault-cli-").FullName;
    private VeilTestServer _server = null!;
    private VeilCli _owner = null!;
    private VeilCli _recipient = null!;

    public async Task InitializeAsync()
    {
        // Files above 1 MiB are refused, so one test can see an upload fail (the journey's file is 40 kB).
        _server = await VeilTestServer.StartAsync(o => o.Settings["Veil:Vault:MaxFileBytes"] = (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        _owner = new VeilCli(_server.BaseAddress, Path.Combine(_root, "owner"));
        _recipient = new VeilCli(server: null, Path.Combine(_root, "recipient"));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Journey_CreateItemsFileSwitchRecipientsRelease_ClaimIsIdentical_TamperedClaimWritesNothing()
    {
        await RegisterAndLoginAsync();
        string apiKey = Ok(await _owner.RunAsync(["apikey", "create", "tamper", "--password-stdin", "--json"], Password + "\n"))
            .Event("apikey-created").GetProperty("key").GetString()!;

        // create, then an item with a field, a secret read from stdin, notes, tags and a file
        string vaultId = Ok(await Owner_(["vault", "create", "Family"])).Event("vault-created").GetProperty("vault").GetProperty("id").GetString()!;
        byte[] will = RandomNumberGenerator.GetBytes(40_000);
        string willPath = Path.Combine(_root, "will.pdf");
        await File.WriteAllBytesAsync(willPath, will);
        var added = Ok(await _owner.RunAsync(
            ["vault", "item", "add", "Family", "--title", "Bank", "--field", "account=DE89 3704 0044 0532 0130 00", "--secret", "seed",
                "--note", "Branch on Main St.\nAsk for Ms. Lee.", "--tag", "money", "--tag", "crypto", "--file", willPath, "--password-stdin", "--json"],
            $"{Password}\n{Seed}\n"));
        Assert.DoesNotContain(Seed, await File.ReadAllTextAsync(Path.Combine(_owner.ConfigDirectory, "session.json")), StringComparison.Ordinal);
        JsonElement item = added.Event("item-added").GetProperty("item");
        Assert.Equal(["account", "seed"], item.GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("label").GetString()));
        Assert.Equal(will.Length, item.GetProperty("files")[0].GetProperty("plaintextSize").GetInt64());

        // the server holds ciphertext only
        string stored = await GetWithApiKeyAsync(apiKey, $"api/v1/vault/vaults/{vaultId}/items");
        Assert.DoesNotContain("abandon", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("Bank", stored, StringComparison.Ordinal);

        // show by title, list
        var shown = Ok(await Owner_(["vault", "item", "show", vaultId, "Bank"])).Event("item").GetProperty("item");
        Assert.Equal(Seed, shown.GetProperty("fields")[1].GetProperty("value").GetString());
        Assert.Single(Ok(await Owner_(["vault", "item", "list", vaultId])).Event("items").GetProperty("items").EnumerateArray());

        // the switch: 30d/7d parses; then the shortest allowed, so the session outlives the test's clock jump
        var armed = Ok(await Owner_(["vault", "switch", "set", vaultId, "--interval", "30d", "--grace", "7d"], keys: false)).Event("switch-set").GetProperty("switch");
        Assert.Equal(2_592_000, armed.GetProperty("intervalSeconds").GetInt64());
        Assert.Equal("armed", armed.GetProperty("state").GetString());
        var status = Ok(await _owner.RunAsync(["vault", "switch", "status", "Family", "--password-stdin"], Password + "\n"));
        Assert.Contains("armed (waiting)", status.Stdout, StringComparison.Ordinal);
        Assert.Contains("next deadline:", status.Stdout, StringComparison.Ordinal);
        var human = Ok(await _owner.RunAsync(["vault", "item", "show", "Family", "Bank", "--password-stdin"], Password + "\n"));
        Assert.Contains("seed: " + Seed, human.Stdout, StringComparison.Ordinal);
        Assert.Contains("file: will.pdf", human.Stdout, StringComparison.Ordinal);
        Ok(await Owner_(["vault", "switch", "pause", vaultId], keys: false));
        Assert.Equal("paused", Ok(await Owner_(["vault", "switch", "status", vaultId], keys: false)).Event("switch").GetProperty("switch").GetProperty("state").GetString());
        Ok(await Owner_(["vault", "switch", "resume", vaultId], keys: false));
        Ok(await Owner_(["vault", "switch", "set", vaultId, "--interval", "1d", "--grace", "1h"], keys: false));

        // two recipients (escrow + delivery key made by the CLI); one more added and removed
        Ok(await Owner_(["vault", "recipient", "add", vaultId, "bob@example.org"]));
        Ok(await Owner_(["vault", "recipient", "add", vaultId, "carol@example.org"]));
        Ok(await Owner_(["vault", "recipient", "add", vaultId, "erin@example.org"]));
        Ok(await Owner_(["vault", "recipient", "add", vaultId, "dave@example.org"]));
        Ok(await Owner_(["vault", "recipient", "remove", vaultId, "dave@example.org"], keys: false));
        var recipients = Ok(await Owner_(["vault", "recipient", "list", vaultId], keys: false)).Event("recipients").GetProperty("recipients");
        Assert.Equal(["bob@example.org", "carol@example.org", "erin@example.org"], recipients.EnumerateArray().Select(r => r.GetProperty("email").GetString()).Order());

        // check in, then silence: past deadline and grace, the scheduler releases
        _server.Time.Advance(TimeSpan.FromHours(20));
        Ok(await Owner_(["vault", "switch", "checkin", vaultId], keys: false));
        _server.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        for (int tick = 0; tick < 3; tick++)
        {
            await RunSchedulerAsync();
        }

        Assert.Equal("released", Ok(await Owner_(["vault", "switch", "status", vaultId], keys: false)).Event("switch").GetProperty("switch").GetProperty("state").GetString());

        // bob: link from his mail, code sent, code from his mail, claim -> identical JSON and file
        string bobLink = ClaimLinkFor("bob@example.org");
        Ok(await _recipient.RunAsync(["vault", "claim", bobLink, "--send-code", "--json"])).Event("code-sent");
        string bobOut = Path.Combine(_root, "bob-out");
        var claimed = Ok(await _recipient.RunAsync(["vault", "claim", bobLink, "--code", CodeFor("bob@example.org"), "--out", bobOut, "--json"])).Event("claimed");
        Assert.Equal(1, claimed.GetProperty("files").GetInt32());
        JsonNode vaultJson = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(bobOut, "vault.json")))!;
        Assert.Equal("Family", vaultJson["name"]!.GetValue<string>());
        JsonNode claimedItem = vaultJson["items"]![0]!;
        var expected = JsonNode.Parse(shown.GetRawText())!;
        foreach (string member in new[] { "id", "title", "notes", "tags", "fields" })
        {
            Assert.True(JsonNode.DeepEquals(expected[member], claimedItem[member]), $"{member}: stored {expected[member]?.ToJsonString()}, claimed {claimedItem[member]?.ToJsonString()}");
        }

        string claimedFile = Path.Combine(bobOut, claimedItem["files"]![0]!["path"]!.GetValue<string>());
        Assert.Equal("files/will.pdf", claimedItem["files"]![0]!["path"]!.GetValue<string>());
        Assert.Equal(will, await File.ReadAllBytesAsync(claimedFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(claimedFile));

        // a used link is refused
        var again = await _recipient.RunAsync(["vault", "claim", bobLink, "--code", "000000", "--out", Path.Combine(_root, "again"), "--json"]);
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("veil: link-used", again.Stderr, StringComparison.Ordinal);

        // one flipped byte in the stored file: erin's claim authenticates nothing, so it writes nothing (not even DIR)
        long blobSize = item.GetProperty("files")[0].GetProperty("size").GetInt64();
        string blob = Directory.EnumerateFiles(_server.DataDirectory, "*", SearchOption.AllDirectories).Single(p => new FileInfo(p).Length == blobSize);
        byte[] blobBytes = await File.ReadAllBytesAsync(blob);
        blobBytes[^100] ^= 0x01;
        await File.WriteAllBytesAsync(blob, blobBytes);
        string erinLink = ClaimLinkFor("erin@example.org");
        Ok(await _recipient.RunAsync(["vault", "claim", erinLink, "--send-code", "--json"]));
        string erinOut = Path.Combine(_root, "erin-out");
        var badFile = await _recipient.RunAsync(["vault", "claim", erinLink, "--code", CodeFor("erin@example.org"), "--out", erinOut, "--json"]);
        Assert.Equal(1, badFile.ExitCode);
        Assert.Matches("^veil: tampered: [^\n]+\n?$", badFile.Stderr);
        Assert.False(Directory.Exists(erinOut));

        // the server moves the title's ciphertext into the notes and back (form-valid, not authentic there)
        await SwapTitleAndNotesAsync(apiKey, vaultId, item.GetProperty("id").GetString()!);
        string carolLink = ClaimLinkFor("carol@example.org");
        Ok(await _recipient.RunAsync(["vault", "claim", carolLink, "--send-code", "--json"]));
        string carolOut = Path.Combine(_root, "carol-out");
        Directory.CreateDirectory(carolOut);
        var tampered = await _recipient.RunAsync(["vault", "claim", carolLink, "--code", CodeFor("carol@example.org"), "--out", carolOut, "--json"]);

        Assert.Equal(1, tampered.ExitCode);
        Assert.Matches("^veil: tampered: [^\n]+\n?$", tampered.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(carolOut));
        Assert.DoesNotContain("claimed", tampered.Stdout, StringComparison.Ordinal);

        // the owner's own client refuses it the same way
        var ownerView = await Owner_(["vault", "item", "list", vaultId]);
        Assert.Equal(1, ownerView.ExitCode);
        Assert.StartsWith("veil: tampered:", ownerView.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ItemAdd_FileRefusedByTheServer_ExitsWithTheErrorAndLeavesNoItem()
    {
        await RegisterAndLoginAsync();
        Ok(await Owner_(["vault", "create", "Papers"]));
        string small = Path.Combine(_root, "small.txt"), big = Path.Combine(_root, "big.bin");
        await File.WriteAllTextAsync(small, "fits");
        await File.WriteAllBytesAsync(big, RandomNumberGenerator.GetBytes(2 * 1024 * 1024));

        var result = await Owner_(["vault", "item", "add", "Papers", "--title", "Deeds", "--file", small, "--file", big]);

        Assert.Equal(1, result.ExitCode);
        var items = Ok(await Owner_(["vault", "item", "list", "Papers"])).Event("items").GetProperty("items");
        Assert.Empty(items.EnumerateArray());
    }

    [Fact]
    public async Task Rehearse_CodeGoesToTheOwner_ClaimReleasesNothing()
    {
        await RegisterAndLoginAsync();
        string vaultId = Ok(await Owner_(["vault", "create", "Drill"])).Event("vault-created").GetProperty("vault").GetProperty("id").GetString()!;
        Ok(await Owner_(["vault", "recipient", "add", vaultId, "bob@example.org"]));

        Ok(await Owner_(["vault", "rehearse", vaultId], keys: false)).Event("rehearsal-sent");
        string link = ClaimLinkFor(Owner);
        Ok(await _recipient.RunAsync(["vault", "claim", link, "--send-code", "--json"]));
        string output = Path.Combine(_root, "drill");
        var rehearsal = Ok(await _recipient.RunAsync(["vault", "claim", link, "--code", CodeFor(Owner), "--out", output, "--json"])).Event("rehearsal");

        Assert.Equal(1, rehearsal.GetProperty("recipients").GetInt32());
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
        Assert.DoesNotContain(_server.ReadOutbox(), m => m.Headers.GetValueOrDefault("To", string.Empty).Contains("bob@", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ItemEditAndRemove_SwitchCancel_VaultDelete()
    {
        await RegisterAndLoginAsync();
        string vaultId = Ok(await Owner_(["vault", "create", "Home"])).Event("vault-created").GetProperty("vault").GetProperty("id").GetString()!;
        Ok(await Owner_(["vault", "item", "add", vaultId, "--title", "Wifi", "--field", "ssid=home", "--field", "old=x", "--tag", "net"]));

        var edited = Ok(await _owner.RunAsync(
            ["vault", "item", "edit", "Home", "Wifi", "--title", "Wi-Fi", "--secret", "password", "--remove-field", "old", "--tag", "lan", "--note", "router in hall", "--password-stdin", "--json"],
            $"{Password}\nhunter2 hunter2\n")).Event("item-updated").GetProperty("item");
        Assert.Equal("Wi-Fi", edited.GetProperty("title").GetString());
        Assert.Equal(["ssid=home", "password=hunter2 hunter2"], edited.GetProperty("fields").EnumerateArray().Select(f => $"{f.GetProperty("label").GetString()}={f.GetProperty("value").GetString()}"));
        Assert.Equal(["net", "lan"], edited.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("router in hall", edited.GetProperty("notes").GetString());
        Assert.Equal(2, edited.GetProperty("revision").GetInt32());

        Ok(await Owner_(["vault", "item", "rm", vaultId, "Wi-Fi"]));
        Assert.Empty(Ok(await Owner_(["vault", "item", "list", vaultId])).Event("items").GetProperty("items").EnumerateArray());

        Ok(await Owner_(["vault", "switch", "set", vaultId, "--interval", "2w", "--grace", "2d"], keys: false));
        Ok(await Owner_(["vault", "switch", "cancel", vaultId], keys: false)).Event("switch-cancelled");
        var none = await Owner_(["vault", "switch", "status", vaultId], keys: false);
        Assert.Equal(1, none.ExitCode);
        Assert.StartsWith("veil: switch-not-found", none.Stderr, StringComparison.Ordinal);

        var unconfirmed = await Owner_(["vault", "delete", vaultId], keys: false);
        Assert.Equal(2, unconfirmed.ExitCode);
        Ok(await Owner_(["vault", "delete", vaultId, "--yes"], keys: false)).Event("vault-deleted");
        Assert.Empty(Ok(await Owner_(["vault", "list"])).Event("vaults").GetProperty("vaults").EnumerateArray());
    }

    [Fact]
    public async Task VaultVerbs_WithoutSession_ExitOneWithOneLine()
    {
        var result = await _owner.RunAsync(["vault", "list", "--password-stdin"], Password + "\n");

        Assert.Equal(1, result.ExitCode);
        Assert.Matches("^veil: not-signed-in: [^\n]+\n?$", result.Stderr);
    }

    [Fact]
    public async Task Claim_NotAClaimLink_IsAUsageError()
    {
        var result = await _recipient.RunAsync(["vault", "claim", "https://veil.example/d/abc", "--code", "123456"]);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("veil: not a claim link", result.Stderr, StringComparison.Ordinal);
    }

    private async Task RegisterAndLoginAsync()
    {
        Ok(await _owner.RunAsync(["account", "register", "--email", Owner, "--password-stdin", "--json"], Password + "\n"));
        var mail = _server.ReadOutbox().Last(m => m.TextBody.Contains("/verify-email#", StringComparison.Ordinal));
        string link = LinkPattern().Matches(mail.TextBody).Select(m => m.Value).Last(l => l.Contains("/verify-email#", StringComparison.Ordinal));
        Ok(await _owner.RunAsync(["account", "verify", link, "--json"]));
        Ok(await _owner.RunAsync(["account", "login", "--email", Owner, "--password-stdin", "--json"], Password + "\n"));
    }

    /// <summary>An owner verb with --json; with <paramref name="keys"/> the password goes on stdin.</summary>
    private Task<CliResult> Owner_(string[] args, bool keys = true) =>
        _owner.RunAsync(keys ? [.. args, "--json", "--password-stdin"] : [.. args, "--json"], keys ? Password + "\n" : null);

    private async Task RunSchedulerAsync()
    {
        // The job runner is internal to the server; the test kit reaches it the way an operator command would.
        Type runnerType = typeof(VeilServer).Assembly.GetType("Veil.Server.Platform.Jobs.PeriodicJobRunner", throwOnError: true)!;
        object runner = _server.Services.GetService(runnerType)!;
        var ran = (Task<bool>)runnerType.GetMethod("RunNowAsync")!.Invoke(runner, ["vault-switch", CancellationToken.None])!;
        Assert.True(await ran);
    }

    private string ClaimLinkFor(string to)
    {
        var mail = _server.ReadOutbox().Last(m => m.TextBody.Contains("/vault/claim/", StringComparison.Ordinal)
            && m.Headers.GetValueOrDefault("To", string.Empty).Contains(to, StringComparison.OrdinalIgnoreCase));
        return LinkPattern().Matches(mail.TextBody).Select(m => m.Value).Single(l => l.Contains("/vault/claim/", StringComparison.Ordinal));
    }

    private string CodeFor(string to)
    {
        var mail = _server.ReadOutbox().Last(m => CodePattern().IsMatch(m.TextBody)
            && m.Headers.GetValueOrDefault("To", string.Empty).Contains(to, StringComparison.OrdinalIgnoreCase));
        return CodePattern().Match(mail.TextBody).Groups[1].Value;
    }

    private async Task<string> GetWithApiKeyAsync(string apiKey, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await _server.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    private async Task SwapTitleAndNotesAsync(string apiKey, string vaultId, string itemId)
    {
        JsonNode item = JsonNode.Parse(await GetWithApiKeyAsync(apiKey, $"api/v1/vault/vaults/{vaultId}/items/{itemId}"))!;
        var body = new JsonObject
        {
            ["title"] = item["notes"]!.DeepClone(),
            ["notes"] = item["title"]!.DeepClone(),
            ["tags"] = item["tags"]!.DeepClone(),
            ["fields"] = item["fields"]!.DeepClone(),
        };
        using var request = new HttpRequestMessage(HttpMethod.Put, $"api/v1/vault/vaults/{vaultId}/items/{itemId}") { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await _server.Client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static CliResult Ok(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"Your code: ([0-9]{6})")]
    private static partial Regex CodePattern();
}
