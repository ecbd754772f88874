// Issue 14, finding 3: the "per account" limits (recipient-add 20/h, vault rehearsal 5/h) were counted per IP,
// because ASP.NET's limiter middleware runs before Veil authenticates (a filter): users behind one address
// exhausted each other's quota, and one account got a fresh quota from every address. Now they are keyed by the
// authenticated account. Two source addresses come from binding the client socket to 127.0.0.2 (all of 127/8 is
// loopback on Linux).
using System.Net;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Security;

public sealed class AccountRateLimitKeyTests
{
    private const int Limit = 2;

    private static Task<VeilTestServer> StartAsync() =>
        IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:RateLimits:alias-recipient:PermitLimit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<HttpStatusCode> AddRecipientAsync(HttpClient client, TestUser user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alias/recipients")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { email = IdentityKit.NewEmail("mailbox") }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", user.AccessToken);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task RecipientAdd_TwoAccountsBehindOneAddress_DoNotShareTheQuota()
    {
        await using var server = await StartAsync();
        var first = await server.RegisterUserAsync();
        var second = await server.RegisterUserAsync();

        for (var i = 0; i < Limit; i++)
        {
            Assert.Equal(HttpStatusCode.Created, await AddRecipientAsync(server.Client, first));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await AddRecipientAsync(server.Client, first));
        Assert.Equal(HttpStatusCode.Created, await AddRecipientAsync(server.Client, second));
    }

    [Fact]
    public async Task RecipientAdd_OneAccountFromTwoAddresses_IsLimitedOnce()
    {
        await using var server = await StartAsync();
        var user = await server.RegisterUserAsync();
        using var elsewhere = SourceAddress.Client(server, "127.0.0.2");

        Assert.Equal(HttpStatusCode.Created, await AddRecipientAsync(server.Client, user));
        Assert.Equal(HttpStatusCode.Created, await AddRecipientAsync(elsewhere, user));

        Assert.Equal(HttpStatusCode.TooManyRequests, await AddRecipientAsync(elsewhere, user));
        Assert.Equal(HttpStatusCode.TooManyRequests, await AddRecipientAsync(server.Client, user));
    }

    [Fact]
    public async Task VaultRehearsal_TwoAccountsBehindOneAddress_DoNotShareTheQuota()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:RateLimits:vault-rehearse:PermitLimit"] = "1");
        var first = await server.RegisterUserAsync();
        var second = await server.RegisterUserAsync();

        // The vault id does not exist: the limit is taken before the handler looks, which is all this test needs.
        using (var a = await server.PostAsync("/api/v1/vault/vaults/v_missing/rehearse", null, first.AccessToken))
        {
            Assert.NotEqual(HttpStatusCode.TooManyRequests, a.StatusCode);
        }

        using (var again = await server.PostAsync("/api/v1/vault/vaults/v_missing/rehearse", null, first.AccessToken))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        }

        using var b = await server.PostAsync("/api/v1/vault/vaults/v_missing/rehearse", null, second.AccessToken);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, b.StatusCode);
    }
}
