// Custom domains against a real DNS server on loopback (dnsmasq, Kit/LoopbackDns): a domain passes verification
// when its records are published as Veil shows them, fails (and is no longer usable) when one is removed or wrong,
// and a DNS outage changes nothing.
using System.Net;
using System.Text.Json;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mailbox;

public sealed class CustomDomainTests
{
    private const string Zone = "custom.test";
    private static readonly string[] AllChecks = ["ownership", "mx", "spf", "dkim", "dmarc"];

    private static Task<VeilTestServer> StartAsync(LoopbackDns dns) =>
        IdentityKit.StartIdentityServerAsync(o =>
        {
            o.Settings["Veil:Dns:Servers"] = dns.Servers;
            o.Settings["Veil:Dns:Timeout"] = "00:00:00.3";
            o.Settings["Veil:Mail:HostName"] = "mx.veil.test";
            o.Settings["Veil:Alias:Domains:0"] = "alias.test";
        });

    private static async Task<JsonElement> AddAsync(VeilTestServer server, TestUser user, string domain)
    {
        using var added = await server.PostAsync("/api/v1/mail/domains", new { domain }, user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        return await added.JsonAsync();
    }

    private static async Task<JsonElement> CheckAsync(VeilTestServer server, TestUser user, JsonElement domain)
    {
        using var checkedResponse = await server.PostAsync($"/api/v1/mail/domains/{domain.GetProperty("id").GetGuid()}/check", null, user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, checkedResponse.StatusCode);
        return await checkedResponse.JsonAsync();
    }

    /// <summary>Publishes every record exactly as Veil lists them.</summary>
    private static LoopbackDns Publish(LoopbackDns dns, JsonElement domain) => dns.PublishAsListed(domain.GetProperty("records"));

    private static string Status(JsonElement check, string name) =>
        check.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("check").GetString() == name).GetProperty("status").GetString()!;

    private static string Fix(JsonElement check, string name) =>
        check.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("check").GetString() == name).GetProperty("fix").GetString()!;

    [Fact]
    public async Task Check_RecordsPublishedThenChanged_VerifiesThenUnverifiesAndSaysWhatToFix()
    {
        await using var dns = await LoopbackDns.StartAsync(Zone);
        await using var server = await StartAsync(dns);
        var user = await server.RegisterUserAsync();
        var domain = await AddAsync(server, user, "Shop.Custom.Test.");
        Assert.Equal("shop.custom.test", domain.GetProperty("domain").GetString());
        Assert.False(domain.GetProperty("verified").GetBoolean());

        // Nothing published: every check is missing, each says what to publish.
        var before = await CheckAsync(server, user, domain);
        Assert.False(before.GetProperty("domain").GetProperty("verified").GetBoolean());
        Assert.All(AllChecks, c => Assert.Equal("missing", Status(before, c)));
        Assert.Contains("_veil.shop.custom.test", Fix(before, "ownership"), StringComparison.Ordinal);

        // Everything published as shown (the 2048-bit DKIM key spans several TXT strings): verified.
        Publish(dns, domain);
        await dns.ApplyAsync();
        var passed = await CheckAsync(server, user, domain);
        Assert.True(passed.GetProperty("domain").GetProperty("verified").GetBoolean(), passed.ToString());
        Assert.True(passed.GetProperty("conclusive").GetBoolean());

        // The SPF record loses Veil and DMARC drops to p=none: unverified again, with the exact fixes.
        dns.Remove("txt-record=shop.custom.test,").Remove("_dmarc.")
            .Txt("shop.custom.test", "v=spf1 include:elsewhere.test -all")
            .Txt("_dmarc.shop.custom.test", "v=DMARC1; p=none");
        await dns.ApplyAsync();
        var failed = await CheckAsync(server, user, domain);
        Assert.False(failed.GetProperty("domain").GetProperty("verified").GetBoolean());
        Assert.Equal("wrong", Status(failed, "spf"));
        Assert.Contains("Add \"mx\"", Fix(failed, "spf"), StringComparison.Ordinal);
        Assert.Equal("wrong", Status(failed, "dmarc"));
        Assert.Contains("p=quarantine", Fix(failed, "dmarc"), StringComparison.Ordinal);
        Assert.Equal("ok", Status(failed, "ownership"));
        Assert.Equal("ok", Status(failed, "dkim"));
    }

    [Fact]
    public async Task Alias_OnVerifiedCustomDomain_IsCreated_AndRefusedOnceTheDomainFailsItsCheck()
    {
        await using var dns = await LoopbackDns.StartAsync(Zone);
        await using var server = await StartAsync(dns);
        var user = await server.RegisterUserAsync();
        using (var recipient = await server.PostAsync("/api/v1/alias/recipients", new { email = "me@mailbox.test" }, user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, recipient.StatusCode);
        }

        using (var verify = await server.PostAsync("/api/v1/alias/recipients/verify", new { token = System.Text.RegularExpressions.Regex.Match(
            server.ReadOutbox().Last(m => m.Headers["To"].Contains("me@mailbox.test", StringComparison.Ordinal)).TextBody, "/alias/verify/([A-Za-z0-9_-]{43})").Groups[1].Value }))
        {
            Assert.Equal(HttpStatusCode.OK, verify.StatusCode);
        }

        var domain = await AddAsync(server, user, "mine.custom.test");
        using (var unverified = await server.PostAsync("/api/v1/alias/aliases", new { domain = "mine.custom.test" }, user.AccessToken))
        {
            await unverified.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        }

        Publish(dns, domain);
        await dns.ApplyAsync();
        Assert.True((await CheckAsync(server, user, domain)).GetProperty("domain").GetProperty("verified").GetBoolean());
        using (var created = await server.PostAsync("/api/v1/alias/aliases", new { domain = "mine.custom.test" }, user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.EndsWith("@mine.custom.test", (await created.JsonAsync()).GetProperty("address").GetString(), StringComparison.Ordinal);
        }

        dns.Remove("_veil.mine");
        await dns.ApplyAsync();
        var check = await CheckAsync(server, user, domain);
        Assert.Equal("missing", Status(check, "ownership"));
        using var refused = await server.PostAsync("/api/v1/alias/aliases", new { domain = "mine.custom.test" }, user.AccessToken);
        await refused.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
    }

    [Fact]
    public async Task Check_DnsServerDown_IsInconclusiveAndKeepsTheDomainVerified()
    {
        await using var dns = await LoopbackDns.StartAsync(Zone); // disposed half-way by the test, and again at the end
        await using var server = await StartAsync(dns);
        var user = await server.RegisterUserAsync();
        var domain = await AddAsync(server, user, "steady.custom.test");
        Publish(dns, domain);
        await dns.ApplyAsync();
        Assert.True((await CheckAsync(server, user, domain)).GetProperty("domain").GetProperty("verified").GetBoolean());

        await dns.DisposeAsync(); // nothing answers on the port any more: every lookup times out
        var check = await CheckAsync(server, user, domain);

        Assert.False(check.GetProperty("conclusive").GetBoolean());
        Assert.Equal("dns-error", Status(check, "ownership"));
        Assert.True(check.GetProperty("domain").GetProperty("verified").GetBoolean());
    }

    [Theory]
    [InlineData("{\"domain\":\"not a domain\"}", HttpStatusCode.BadRequest, "invalid-request")]
    [InlineData("{\"domain\":\"localhost\"}", HttpStatusCode.BadRequest, "invalid-request")]
    [InlineData("{\"domain\":\"alias.test\"}", HttpStatusCode.Conflict, "domain-reserved")]
    [InlineData("{\"domain\":\"mx.veil.test\"}", HttpStatusCode.Conflict, "domain-reserved")]
    public async Task Add_BadOrReservedDomain_IsAProblemAndAddsNothing(string body, HttpStatusCode status, string code)
    {
        await using var dns = await LoopbackDns.StartAsync(Zone);
        await using var server = await StartAsync(dns);
        var user = await server.RegisterUserAsync();

        using var response = await server.PostAsync("/api/v1/mail/domains", body, user.AccessToken);

        await response.ExpectProblemAsync(status, code);
        using var list = await server.SendAsync(HttpMethod.Get, "/api/v1/mail/domains", null, user.AccessToken);
        Assert.Empty((await list.JsonAsync()).GetProperty("domains").EnumerateArray());
    }

    [Fact]
    public async Task AddressDomains_ListOperatorDomainsThenTheCallersVerifiedDomains_NeverUnverifiedOrOthers()
    {
        await using var dns = await LoopbackDns.StartAsync(Zone);
        await using var server = await IdentityKit.StartIdentityServerAsync(o =>
        {
            o.Settings["Veil:Dns:Servers"] = dns.Servers;
            o.Settings["Veil:Dns:Timeout"] = "00:00:00.3";
            o.Settings["Veil:Mail:HostName"] = "mx.veil.test";
            o.Settings["Veil:Mail:Domains:0"] = "mail.veil.test";
        });
        var owner = await server.RegisterUserAsync();
        var other = await server.RegisterUserAsync();
        var verified = await AddAsync(server, owner, "mine.custom.test");
        await AddAsync(server, owner, "pending.custom.test");
        Publish(dns, verified);
        await dns.ApplyAsync();
        Assert.True((await CheckAsync(server, owner, verified)).GetProperty("domain").GetProperty("verified").GetBoolean());

        using var mine = await server.SendAsync(HttpMethod.Get, "/api/v1/mail/address-domains", null, owner.AccessToken);
        using var theirs = await server.SendAsync(HttpMethod.Get, "/api/v1/mail/address-domains", null, other.AccessToken);

        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        var body = await mine.JsonAsync();
        Assert.Equal(["mail.veil.test", "mine.custom.test"], body.GetProperty("domains").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal(["mine.custom.test"], body.GetProperty("customDomains").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal(10, body.GetProperty("maxAddresses").GetInt32());
        var otherBody = await theirs.JsonAsync();
        Assert.Equal(["mail.veil.test"], otherBody.GetProperty("domains").EnumerateArray().Select(d => d.GetString()));
        Assert.Empty(otherBody.GetProperty("customDomains").EnumerateArray());
    }

    [Fact]
    public async Task Check_AnotherAccountsDomain_IsNotFound()
    {
        await using var dns = await LoopbackDns.StartAsync(Zone);
        await using var server = await StartAsync(dns);
        var owner = await server.RegisterUserAsync();
        var other = await server.RegisterUserAsync();
        var domain = await AddAsync(server, owner, "owned.custom.test");

        using var response = await server.PostAsync($"/api/v1/mail/domains/{domain.GetProperty("id").GetGuid()}/check", null, other.AccessToken);

        await response.ExpectProblemAsync(HttpStatusCode.NotFound, "not-found");
    }
}
