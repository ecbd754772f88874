// Issue 14, finding 1: links Veil mails were built from the request's Host header, so anyone could have Veil
// mail a real user a genuine token that pointed at the sender's host. Links come from configuration, or in
// development from the listening address; production refuses to start without Veil:PublicOrigin.
using System.Net;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Keys;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Security;

public sealed class HostHeaderLinkTests
{
    private const string AttackerHost = "attacker.example";

    private static Task<VeilTestServer> StartWithoutPublicOriginAsync() =>
        IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:PublicOrigin"] = "");

    private static Task<HttpResponseMessage> PostWithHostAsync(VeilTestServer server, string path, object body, string host) =>
        server.SendAsync(HttpMethod.Post, path, body, configure: r => r.Headers.Host = host);

    // Every mail to the address (outbox names carry the manual clock, so "last" is not reliable): all of them together.
    private static string LinkTo(VeilTestServer server, string email) =>
        string.Join("\n", server.ReadOutbox().Where(m => m.Headers.TryGetValue("To", out var to) && to.Contains(email, StringComparison.OrdinalIgnoreCase)).Select(m => m.TextBody));

    [Fact]
    public async Task MagicLink_RequestedWithForeignHost_MailLinksToTheListeningOrigin()
    {
        await using var server = await StartWithoutPublicOriginAsync();
        var user = await server.RegisterUserAsync();

        using var response = await PostWithHostAsync(server, "/api/v1/auth/magic-link", new { email = user.Email }, AttackerHost);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = LinkTo(server, user.Email);
        Assert.DoesNotContain(AttackerHost, body, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"{server.BaseAddress.GetLeftPart(UriPartial.Authority)}/magic-link#", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MagicLink_RequestedWithForeignHost_MailLinksToTheConfiguredOrigin()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();

        using var response = await PostWithHostAsync(server, "/api/v1/auth/magic-link", new { email = user.Email }, AttackerHost);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = LinkTo(server, user.Email);
        Assert.DoesNotContain(AttackerHost, body, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"{IdentityKit.Origin}/magic-link#", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Registration_RequestedWithForeignHost_MailLinksToTheListeningOrigin()
    {
        await using var server = await StartWithoutPublicOriginAsync();
        var email = IdentityKit.NewEmail();

        using var response = await PostWithHostAsync(server, "/api/v1/accounts",
            new { email, authToken = IdentityKit.NewAuthToken(), kdf = IdentityKit.DefaultKdf(), protectedUserKey = "v1.test-wrapped-key" }, AttackerHost);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = LinkTo(server, email);
        Assert.DoesNotContain(AttackerHost, body, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"{server.BaseAddress.GetLeftPart(UriPartial.Authority)}/verify-email#", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecipientVerification_RequestedWithForeignHost_MailLinksToTheListeningOrigin()
    {
        await using var server = await StartWithoutPublicOriginAsync();
        var user = await server.RegisterUserAsync();
        var mailbox = IdentityKit.NewEmail("mailbox");

        using var response = await server.SendAsync(HttpMethod.Post, "/api/v1/alias/recipients", new { email = mailbox }, user.AccessToken, r => r.Headers.Host = AttackerHost);

        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var body = LinkTo(server, mailbox);
        Assert.DoesNotContain(AttackerHost, body, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"{server.BaseAddress.GetLeftPart(UriPartial.Authority)}/alias/verify/", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_WithoutPublicOrigin_RefusesToStartNamingTheSetting()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Production"] = "true";
            foreach (var name in ServerKeys.Names)
            {
                o.Settings[$"Veil:Keys:{name}"] = Convert.ToBase64String(Enumerable.Range(name.Length, 32).Select(i => (byte)i).ToArray());
            }
        }));

        Assert.Contains(failure.Failures, f => f.StartsWith("Veil:PublicOrigin (env Veil__PublicOrigin): required in production", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://0.0.0.0:5080", "http://127.0.0.1:5080")]
    [InlineData("http://[::]:8080/", "http://127.0.0.1:8080")]
    [InlineData("http://+:80", "http://127.0.0.1:80")]
    [InlineData("http://127.0.0.1:41234", "http://127.0.0.1:41234")]
    [InlineData("https://[::1]:443", "https://[::1]:443")]
    public void ListeningAddress_BecomesAnOriginABrowserCanOpen(string listening, string expected) =>
        Assert.Equal(expected, Platform.Hosting.PublicOrigin.FromListeningAddress(listening));
}
