using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Veil.Client.Crypto;
using Veil.Crypto.Client;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.E2E.Tests;

/// <summary>
/// One test's world for the web app: the real server on loopback with Identity's rate limits raised and no
/// Veil:PublicOrigin (so the links it mails name the address the browser uses, and the cookie CSRF check compares
/// with it), a fresh Chromium profile, every request the browser sends recorded (URL, headers, body), and every
/// console error, page error and CSP violation recorded.
/// </summary>
internal sealed partial class AppWorld : IAsyncDisposable
{
    private readonly List<string> _problems = [];
    private readonly List<RecordedRequest> _requests = [];

    private AppWorld(VeilTestServer server, IBrowserContext context, IPage page)
    {
        Server = server;
        Context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            // An API answering 4xx (no session on first load, a used link, a wrong code) is a problem the page shows
            // as a sentence, and Chromium logs it as a failed resource; anything else logged as an error counts.
            if (message.Type == "error" && !ClientErrorResource().IsMatch(message.Text))
            {
                lock (_problems)
                {
                    _problems.Add("console: " + message.Text);
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
            var recorded = new RecordedRequest(request.Method, request.Url,
                string.Join("\n", request.Headers.Select(h => h.Key + ": " + h.Value)), request.PostData ?? "");
            lock (_requests)
            {
                _requests.Add(recorded);
            }
        };
    }

    public VeilTestServer Server { get; }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public static async Task<AppWorld> StartAsync(Browser browser)
    {
        var server = await IdentityKit.StartIdentityServerAsync(o => o.Settings.Remove("Veil:PublicOrigin"));
        try
        {
            var context = await browser.NewContextAsync();
            return new AppWorld(server, context, await context.NewPageAsync());
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public string Url(string path) => new Uri(Server.BaseAddress, path).ToString();

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The whole link of the newest mail to <paramref name="email"/> that carries <paramref name="path"/>#token.</summary>
    public string MailedLink(string email, string path)
    {
        var pattern = new Regex(@"(https?://\S+/" + Regex.Escape(path) + "#[A-Za-z0-9_-]{43})");
        var mail = Server.ReadOutbox().Last(m => m.Headers.TryGetValue("To", out var to)
            && to.Contains(email, StringComparison.OrdinalIgnoreCase) && pattern.IsMatch(m.TextBody));
        return pattern.Match(mail.TextBody).Groups[1].Value;
    }

    /// <summary>An account made by the C# client code (ClientKeyDerivation, ProtectedUserKey) through the API and verified.</summary>
    public Task<TestUser> CreateAccountAsync(string email, string password) => CreateAccountAsync(Server, email, password);

    /// <summary>As <see cref="CreateAccountAsync(string, string)"/>, on any test server (for worlds that share one).</summary>
    public static async Task<TestUser> CreateAccountAsync(VeilTestServer server, string email, string password)
    {
        ArgumentNullException.ThrowIfNull(server);
        var salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        using var keys = ClientKeyDerivation.Derive(password, email, salt);
        using var userKey = ProtectedUserKey.NewUserKey();
        var authToken = Base64(keys.AuthenticationToken);
        var protectedUserKey = ProtectedUserKey.Wrap(keys.EncryptionKey, userKey);
        using (var register = await server.PostAsync("/api/v1/accounts", new { email, authToken, kdf = IdentityKit.DefaultKdf(salt), protectedUserKey }))
        {
            Assert.Equal(HttpStatusCode.Accepted, register.StatusCode);
        }

        using (var verify = await server.PostAsync("/api/v1/accounts/verify-email", new { token = server.LatestLinkToken(email) }))
        {
            Assert.Equal(HttpStatusCode.OK, verify.StatusCode);
        }

        var tokens = await server.LoginAsync(email, authToken);
        return new TestUser(email, authToken, tokens.AccountId, tokens.AccessToken, tokens.RefreshToken!, tokens.SessionId);
    }

    /// <summary>The keys the C# client derives for this account (salt from prelogin): what the page must never send.</summary>
    public async Task<(string AuthToken, byte[] EncryptionKey)> ExpectedKeysAsync(string email, string password)
    {
        using var prelogin = await Server.PostAsync("/api/v1/auth/prelogin", new { email });
        var salt = CryptoRandom.FromBase64Url((await prelogin.JsonAsync()).GetProperty("salt").GetString()!)!;
        using var keys = ClientKeyDerivation.Derive(password, email, salt);
        using var lease = keys.EncryptionKey.Acquire();
        return (Base64(keys.AuthenticationToken), lease.Span.ToArray());
    }

    /// <summary>Zero knowledge in the page: no recorded request (URL, headers, body) carries the password or `enc` (hex, base64, base64url).</summary>
    public void AssertNeverSent(string password, byte[] enc)
    {
        foreach (var request in Requests)
        {
            Assert.DoesNotContain(password, request.All, StringComparison.Ordinal);
            Assert.DoesNotContain(Uri.EscapeDataString(password), request.All, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexStringLower(enc), request.All, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(CryptoRandom.ToBase64Url(enc), request.All, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(enc), request.All, StringComparison.Ordinal);
        }
    }

    /// <summary>axe-core from web/node_modules, evaluated through the DevTools protocol (the page CSP stays intact).</summary>
    public async Task<IReadOnlyList<string>> SeriousAccessibilityViolationsAsync()
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
        return [.. found.EnumerateArray().Select(v => v.GetString()!)];
    }

    public async Task AssertAccessibleAsync()
    {
        var violations = await SeriousAccessibilityViolationsAsync();
        Assert.True(violations.Count == 0, "axe: " + string.Join("\n", violations));
    }

    /// <summary>Writes a screenshot to VEIL_SCREENSHOTS or bin/.../screenshots, for a person to look at.</summary>
    public async Task ScreenshotAsync(string name)
    {
        var folder = Environment.GetEnvironmentVariable("VEIL_SCREENSHOTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }

    public void AssertNoPageProblems()
    {
        lock (_problems)
        {
            Assert.True(_problems.Count == 0, string.Join("\n", _problems));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        await Server.DisposeAsync();
    }

    private static string Base64(SecretBytes secret)
    {
        using var lease = secret.Acquire();
        return CryptoRandom.ToBase64Url(lease.Span);
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
}

internal sealed partial class AppWorld
{
    [GeneratedRegex(@"^Failed to load resource: the server responded with a status of 4\d\d")]
    private static partial Regex ClientErrorResource();
}

internal sealed record RecordedRequest(string Method, string Url, string Headers, string Body)
{
    public string All => Method + " " + Url + "\n" + Headers + "\n" + Body;
}
