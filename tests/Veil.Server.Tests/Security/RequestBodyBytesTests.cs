// Issue 14, finding 6: invalid UTF-8 or an escaped lone surrogate in a JSON body answered 500 where a handler read
// the string (Alias and Drop PATCH). Every endpoint now answers such a body with the malformed-json problem and
// changes nothing; parallel refreshes of one refresh token never answer 500 either.
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Veil.Server.Identity.Services;
using Veil.Server.Platform.Problems;
using Veil.Server.Tests.Drop;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Veil.Server.Tests.Vault;
using Xunit;

namespace Veil.Server.Tests.Security;

public sealed class RequestBodyBytesTests
{
    /// <summary>Bodies System.Text.Json parses but whose strings cannot become .NET strings.</summary>
    public static readonly TheoryData<string, byte[]> BadBodies = new()
    {
        { "escaped lone high surrogate in a value", Ascii("{\"note\":\"\\ud800\",\"maxDownloads\":2}") },
        { "escaped lone low surrogate as a name", Ascii("{\"\\udfff\":1}") },
        { "high surrogate followed by a letter", Ascii("{\"note\":\"\\ud800\\u0041\"}") },
        { "invalid UTF-8 bytes in a value", Concat("{\"note\":\"", [0xFF, 0xFE], "\"}") },
        { "lone surrogate in the refresh token itself", Ascii("{\"refreshToken\":\"\\ud800\",\"note\":\"\\ud800\"}") },
        { "truncated UTF-8 sequence in a name", Concat("{\"", [0xC3], "\":1}") },
        { "UTF-8-encoded surrogate", Concat("{\"email\":\"", [0xED, 0xA0, 0x80], "@example.org\"}") },
        { "overlong encoding of a slash", Concat("{\"email\":\"a", [0xC0, 0xAF], "b@example.org\"}") },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task EveryJsonEndpoint_BadBytes_AnswersMalformedJsonAndChangesNothing(string what, byte[] body)
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o =>
        {
            o.Settings["Veil:Alias:Domains:0"] = "alias.test";
            o.Settings["Veil:RateLimits:alias-recipient:PermitLimit"] = "100000";
            o.Settings["Veil:RateLimits:drop-create:PermitLimit"] = "100000";
        });
        var user = await server.RegisterUserAsync();
        var alias = await CreateAliasAsync(server, user);
        var drop = await new DropApi(server.Client).CreateAsync(DropApi.ContentSizeFor(10));
        var vault = await server.CreateVaultAsync(user);
        (HttpMethod Method, string Path, Action<HttpRequestMessage>? Auth)[] endpoints =
        [
            (HttpMethod.Patch, $"/api/v1/alias/aliases/{alias}", Bearer(user)),
            (HttpMethod.Patch, $"/api/v1/alias/contacts/{Guid.NewGuid()}", Bearer(user)),
            (HttpMethod.Post, "/api/v1/alias/aliases", Bearer(user)),
            (HttpMethod.Post, "/api/v1/alias/recipients", Bearer(user)),
            (HttpMethod.Post, "/api/v1/alias/recipients/verify", null),
            (HttpMethod.Patch, $"/api/v1/drops/{drop.Id}", r => r.Headers.Add("X-Owner-Token", drop.OwnerToken)),
            (HttpMethod.Post, "/api/v1/drops", null),
            (HttpMethod.Post, "/api/v1/accounts", null),
            (HttpMethod.Post, "/api/v1/auth/prelogin", null),
            (HttpMethod.Post, "/api/v1/auth/login", null),
            (HttpMethod.Post, "/api/v1/auth/magic-link", null),
            (HttpMethod.Post, "/api/v1/auth/magic-link/consume", null),
            (HttpMethod.Post, "/api/v1/auth/refresh", null),
            (HttpMethod.Put, "/api/v1/account/recovery-email", Bearer(user)),
            (HttpMethod.Post, "/api/v1/vault/vaults", Bearer(user)),
            // Reads its own body (it raises the size limit inside the handler): answered by the exception handler's net.
            (HttpMethod.Put, $"/api/v1/vault/vaults/{vault.Id}/items/{VaultKit.NewId()}", Bearer(user)),
        ];

        foreach (var (method, path, auth) in endpoints)
        {
            using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            auth?.Invoke(request);
            using var response = await server.Client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode is >= 400 and < 500, $"{what}: {method} {path} answered {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

            // Endpoints that bind a JSON body are refused before their handler runs. The refresh endpoint reads only its
            // refreshToken member (others are ignored, so a bad "note" leaves it without a token: 401), and the Vault item
            // reads its own body; both may answer otherwise, but never with a 500.
            if (!path.Contains("/items/", StringComparison.Ordinal) && !path.EndsWith("/auth/refresh", StringComparison.Ordinal))
            {
                Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {method} {path} answered {(int)response.StatusCode} {text}");
                Assert.Contains("\"code\":\"malformed-json\"", text, StringComparison.Ordinal);
            }
        }

        using var after = await server.SendAsync(HttpMethod.Get, $"/api/v1/alias/aliases/{alias}", bearer: user.AccessToken);
        Assert.Equal("unchanged", (await after.JsonAsync()).GetProperty("note").GetString());
        Assert.DoesNotContain("[1300]", server.Logs.AllText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"note\":\"\\ud83d\\ude00 paired surrogates are fine\"}", true)]
    [InlineData("{\"note\":\"caf\u00e9\"}", true)]
    [InlineData("{\"note\":", true)] // a syntax error stays the binder's to answer
    [InlineData("{\"note\":\"\\ud83d\"}", false)]
    public void IsDecodable_TellsWellFormedStringsFromBrokenOnes(string json, bool expected) =>
        Assert.Equal(expected, JsonBodyGuardMiddleware.IsDecodable(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public async Task Refresh_ParallelUsesOfOneToken_OneWinsTheOthersAreSupersededAndTheSessionLives()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        for (var round = 0; round < 5; round++)
        {
            var user = await server.RegisterUserAsync();
            var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => server.PostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken })));
            var outcomes = new List<(HttpStatusCode Status, string Text)>();
            foreach (var response in responses)
            {
                outcomes.Add((response.StatusCode, await response.Content.ReadAsStringAsync()));
                response.Dispose();
            }

            // Exactly one request rotated the token; every other lost the race: 409 refresh-token-superseded, never
            // a 500 and never a revocation.
            Assert.Equal(1, outcomes.Count(o => o.Status == HttpStatusCode.OK));
            Assert.All(outcomes.Where(o => o.Status != HttpStatusCode.OK), o => Assert.True(o.Status == HttpStatusCode.Conflict
                && o.Text.Contains("\"code\":\"refresh-token-superseded\"", StringComparison.Ordinal), $"{(int)o.Status} {o.Text}"));

            // The winner's session lives: its new refresh token rotates and the access token still works.
            var winner = IdentityKit.ParseTokens(System.Text.Json.JsonDocument.Parse(outcomes.Single(o => o.Status == HttpStatusCode.OK).Text).RootElement);
            using (var access = await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: winner.AccessToken))
            {
                Assert.Equal(HttpStatusCode.OK, access.StatusCode);
            }

            // The family rule: past the race window, the rotated token coming back is a reuse and ends the session.
            server.Time.Advance(SessionIssuer.RaceWindow + TimeSpan.FromSeconds(1));
            using (var reuse = await server.PostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken }))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, reuse.StatusCode);
                Assert.Contains("\"code\":\"refresh-token-reused\"", await reuse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using (var after = await server.PostAsync("/api/v1/auth/refresh", new { refreshToken = winner.RefreshToken }))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
            }

            using var ended = await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: winner.AccessToken);
            Assert.Equal(HttpStatusCode.Unauthorized, ended.StatusCode);
        }

        Assert.DoesNotContain("[1300]", server.Logs.AllText, StringComparison.Ordinal);
    }

    private static Action<HttpRequestMessage> Bearer(TestUser user) =>
        r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);

    private static async Task<Guid> CreateAliasAsync(VeilTestServer server, TestUser user)
    {
        const string Mailbox = "me@mailbox.test";
        using (var added = await server.PostAsync("/api/v1/alias/recipients", new { email = Mailbox }, user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        var token = Regex.Match(server.ReadOutbox().Last(m => m.Headers["To"].Contains(Mailbox, StringComparison.Ordinal)).TextBody, "/alias/verify/([A-Za-z0-9_-]{43})").Groups[1].Value;
        using (var verify = await server.PostAsync("/api/v1/alias/recipients/verify", new { token }))
        {
            Assert.Equal(HttpStatusCode.OK, verify.StatusCode);
        }

        using var created = await server.PostAsync("/api/v1/alias/aliases", new { note = "unchanged" }, user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.JsonAsync()).GetProperty("id").GetGuid();
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private static byte[] Concat(string before, byte[] bad, string after) => [.. Ascii(before), .. bad, .. Ascii(after)];
}
