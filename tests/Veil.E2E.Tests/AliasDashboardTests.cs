using System.Text.Json;
using Microsoft.Playwright;
using Veil.Server.Tests.Alias;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.E2E.Tests;

/// <summary>
/// The Alias dashboard in the system Chromium against the real server on loopback: a recipient added in the page and
/// confirmed through the link from the development outbox (opened in the browser), an alias created in the page,
/// mail sent to it by swaks and forwarded to an aiosmtpd smarthost, the counter in the page, contacts, disable,
/// the routing log, delete. axe-core on every page; screenshots for a person to look at.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class AliasDashboardTests(Browser browser)
{
    private const string Mailbox = "home@mailbox.test";
    private const string Sender = "jane@sender.test";

    [ChromiumFact]
    public async Task AliasMadeInTheBrowser_ForwardsSwaksMail_CounterShowsIt_ThenContactBlock_Disable_Delete()
    {
        await using var harness = await AliasHarness.StartAsync(o => o.Settings.Remove("Veil:PublicOrigin"));
        var user = await harness.Server.RegisterUserAsync();
        await using var world = await DashboardWorld.StartAsync(browser, harness.Server);
        await world.SignInAsync(user);
        var page = world.Page;

        // A recipient, added in the page: the server mails it a link.
        await world.OpenAsync("/app/alias/recipients", "Recipients");
        await page.GetByLabel("Email address").FillAsync(Mailbox);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add and send the link" }).ClickAsync();
        await page.GetByText($"Veil mailed a confirmation link to {Mailbox}").WaitForAsync();
        await page.Locator($"[data-recipient='{Mailbox}']").GetByText("waiting for confirmation").WaitForAsync();
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("alias-recipients-waiting");

        // The mailed link, from the development outbox, opened in the browser (a second tab): opening changes nothing.
        var mailed = harness.Server.ReadOutbox().Last(m => m.Headers.TryGetValue("To", out var to) && to.Contains(Mailbox, StringComparison.OrdinalIgnoreCase));
        var link = System.Text.RegularExpressions.Regex.Match(mailed.TextBody, @"https?://\S+/alias/verify/[A-Za-z0-9_-]{43}").Value;
        Assert.NotEmpty(link);
        var mailTab = await world.Context.NewPageAsync();
        await mailTab.GotoAsync(world.Url(new Uri(link).AbsolutePath));
        await mailTab.GetByRole(AriaRole.Heading, new() { Name = "Confirm this mailbox" }).WaitForAsync();
        Assert.False(Verified(await world.ApiAsync(user, "/api/v1/alias/recipients")));
        await mailTab.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await mailTab.GetByText("This mailbox now receives mail from your Veil aliases").WaitForAsync();
        Assert.True(Verified(await world.ApiAsync(user, "/api/v1/alias/recipients")));
        await mailTab.CloseAsync();

        await page.ReloadAsync();
        await page.Locator($"[data-recipient='{Mailbox}']").GetByText("confirmed", new() { Exact = true }).WaitForAsync();

        // An alias with a prefix, a label and a note, created in the page.
        var note = "note-canary-" + Guid.NewGuid().ToString("N");
        await page.GetByRole(AriaRole.Link, new() { Name = "Aliases", Exact = true }).First.ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Aliases", Level = 1 }).WaitForAsync();
        await page.GetByText("Forwarded and replied: 0 of").WaitForAsync();
        await world.AssertAccessibleAsync();
        await page.GetByLabel("Starting with a word of mine").CheckAsync();
        await page.GetByLabel("Prefix").FillAsync("Shop");
        await page.GetByLabel("Label (optional)").FillAsync("Shopping");
        await page.GetByLabel("Note (optional)").FillAsync(note);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create alias" }).ClickAsync();
        var address = (await page.Locator("#created-address").TextContentAsync())!;
        Assert.Matches(@"^shop\.[a-z0-9]{5}@alias\.test$", address);
        var alias = Assert.Single((await world.ApiAsync(user, "/api/v1/alias/aliases")).GetProperty("aliases").EnumerateArray());
        Assert.Equal(address, alias.GetProperty("address").GetString());
        Assert.Equal("Shopping", alias.GetProperty("label").GetString());
        Assert.Equal(note, alias.GetProperty("note").GetString());
        var aliasId = alias.GetProperty("id").GetString()!;

        // The note is field-encrypted at rest (docs/THREAT-MODEL.md, Alias): the server reads it, the database never holds it in clear.
        Assert.DoesNotContain(note, await StoredData.ReadAsync(harness.Server), StringComparison.Ordinal);

        // Mail to the new alias, from an outside MTA (swaks), reaches the recipient through the smarthost sink.
        var subject = "subject-canary-" + Guid.NewGuid().ToString("N");
        var sent = await harness.SwaksAsync(Sender, address, $"From: Jane <{Sender}>\r\nTo: {address}\r\nSubject: {subject}\r\n\r\nHello from the outside.\r\n");
        Assert.True(sent.ExitCode == 0, sent.Output);
        var forwarded = await harness.Sink.WaitForAsync(m => m.RcptTos.Contains(Mailbox) && m.Text.Contains(subject, StringComparison.Ordinal));
        Assert.Contains(subject, forwarded.Header("Subject"), StringComparison.Ordinal);
        await harness.WaitForAsync(user, "/api/v1/alias/aliases/" + aliasId, a => a.GetProperty("counters").GetProperty("forwarded").GetInt32() == 1);

        await page.ReloadAsync();
        var item = page.Locator($"[data-alias='{address}']");
        Assert.Equal("1", await item.Locator("[data-counter='forwarded']").TextContentAsync());
        Assert.Equal("1", await item.Locator("[data-counter='received']").TextContentAsync());
        await page.GetByText("Forwarded and replied: 1 of").WaitForAsync();
        await world.ScreenshotAsync("alias-list");

        // The alias's page: the sender became a contact with a reverse address; block it.
        await item.GetByRole(AriaRole.Link, new() { Name = $"Manage {address}" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = address, Level = 1 }).WaitForAsync();
        var contact = page.Locator($"[data-contact='{Sender}']");
        await contact.WaitForAsync();
        var reverse = Assert.Single((await world.ApiAsync(user, $"/api/v1/alias/aliases/{aliasId}/contacts")).GetProperty("contacts").EnumerateArray());
        Assert.Contains(reverse.GetProperty("reverseAddress").GetString()!, await contact.TextContentAsync(), StringComparison.Ordinal);
        await contact.GetByRole(AriaRole.Button, new() { Name = $"Copy the reverse address for {Sender}" }).ClickAsync();
        Assert.Equal(reverse.GetProperty("reverseAddress").GetString(), await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        await contact.GetByRole(AriaRole.Button, new() { Name = $"Block {Sender}" }).ClickAsync();
        await contact.GetByText("blocked", new() { Exact = true }).WaitForAsync();
        Assert.True(Assert.Single((await world.ApiAsync(user, $"/api/v1/alias/aliases/{aliasId}/contacts")).GetProperty("contacts").EnumerateArray()).GetProperty("blocked").GetBoolean());
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("alias-detail");

        // Mail from the blocked contact is accepted, counted as blocked and dropped.
        var blockedSend = await harness.SwaksAsync(Sender, address, $"From: {Sender}\r\nTo: {address}\r\nSubject: again\r\n\r\nAgain.\r\n");
        Assert.True(blockedSend.ExitCode == 0, blockedSend.Output);
        await harness.WaitForAsync(user, "/api/v1/alias/aliases/" + aliasId, a => a.GetProperty("counters").GetProperty("blocked").GetInt32() == 1);

        // Disable with "reject": the next RCPT to it is refused.
        await page.GetByLabel("Forward mail sent to this alias").UncheckAsync();
        await page.GetByLabel("Reject: senders get a bounce").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await page.GetByText("Saved.").WaitForAsync();
        var disabled = await world.ApiAsync(user, "/api/v1/alias/aliases/" + aliasId);
        Assert.False(disabled.GetProperty("enabled").GetBoolean());
        Assert.Equal("reject", disabled.GetProperty("disabledAction").GetString());
        var refused = await harness.RcptAsync(Sender, address);
        Assert.True(refused.ExitCode != 0 && refused.Output.Contains("550", StringComparison.Ordinal), refused.Output);

        // The routing log: no failed delivery; every event shows the forward and the block, with reasons, no content.
        await page.GetByRole(AriaRole.Link, new() { Name = "Failed deliveries" }).ClickAsync();
        await page.GetByText("No failed deliveries in the last 7 days.").WaitForAsync();
        await page.GetByLabel("Show every event").CheckAsync();
        var table = page.Locator("table.log");
        await table.GetByText("the sender is blocked").WaitForAsync();
        await table.GetByRole(AriaRole.Cell, new() { Name = "forwarded", Exact = true }).WaitForAsync();
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("alias-log");

        // Delete, with its confirmation: the address is gone and answered 550 for good.
        await table.GetByRole(AriaRole.Link, new() { Name = address }).First.ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete this alias…" }).ClickAsync();
        await world.AssertAccessibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = $"Yes, delete {address}" }).ClickAsync();
        await page.GetByText("No aliases yet.").WaitForAsync();
        Assert.Empty((await world.ApiAsync(user, "/api/v1/alias/aliases")).GetProperty("aliases").EnumerateArray());
        var gone = await harness.RcptAsync(Sender, address);
        Assert.True(gone.ExitCode != 0 && gone.Output.Contains("550", StringComparison.Ordinal), gone.Output);

        // What the page sent: never the mail's content (it only passes through the server's SMTP side), never an
        // access token or the note in a URL; the note only in the bodies that set it.
        world.AssertNeverSent(subject);
        Assert.DoesNotContain(world.Requests, r => r.Split('\n')[0].Contains(note, StringComparison.Ordinal));
        Assert.All(world.Requests.Where(r => r.Contains(note, StringComparison.Ordinal)),
            r => Assert.Matches(@"^(POST \S+/api/v1/alias/aliases|PATCH \S+/api/v1/alias/aliases/[0-9a-f-]{36})\n", r));
        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task RecipientLinkPage_BadToken_SaysSo_AndVerifiesNothing()
    {
        await using var harness = await AliasHarness.StartAsync(o => o.Settings.Remove("Veil:PublicOrigin"));
        var user = await harness.Server.RegisterUserAsync();
        await harness.AddRecipientAsync(user, Mailbox);
        await using var world = await DashboardWorld.StartAsync(browser, harness.Server);

        await world.OpenAsync("/alias/verify/" + new string('A', 43), "Confirm this mailbox");
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("alias-verify");
        await world.Page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();

        await world.Page.GetByRole(AriaRole.Alert).GetByText("This link does not work any more").WaitForAsync();
        Assert.False(Verified(await world.ApiAsync(user, "/api/v1/alias/recipients")));
        world.AssertNoPageProblems();
    }

    private static bool Verified(JsonElement recipients) =>
        Assert.Single(recipients.GetProperty("recipients").EnumerateArray()).GetProperty("verified").GetBoolean();
}
