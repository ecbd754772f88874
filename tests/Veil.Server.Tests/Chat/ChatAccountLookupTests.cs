// GET /api/v1/chat/accounts?email=: how a client turns an address into the account id the relay addresses.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Chat;

public sealed class ChatAccountLookupTests
{
    [Fact]
    public async Task FindAccount_ByEmail_AnswersOnlyOnceTheAccountHasAChatDevice_WithItsAccountKey()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var alice = await server.NewChatUserAsync();
        var bob = await server.NewChatUserAsync();
        var path = "/api/v1/chat/accounts?email=" + Uri.EscapeDataString("  " + bob.User.Email.ToUpperInvariant() + " ");

        var before = await FindAsync(server, path, alice.Token);
        await server.AddDeviceAsync(bob, 1);
        var after = await FindAsync(server, path, alice.Token);

        Assert.Equal((HttpStatusCode.NotFound, "chat-unknown-account"), (before.Status, before.Body.GetProperty("code").GetString()));
        Assert.Equal(HttpStatusCode.OK, after.Status);
        Assert.Equal(bob.Id, after.Body.GetProperty("accountId").GetGuid());
        Assert.Equal(bob.AccountKey.PublicKey.Bytes.ToArray(), after.Body.GetProperty("accountKey").GetBytesFromBase64());
    }

    [Theory]
    [InlineData("nobody@example.org")]
    [InlineData("not an address")]
    [InlineData("")]
    public async Task FindAccount_UnknownOrMalformed_Is404WithTheSameCode(string email)
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var alice = await server.NewChatUserAsync();

        var (status, body) = await FindAsync(server, "/api/v1/chat/accounts?email=" + Uri.EscapeDataString(email), alice.Token);

        Assert.Equal((HttpStatusCode.NotFound, "chat-unknown-account"), (status, body.GetProperty("code").GetString()));
    }

    [Fact]
    public async Task FindAccount_IsCountedPerAccount_SoOneAccountCannotWalkTheAddressBook()
    {
        await using var server = await ChatKit.StartChatServerAsync(configure: o => o.Settings["Veil:RateLimits:chat-account-lookup:PermitLimit"] = "3");
        var alice = await server.NewChatUserAsync();
        var carol = await server.NewChatUserAsync();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await FindAsync(server, $"/api/v1/chat/accounts?email=guess{i}%40example.org", alice.Token)).Status);
        }

        var carols = await FindAsync(server, "/api/v1/chat/accounts?email=guess9%40example.org", carol.Token);

        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.NotFound, carols.Status); // another account keeps its own count
    }

    [Fact]
    public async Task FindAccount_WithoutASession_Is401()
    {
        await using var server = await ChatKit.StartChatServerAsync();

        using var response = await server.SendAsync(HttpMethod.Get, "/api/v1/chat/accounts?email=a%40example.org");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> FindAsync(VeilTestServer server, string path, string token)
    {
        using var response = await server.SendAsync(HttpMethod.Get, path, bearer: token);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }
}
