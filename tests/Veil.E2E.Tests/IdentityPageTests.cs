using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Veil.Crypto.Otp;
using Veil.Server.Tests.Identity;

namespace Veil.E2E.Tests;

/// <summary>
/// The web app's identity pages in the system Chromium against the real server: register with Argon2id in the
/// page, open the mailed verification link, sign in with the password, a magic link and TOTP; the page never sends
/// the password or the encryption key; axe-core finds no serious or critical violation; screenshots for a person.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class IdentityPageTests(Browser browser)
{
    private const string StrongPassword = "orbit tulip gravel mandolin";

    [ChromiumFact]
    public async Task Register_OpenTheMailedLink_SignIn_ShowsTheSignedInShell_AndNeverSendsThePasswordOrKey()
    {
        await using var world = await AppWorld.StartAsync(browser);
        var page = world.Page;
        var email = IdentityKit.NewEmail("web");

        await page.GotoAsync(world.Url("/"));
        await page.GetByRole(AriaRole.Heading, new() { Name = "Veil", Exact = true }).WaitForAsync();
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("01-home");

        await page.GetByRole(AriaRole.Link, new() { Name = "Create an account" }).ClickAsync();
        await page.GetByLabel("Email address").FillAsync(email);
        await page.GetByLabel("Master password", new() { Exact = true }).FillAsync(StrongPassword);
        await page.GetByLabel("Master password again").FillAsync(StrongPassword);
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("02-register");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Check your mail" }).WaitForAsync();

        // The link exactly as mailed, opened in the browser.
        var link = world.MailedLink(email, "verify-email");
        Assert.StartsWith(world.Server.BaseAddress.ToString().TrimEnd('/'), link, StringComparison.Ordinal);
        await page.GotoAsync(link);
        await page.GetByText("Your address is confirmed and your account exists").WaitForAsync();
        Assert.DoesNotContain("#", page.Url, StringComparison.Ordinal); // the token left the address bar
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("03-verified");

        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true }).First.ClickAsync();
        await page.GetByLabel("Email address").FillAsync(email);
        await page.GetByLabel("Master password").FillAsync(StrongPassword);
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("04-signin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/app");
        await page.GetByText($"Signed in as {email}.").WaitForAsync();
        await page.GetByText("Your keys are unlocked in this browser").WaitForAsync();
        Assert.True(await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Send a drop" }).IsVisibleAsync());
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("05-overview");
        await page.SetViewportSizeAsync(360, 740);
        await world.ScreenshotAsync("06-overview-360px");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 360"), "the page scrolls sideways at 360 px");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        Assert.Equal("rgb(21, 23, 27)", await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor"));
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("06-overview-360px-dark");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await page.SetViewportSizeAsync(1280, 720);

        // Zero knowledge: the page sent the auth token (positive control) and never the password or `enc`.
        var (authToken, enc) = await world.ExpectedKeysAsync(email, StrongPassword);
        var sent = world.Requests;
        Assert.Contains(sent, r => r.Url.EndsWith("/api/v1/auth/login", StringComparison.Ordinal) && r.Body.Contains(authToken, StringComparison.Ordinal));
        Assert.Contains(sent, r => r.Url.EndsWith("/api/v1/accounts", StringComparison.Ordinal) && r.Body.Contains(authToken, StringComparison.Ordinal));
        world.AssertNeverSent(StrongPassword, enc);

        // A reload resumes the session from the HttpOnly cookie, but the keys need the master password again.
        await page.ReloadAsync();
        await page.GetByText($"Signed in as {email}.").WaitForAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Unlock" }).WaitForAsync();
        Assert.Empty(await world.Context.StorageStateAsync() is { } state && state.Contains(authToken, StringComparison.Ordinal) ? "token in storage" : "");
        await page.GetByLabel("Master password").FillAsync(StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Unlock" }).ClickAsync();
        await page.GetByText("Your keys are unlocked in this browser").WaitForAsync();

        // Lock empties the keys; sign out ends the session: /app then sends the visitor to sign in.
        await page.GetByRole(AriaRole.Button, new() { Name = "Lock" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Unlock" }).WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/signin");
        await page.GotoAsync(world.Url("/app"));
        await page.WaitForURLAsync("**/signin");
        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task WeakMasterPassword_IsRefusedWithTheReason_AndNothingIsSent()
    {
        await using var world = await AppWorld.StartAsync(browser);
        var page = world.Page;

        await page.GotoAsync(world.Url("/register"));
        await page.GetByLabel("Email address").FillAsync("alice.smith@example.org");
        await page.GetByLabel("Master password", new() { Exact = true }).FillAsync("alicesmith1");
        await page.GetByLabel("Master password again").FillAsync("alicesmith1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();

        var alert = page.GetByRole(AriaRole.Alert);
        await alert.GetByText("This master password is too weak").WaitForAsync();
        Assert.Contains("too easy to guess", await alert.InnerTextAsync(), StringComparison.Ordinal);
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("07-register-weak");

        await page.GetByLabel("Master password", new() { Exact = true }).FillAsync("Tr0ub4d&");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await alert.GetByText("Use at least 10 characters (this one has 8).").WaitForAsync();

        Assert.DoesNotContain(world.Requests, r => r.Url.Contains("/api/v1/accounts", StringComparison.Ordinal));
        Assert.Empty(world.Server.ReadOutbox());
        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task MagicLink_FromTheOutbox_SignsIn_AndTheMasterPasswordUnlocksAKeyTheCSharpClientWrapped()
    {
        await using var world = await AppWorld.StartAsync(browser);
        var page = world.Page;
        var email = IdentityKit.NewEmail("magic");
        await world.CreateAccountAsync(email, StrongPassword);

        await page.GotoAsync(world.Url("/signin"));
        await page.GetByLabel("Email address").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Email me a sign-in link" }).ClickAsync();
        await page.GetByText("a sign-in link is on its way").WaitForAsync();

        await page.GotoAsync(world.MailedLink(email, "magic-link"));
        await page.WaitForURLAsync("**/app");
        await page.GetByText($"Signed in as {email}.").WaitForAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Unlock" }).WaitForAsync();
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("08-magic-link-locked");

        await page.GetByLabel("Master password").FillAsync("not the password at all");
        await page.GetByRole(AriaRole.Button, new() { Name = "Unlock" }).ClickAsync();
        await page.GetByRole(AriaRole.Alert).GetByText("Wrong master password.").WaitForAsync();
        await page.GetByLabel("Master password").FillAsync(StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Unlock" }).ClickAsync();
        await page.GetByText("Your keys are unlocked in this browser").WaitForAsync();

        // A used link is refused with a sentence, not JSON.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/signin");
        await page.GotoAsync(world.MailedLink(email, "magic-link"));
        await page.GetByRole(AriaRole.Alert).GetByText("This link does not work any more").WaitForAsync();
        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task SignIn_WithTotp_AsksForTheCode_RefusesAWrongOne_AndSignsIn()
    {
        await using var world = await AppWorld.StartAsync(browser);
        var page = world.Page;
        var email = IdentityKit.NewEmail("totp");
        var user = await world.CreateAccountAsync(email, StrongPassword);
        var (secret, _) = await world.Server.EnableTotpAsync(user);
        world.Server.Time.Advance(TimeSpan.FromSeconds(30)); // the enrolment used the current step

        await page.GotoAsync(world.Url("/signin"));
        await page.GetByLabel("Email address").FillAsync(email);
        await page.GetByLabel("Master password").FillAsync(StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Two-factor authentication" }).WaitForAsync();
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("09-two-factor");

        var code = page.GetByLabel("Code from the authenticator app").Last;
        var right = Totp.Generate(secret, world.Server.Time.GetUtcNow());
        await code.FillAsync(right == "000000" ? "111111" : "000000");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        await page.GetByRole(AriaRole.Alert).GetByText("That code is not right").WaitForAsync();

        await code.FillAsync(right);
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        await page.WaitForURLAsync("**/app");
        await page.GetByText("Two-factor authentication is on").WaitForAsync();
        await page.GetByText("Your keys are unlocked in this browser").WaitForAsync();
        world.AssertNoPageProblems();
    }

    /// <summary>
    /// Starting the key-derivation worker (its lane workers, the Argon2 module) takes a good part of a derivation, so
    /// the app starts it when a password field gets the focus: the sign-in then uses that worker, not a second one.
    /// </summary>
    [ChromiumFact]
    public async Task PasswordFieldFocus_WarmsTheKdfWorker_AndTheSignInUsesThatWorker()
    {
        await using var world = await AppWorld.StartAsync(browser);
        var page = world.Page;
        var email = IdentityKit.NewEmail("warm");
        await world.CreateAccountAsync(email, StrongPassword);
        var kdfWorkers = 0;
        page.Worker += (_, worker) =>
        {
            if (worker.Url.Contains("/web/assets/kdf.worker-", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref kdfWorkers);
            }
        };

        await page.GotoAsync(world.Url("/signin"));
        await page.GetByLabel("Email address").FillAsync(email);
        var password = page.GetByLabel("Master password");
        await page.RunAndWaitForWorkerAsync(() => password.FocusAsync(), new() { Predicate = w => w.Url.Contains("/web/assets/kdf.worker-", StringComparison.Ordinal) });
        await password.FillAsync(StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/app");
        await page.GetByText("Your keys are unlocked in this browser").WaitForAsync();

        Assert.Equal(1, Volatile.Read(ref kdfWorkers));
        world.AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task SessionsPage_ListsTheSessions_EndsOne_AndSignsOutEverywhereElse()
    {
        await using var world = await AppWorld.StartAsync(browser);
        var page = world.Page;
        var email = IdentityKit.NewEmail("sessions");
        var first = await world.CreateAccountAsync(email, StrongPassword); // a session labelled "test"
        var laptop = await world.Server.LoginAsync(email, first.AuthToken, "laptop");

        await page.GotoAsync(world.Url("/signin"));
        await page.GetByLabel("Email address").FillAsync(email);
        await page.GetByLabel("Master password").FillAsync(StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/app");
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Sessions" }).ClickAsync();
        await page.GetByText("3 sessions").WaitForAsync();
        var table = await page.Locator("table.list").InnerTextAsync();
        Assert.Contains("Web browser (this browser)", table, StringComparison.Ordinal);
        Assert.Contains("laptop", table, StringComparison.Ordinal);
        await world.AssertAccessibleAsync();
        await world.ScreenshotAsync("10-sessions");

        await page.GetByRole(AriaRole.Button, new() { Name = "End the session laptop" }).ClickAsync();
        await page.GetByText("The session \"laptop\" is signed out.").WaitForAsync();
        await page.GetByText("2 sessions").WaitForAsync();
        using (var refused = await world.Server.PostAsync("/api/v1/auth/refresh", new { refreshToken = laptop.RefreshToken }))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out everywhere else" }).ClickAsync();
        await page.GetByText("1 other session is signed out.").WaitForAsync();
        await page.GetByText("1 session", new() { Exact = true }).WaitForAsync();
        using (var refused = await world.Server.PostAsync("/api/v1/auth/refresh", new { refreshToken = first.RefreshToken }))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // This browser's own session survived: a reload resumes it on the same page.
        await page.ReloadAsync();
        await page.GetByText("1 session", new() { Exact = true }).WaitForAsync();
        world.AssertNoPageProblems();
    }

    /// <summary>
    /// ADR 0006 "Argon2 in threads": the app page is cross-origin isolated, so the key derivation worker fills Argon2id's
    /// four lanes in parallel (itself plus lane workers over one shared memory, the reference C code in WebAssembly),
    /// and the keys it answers are exactly spec/vectors/keys-v1.json's.
    /// </summary>
    [ChromiumFact]
    public async Task KdfWorker_InTheCrossOriginIsolatedApp_FillsTheLanesInLaneWorkers_AndDerivesTheSpecVectors()
    {
        await using var world = await AppWorld.StartAsync(browser);
        var page = world.Page;
        await page.GotoAsync(world.Url("/"));
        await page.GetByRole(AriaRole.Heading, new() { Name = "Veil", Exact = true }).WaitForAsync();

        Assert.True(await page.EvaluateAsync<bool>("self.crossOriginIsolated"), "the app page is not cross-origin isolated");
        await AssertKdfWorkerDerivesTheSpecVectorsAsync(page, await KdfWorkerUrlAsync(world));
        Assert.Contains(world.Requests, r => r.Url.Contains("/web/assets/lane.worker-", StringComparison.Ordinal));
        world.AssertNoPageProblems();
    }

    /// <summary>
    /// The fallback: behind something that drops Cross-Origin-Embedder-Policy the page is not cross-origin isolated
    /// (no SharedArrayBuffer), and the same worker derives the same keys with hash-wasm on its own thread.
    /// </summary>
    [ChromiumFact]
    public async Task KdfWorker_InAPageThatIsNotCrossOriginIsolated_FallsBackToOneThread_AndDerivesTheSpecVectors()
    {
        await using var world = await AppWorld.StartAsync(browser);
        var page = world.Page;
        await page.RouteAsync("**/*", async route =>
        {
            var response = await route.FetchAsync();
            var headers = response.Headers.Where(h => !h.Key.Equals("cross-origin-embedder-policy", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(h => h.Key, h => h.Value);
            await route.FulfillAsync(new() { Response = response, Headers = headers });
        });
        await page.GotoAsync(world.Url("/"));
        await page.GetByRole(AriaRole.Heading, new() { Name = "Veil", Exact = true }).WaitForAsync();

        Assert.False(await page.EvaluateAsync<bool>("self.crossOriginIsolated"), "the page is still cross-origin isolated");
        await AssertKdfWorkerDerivesTheSpecVectorsAsync(page, await KdfWorkerUrlAsync(world));
        Assert.DoesNotContain(world.Requests, r => r.Url.Contains("/web/assets/lane.worker-", StringComparison.Ordinal));
        world.AssertNoPageProblems();
    }

    /// <summary>Runs the app's kdf worker in the page for every case of spec/vectors/keys-v1.json and compares enc and auth.</summary>
    private static async Task AssertKdfWorkerDerivesTheSpecVectorsAsync(IPage page, string workerUrl)
    {
        using var vectors = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(WebClientTests.RepositoryRoot(), "spec", "vectors", "keys-v1.json")));
        foreach (var vector in vectors.RootElement.GetProperty("cases").EnumerateArray())
        {
            var keys = await page.EvaluateAsync<string[]>(
                """
                ([url, password, email, saltHex]) => new Promise((resolve, reject) => {
                  const salt = btoa(String.fromCharCode(...saltHex.match(/../g).map((h) => parseInt(h, 16))))
                    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
                  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
                  const worker = new Worker(url, { type: "module" });
                  worker.onmessage = (event) => {
                    worker.terminate();
                    event.data.ok ? resolve([hex(event.data.keys.enc), hex(event.data.keys.auth)]) : reject(new Error(event.data.message));
                  };
                  worker.onerror = (event) => { worker.terminate(); reject(new Error(event.message)); };
                  worker.postMessage({ password, email, salt, memoryKiB: 65536, iterations: 3, parallelism: 4 });
                })
                """,
                new[] { workerUrl, vector.GetProperty("password").GetString(), vector.GetProperty("email").GetString(), vector.GetProperty("salt").GetString() });

            Assert.Equal(vector.GetProperty("enc").GetString(), keys[0]);
            Assert.Equal(vector.GetProperty("auth").GetString(), keys[1]);
        }
    }

    /// <summary>The app's key derivation worker, as the build named it: referenced by the app page's entry or its preloads.</summary>
    private static async Task<string> KdfWorkerUrlAsync(AppWorld world)
    {
        var html = await world.Server.Client.GetStringAsync(new Uri("/", UriKind.Relative));
        foreach (Match script in Regex.Matches(html, "<(?:script[^>]*\\ssrc|link[^>]*rel=\"modulepreload\"[^>]*\\shref)=\"([^\"]+\\.js)\""))
        {
            var text = await world.Server.Client.GetStringAsync(new Uri(script.Groups[1].Value, UriKind.Relative));
            if (Regex.Match(text, "/web/assets/kdf\\.worker-[A-Za-z0-9_-]+\\.js") is { Success: true } found)
            {
                return found.Value;
            }
        }

        throw new InvalidOperationException("no kdf.worker-*.js referenced by the app page");
    }
}
