using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Veil.Cli.Tests;
using Veil.Server.Tests.Kit;
using Veil.Server.Tests.Vault;

namespace Veil.E2E.Tests;

/// <summary>
/// The heir in the browser only (issue 16 point 7): a vault made by the real `veil` command is released by the
/// scheduler (server clock moved by hand), and the recipient opens the mailed claim link in Chromium, asks for the
/// mailed code, enters it, and reads the items and downloads the file — the vault key rebuilt in the page from the
/// escrow (spec/vault.md §7). Every request the browser sends is recorded: none carries a secret of the vault.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed partial class VaultClaimBrowserTests(Browser browser) : IAsyncLifetime
{
    private const string Owner = "olivia@example.org";
    private const string Heir = "bob@example.org";
    private const string Password = "correct horse battery staple";
    private const string Seed = "abandon ability able about above absent absorb abstract absurd abuse access accident";
    private const string Iban = "DE89 3704 0044 0532 0130 00";
    private const string Note = "Branch on Main St. Ask for Ms. Lee.";

    private readonly string _root = Directory.CreateTempSubdirectory("veil-vault-e2e-").FullName;
    private readonly List<string> _sent = [];
    private readonly List<string> _console = [];
    private VeilTestServer _server = null!;
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _server = await VeilTestServer.StartAsync();
        _context = await browser.NewContextAsync();
        _context.Request += (_, request) =>
        {
            var seen = request.Method + " " + request.Url + "\n" + string.Join("\n", request.Headers.Select(h => h.Key + ": " + h.Value)) + "\n" + request.PostData;
            lock (_sent)
            {
                _sent.Add(seen);
            }
        };
        _page = await _context.NewPageAsync();
        _page.Console += (_, message) =>
        {
            lock (_console)
            {
                _console.Add($"{message.Type}: {message.Text}");
            }
        };
        _page.PageError += (_, error) =>
        {
            lock (_console)
            {
                _console.Add("pageerror: " + error);
            }
        };
    }

    public async Task DisposeAsync()
    {
        if (_context is not null)
        {
            await _context.DisposeAsync();
        }

        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [ChromiumFact]
    public async Task HeirClaimsInChromium_AVaultTheCliMadeAndTheSchedulerReleased_ItemsReadAndFileIsByteIdentical()
    {
        var cli = new VeilCli(_server.BaseAddress, Path.Combine(_root, "owner"));
        await RegisterAndLoginAsync(cli);
        var vaultId = Ok(await OwnerAsync(cli, ["vault", "create", "Family"])).Event("vault-created").GetProperty("vault").GetProperty("id").GetString()!;
        var will = RandomNumberGenerator.GetBytes(40_000);
        var willPath = Path.Combine(_root, "will.pdf");
        await File.WriteAllBytesAsync(willPath, will);
        Ok(await cli.RunAsync(
            ["vault", "item", "add", "Family", "--title", "Bank", "--field", "account=" + Iban, "--secret", "seed", "--note", Note,
                "--tag", "money", "--tag", "crypto", "--file", willPath, "--password-stdin", "--json"],
            $"{Password}\n{Seed}\n"));
        Ok(await OwnerAsync(cli, ["vault", "item", "add", "Family", "--title", "Email", "--field", "user=olivia", "--tag", "web"]));
        Ok(await OwnerAsync(cli, ["vault", "switch", "set", vaultId, "--interval", "1d", "--grace", "1h"], keys: false));
        Ok(await OwnerAsync(cli, ["vault", "recipient", "add", vaultId, Heir]));

        // Silence past the deadline and the grace: the scheduler releases and mails the heir the claim link.
        _server.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        for (var tick = 0; tick < 3; tick++)
        {
            await RunSchedulerAsync();
        }

        var link = ClaimLinkFor(Heir);
        await _page.AddInitScriptAsync(FileSystemAccessTests.RecordingPicker);
        var response = await _page.GotoAsync(Local(new Uri(link).AbsolutePath));
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        Assert.StartsWith("default-src 'none'; script-src 'self'", response.Headers["content-security-policy"], StringComparison.Ordinal);
        await _page.GetByRole(AriaRole.Heading, new() { Name = "A vault was left to you" }).WaitForAsync();
        await AssertAccessibleAsync();
        await ScreenshotAsync("vault-claim-start");

        await _page.GetByRole(AriaRole.Button, new() { Name = "Email me the code" }).ClickAsync();
        var codeBox = _page.GetByLabel("6-digit code");
        await codeBox.WaitForAsync();
        var code = CodeFor(Heir);

        // One wrong code first: the page says how many tries are left and that the link locks after five.
        await codeBox.FillAsync(code == "000000" ? "111111" : "000000");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Open the vault" }).ClickAsync();
        await _page.GetByText("4 tries are left before this link locks for good").WaitForAsync();
        Assert.Contains("After five wrong codes the link locks for good", await _page.InnerTextAsync("main"), StringComparison.Ordinal);
        await AssertAccessibleAsync();
        await ScreenshotAsync("vault-claim-code");

        await codeBox.FillAsync(code);
        var workers = RecordWorkers();
        var claimed = await _page.RunAndWaitForResponseAsync(
            () => _page.GetByRole(AriaRole.Button, new() { Name = "Open the vault" }).ClickAsync(),
            r => r.Url.EndsWith("/api/v1/vault/claim", StringComparison.Ordinal) && r.Status == 200);
        var claim = JsonDocument.Parse(await claimed.TextAsync()).RootElement;
        await _page.GetByRole(AriaRole.Heading, new() { Name = "Family", Exact = true }).WaitForAsync();
        AssertVaultWorkerRan(workers); // the rebuild (spec/vault.md §7) ran in the vault worker

        var text = await _page.InnerTextAsync("main");
        Assert.Contains("Bank", text, StringComparison.Ordinal);
        Assert.Contains("money", text, StringComparison.Ordinal);
        Assert.Contains(Note, text, StringComparison.Ordinal);
        Assert.Contains("will.pdf", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Seed, text, StringComparison.Ordinal); // values are masked until asked for
        await _page.GetByRole(AriaRole.Button, new() { Name = "Show seed" }).ClickAsync();
        Assert.Contains(Seed, await _page.InnerTextAsync("main"), StringComparison.Ordinal);
        await AssertAccessibleAsync();
        await ScreenshotAsync("vault-claim-open");

        // Search runs over the decrypted items in the page.
        await _page.GetByLabel("Search this vault").FillAsync("olivia");
        await _page.GetByText("1 of 2 items match").WaitForAsync();
        Assert.DoesNotContain("will.pdf", await _page.InnerTextAsync("main"), StringComparison.Ordinal);
        await _page.GetByLabel("Search this vault").FillAsync("");

        // With File System Access the file streams into the chosen file, closed only after the last chunk
        // authenticated (the native dialog cannot be answered headless: FileSystemAccessTests' recorder stands in).
        await _page.GetByRole(AriaRole.Button, new() { Name = "Download will.pdf" }).ClickAsync();
        await _page.WaitForFunctionAsync("() => window.__saved.closed || window.__saved.aborted");
        var saved = await _page.EvaluateAsync<JsonElement>("() => ({ name: window.__saved.name, closed: window.__saved.closed, parts: window.__saved.parts.length, sha256: window.__saved.sha256 })");
        Assert.Equal("will.pdf", saved.GetProperty("name").GetString());
        Assert.True(saved.GetProperty("closed").GetBoolean());
        Assert.True(saved.GetProperty("parts").GetInt32() > 1, "the file was written in pieces, not held whole");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(will)), saved.GetProperty("sha256").GetString());

        // The link worked once: opening it again refuses, in a sentence.
        await _page.GotoAsync(Local(new Uri(link).AbsolutePath));
        await _page.GetByRole(AriaRole.Button, new() { Name = "Email me the code" }).ClickAsync();
        await _page.GetByText("already used").WaitForAsync();

        // Zero knowledge in the page: nothing the browser sent carries a vault secret or the keys it was given.
        AssertNeverSent(Seed);
        AssertNeverSent(Iban);
        AssertNeverSent("Branch on Main");
        AssertNeverSent("Bank");
        AssertNeverSent(Password);
        AssertNeverSent(claim.GetProperty("deliveryKey").GetString()!);
        AssertNeverSent(claim.GetProperty("escrow").GetString()!);
        AssertNoPageErrors();
    }

    [ChromiumFact]
    public async Task FiveWrongCodes_LockTheLinkForGood_AndThePageExplainsIt()
    {
        await using var server = await VaultKit.StartVaultServerAsync();
        var owner = await server.RegisterOwnerAsync();
        var vault = await server.CreateVaultAsync(owner, "Family");
        await server.PutItemAsync(owner, vault, "Bank", "notes", ("PIN", "1234"));
        await server.AddRecipientAsync(owner, vault, Heir);
        await server.ArmAsync(owner, vault, TimeSpan.FromDays(1), TimeSpan.FromHours(1));
        server.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(2));
        await server.RunSchedulerAsync();
        var token = VaultKit.ClaimToken(Assert.Single(server.MailTo(Heir, "left to you")));

        await _page.GotoAsync(new Uri(server.BaseAddress, "/vault/claim/" + token).ToString());
        await _page.GetByRole(AriaRole.Button, new() { Name = "Email me the code" }).ClickAsync();
        var codeBox = _page.GetByLabel("6-digit code");
        await codeBox.WaitForAsync();
        var code = VaultKit.Code(Assert.Single(server.MailTo(Heir, "code")));
        var wrong = code == "000000" ? "111111" : "000000";
        for (var left = 4; left >= 1; left--)
        {
            await codeBox.FillAsync(wrong);
            await _page.GetByRole(AriaRole.Button, new() { Name = "Open the vault" }).ClickAsync();
            await _page.GetByText(left == 1 ? "1 try is left" : $"{left} tries are left").First.WaitForAsync();
        }

        await codeBox.FillAsync(wrong);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Open the vault" }).ClickAsync();
        await _page.GetByText("locked for good after five wrong codes").WaitForAsync();
        Assert.Equal(0, await _page.GetByLabel("6-digit code").CountAsync());
        await ScreenshotAsync("vault-claim-locked");

        // The right code no longer opens it.
        using var late = await server.ClaimAsync(token, code);
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
        await AssertAccessibleAsync();
        AssertNoPageErrors();
    }

    [ChromiumFact]
    public async Task OwnerInChromium_OpensTheCliVault_AddsAnItemTheCliReads_LockAndIdleLockDropTheKeys()
    {
        var cli = new VeilCli(_server.BaseAddress, Path.Combine(_root, "owner"));
        await RegisterAndLoginAsync(cli);
        Ok(await OwnerAsync(cli, ["vault", "create", "Family"]));
        Ok(await cli.RunAsync(["vault", "item", "add", "Family", "--title", "Bank", "--secret", "seed", "--tag", "money", "--password-stdin", "--json"], $"{Password}\n{Seed}\n"));

        // Sign in in the browser (Argon2id in the page), open the vault the CLI made.
        await _page.Clock.InstallAsync();
        await SignInAndOpenAsync("Family");
        await _page.GetByRole(AriaRole.Heading, new() { Name = "Bank" }).WaitForAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Show seed" }).ClickAsync();
        Assert.Contains(Seed, await _page.InnerTextAsync("main"), StringComparison.Ordinal);
        await AssertAccessibleAsync();
        await ScreenshotAsync("vault-owner");

        // Add an item in the browser; the CLI reads it.
        await _page.GetByLabel("Title").FillAsync("Wifi");
        await _page.GetByLabel("Field 1 name").FillAsync("password");
        await _page.GetByLabel("Field 1 value").FillAsync("hunter2-canary-7f3a");
        await _page.GetByLabel("Notes").FillAsync("Router in the hall");
        await _page.GetByLabel("Tags, separated by commas").FillAsync("home, net");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Save item" }).ClickAsync();
        await _page.GetByRole(AriaRole.Heading, new() { Name = "Wifi" }).WaitForAsync();
        var shown = Ok(await OwnerAsync(cli, ["vault", "item", "show", "Family", "Wifi"])).Event("item").GetProperty("item");
        Assert.Equal("hunter2-canary-7f3a", shown.GetProperty("fields")[0].GetProperty("value").GetString());
        Assert.Equal("password", shown.GetProperty("fields")[0].GetProperty("label").GetString());
        Assert.Equal("Router in the hall", shown.GetProperty("notes").GetString());
        Assert.Equal(["home", "net"], shown.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        // Lock drops the keys: the vault shows nothing until the master password is entered again.
        await _page.GetByRole(AriaRole.Button, new() { Name = "Lock" }).ClickAsync();
        await _page.GetByRole(AriaRole.Heading, new() { Name = "Unlock your vaults" }).WaitForAsync();
        Assert.DoesNotContain("hunter2", await _page.InnerTextAsync("body"), StringComparison.Ordinal);
        await UnlockAsync();
        await _page.GetByRole(AriaRole.Heading, new() { Name = "Wifi" }).WaitForAsync();

        // 59 idle minutes keep it open; the 60th locks it (the page's clock, moved by hand).
        await _page.Clock.FastForwardAsync("59:00");
        Assert.Equal(0, await _page.GetByRole(AriaRole.Heading, new() { Name = "Unlock your vaults" }).CountAsync());
        await _page.Clock.FastForwardAsync("01:01");
        await _page.GetByRole(AriaRole.Heading, new() { Name = "Unlock your vaults" }).WaitForAsync();

        AssertNeverSent("hunter2-canary-7f3a");
        AssertNeverSent("Router in the hall");
        AssertNeverSent("Wifi");
        AssertNeverSent(Seed);
        AssertNeverSent(Password);
        AssertNoPageErrors();
    }

    private async Task UnlockAsync()
    {
        var gate = _page.GetByRole(AriaRole.Heading, new() { Name = "Unlock your vaults" });
        await gate.WaitForAsync();
        await _page.GetByLabel("Master password").FillAsync(Password);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Unlock", Exact = true }).ClickAsync();
        await gate.WaitForAsync(new() { State = WaitForSelectorState.Detached });
    }

    private async Task RegisterAndLoginAsync(VeilCli cli)
    {
        Ok(await cli.RunAsync(["account", "register", "--email", Owner, "--password-stdin", "--json"], Password + "\n"));
        var mail = _server.ReadOutbox().Last(m => m.TextBody.Contains("/verify-email#", StringComparison.Ordinal));
        var link = LinkPattern().Matches(mail.TextBody).Select(m => m.Value).Last(l => l.Contains("/verify-email#", StringComparison.Ordinal));
        Ok(await cli.RunAsync(["account", "verify", link, "--json"]));
        Ok(await cli.RunAsync(["account", "login", "--email", Owner, "--password-stdin", "--json"], Password + "\n"));
    }

    private static Task<CliResult> OwnerAsync(VeilCli cli, string[] args, bool keys = true) =>
        cli.RunAsync(keys ? [.. args, "--json", "--password-stdin"] : [.. args, "--json"], keys ? Password + "\n" : null);

    private Task RunSchedulerAsync() => VaultKit.RunSchedulerAsync(_server);

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

    private string Local(string path) => new Uri(_server.BaseAddress, path).ToString();

    private void AssertNeverSent(string secret)
    {
        lock (_sent)
        {
            Assert.NotEmpty(_sent);
            Assert.DoesNotContain(_sent, s => s.Contains(secret, StringComparison.Ordinal));
        }
    }

    private void AssertNoPageErrors()
    {
        lock (_console)
        {
            Assert.DoesNotContain(_console, line => line.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) || line.StartsWith("pageerror", StringComparison.Ordinal));
        }
    }

    /// <summary>axe-core from web/node_modules, evaluated through the DevTools protocol (the page CSP stays intact).</summary>
    private async Task AssertAccessibleAsync()
    {
        await _page.EvaluateAsync(AxeSource.Value);
        var found = await _page.EvaluateAsync<JsonElement>("""
            async () => {
              const result = await axe.run(document, { resultTypes: ["violations"] });
              return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => v.id + " (" + v.impact + "): " + v.nodes.map(n => n.target.join(" ")).join(", "));
            }
            """);
        var violations = found.EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.True(violations.Count == 0, "axe: " + string.Join("\n", violations));
    }

    /// <summary>Writes a screenshot to VEIL_SCREENSHOTS or bin/.../screenshots, for a person to look at.</summary>
    private async Task ScreenshotAsync(string name)
    {
        var directory = Environment.GetEnvironmentVariable("VEIL_SCREENSHOTS") is { Length: > 0 } d ? d : Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        await _page.ScreenshotAsync(new() { Path = Path.Combine(directory, name + ".png"), FullPage = true });
    }

    private static CliResult Ok(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private static readonly Lazy<string> AxeSource = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "web", "node_modules", "axe-core", "axe.min.js");
            if (File.Exists(path))
            {
                return File.ReadAllText(path);
            }
        }

        throw new InvalidOperationException("web/node_modules/axe-core/axe.min.js not found (npm ci in web/)");
    });

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"Your code: ([0-9]{6})")]
    private static partial Regex CodePattern();
}
