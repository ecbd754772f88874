using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Veil.Server.Notices;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.E2E.Tests;

/// <summary>
/// An operator's notice (a breach notification) in the system Chromium against the real server: the banner is an
/// alert above every app page until the account marks it as read with the keyboard alone; then it is gone on every
/// page and after a reload. axe-core finds no serious violation; screenshots for a person to look at.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class NoticeBannerTests(Browser browser)
{
    private const string StrongPassword = "orbit tulip gravel mandolin";
    private const string Subject = "Security incident on this Veil server";

    [ChromiumFact]
    public async Task Banner_OnEveryPageUntilReadByKeyboard_ThenGone()
    {
        await using var world = await AppWorld.StartAsync(browser);
        var email = IdentityKit.NewEmail("notice");
        await world.CreateAccountAsync(email, StrongPassword);
        Guid id;
        await using (var scope = world.Server.Services.CreateAsyncScope())
        {
            id = (await scope.ServiceProvider.GetRequiredService<NoticeAdmin>().CreateAsync(Subject,
                "On 1 December an attacker copied this server's database.\n\nYour vault and mail stay encrypted with keys only you hold. Change your master password and review your sessions.",
                CancellationToken.None)).Notice.Id;
        }

        await AccountPageTests.SignInAsync(world, email, StrongPassword);
        var page = world.Page;
        var banner = page.GetByRole(AriaRole.Alert).Filter(new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = Subject }) });
        await banner.WaitForAsync();
        Assert.Contains("Change your master password", await banner.InnerTextAsync(), StringComparison.Ordinal);
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("60-notice-banner");

        // Another page: the banner is still there (it belongs to the frame, not to one page).
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Account" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Account", Exact = true }).WaitForAsync();
        await banner.WaitForAsync();

        // Keyboard only: Tab until the button has focus, then Enter.
        var button = banner.GetByRole(AriaRole.Button, new() { Name = "I have read this" });
        for (var i = 0; i < 40 && !await button.EvaluateAsync<bool>("b => document.activeElement === b"); i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        Assert.True(await button.EvaluateAsync<bool>("b => document.activeElement === b"), "Tab never reached the button");
        await page.Keyboard.PressAsync("Enter");
        await banner.WaitForAsync(new() { State = WaitForSelectorState.Detached });
        Assert.Equal("main", await page.EvaluateAsync<string>("() => document.activeElement.id"));
        await world.ScreenshotAsync("61-notice-read");

        await page.ReloadAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Account", Exact = true }).WaitForAsync();
        Assert.Equal(0, await page.GetByRole(AriaRole.Heading, new() { Name = Subject }).CountAsync());
        await using (var scope = world.Server.Services.CreateAsyncScope())
        {
            Assert.Equal(1, (await scope.ServiceProvider.GetRequiredService<NoticeAdmin>().StatusAsync(id, CancellationToken.None))!.Acknowledged);
        }

        world.AssertNoPageProblems();
    }
}
