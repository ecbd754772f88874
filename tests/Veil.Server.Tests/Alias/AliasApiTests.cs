// The Alias HTTP API (spec/alias-api.md) on a server with an alias domain and no SMTP: shapes, validation,
// limits, verification links, tombstones, the log purge and account data.
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Platform.Jobs;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

#pragma warning disable CA1716 // "Alias" is a Visual Basic keyword; the folder and module are named Alias on purpose.
namespace Veil.Server.Tests.Alias;
#pragma warning restore CA1716

public sealed class AliasApiTests
{
    private static Task<VeilTestServer> StartAsync(Action<VeilTestServerOptions>? configure = null) =>
        IdentityKit.StartIdentityServerAsync(o =>
        {
            o.Settings["Veil:Alias:Domains:0"] = "alias.test";
            o.Settings["Veil:Alias:Domains:1"] = "second.test";
            o.Settings["Veil:RateLimits:alias-recipient:PermitLimit"] = "100000";
            configure?.Invoke(o);
        });

    private static async Task<(TestUser User, Guid Recipient)> UserWithRecipientAsync(VeilTestServer server, string mailbox = "me@mailbox.test")
    {
        var user = await server.RegisterUserAsync();
        using var added = await server.PostAsync("/api/v1/alias/recipients", new { email = mailbox }, user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var id = (await added.JsonAsync()).GetProperty("id").GetGuid();
        using var verify = await server.PostAsync("/api/v1/alias/recipients/verify", new { token = Token(server, mailbox) });
        Assert.Equal(HttpStatusCode.OK, verify.StatusCode);
        return (user, id);
    }

    private static string Token(VeilTestServer server, string mailbox) =>
        Regex.Match(server.ReadOutbox().Last(m => m.Headers["To"].Contains(mailbox, StringComparison.Ordinal)).TextBody, "/alias/verify/([A-Za-z0-9_-]{43})").Groups[1].Value;

    [Fact]
    public async Task Create_RandomAndPrefixed_AddressesHaveTheDocumentedShapes()
    {
        await using var server = await StartAsync();
        var (user, recipient) = await UserWithRecipientAsync(server);

        using var random = await server.PostAsync("/api/v1/alias/aliases", new { note = "shop", label = "Shopping" }, user.AccessToken);
        using var prefixed = await server.PostAsync("/api/v1/alias/aliases", new { prefix = "News", domain = "second.test" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.Created, random.StatusCode);
        var a = await random.JsonAsync();
        Assert.Matches("^[a-z]+\\.[a-z]+[0-9]{2}@alias\\.test$", a.GetProperty("address").GetString());
        Assert.Equal("shop", a.GetProperty("note").GetString());
        Assert.Equal([recipient], a.GetProperty("recipientIds").EnumerateArray().Select(e => e.GetGuid()));
        Assert.True(a.GetProperty("enabled").GetBoolean());
        Assert.Equal("reject", a.GetProperty("disabledAction").GetString());
        Assert.Equal(0, a.GetProperty("counters").GetProperty("received").GetInt64());
        Assert.Equal($"/api/v1/alias/aliases/{a.GetProperty("id")}", random.Headers.Location!.ToString());
        Assert.Matches("^news\\.[a-z2-9]{5}@second\\.test$", (await prefixed.JsonAsync()).GetProperty("address").GetString());
    }

    [Theory]
    [InlineData("{\"prefix\":\"-bad\"}", "prefix")]
    [InlineData("{\"prefix\":\"has space\"}", "prefix")]
    [InlineData("{\"domain\":\"elsewhere.test\"}", "domain")]
    [InlineData("{\"recipientIds\":[\"00000000-0000-0000-0000-000000000001\"]}", "recipientIds")]
    public async Task Create_BadMember_Is400NamingItAndCreatesNothing(string body, string member)
    {
        await using var server = await StartAsync();
        var (user, _) = await UserWithRecipientAsync(server);

        using var response = await server.SendAsync(HttpMethod.Post, "/api/v1/alias/aliases", body, user.AccessToken);

        await response.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        var list = await (await server.SendAsync(HttpMethod.Get, "/api/v1/alias/aliases", bearer: user.AccessToken)).JsonAsync();
        Assert.Equal(0, list.GetProperty("aliases").GetArrayLength());
        Assert.Contains(member, (await (await server.SendAsync(HttpMethod.Post, "/api/v1/alias/aliases", body, user.AccessToken)).JsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithoutVerifiedRecipient_Is409()
    {
        await using var server = await StartAsync();
        var user = await server.RegisterUserAsync();
        using (await server.PostAsync("/api/v1/alias/recipients", new { email = "unverified@mailbox.test" }, user.AccessToken))
        {
        }

        using var response = await server.PostAsync("/api/v1/alias/aliases", new { }, user.AccessToken);

        await response.ExpectProblemAsync(HttpStatusCode.Conflict, "no-verified-recipient");
    }

    [Fact]
    public async Task Create_BeyondDailyLimit_Is429UntilTheNextDay()
    {
        await using var server = await StartAsync(o => o.Settings["Veil:Alias:DailyCreateLimit"] = "2");
        var (user, _) = await UserWithRecipientAsync(server);
        for (var i = 0; i < 2; i++)
        {
            using var ok = await server.PostAsync("/api/v1/alias/aliases", new { }, user.AccessToken);
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }

        using var third = await server.PostAsync("/api/v1/alias/aliases", new { }, user.AccessToken);
        server.Time.Advance(TimeSpan.FromDays(1));
        var token = (await server.LoginAsync(user.Email, user.AuthToken)).AccessToken;
        using var tomorrow = await server.PostAsync("/api/v1/alias/aliases", new { }, token);

        await third.ExpectProblemAsync(HttpStatusCode.TooManyRequests, "alias-daily-limit");
        Assert.Equal(HttpStatusCode.Created, tomorrow.StatusCode);
    }

    [Fact]
    public async Task VerifyLink_GetOpensTheAppPageAndVerifiesNothing_PostVerifiesOnce()
    {
        await using var server = await StartAsync();
        var user = await server.RegisterUserAsync();
        using (await server.PostAsync("/api/v1/alias/recipients", new { email = "me@mailbox.test" }, user.AccessToken))
        {
        }

        var token = Token(server, "me@mailbox.test");

        using var page = await server.Client.GetAsync(new Uri($"/alias/verify/{token}", UriKind.Relative));
        var before = await (await server.SendAsync(HttpMethod.Get, "/api/v1/alias/recipients", bearer: user.AccessToken)).JsonAsync();
        using var confirm = await server.Client.PostAsync(new Uri($"/alias/verify/{token}", UriKind.Relative), null);
        using var again = await server.Client.PostAsync(new Uri($"/alias/verify/{token}", UriKind.Relative), null);
        var after = await (await server.SendAsync(HttpMethod.Get, "/api/v1/alias/recipients", bearer: user.AccessToken)).JsonAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        // The app page (its button calls POST /api/v1/alias/recipients/verify) under the app's strict CSP: no
        // inline script or style, no form posts.
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<form", html, StringComparison.Ordinal);
        Assert.Equal(Veil.Server.Platform.Hosting.SecurityHeadersMiddleware.PageContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.False(before.GetProperty("recipients")[0].GetProperty("verified").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.True(after.GetProperty("recipients")[0].GetProperty("verified").GetBoolean());
    }

    [Theory]
    [InlineData("not-an-address")]
    [InlineData("someone@alias.test")]
    public async Task AddRecipient_NotAMailboxOrAnAliasDomain_Is400(string email)
    {
        await using var server = await StartAsync();
        var user = await server.RegisterUserAsync();

        using var response = await server.PostAsync("/api/v1/alias/recipients", new { email }, user.AccessToken);

        await response.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
    }

    [Fact]
    public async Task Patch_BadDisabledAction_Is400AndChangesNothing()
    {
        await using var server = await StartAsync();
        var (user, _) = await UserWithRecipientAsync(server);
        var alias = await (await server.PostAsync("/api/v1/alias/aliases", new { }, user.AccessToken)).JsonAsync();

        using var response = await server.SendAsync(HttpMethod.Patch, $"/api/v1/alias/aliases/{alias.GetProperty("id")}", new { enabled = false, disabledAction = "bounce" }, user.AccessToken);

        await response.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        var now = await (await server.SendAsync(HttpMethod.Get, $"/api/v1/alias/aliases/{alias.GetProperty("id")}", bearer: user.AccessToken)).JsonAsync();
        Assert.True(now.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task Delete_AliasAndContact_AddressesAreTombstonedForever()
    {
        await using var server = await StartAsync();
        var (user, _) = await UserWithRecipientAsync(server);
        var alias = await (await server.PostAsync("/api/v1/alias/aliases", new { }, user.AccessToken)).JsonAsync();
        var contact = await (await server.PostAsync($"/api/v1/alias/aliases/{alias.GetProperty("id")}/contacts", new { address = "friend@example.net" }, user.AccessToken)).JsonAsync();

        using var deleted = await server.SendAsync(HttpMethod.Delete, $"/api/v1/alias/aliases/{alias.GetProperty("id")}", bearer: user.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await using var scope = server.Services.CreateAsyncScope();
        var directory = scope.ServiceProvider.GetRequiredService<Veil.Server.Alias.AliasDirectory>();
        Assert.True(await directory.IsTombstonedAsync(alias.GetProperty("address").GetString()!, CancellationToken.None));
        Assert.True(await directory.IsTombstonedAsync(contact.GetProperty("reverseAddress").GetString()!, CancellationToken.None));
        Assert.True(await directory.IsTakenAsync(alias.GetProperty("address").GetString()!.ToUpperInvariant(), CancellationToken.None));
    }

    [Fact]
    public async Task PurgeJob_LogOlderThanSevenDays_IsRemoved()
    {
        await using var server = await StartAsync();
        var (user, _) = await UserWithRecipientAsync(server);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var directory = scope.ServiceProvider.GetRequiredService<Veil.Server.Alias.AliasDirectory>();
            directory.Log(user.AccountId, null, "failed", "no-recipient");
            await directory.Db.SaveChangesAsync();
        }

        var runner = server.Services.GetRequiredService<PeriodicJobRunner>();
        Assert.True(await runner.RunNowAsync(Veil.Server.Alias.AliasPurgeJob.JobName, CancellationToken.None));
        var kept = await (await server.SendAsync(HttpMethod.Get, "/api/v1/alias/log", bearer: user.AccessToken)).JsonAsync();
        server.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromSeconds(1));
        Assert.True(await runner.RunNowAsync(Veil.Server.Alias.AliasPurgeJob.JobName, CancellationToken.None));
        var token = (await server.LoginAsync(user.Email, user.AuthToken)).AccessToken;
        var purged = await (await server.SendAsync(HttpMethod.Get, "/api/v1/alias/log", bearer: token)).JsonAsync();

        Assert.Equal(1, kept.GetProperty("entries").GetArrayLength());
        Assert.Equal(0, purged.GetProperty("entries").GetArrayLength());
    }

    [Fact]
    public async Task AccountData_ExportListsAliasesAndDeleteRemovesEverything()
    {
        await using var server = await StartAsync();
        var (user, _) = await UserWithRecipientAsync(server);
        var alias = await (await server.PostAsync("/api/v1/alias/aliases", new { note = "exported note" }, user.AccessToken)).JsonAsync();

        var export = await (await server.SendAsync(HttpMethod.Get, "/api/v1/account/export", bearer: user.AccessToken)).JsonAsync();
        var module = export.GetProperty("modules").GetProperty("alias");
        Assert.Equal(alias.GetProperty("address").GetString(), module.GetProperty("aliases")[0].GetProperty("address").GetString());
        Assert.Equal("me@mailbox.test", module.GetProperty("recipients")[0].GetProperty("email").GetString());

        await using var scope = server.Services.CreateAsyncScope();
        var deleter = scope.ServiceProvider.GetServices<Veil.Server.Platform.Auth.IAccountDataDeleter>().OfType<Veil.Server.Alias.AliasAccountDataDeleter>().Single();
        await deleter.DeleteAccountDataAsync(user.AccountId, CancellationToken.None);
        var directory = scope.ServiceProvider.GetRequiredService<Veil.Server.Alias.AliasDirectory>();

        Assert.Null(await directory.FindAliasAsync(alias.GetProperty("address").GetString()!, CancellationToken.None));
        Assert.True(await directory.IsTombstonedAsync(alias.GetProperty("address").GetString()!, CancellationToken.None));
        Assert.Empty(await directory.RecipientsOfAsync(user.AccountId, CancellationToken.None));
    }

    [Fact]
    public async Task Domains_ListsTheConfiguredDomains()
    {
        await using var server = await StartAsync();
        var user = await server.RegisterUserAsync();

        var json = await (await server.SendAsync(HttpMethod.Get, "/api/v1/alias/domains", bearer: user.AccessToken)).JsonAsync();

        Assert.Equal(["alias.test", "second.test"], json.GetProperty("domains").EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        Assert.All(json.GetProperty("domains").EnumerateArray(), d => Assert.Equal(JsonValueKind.False, d.GetProperty("catchAll").ValueKind));
    }
}
