using System.Net;
using Veil.Crypto.Primitives;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Identity;

/// <summary>
/// The server's half of a browser's "trust this browser" capsule (ADR 0007, spec/identity-api.md): 32 bytes per
/// session, the same for the session's whole life (refreshes included), different for every other session, only for
/// that session's access token, never cached, and gone with the session.
/// </summary>
public sealed class UnlockShareTests
{
    private const string Path = "/api/v1/account/sessions/current/unlock-share";

    [Fact]
    public async Task UnlockShare_IsPerSession_StableAcrossRefresh_AndEndsWithTheSession()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();

        var share = await ShareAsync(server, user.AccessToken);
        Assert.Equal(32, CryptoRandom.FromBase64Url(share)!.Length);
        using (var again = await server.SendAsync(HttpMethod.Get, Path, bearer: user.AccessToken))
        {
            Assert.Equal("no-store", again.Headers.CacheControl?.ToString());
        }

        var refreshed = await server.RefreshAsync(user.RefreshToken);
        Assert.Equal(share, await ShareAsync(server, refreshed.AccessToken));

        var laptop = await server.LoginAsync(user.Email, user.AuthToken, "laptop");
        Assert.NotEqual(share, await ShareAsync(server, laptop.AccessToken));

        // An API key is not a session: it has no capsule to open.
        var key = await server.CreateApiKeyAsync(user);
        using (var refused = await server.SendAsync(HttpMethod.Get, Path, bearer: key))
        {
            await refused.ExpectProblemAsync(HttpStatusCode.Forbidden, "api-key-not-allowed");
        }

        // Ended from another session (the sessions page): its share is no longer handed out to anyone.
        using (var revoke = await server.SendAsync(HttpMethod.Delete, $"/api/v1/account/sessions/{user.SessionId:D}", bearer: laptop.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        using (var gone = await server.SendAsync(HttpMethod.Get, Path, bearer: refreshed.AccessToken))
        {
            await gone.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        }

        using (var noRefresh = await server.PostAsync("/api/v1/auth/refresh", new { refreshToken = refreshed.RefreshToken }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, noRefresh.StatusCode);
        }

        // Signing in again is a new session with a new share: a capsule made under the old one stays shut.
        var again2 = await server.LoginAsync(user.Email, user.AuthToken);
        Assert.NotEqual(share, await ShareAsync(server, again2.AccessToken));
    }

    private static async Task<string> ShareAsync(VeilTestServer server, string accessToken)
    {
        using var response = await server.SendAsync(HttpMethod.Get, Path, bearer: accessToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("share").GetString()!;
    }
}
