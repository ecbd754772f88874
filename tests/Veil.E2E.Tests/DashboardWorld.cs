using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.E2E.Tests;

/// <summary>
/// A Chromium profile signed in to a running test server (no Veil:PublicOrigin, so the cookie CSRF check compares
/// with the address the browser uses): every request the browser sends is recorded (method, URL, headers, body),
/// every console error and page error too, axe-core runs on demand, and screenshots are written for a person to
/// look at. The server belongs to the caller.
/// </summary>
internal sealed class DashboardWorld : IAsyncDisposable
{
    private readonly List<string> _problems = [];
    private readonly List<string> _requests = [];

    private DashboardWorld(VeilTestServer server, IBrowserContext context, IPage page)
    {
        Server = server;
        Context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            // Chromium logs every 4xx answer as a failed resource: a refused refresh (no session yet) on a first load,
            // or a refusal the page turns into a sentence, which the tests assert. Anything else is a problem.
            if (message.Type == "error" && !System.Text.RegularExpressions.Regex.IsMatch(message.Text, "the server responded with a status of 4[0-9][0-9]"))
            {
                lock (_problems)
                {
                    _problems.Add("console: " + message.Text + " at " + message.Location);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_problems)
            {
                _problems.Add("page error: " + error);
            }
        };
        context.Request += (_, request) =>
        {
            var seen = request.Method + " " + request.Url + "\n" + string.Join("\n", request.Headers.Select(h => h.Key + ": " + h.Value)) + "\n" + request.PostData;
            lock (_requests)
            {
                _requests.Add(seen);
            }
        };
    }

    public VeilTestServer Server { get; }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public static async Task<DashboardWorld> StartAsync(Browser browser, VeilTestServer server)
    {
        var context = await browser.NewContextAsync();
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        return new DashboardWorld(server, context, await context.NewPageAsync());
    }

    public string Url(string path) => new Uri(Server.BaseAddress, path).ToString();

    /// <summary>
    /// Signs <paramref name="user"/> in for this browser profile the way the sign-in page ends: the login answer sets
    /// the HttpOnly refresh cookie in the profile, and the app resumes the session from it on the next page load.
    /// </summary>
    public async Task SignInAsync(TestUser user)
    {
        var response = await Context.APIRequest.PostAsync(Url("/api/v1/auth/login"), new()
        {
            DataObject = new { email = user.Email, authToken = user.AuthToken, clientLabel = "Chromium test", tokenTransport = "cookie" },
        });
        Assert.True(response.Ok, await response.TextAsync());
        Assert.Contains(await Context.CookiesAsync(), c => c.Name == "veil_refresh" && c.HttpOnly);

        // The sign-in page also leaves the "signed in here" hint (web/src/session/store.ts): without it the app does not
        // ask the refresh cookie on load (no 401 for anonymous visitors), so set it as the page would have.
        await Page.GotoAsync(Url("/signin"));
        await Page.EvaluateAsync("() => localStorage.setItem('veil.signed-in', '1')");
    }

    /// <summary>Opens an app page and waits until the session resumed and the page's heading is there.</summary>
    public async Task OpenAsync(string path, string heading)
    {
        await Page.GotoAsync(Url(path));
        await Page.GetByRole(AriaRole.Heading, new() { Name = heading, Level = 1 }).WaitForAsync();
    }

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The secret appeared in no request the browser made (URL, header or body).</summary>
    public void AssertNeverSent(string secret)
    {
        var requests = Requests;
        Assert.NotEmpty(requests);
        Assert.DoesNotContain(requests, r => r.Contains(secret, StringComparison.Ordinal));
    }

    public void AssertNoPageProblems()
    {
        lock (_problems)
        {
            Assert.True(_problems.Count == 0, "the page logged errors:\n" + string.Join("\n", _problems));
        }
    }

    /// <summary>axe-core from web/node_modules, evaluated through the DevTools protocol (the page CSP stays intact): no serious or critical violation.</summary>
    public async Task AssertAccessibleAsync()
    {
        await Page.EvaluateAsync(AxeSource.Value);
        var found = await Page.EvaluateAsync<JsonElement>("""
            async () => {
              const result = await axe.run(document, { resultTypes: ["violations"] });
              return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => v.id + " (" + v.impact + "): " + v.nodes.map(n => n.target.join(" ")).join(", "));
            }
            """);
        var violations = found.EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.True(violations.Count == 0, "axe on " + Page.Url + ":\n" + string.Join("\n", violations));
    }

    /// <summary>A full-page screenshot in VEIL_SCREENSHOTS (or bin/.../screenshots), at 1280 px and at 360 px wide.</summary>
    public async Task ScreenshotAsync(string name)
    {
        var folder = Environment.GetEnvironmentVariable("VEIL_SCREENSHOTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = true });
        var size = Page.ViewportSize;
        await Page.SetViewportSizeAsync(360, 740);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + "-360.png"), FullPage = true });
        if (size is not null)
        {
            await Page.SetViewportSizeAsync(size.Width, size.Height);
        }
    }

    /// <summary>GET an API path as <paramref name="user"/> (the test's own view of the server, not the browser's).</summary>
    public async Task<JsonElement> ApiAsync(TestUser user, string path)
    {
        using var response = await Server.SendAsync(HttpMethod.Get, path, bearer: user.AccessToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();

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
}
