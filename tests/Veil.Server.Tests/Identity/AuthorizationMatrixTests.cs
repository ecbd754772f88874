// The authorization matrix: every signed-in endpoint × every bad credential. A new endpoint joins
// by adding one row to Endpoints (sign-in required) or OptionalSignInEndpoints (anonymous callers
// allowed, e.g. Drop's owner endpoints, where the owner token is the alternative); {session},
// {apiKey}, {drop}, {recipient}, {alias} and {contact} in a path are replaced by user A's ids.
using System.Net;
using System.Text.Json;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Identity;

public sealed class AuthorizationMatrixFixture : IAsyncLifetime
{
    public VeilTestServer Server { get; private set; } = null!;

    /// <summary>User A, signed in now.</summary>
    public TestUser Owner { get; private set; } = null!;

    public string ExpiredAccessToken { get; private set; } = "";

    public string RotatedRefreshToken { get; private set; } = "";

    public string RevokedApiKey { get; private set; } = "";

    public Guid OwnerApiKeyId { get; private set; }

    /// <summary>A drop user A created while signed in (not finalized).</summary>
    public string OwnerDropId { get; private set; } = "";

    /// <summary>User A's verified alias recipient, alias and contact.</summary>
    public Guid OwnerRecipientId { get; private set; }

    public Guid OwnerAliasId { get; private set; }

    public Guid OwnerContactId { get; private set; }

    public async Task InitializeAsync()
    {
        Server = await IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:Alias:Domains:0"] = "alias.test");
        var owner = await Server.RegisterUserAsync();
        ExpiredAccessToken = owner.AccessToken;
        RevokedApiKey = await Server.CreateApiKeyAsync(owner, "to revoke");
        using (var list = await Server.SendAsync(HttpMethod.Get, "/api/v1/account/api-keys", bearer: owner.AccessToken))
        {
            var id = (await list.JsonAsync()).EnumerateArray().Single().GetProperty("id").GetGuid();
            using var revoke = await Server.SendAsync(HttpMethod.Delete, $"/api/v1/account/api-keys/{id}", bearer: owner.AccessToken);
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        Server.Time.Advance(TimeSpan.FromMinutes(16));
        var fresh = await Server.LoginAsync(owner.Email, owner.AuthToken);
        Owner = owner with { AccessToken = fresh.AccessToken, RefreshToken = fresh.RefreshToken!, SessionId = fresh.SessionId };
        RotatedRefreshToken = Owner.RefreshToken;
        var rotated = await Server.RefreshAsync(RotatedRefreshToken);
        Owner = Owner with { RefreshToken = rotated.RefreshToken!, AccessToken = rotated.AccessToken };
        await Server.CreateApiKeyAsync(Owner, "kept");
        using var keys = await Server.SendAsync(HttpMethod.Get, "/api/v1/account/api-keys", bearer: Owner.AccessToken);
        OwnerApiKeyId = (await keys.JsonAsync()).EnumerateArray().Single().GetProperty("id").GetGuid();
        using var drop = await Server.PostAsync("/api/v1/drops", new { contentSize = 100, expiresInSeconds = 3600 }, Owner.AccessToken);
        Assert.Equal(HttpStatusCode.Created, drop.StatusCode);
        OwnerDropId = (await drop.JsonAsync()).GetProperty("id").GetString()!;
        (OwnerRecipientId, OwnerAliasId, OwnerContactId) = await Alias.AliasMatrix.CreateOwnedAsync(Server, Owner);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class AuthorizationMatrixTests(AuthorizationMatrixFixture fixture) : IClassFixture<AuthorizationMatrixFixture>
{
    /// <summary>Method, path, JSON body (or null).</summary>
    public static TheoryData<string, string, string?> Endpoints => new()
    {
        { "GET", "/api/v1/account", null },
        { "GET", "/api/v1/account/keys", null },
        { "POST", "/api/v1/auth/step-up", "{}" },
        { "POST", "/api/v1/account/password", "{}" },
        { "POST", "/api/v1/account/email", "{}" },
        { "PUT", "/api/v1/account/recovery-email", "{}" },
        { "DELETE", "/api/v1/account", null },
        { "GET", "/api/v1/account/export", null },
        { "GET", "/api/v1/account/2fa", null },
        { "POST", "/api/v1/account/2fa/totp", "{}" },
        { "POST", "/api/v1/account/2fa/totp/confirm", "{}" },
        { "DELETE", "/api/v1/account/2fa/totp", null },
        { "POST", "/api/v1/account/2fa/backup-codes", "{}" },
        { "POST", "/api/v1/account/recovery-codes", "{}" },
        { "GET", "/api/v1/account/sessions", null },
        { "DELETE", "/api/v1/account/sessions/{session}", null },
        { "POST", "/api/v1/account/sessions/revoke-others", "{}" },
        { "GET", "/api/v1/account/sessions/current/unlock-share", null },
        { "POST", "/api/v1/account/api-keys", "{\"name\":\"x\"}" },
        { "GET", "/api/v1/account/api-keys", null },
        { "DELETE", "/api/v1/account/api-keys/{apiKey}", null },
        { "GET", "/api/v1/alias/domains", null },
        { "POST", "/api/v1/alias/recipients", "{\"email\":\"x@example.net\"}" },
        { "GET", "/api/v1/alias/recipients", null },
        { "DELETE", "/api/v1/alias/recipients/{recipient}", null },
        { "POST", "/api/v1/alias/recipients/{recipient}/resume", "{}" },
        { "POST", "/api/v1/alias/recipients/{recipient}/resend", "{}" },
        { "POST", "/api/v1/alias/aliases", "{}" },
        { "GET", "/api/v1/alias/aliases", null },
        { "GET", "/api/v1/alias/aliases/{alias}", null },
        { "PATCH", "/api/v1/alias/aliases/{alias}", "{\"enabled\":false}" },
        { "DELETE", "/api/v1/alias/aliases/{alias}", null },
        { "GET", "/api/v1/alias/aliases/{alias}/contacts", null },
        { "POST", "/api/v1/alias/aliases/{alias}/contacts", "{\"address\":\"x@example.net\"}" },
        { "PATCH", "/api/v1/alias/contacts/{contact}", "{\"blocked\":true}" },
        { "DELETE", "/api/v1/alias/contacts/{contact}", null },
        { "GET", "/api/v1/alias/log", null },
        { "GET", "/api/v1/alias/usage", null },
    };

    /// <summary>Endpoints anyone may call, where a credential, once sent, must be valid (AllowVeilUser).</summary>
    public static TheoryData<string, string, string?> OptionalSignInEndpoints => new()
    {
        { "GET", "/api/v1/drops/{drop}/owner", null },
        { "GET", "/api/v1/drops/{drop}/parts", null },
        { "PUT", "/api/v1/drops/{drop}/parts/0", "{}" },
        { "PUT", "/api/v1/drops/{drop}/metadata", "{}" },
        { "POST", "/api/v1/drops/{drop}/finalize", "{}" },
        { "PATCH", "/api/v1/drops/{drop}", "{\"maxDownloads\":1}" },
        { "DELETE", "/api/v1/drops/{drop}", null },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Endpoint_WithoutCredentials_Is401(string method, string path, string? body) =>
        await ExpectUnauthorizedAsync(method, path, body, bearer: null);

    [Theory]
    [MemberData(nameof(Endpoints))]
    [MemberData(nameof(OptionalSignInEndpoints))]
    public async Task Endpoint_WithExpiredAccessToken_Is401(string method, string path, string? body) =>
        await ExpectUnauthorizedAsync(method, path, body, fixture.ExpiredAccessToken);

    [Theory]
    [MemberData(nameof(Endpoints))]
    [MemberData(nameof(OptionalSignInEndpoints))]
    public async Task Endpoint_WithRotatedRefreshToken_Is401(string method, string path, string? body) =>
        await ExpectUnauthorizedAsync(method, path, body, fixture.RotatedRefreshToken);

    [Theory]
    [MemberData(nameof(Endpoints))]
    [MemberData(nameof(OptionalSignInEndpoints))]
    public async Task Endpoint_WithRevokedApiKey_Is401(string method, string path, string? body) =>
        await ExpectUnauthorizedAsync(method, path, body, fixture.RevokedApiKey);

    [Theory]
    [MemberData(nameof(Endpoints))]
    [MemberData(nameof(OptionalSignInEndpoints))]
    public async Task Endpoint_WithAnotherUsersCredentials_NeitherReadsNorChangesTheOwner(string method, string path, string? body)
    {
        var server = fixture.Server;
        var other = await server.RegisterUserAsync();
        using var response = await server.SendAsync(new HttpMethod(method), Resolve(path), body, other.AccessToken);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(fixture.Owner.Email, text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(fixture.Owner.AccountId.ToString(), text, StringComparison.OrdinalIgnoreCase);
        if (path.Contains("{drop}", StringComparison.Ordinal))
        {
            // Drop answers anyone who is not the owner the same way (spec/drop-api.md): 403 not-owner.
            await response.ExpectProblemAsync(HttpStatusCode.Forbidden, "not-owner");
        }
        else if (path.Contains('{', StringComparison.Ordinal))
        {
            await response.ExpectProblemAsync(HttpStatusCode.NotFound, "not-found");
        }

        // The owner is untouched: still signed in, its session and key still there.
        using var whoami = await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: fixture.Owner.AccessToken);
        Assert.Equal(HttpStatusCode.OK, whoami.StatusCode);
        using var keys = await server.SendAsync(HttpMethod.Get, "/api/v1/account/api-keys", bearer: fixture.Owner.AccessToken);
        Assert.Contains(fixture.OwnerApiKeyId.ToString(), await keys.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var drop = await server.SendAsync(HttpMethod.Get, Resolve("/api/v1/drops/{drop}/owner"), bearer: fixture.Owner.AccessToken);
        var stats = await drop.JsonAsync();
        Assert.Equal(HttpStatusCode.OK, drop.StatusCode);
        Assert.Equal(JsonValueKind.Null, stats.GetProperty("maxDownloads").ValueKind);
        await Alias.AliasMatrix.AssertUntouchedAsync(server, fixture.Owner, fixture.OwnerRecipientId, fixture.OwnerAliasId, fixture.OwnerContactId);
    }

    [Fact]
    public async Task RotatedRefreshToken_CannotRefresh()
    {
        // The fixture's owner session stays alive: this uses a separate user.
        var server = fixture.Server;
        var user = await server.RegisterUserAsync();
        await server.RefreshAsync(user.RefreshToken);
        server.Time.Advance(TimeSpan.FromSeconds(6)); // past the race window, where a rotated token is a reuse
        using var again = await server.PostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken });
        await again.ExpectProblemAsync(HttpStatusCode.Unauthorized, "refresh-token-reused");
    }

    private async Task ExpectUnauthorizedAsync(string method, string path, string? body, string? bearer)
    {
        using var response = await fixture.Server.SendAsync(new HttpMethod(method), Resolve(path), body, bearer);
        await response.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    private string Resolve(string path) => path
        .Replace("{session}", fixture.Owner.SessionId.ToString(), StringComparison.Ordinal)
        .Replace("{apiKey}", fixture.OwnerApiKeyId.ToString(), StringComparison.Ordinal)
        .Replace("{drop}", fixture.OwnerDropId, StringComparison.Ordinal)
        .Replace("{recipient}", fixture.OwnerRecipientId.ToString(), StringComparison.Ordinal)
        .Replace("{alias}", fixture.OwnerAliasId.ToString(), StringComparison.Ordinal)
        .Replace("{contact}", fixture.OwnerContactId.ToString(), StringComparison.Ordinal);
}
