using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Veil.Server.Tests.Vault;

namespace Veil.E2E.Tests;

/// <summary>
/// The pages that mailed links open, in the system Chromium: the Vault one-click check-in (server-rendered; a GET
/// shows a button and changes nothing; the button checks in), the Alias recipient confirmation (the web app's page,
/// whose button calls the API), and the Vault claim link, which opens the app's claim page. Each page carries a
/// strict CSP; the browser must report no violation.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed partial class MailLinkPageTests(Browser browser) : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromDays(30);
    private static readonly TimeSpan Grace = TimeSpan.FromDays(7);

    private readonly List<string> _console = [];
    private VeilTestServer _server = null!;
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _server = await VaultKit.StartVaultServerAsync(o => o.Settings["Veil:Alias:Domains:0"] = "alias.test");
        _context = await browser.NewContextAsync();
        _page = await _context.NewPageAsync();
        _page.Console += (_, message) =>
        {
            lock (_console)
            {
                _console.Add($"{message.Type}: {message.Text} {message.Location}");
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
    }

    [ChromiumFact]
    public async Task CheckInLinkFromReminder_GetShowsAButtonOnly_ClickChecksInAndMovesTheDeadline()
    {
        var owner = await _server.RegisterOwnerAsync();
        var vault = await _server.CreateVaultAsync(owner);
        await _server.ArmAsync(owner, vault, Interval, Grace);
        _server.Time.Advance(Interval);
        await _server.RunSchedulerAsync();
        var reminder = Assert.Single(_server.MailTo(owner.Email, "check in"));
        var before = await _server.SwitchAsync(owner, vault);
        Assert.Equal("grace", before.GetProperty("state").GetString());

        // The link as mailed names the public origin; the browser reaches the same path on the test server.
        var response = await _page.GotoAsync(Local($"/vault/checkin/{VaultKit.CheckInToken(reminder)}"));
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        var button = _page.GetByRole(AriaRole.Button, new() { Name = "I'm here" });
        Assert.True(await button.IsVisibleAsync());
        // The page wears the app's stylesheet (same origin, no inline style), so it looks like the rest of Veil.
        Assert.Contains("style-src 'self'", response.Headers["content-security-policy"], StringComparison.Ordinal);
        Assert.True(await _page.EvaluateAsync<int>("() => document.styleSheets.length === 1 ? document.styleSheets[0].cssRules.length : 0") > 10);
        Assert.Equal(1, await _page.Locator("header.site .brand").CountAsync());

        // Opening the page (as a mail scanner would) checked nothing in.
        var afterGet = await _server.SwitchAsync(owner, vault);
        Assert.Equal("grace", afterGet.GetProperty("state").GetString());
        Assert.Equal(before.GetProperty("deadline").GetDateTimeOffset(), afterGet.GetProperty("deadline").GetDateTimeOffset());

        _server.Time.Advance(TimeSpan.FromHours(1));
        await Task.WhenAll(_page.WaitForURLAsync("**/vault/checkin/**", new() { WaitUntil = WaitUntilState.Load }), button.ClickAsync());
        await _page.GetByText("Checked in.").WaitForAsync();

        var after = await _server.SwitchAsync(owner, vault);
        Assert.NotEqual("grace", after.GetProperty("state").GetString());
        Assert.Equal(_server.Time.GetUtcNow() + Interval, after.GetProperty("deadline").GetDateTimeOffset());
        Assert.Contains(after.GetProperty("deadline").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture), await _page.InnerTextAsync("body"), StringComparison.Ordinal);
        AssertNoCspViolation();
    }

    [ChromiumFact]
    public async Task RecipientVerificationLink_GetShowsConfirm_ClickVerifies()
    {
        var user = await _server.RegisterUserAsync();
        const string mailbox = "home@mailbox.test";
        using (var added = await _server.PostAsync("/api/v1/alias/recipients", new { email = mailbox }, user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        var mail = _server.ReadOutbox().Last(m => m.Headers.TryGetValue("To", out var to) && to.Contains(mailbox, StringComparison.OrdinalIgnoreCase));
        var token = VerifyLink().Match(mail.TextBody).Groups[1].Value;
        Assert.NotEmpty(token);

        var response = await _page.GotoAsync(Local("/alias/verify/" + token));
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        var button = _page.GetByRole(AriaRole.Button, new() { Name = "Confirm" });
        Assert.True(await button.IsVisibleAsync());
        Assert.False(await VerifiedAsync(user));

        await button.ClickAsync();
        await _page.GetByText("This mailbox now receives mail").WaitForAsync();

        Assert.True(await VerifiedAsync(user));
        AssertNoCspViolation();
    }

    [ChromiumFact]
    public async Task ClaimLink_OpensTheAppsClaimPage_NotInstructionsForACommandLineClient()
    {
        var response = await _page.GotoAsync(Local("/vault/claim/" + new string('A', 86)));

        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        await _page.GetByRole(AriaRole.Heading, new() { Name = "A vault was left to you" }).WaitForAsync();
        Assert.Equal("A vault was left to you · Veil", await _page.TitleAsync());
        Assert.True(await _page.GetByRole(AriaRole.Button, new() { Name = "Email me the code" }).IsVisibleAsync());
        Assert.Contains("nothing to install", await _page.InnerTextAsync("main"), StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", response.Headers["content-security-policy"], StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", response.Headers["content-security-policy"], StringComparison.Ordinal);

        AssertNoCspViolation();

        // A forged link is refused by the server (a 404 the console reports), and the page says so in a sentence.
        await _page.GetByRole(AriaRole.Button, new() { Name = "Email me the code" }).ClickAsync();
        await _page.GetByText("This delivery link is not valid").WaitForAsync();
    }

    private string Local(string path) => new Uri(_server.BaseAddress, path).ToString();

    private async Task<bool> VerifiedAsync(TestUser user)
    {
        using var response = await _server.SendAsync(HttpMethod.Get, "/api/v1/alias/recipients", bearer: user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Assert.Single((await response.JsonAsync()).GetProperty("recipients").EnumerateArray()).GetProperty("verified").GetBoolean();
    }

    private void AssertNoCspViolation()
    {
        lock (_console)
        {
            Assert.DoesNotContain(_console, line => line.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) || line.StartsWith("pageerror", StringComparison.Ordinal));
            // The app resumes a session from the refresh cookie on load; without one the server answers 401, which the
            // console reports. That is expected on a mailed link opened by someone without an account.
            Assert.False(_console.Any(line => line.StartsWith("error", StringComparison.Ordinal) && !line.Contains("/api/v1/auth/refresh", StringComparison.Ordinal)), string.Join("\n", _console));
        }
    }

    [GeneratedRegex("/alias/verify/([A-Za-z0-9_-]{43})")]
    private static partial Regex VerifyLink();
}
