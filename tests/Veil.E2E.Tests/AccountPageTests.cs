using System.Net;
using Microsoft.Playwright;
using Veil.Client.Crypto;
using Veil.Crypto.Client;
using Veil.Crypto.Otp;
using Veil.Crypto.Primitives;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.E2E.Tests;

/// <summary>
/// The Account page in the system Chromium against the real server: 2FA on with the QR code and off with step-up,
/// recovery codes, API keys, password and email change, export and deletion. Every request body the page sends is
/// recorded and checked for the master password and `enc`; axe-core finds no serious violation; screenshots.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class AccountPageTests(Browser browser)
{
    private const string StrongPassword = "orbit tulip gravel mandolin";
    private const string NewPassword = "copper lantern meadow quartz";

    [ChromiumFact]
    public async Task TwoFactor_OnWithTheQrCode_RecoveryCodesShownOnce_OffOnlyAfterStepUp()
    {
        var (world, user, email) = await SignedInAsync("twofa");
        await using var disposeWorld = world;
        var page = world.Page;

        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Account" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Account", Exact = true }).WaitForAsync();
        await page.GetByText("Two-factor authentication is off").WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Turn on two-factor authentication" }).ClickAsync();

        // The QR code is an SVG drawn in the page (no data: image, no inline style), and the secret is shown as text.
        var qr = page.GetByRole(AriaRole.Img, new() { Name = "QR code for your authenticator app" });
        await qr.WaitForAsync();
        Assert.True(await qr.EvaluateAsync<bool>("svg => svg.tagName === 'svg' && svg.querySelector('path').getAttribute('d').length > 1000 && !svg.querySelector('[style]')"));
        Assert.Equal(0, await page.Locator("img[src^='data:']").CountAsync());
        var secret = Base32.Decode(await page.Locator("code.secret").InnerTextAsync())!;
        Assert.Equal(20, secret.Length);
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("20-account-2fa-qr");

        await page.GetByLabel("Code from the app").FillAsync(Totp.Generate(secret, world.Server.Time.GetUtcNow()));
        await page.GetByRole(AriaRole.Button, new() { Name = "Turn on", Exact = true }).ClickAsync();
        var backup = page.GetByRole(AriaRole.Region, new() { Name = "Your backup codes" });
        await backup.WaitForAsync();
        Assert.Equal(8, await backup.Locator("li").CountAsync());
        await page.GetByText("Two-factor authentication is on").First.WaitForAsync();
        Assert.True(await TwoFactorOnAsync(world, user));
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("21-account-backup-codes");
        await page.GetByRole(AriaRole.Button, new() { Name = "I saved them" }).ClickAsync();

        // Recovery codes right after signing in (the sign-in is the fresh authentication), shown once, downloadable.
        await page.GetByRole(AriaRole.Button, new() { Name = "Make recovery codes" }).ClickAsync();
        var recovery = page.GetByRole(AriaRole.Region, new() { Name = "Your recovery codes" });
        await recovery.WaitForAsync();
        Assert.Equal(10, await recovery.Locator("li").CountAsync());
        var shown = await recovery.Locator("li").AllInnerTextsAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => recovery.GetByRole(AriaRole.Button, new() { Name = "Download" }).ClickAsync());
        var saved = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.Equal(shown.Select(c => c.Trim()), saved.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        await page.GetByRole(AriaRole.Button, new() { Name = "I saved them" }).ClickAsync();

        // Six minutes later the session is no longer fresh: turning 2FA off asks for the password and a code first.
        world.Server.Time.Advance(TimeSpan.FromMinutes(6));
        await page.GetByRole(AriaRole.Button, new() { Name = "Turn off two-factor authentication" }).ClickAsync();
        var stepUp = page.GetByRole(AriaRole.Form, new() { Name = "Confirm it is you" });
        await stepUp.WaitForAsync();
        Assert.True(await TwoFactorOnAsync(world, user));
        await stepUp.GetByLabel("Master password").FillAsync("not the password at all");
        await stepUp.GetByLabel("Authenticator or backup code").FillAsync(Totp.Generate(secret, world.Server.Time.GetUtcNow()));
        await stepUp.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await stepUp.GetByRole(AriaRole.Alert).GetByText("Wrong master password.").WaitForAsync();
        Assert.True(await TwoFactorOnAsync(world, user));
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("22-account-step-up");

        await stepUp.GetByLabel("Master password").FillAsync(StrongPassword);
        await stepUp.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await page.GetByText("Two-factor authentication is off.").First.WaitForAsync();
        Assert.False(await TwoFactorOnAsync(world, user));

        world.AssertNeverSent(StrongPassword, (await world.ExpectedKeysAsync(email, StrongPassword)).EncryptionKey);
        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task ApiKeys_CreatedAfterStepUp_ShownOnce_Work_AndStopWorkingWhenRevoked()
    {
        var (world, _, email) = await SignedInAsync("apikeys");
        await using var disposeWorld = world;
        var page = world.Page;
        await page.GotoAsync(world.Url("/app/account"));
        await page.GetByText("No API keys.").WaitForAsync();

        world.Server.Time.Advance(TimeSpan.FromMinutes(6));
        // Keyboard only: Enter submits the name, the step-up form takes the password, Enter confirms.
        await page.GetByLabel("Name of a new key").FillAsync("backup script");
        await page.GetByLabel("Name of a new key").PressAsync("Enter");
        var stepUp = page.GetByRole(AriaRole.Form, new() { Name = "Confirm it is you" });
        await stepUp.GetByLabel("Master password").FillAsync(StrongPassword);
        await stepUp.GetByLabel("Master password").PressAsync("Enter");

        var shownOnce = page.GetByRole(AriaRole.Region, new() { Name = "Your new API key" });
        await shownOnce.WaitForAsync();
        var key = (await shownOnce.Locator("li").InnerTextAsync()).Trim();
        Assert.Matches("^ak_[0-9a-f]{32}$", key);
        await page.GetByText("1 API key").WaitForAsync();
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("23-account-api-key");
        await page.SetViewportSizeAsync(360, 740);
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 360"), "the Account page scrolls sideways at 360 px");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("23-account-api-key-360px-dark");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await page.SetViewportSizeAsync(1280, 720);
        using (var whoami = await world.Server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: key))
        {
            Assert.Equal(HttpStatusCode.OK, whoami.StatusCode);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "I saved them" }).ClickAsync();
        Assert.Equal(0, await page.GetByText(key).CountAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke the API key backup script" }).ClickAsync();
        await page.GetByText("The API key \"backup script\" no longer works.").WaitForAsync();
        await page.GetByText("No API keys.").WaitForAsync();
        using (var refused = await world.Server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: key))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task ChangePassword_RefusesAWeakOne_RewrapsTheSameUserKey_AndSignsOutOtherSessions()
    {
        var (world, other, email) = await SignedInAsync("password");
        await using var disposeWorld = world;
        var page = world.Page;
        var userKeyBefore = await OpenUserKeyAsync(world, other.AccessToken, email, StrongPassword);
        await page.GotoAsync(world.Url("/app/account"));

        var form = page.Locator("form", new() { Has = page.GetByLabel("Current master password") });
        await form.GetByLabel("Current master password").FillAsync(StrongPassword);
        await form.GetByLabel("New master password", new() { Exact = true }).FillAsync("password123");
        await form.GetByLabel("New master password again").FillAsync("password123");
        await form.GetByRole(AriaRole.Button, new() { Name = "Change the master password" }).ClickAsync();
        await page.GetByRole(AriaRole.Alert).GetByText("The new master password is too weak").WaitForAsync();
        Assert.DoesNotContain(world.Requests, r => r.Url.EndsWith("/api/v1/account/password", StringComparison.Ordinal));

        await form.GetByLabel("New master password", new() { Exact = true }).FillAsync(NewPassword);
        await form.GetByLabel("New master password again").FillAsync(NewPassword);
        await form.GetByRole(AriaRole.Button, new() { Name = "Change the master password" }).ClickAsync();
        await page.GetByText("Your master password is changed.").WaitForAsync();
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("24-account-password-changed");

        // The other session ended; the same user key opens under the new password (the C# client's code checks).
        using (var refused = await world.Server.PostAsync("/api/v1/auth/refresh", new { refreshToken = other.RefreshToken }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var (newAuth, _) = await world.ExpectedKeysAsync(email, NewPassword);
        var fresh = await world.Server.LoginAsync(email, newAuth);
        Assert.Equal(userKeyBefore, await OpenUserKeyAsync(world, fresh.AccessToken, email, NewPassword));

        foreach (var password in new[] { StrongPassword, NewPassword })
        {
            world.AssertNeverSent(password, (await world.ExpectedKeysAsync(email, password)).EncryptionKey);
        }

        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task ChangeEmail_WithStepUp_TheMailedLinkConfirms_AndTheNewAddressSignsIn()
    {
        await using var world = await AppWorld.StartAsync(browser);
        var page = world.Page;
        var email = IdentityKit.NewEmail("old");
        var newEmail = IdentityKit.NewEmail("new");
        await world.CreateAccountAsync(email, StrongPassword);
        await SignInAsync(world, email, StrongPassword);
        await page.GotoAsync(world.Url("/app/account"));

        world.Server.Time.Advance(TimeSpan.FromMinutes(6)); // the form proves the password itself: no stale step-up
        var form = page.Locator("form", new() { Has = page.GetByLabel("New email address") });
        await form.GetByLabel("New email address").FillAsync(newEmail);
        await form.GetByLabel("Master password").FillAsync(StrongPassword);
        await form.GetByRole(AriaRole.Button, new() { Name = "Change the address" }).ClickAsync();
        await page.GetByText($"We sent a link to {newEmail}.").WaitForAsync();
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("25-account-email-sent");

        await page.GotoAsync(world.MailedLink(newEmail, "verify-email"));
        await page.GetByText("Your new address is confirmed").WaitForAsync();
        await world.AssertAccessibleAsync();

        // The new address with the same password signs in (the page derived with the new address), the old does not.
        var (newAuth, _) = await world.ExpectedKeysAsync(newEmail, StrongPassword);
        var tokens = await world.Server.LoginAsync(newEmail, newAuth);
        await OpenUserKeyAsync(world, tokens.AccessToken, newEmail, StrongPassword);
        using (var old = await world.Server.PostAsync("/api/v1/auth/login", new { email, authToken = newAuth, tokenTransport = "body" }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        }

        world.AssertNeverSent(StrongPassword, (await world.ExpectedKeysAsync(newEmail, StrongPassword)).EncryptionKey);
        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task Export_DownloadsTheServersJson_AndDelete_NeedsTheAddressTypedAndThePassword()
    {
        var (world, user, email) = await SignedInAsync("delete");
        await using var disposeWorld = world;
        var page = world.Page;
        await page.GotoAsync(world.Url("/app/account"));

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Download my data" }).ClickAsync());
        Assert.Equal("veil-account-export.json", download.SuggestedFilename);
        using (var export = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync((await download.PathAsync())!)))
        {
            Assert.Equal("veil-account-export/v1", export.RootElement.GetProperty("format").GetString());
            Assert.Equal(email, export.RootElement.GetProperty("account").GetProperty("email").GetString());
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Delete the account…" }).ClickAsync();
        var confirm = page.Locator("form", new() { Has = page.GetByLabel($"Type {email} to confirm") });
        await confirm.GetByLabel("Master password").FillAsync(StrongPassword);
        await confirm.GetByLabel($"Type {email} to confirm").FillAsync("someone@example.org");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Delete everything for good" }).ClickAsync();
        await page.GetByRole(AriaRole.Alert).GetByText($"Type {email} to confirm.").WaitForAsync();
        Assert.DoesNotContain(world.Requests, r => r.Method == "DELETE" && r.Url.EndsWith("/api/v1/account", StringComparison.Ordinal));
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("26-account-delete");

        await confirm.GetByLabel($"Type {email} to confirm").FillAsync(email);
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Delete everything for good" }).ClickAsync();
        await page.WaitForURLAsync(world.Url("/"));
        using (var login = await world.Server.PostAsync("/api/v1/auth/login", new { email, authToken = user.AuthToken, tokenTransport = "body" }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        }

        world.AssertNeverSent(StrongPassword, (await world.ExpectedKeysAsync(email, StrongPassword)).EncryptionKey);
        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task FirstLoad_WithoutASession_DoesNotAskTheServer_ButAReloadAfterSignInResumes()
    {
        await using var world = await AppWorld.StartAsync(browser);
        var page = world.Page;
        await page.GotoAsync(world.Url("/"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true }).First.WaitForAsync();
        await page.GotoAsync(world.Url("/app"));
        await page.WaitForURLAsync("**/signin");
        Assert.DoesNotContain(world.Requests, r => r.Url.Contains("/api/v1/auth/refresh", StringComparison.Ordinal));

        var email = IdentityKit.NewEmail("resume");
        await world.CreateAccountAsync(email, StrongPassword);
        await SignInAsync(world, email, StrongPassword);
        await page.ReloadAsync();
        await page.GetByText($"Signed in as {email}.").WaitForAsync();
        Assert.Contains(world.Requests, r => r.Url.EndsWith("/api/v1/auth/refresh", StringComparison.Ordinal));
        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task TrustThisBrowser_ReopensTheKeysAfterAReload_UntilTheSessionIsEndedElsewhere_AndTheCapsuleHoldsNoKey()
    {
        var (world, user, email) = await SignedInAsync("trust");
        await using var disposeWorld = world;
        var page = world.Page;
        var userKey = await OpenUserKeyAsync(world, user.AccessToken, email, StrongPassword);

        // Without trust a reload needs the password (the seed's rule); with it ticked at unlock, it does not.
        await page.ReloadAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Unlock" }).WaitForAsync();
        await page.GetByLabel("Trust this browser").CheckAsync();
        await page.GetByLabel("Master password").FillAsync(StrongPassword);
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("27-unlock-trust");
        await page.GetByRole(AriaRole.Button, new() { Name = "Unlock" }).ClickAsync();
        await page.GetByText("This browser is trusted").WaitForAsync();
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("28-trusted");

        // The capsule: a CryptoKey object that script cannot export, and bytes that do not contain the user key.
        var capsule = await page.EvaluateAsync<System.Text.Json.JsonElement>(CapsuleScript);
        Assert.Equal(1, capsule.GetProperty("count").GetInt32());
        Assert.Equal("CryptoKey", capsule.GetProperty("keyType").GetString());
        Assert.False(capsule.GetProperty("extractable").GetBoolean());
        Assert.True(capsule.GetProperty("exportRefused").GetBoolean());
        var stored = capsule.GetProperty("hex").GetString()!;
        Assert.True(stored.Length > 100);
        Assert.DoesNotContain(Convert.ToHexStringLower(userKey), stored, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexStringLower(userKey[..8]), stored, StringComparison.Ordinal);

        await page.ReloadAsync();
        await page.GetByText("Your keys are unlocked in this browser").WaitForAsync();
        Assert.Equal(0, await page.GetByRole(AriaRole.Heading, new() { Name = "Unlock" }).CountAsync());

        // Lock means the password again, trusted or not: a reload after Lock asks for it (the capsule stays, suspended),
        // and the next password unlock (box not ticked) lets the capsule open the keys after a reload once more.
        await page.GetByRole(AriaRole.Button, new() { Name = "Lock" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Unlock" }).WaitForAsync();
        await WaitUntilAsync(async () => (await page.EvaluateAsync<System.Text.Json.JsonElement>(CapsuleScript)).GetProperty("suspended").GetBoolean());
        await page.ReloadAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Unlock" }).WaitForAsync();
        Assert.Equal(1, (await page.EvaluateAsync<System.Text.Json.JsonElement>(CapsuleScript)).GetProperty("count").GetInt32());
        await page.GetByLabel("Master password").FillAsync(StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Unlock" }).ClickAsync();
        await page.GetByText("This browser is trusted").WaitForAsync();
        await page.ReloadAsync();
        await page.GetByText("Your keys are unlocked in this browser").WaitForAsync();

        // Another browser ends this browser's session on the sessions page.
        await using (var other = await browser.NewContextAsync())
        {
            var otherPage = await other.NewPageAsync();
            await otherPage.GotoAsync(world.Url("/signin"));
            await otherPage.GetByLabel("Email address").FillAsync(email);
            await otherPage.GetByLabel("Master password").FillAsync(StrongPassword);
            await otherPage.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
            await otherPage.WaitForURLAsync("**/app");
            await otherPage.GotoAsync(world.Url("/app/account/sessions"));
            await otherPage.GetByRole(AriaRole.Button, new() { Name = "End the session Web browser" }).ClickAsync();
            await otherPage.GetByText("The session \"Web browser\" is signed out.").WaitForAsync();
        }

        await page.ReloadAsync();
        await page.WaitForURLAsync("**/signin");
        Assert.Equal(0, (await page.EvaluateAsync<System.Text.Json.JsonElement>(CapsuleScript)).GetProperty("count").GetInt32());

        // Signed in again (a magic link: no password typed), the keys need the master password.
        await page.GetByLabel("Email address").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Email me a sign-in link" }).ClickAsync();
        await page.GetByText("a sign-in link is on its way").WaitForAsync();
        await page.GotoAsync(world.MailedLink(email, "magic-link"));
        await page.WaitForURLAsync("**/app");
        await page.GetByRole(AriaRole.Heading, new() { Name = "Unlock" }).WaitForAsync();

        // Trusted again, then signed out: sign-out deletes the capsule.
        await page.GetByLabel("Trust this browser").CheckAsync();
        await page.GetByLabel("Master password").FillAsync(StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Unlock" }).ClickAsync();
        await page.GetByText("This browser is trusted").WaitForAsync();
        Assert.Equal(1, (await page.EvaluateAsync<System.Text.Json.JsonElement>(CapsuleScript)).GetProperty("count").GetInt32());
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/signin");
        Assert.Equal(0, (await page.EvaluateAsync<System.Text.Json.JsonElement>(CapsuleScript)).GetProperty("count").GetInt32());

        world.AssertNeverSent(StrongPassword, (await world.ExpectedKeysAsync(email, StrongPassword)).EncryptionKey);
        foreach (var request in world.Requests)
        {
            Assert.DoesNotContain(Convert.ToHexStringLower(userKey), request.All, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(CryptoRandom.ToBase64Url(userKey), request.All, StringComparison.Ordinal);
        }

        world.AssertNoPageProblems();
    }

    /// <summary>Reads IndexedDB "veil-trust": how many capsules, the first one's key object and all its bytes as hex.</summary>
    private const string CapsuleScript = """
        async () => {
          const db = await new Promise((resolve, reject) => {
            const open = indexedDB.open("veil-trust", 1);
            open.onupgradeneeded = () => open.result.createObjectStore("capsules", { keyPath: "accountId" });
            open.onsuccess = () => resolve(open.result);
            open.onerror = () => reject(open.error);
          });
          const all = await new Promise((resolve, reject) => {
            const request = db.transaction("capsules").objectStore("capsules").getAll();
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
          });
          db.close();
          if (all.length === 0) return { count: 0, suspended: false };
          const c = all[0];
          let exportRefused = false;
          try { await crypto.subtle.exportKey("raw", c.key); } catch { exportRefused = true; }
          const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
          return { count: all.length, keyType: c.key.constructor.name, extractable: c.key.extractable, exportRefused, suspended: c.suspended === true,
                   hex: hex(c.iv) + hex(c.nonce) + hex(c.sealed) + JSON.stringify(Object.keys(c)) };
        }
        """;

    /// <summary>Polls a condition the page reaches by itself (an IndexedDB write after a click), for at most 10 s.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The page did not reach the expected state within 10 s.");
            await Task.Delay(50);
        }
    }

    /// <summary>A world with an account made by the C# client and signed in through the page (keys unlocked).</summary>
    private async Task<(AppWorld World, TestUser User, string Email)> SignedInAsync(string prefix)
    {
        var world = await AppWorld.StartAsync(browser);
        try
        {
            var email = IdentityKit.NewEmail(prefix);
            var user = await world.CreateAccountAsync(email, StrongPassword);
            await SignInAsync(world, email, StrongPassword);
            return (world, user, email);
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    internal static async Task SignInAsync(AppWorld world, string email, string password)
    {
        var page = world.Page;
        await page.GotoAsync(world.Url("/signin"));
        await page.GetByLabel("Email address").FillAsync(email);
        await page.GetByLabel("Master password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/app");
        await page.GetByText("Your keys are unlocked in this browser").WaitForAsync();
    }

    private static async Task<bool> TwoFactorOnAsync(AppWorld world, TestUser user)
    {
        using var response = await world.Server.SendAsync(HttpMethod.Get, "/api/v1/account/2fa", bearer: user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("totpEnabled").GetBoolean();
    }

    /// <summary>The user key as the C# client opens it (keys endpoint + ClientKeyDerivation + ProtectedUserKey).</summary>
    private static async Task<byte[]> OpenUserKeyAsync(AppWorld world, string accessToken, string email, string password)
    {
        using var response = await world.Server.SendAsync(HttpMethod.Get, "/api/v1/account/keys", bearer: accessToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.JsonAsync();
        using var keys = ClientKeyDerivation.Derive(password, email, CryptoRandom.FromBase64Url(json.GetProperty("salt").GetString()!)!);
        using var userKey = ProtectedUserKey.TryUnwrap(keys.EncryptionKey, json.GetProperty("protectedUserKey").GetString());
        Assert.NotNull(userKey);
        using var lease = userKey.Acquire();
        return lease.Span.ToArray();
    }
}
