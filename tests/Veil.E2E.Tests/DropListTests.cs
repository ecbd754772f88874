using System.Globalization;
using System.Net;
using Microsoft.Playwright;
using Veil.Cli.Tests.Drop;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.E2E.Tests;

/// <summary>
/// Drop for a signed-in user, in the system Chromium: /drop (its own page entry) gets an access token from the
/// refresh cookie and the drop belongs to the account; /app/drops lists it (size, downloads left, expiry), decrypts
/// its name in the page from a pasted link, and deletes it.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class DropListTests(Browser browser)
{
    [ChromiumFact]
    public async Task DropSentWhileSignedIn_IsListed_NameDecryptsFromTheLink_DeleteRemovesIt()
    {
        await using var cli = await DropCli.StartAsync();
        var user = await cli.Server.RegisterUserAsync();
        var other = await cli.Server.RegisterUserAsync();
        await using var world = await DashboardWorld.StartAsync(browser, cli.Server);
        var page = world.Page;

        // Signed out, /drop asks nothing about a session (no refresh request, no note).
        await page.GotoAsync(world.Url("/drop"));
        await page.Locator("#send").WaitForAsync();
        Assert.False(await page.IsVisibleAsync("#account-note"));
        Assert.DoesNotContain(world.Requests, r => r.Contains("/api/v1/auth/refresh", StringComparison.Ordinal));

        await world.SignInAsync(user);
        await world.OpenAsync("/app/drops", "Your drops");
        await page.GetByText("No drops.").WaitForAsync();

        var name = "report-canary-" + Guid.NewGuid().ToString("N")[..8] + ".bin";
        var file = cli.WriteRandomFile(name, 300_000);
        await page.GotoAsync(world.Url("/drop"));
        await page.GetByText("You are signed in: this drop will be listed in your account").WaitForAsync();
        await page.SetInputFilesAsync("#file", file);
        await page.SelectOptionAsync("#expires", "3600");
        await page.SelectOptionAsync("#downloads", "5");
        await page.ClickAsync("#send");
        await page.WaitForSelectorAsync("#result:visible, #error:visible", new() { Timeout = 120_000 });
        Assert.False(await page.IsVisibleAsync("#error"), await page.TextContentAsync("#error"));
        var link = await page.InputValueAsync("#link");
        var id = Veil.Crypto.Drop.DropLink.TryParse(link)!.Id;

        // The account owns it; nobody else lists it, and an anonymous list is refused.
        var mine = Assert.Single((await world.ApiAsync(user, "/api/v1/drops")).GetProperty("drops").EnumerateArray());
        Assert.Equal(id, mine.GetProperty("id").GetString());
        Assert.Equal("available", mine.GetProperty("state").GetString());
        Assert.Empty((await world.ApiAsync(other, "/api/v1/drops")).GetProperty("drops").EnumerateArray());
        using (var anonymous = await cli.Server.SendAsync(HttpMethod.Get, "/api/v1/drops"))
        {
            await anonymous.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        }

        // The list: size, downloads left, expiry; the name is hidden until the link is pasted.
        await world.OpenAsync("/app/drops", "Your drops");
        var item = page.Locator($"[data-drop='{id}']");
        await item.GetByText("Name only in the link").WaitForAsync();
        Assert.Contains("0 of 5 (5 left)", await item.TextContentAsync(), StringComparison.Ordinal);
        var expires = mine.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.Equal(expires, DateTimeOffset.Parse((await item.Locator("dd time").Last.GetAttributeAsync("datetime"))!, CultureInfo.InvariantCulture));
        await page.GetByLabel("Drop link").FillAsync(link);
        await page.GetByRole(AriaRole.Button, new() { Name = "Show the name" }).ClickAsync();
        await item.GetByText(name).WaitForAsync();
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("drop-list");

        // Zero knowledge: neither the key (the link's fragment) nor the file name ever left the page.
        world.AssertNeverSent(link[(link.IndexOf('#', StringComparison.Ordinal) + 1)..]);
        world.AssertNeverSent(name);

        // Delete, confirmed: the drop is gone and its link no longer works.
        await item.GetByRole(AriaRole.Button, new() { Name = $"Delete drop {id}…" }).ClickAsync();
        await item.GetByRole(AriaRole.Button, new() { Name = $"Yes, delete drop {id}" }).ClickAsync();
        await page.GetByText("The drop was deleted. Its link no longer works.").WaitForAsync();
        await page.GetByText("No drops.").WaitForAsync();
        Assert.Empty((await world.ApiAsync(user, "/api/v1/drops")).GetProperty("drops").EnumerateArray());
        using (var info = await cli.Server.SendAsync(HttpMethod.Get, "/api/v1/drops/" + id))
        {
            Assert.Equal(HttpStatusCode.NotFound, info.StatusCode);
        }

        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task DropSentWithTheMasterPassword_ItsNameOpensInYourDropsAfterUnlock_AndInTheCli_NeverOnTheServer()
    {
        const string password = "correct horse battery staple";
        await using var cli = await DropCli.StartAsync();
        var email = "owner-" + Guid.NewGuid().ToString("N")[..8] + "@example.org";
        var user = await AppWorld.CreateAccountAsync(cli.Server, email, password);
        await using var world = await DashboardWorld.StartAsync(browser, cli.Server);
        var page = world.Page;
        await world.SignInAsync(user);
        await world.OpenAsync("/app/drops", "Your drops");
        await page.GetByText("No drops.").WaitForAsync();

        // A wrong master password is refused before anything is created.
        var name = "name-canary-" + Guid.NewGuid().ToString("N")[..8] + ".txt";
        await page.GotoAsync(world.Url("/drop"));
        await page.GetByText("You are signed in: this drop will be listed in your account").WaitForAsync();
        await page.SetInputFilesAsync("#file", cli.WriteRandomFile(name, 50_000));
        await page.GetByLabel("Your master password (optional)").FillAsync("not my master password at all");
        await page.ClickAsync("#send");
        await page.WaitForSelectorAsync("#error:visible", new() { Timeout = 120_000 });
        Assert.Contains("not your master password", await page.TextContentAsync("#error"), StringComparison.Ordinal);
        Assert.Empty((await world.ApiAsync(user, "/api/v1/drops")).GetProperty("drops").EnumerateArray());

        await page.GetByLabel("Your master password (optional)").FillAsync(password);
        await page.ClickAsync("#send");
        await page.WaitForSelectorAsync("#result:visible", new() { Timeout = 120_000 });
        var link = await page.InputValueAsync("#link");
        var id = Veil.Crypto.Drop.DropLink.TryParse(link)!.Id;

        // A second drop without the master password: its name stays only in the link.
        await page.ClickAsync("#again");
        await page.SetInputFilesAsync("#file", cli.WriteRandomFile("plain-old.txt", 100));
        await page.ClickAsync("#send");
        await page.WaitForSelectorAsync("#result:visible", new() { Timeout = 120_000 });
        var other = Veil.Crypto.Drop.DropLink.TryParse(await page.InputValueAsync("#link"))!.Id;

        // Your drops after a reload: the key is locked until the master password opens it, in the page.
        await world.OpenAsync("/app/drops", "Your drops");
        var item = page.Locator($"[data-drop='{id}']");
        var old = page.Locator($"[data-drop='{other}']");
        await item.GetByText("Name locked").WaitForAsync();
        await old.GetByText("Name only in the link").WaitForAsync();
        await page.GetByLabel("Master password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Unlock" }).ClickAsync();
        await item.GetByText(name).WaitForAsync(new() { Timeout = 60_000 });
        Assert.Contains("(50,000 bytes)", await item.TextContentAsync(), StringComparison.Ordinal);
        await old.GetByText("Name only in the link").WaitForAsync();
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("drop-names");

        // Zero knowledge: the name, the master password and the link's key never left the page; the server's data
        // holds no trace of the name (canary audit).
        world.AssertNeverSent(name);
        world.AssertNeverSent(password);
        world.AssertNeverSent(link[(link.IndexOf('#', StringComparison.Ordinal) + 1)..]);
        Assert.DoesNotContain(name, await StoredData.ReadAsync(cli.Server), StringComparison.Ordinal);

        // The CLI opens the same name with the same user key (browser → CLI interop of the name key).
        var veil = new Veil.Cli.Tests.VeilCli(cli.Server.BaseAddress, cli.ConfigDirectory);
        var login = await veil.RunAsync(["account", "login", "--email", email, "--password-stdin"], password + "\n");
        Assert.True(login.ExitCode == 0, login.ToString());
        var listed = await cli.RunAsync(["--json", "drop", "list", "--password-stdin"], password + "\n");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var row = System.Text.Json.JsonDocument.Parse(listed.StdoutLines.Last()).RootElement.GetProperty("drops").EnumerateArray().Single(d => d.GetProperty("id").GetString() == id);
        Assert.Equal(name, row.GetProperty("name").GetString());
        Assert.Equal(50_000, row.GetProperty("size").GetInt64());

        world.AssertNoPageProblems();
    }
}
