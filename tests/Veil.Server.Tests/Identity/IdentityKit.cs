// Intent helpers for Identity integration tests: everything goes over real HTTP to the real server.
// Clients are simulated with Veil.Crypto: tests that need the real key hierarchy call
// ClientKeyDerivation; others use a random 32-byte auth token, which is all the server ever sees
// (it cannot tell the two apart), so the suite stays fast.
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Veil.Crypto.Otp;
using Veil.Crypto.Primitives;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Identity;

public sealed record TestUser(string Email, string AuthToken, Guid AccountId, string AccessToken, string RefreshToken, Guid SessionId)
{
    public TestUser With(TokenSet tokens) => this with { AccessToken = tokens.AccessToken, RefreshToken = tokens.RefreshToken ?? RefreshToken, SessionId = tokens.SessionId };
}

public sealed record TokenSet(string AccessToken, string? RefreshToken, Guid SessionId, Guid AccountId);

public static partial class IdentityKit
{
    public const string Origin = "https://veil.test";

    private static readonly string[] Policies = ["identity-signin", "identity-prelogin", "identity-magic-link-ip", "identity-signin-target", "identity-magic-link-target", "identity-mail-target", "ip", "account-requests"];

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A server with Identity's rate limits raised so tests are limited only where they mean to be.</summary>
    public static Task<VeilTestServer> StartIdentityServerAsync(Action<VeilTestServerOptions>? configure = null) =>
        VeilTestServer.StartAsync(options =>
        {
            options.Settings["Veil:PublicOrigin"] = Origin;
            foreach (var policy in Policies)
            {
                options.Settings[$"Veil:RateLimits:{policy}:PermitLimit"] = "100000";
            }

            configure?.Invoke(options);
        });

    public static string NewEmail(string prefix = "user") => $"{prefix}-{Guid.NewGuid():N}@example.org";

    public static string NewAuthToken() => CryptoRandom.ToBase64Url(RandomNumberGenerator.GetBytes(32));

    public static object DefaultKdf(byte[]? salt = null) => new
    {
        kdf = "argon2id",
        memoryKiB = 65536,
        iterations = 3,
        parallelism = 4,
        salt = CryptoRandom.ToBase64Url(salt ?? RandomNumberGenerator.GetBytes(16)),
    };

    public static async Task<HttpResponseMessage> SendAsync(this VeilTestServer server, HttpMethod method, string path, object? body = null, string? bearer = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = body is string raw ? new StringContent(raw, System.Text.Encoding.UTF8, "application/json") : JsonContent.Create(body, options: Json);
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        configure?.Invoke(request);
        return await server.Client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PostAsync(this VeilTestServer server, string path, object? body, string? bearer = null) =>
        server.SendAsync(HttpMethod.Post, path, body ?? new { }, bearer);

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>(Json));

    public static async Task<string> ProblemCodeAsync(this HttpResponseMessage response) =>
        (await response.JsonAsync()).GetProperty("code").GetString()!;

    public static async Task ExpectProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(code, JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<VeilTestServer, HashSet<string>> SeenMail = [];

    /// <summary>
    /// The token of a mailed link to <paramref name="email"/> not returned before (the URL fragment).
    /// Outbox file names carry the (manual, often equal) clock time, so "newest" is tracked by what was already taken.
    /// </summary>
    public static string LatestLinkToken(this VeilTestServer server, string email)
    {
        var seen = SeenMail.GetOrCreateValue(server);
        lock (seen)
        {
            var mail = server.ReadOutbox().FirstOrDefault(m => !seen.Contains(m.FileName) && m.Headers.TryGetValue("To", out var to)
                    && to.Contains(email, StringComparison.OrdinalIgnoreCase) && LinkPattern().IsMatch(m.TextBody))
                ?? throw new InvalidOperationException("no new link was mailed to the address");
            seen.Add(mail.FileName);
            return LinkPattern().Match(mail.TextBody).Groups[1].Value;
        }
    }

    public static int MailCount(this VeilTestServer server, string email) =>
        server.ReadOutbox().Count(m => m.Headers.TryGetValue("To", out var to) && to.Contains(email, StringComparison.OrdinalIgnoreCase));

    /// <summary>Registers, opens the verification link and signs in (refresh token in the body).</summary>
    public static async Task<TestUser> RegisterUserAsync(this VeilTestServer server, string? email = null, string? authToken = null, string protectedUserKey = "v1.test-wrapped-key")
    {
        email ??= NewEmail();
        authToken ??= NewAuthToken();
        using (var register = await server.PostAsync("/api/v1/accounts", new { email, authToken, kdf = DefaultKdf(), protectedUserKey }))
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

    public static async Task<TokenSet> LoginAsync(this VeilTestServer server, string email, string authToken, string label = "test")
    {
        using var response = await server.PostAsync("/api/v1/auth/login", new { email, authToken, clientLabel = label, tokenTransport = "body" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"login: {(int)response.StatusCode} {text}");
        return ParseTokens(JsonDocument.Parse(text).RootElement);
    }

    public static TokenSet ParseTokens(JsonElement json) => new(
        json.GetProperty("accessToken").GetString()!,
        json.TryGetProperty("refreshToken", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null,
        json.GetProperty("sessionId").GetGuid(),
        json.GetProperty("accountId").GetGuid());

    public static async Task<TokenSet> RefreshAsync(this VeilTestServer server, string refreshToken)
    {
        using var response = await server.PostAsync("/api/v1/auth/refresh", new { refreshToken });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return ParseTokens(await response.JsonAsync());
    }

    /// <summary>Starts and confirms TOTP; returns the secret and the backup codes.</summary>
    public static async Task<(byte[] Secret, string[] BackupCodes)> EnableTotpAsync(this VeilTestServer server, TestUser user)
    {
        using var start = await server.PostAsync("/api/v1/account/2fa/totp", null, user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        var secret = Base32.Decode((await start.JsonAsync()).GetProperty("secret").GetString())!;
        using var confirm = await server.PostAsync("/api/v1/account/2fa/totp/confirm", new { code = Totp.Generate(secret, server.Time.GetUtcNow()) }, user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        var codes = (await confirm.JsonAsync()).GetProperty("backupCodes").EnumerateArray().Select(c => c.GetString()!).ToArray();
        return (secret, codes);
    }

    public static async Task<string> CreateApiKeyAsync(this VeilTestServer server, TestUser user, string name = "script")
    {
        using var response = await server.PostAsync("/api/v1/account/api-keys", new { name }, user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("key").GetString()!;
    }

    public static async Task<string[]> RecoveryCodesAsync(this VeilTestServer server, TestUser user)
    {
        using var response = await server.PostAsync("/api/v1/account/recovery-codes", null, user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.JsonAsync()).GetProperty("recoveryCodes").EnumerateArray().Select(c => c.GetString()!)];
    }

    [GeneratedRegex(@"/(?:magic-link|verify-email)#([A-Za-z0-9_-]{43})")]
    private static partial Regex LinkPattern();
}
