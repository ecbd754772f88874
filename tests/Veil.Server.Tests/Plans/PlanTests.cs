// Plans (Veil:Plans:<name>): per-account alias limits, end to end. Forwarding goes swaks → Veil SMTP →
// aiosmtpd through the Alias harness; limits are read back through GET /api/v1/alias/usage. Plans are
// assigned with the operator's service (PlanAdmin, what `veil admin plan set` runs), or written straight
// into the account row where a test plays "another process changed it" or "the plan was removed".
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Plans;
using Veil.Server.Tests.Alias;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Plans;

public sealed class PlanTests
{
    [Fact]
    public async Task Forwarding_BasicPlanDeferredAtItsThirdMessage_ProOnTheSameServerStillForwards_AndTheQuotaResetsNextDay()
    {
        await using var h = await AliasHarness.StartAsync(o =>
        {
            o.Settings["Veil:Plans:basic:AliasDailyForwards"] = "2";
            o.Settings["Veil:Plans:pro:AliasDailyForwards"] = "100";
        });
        var (basic, _) = await h.UserWithRecipientAsync("basic@mailbox.test");
        var (pro, _) = await h.UserWithRecipientAsync("pro@mailbox.test");
        Assert.Equal(PlanSetStatus.Done, await SetPlanAsync(h.Server, basic.Email, "basic"));
        Assert.Equal(PlanSetStatus.Done, await SetPlanAsync(h.Server, pro.Email, "pro"));
        var basicAlias = await h.CreateAliasAsync(basic);
        var proAlias = await h.CreateAliasAsync(pro);
        var basicAddress = basicAlias.GetProperty("address").GetString()!;
        var proAddress = proAlias.GetProperty("address").GetString()!;

        for (var i = 1; i <= 2; i++)
        {
            Assert.Equal(0, (await h.SwaksAsync("jane@sender.test", basicAddress, AliasForwardingTests.Message(basicAddress, $"basic {i}"))).ExitCode);
            await WaitForwardedAsync(h, basic, basicAlias, i);
        }

        h.Server.Time.Advance(Veil.Server.Alias.AliasRoutingCache.QuotaLifetime); // RCPT's quota answer is cached that long
        var third = await h.SwaksAsync("jane@sender.test", basicAddress, AliasForwardingTests.Message(basicAddress, "basic 3"));
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(0, (await h.SwaksAsync("jane@sender.test", proAddress, AliasForwardingTests.Message(proAddress, $"pro {i}"))).ExitCode);
            await WaitForwardedAsync(h, pro, proAlias, i);
        }

        Assert.Contains("<** 451 4.3.0", third.Output, StringComparison.Ordinal);
        Assert.Equal(2, await DeliveredToAsync(h, "basic@mailbox.test", 2));
        Assert.Equal(3, await DeliveredToAsync(h, "pro@mailbox.test", 3));
        var usage = await h.GetAsync(basic, "/api/v1/alias/usage");
        Assert.Equal("basic", usage.GetProperty("plan").GetString());
        Assert.Equal(2, usage.GetProperty("forwardsToday").GetInt32());
        Assert.Equal(2, usage.GetProperty("forwardsLimit").GetInt32());

        h.Server.Time.Advance(TimeSpan.FromDays(1));
        var nextDay = await h.SwaksAsync("jane@sender.test", basicAddress, AliasForwardingTests.Message(basicAddress, "basic next day"));

        Assert.True(nextDay.ExitCode == 0, nextDay.Output);
        basic = basic with { AccessToken = (await h.Server.LoginAsync(basic.Email, basic.AuthToken)).AccessToken }; // a day outlives the access token
        await WaitForwardedAsync(h, basic, basicAlias, 3);
        Assert.Equal(1, (await h.GetAsync(basic, "/api/v1/alias/usage")).GetProperty("forwardsToday").GetInt32());
    }

    [Fact]
    public async Task CreateCap_FollowsTheAccountsPlan_429AtThePlansNumber_WhileANoPlanAccountHasTheGlobalCap()
    {
        await using var h = await AliasHarness.StartAsync(o =>
        {
            o.Settings["Veil:Alias:DailyCreateLimit"] = "3";
            o.Settings["Veil:Plans:basic:AliasDailyCreates"] = "1";
        });
        var (basic, _) = await h.UserWithRecipientAsync("basic@mailbox.test");
        var (other, _) = await h.UserWithRecipientAsync("other@mailbox.test");
        await SetPlanAsync(h.Server, basic.Email, "basic");

        await h.CreateAliasAsync(basic);
        using var refused = await h.Server.PostAsync("/api/v1/alias/aliases", new { }, basic.AccessToken);
        for (var i = 0; i < 3; i++)
        {
            await h.CreateAliasAsync(other);
        }

        using var otherRefused = await h.Server.PostAsync("/api/v1/alias/aliases", new { }, other.AccessToken);

        await refused.ExpectProblemAsync(HttpStatusCode.TooManyRequests, "alias-daily-limit");
        await otherRefused.ExpectProblemAsync(HttpStatusCode.TooManyRequests, "alias-daily-limit");
        var usage = await h.GetAsync(basic, "/api/v1/alias/usage");
        Assert.Equal(1, usage.GetProperty("createdToday").GetInt32());
        Assert.Equal(1, usage.GetProperty("createsLimit").GetInt32());
    }

    [Fact]
    public async Task Usage_NoPlanAndNoDefaultPlan_IsTheGlobalLimitsUnderTheNameDefault()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o =>
        {
            o.Settings["Veil:Alias:DailyForwardLimit"] = "7";
            o.Settings["Veil:Alias:DailyCreateLimit"] = "5";
            o.Settings["Veil:Plans:pro:AliasDailyForwards"] = "700";
        });
        var user = await server.RegisterUserAsync();

        var usage = await UsageAsync(server, user);

        Assert.Equal("default", usage.GetProperty("plan").GetString());
        Assert.Equal(7, usage.GetProperty("forwardsLimit").GetInt32());
        Assert.Equal(5, usage.GetProperty("createsLimit").GetInt32());
        Assert.Equal(0, usage.GetProperty("forwardsToday").GetInt32());
        Assert.Equal(0, usage.GetProperty("createdToday").GetInt32());
        Assert.Equal("2030-01-02", usage.GetProperty("day").GetString());
    }

    [Fact]
    public async Task Usage_NoPlanWithADefaultPlan_UsesTheDefaultPlan_AndAGlobalForWhatItLeavesOut()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o =>
        {
            o.Settings["Veil:Alias:DailyCreateLimit"] = "5";
            o.Settings["Veil:Plans:default:AliasDailyForwards"] = "9";
        });
        var user = await server.RegisterUserAsync();

        var usage = await UsageAsync(server, user);

        Assert.Equal("default", usage.GetProperty("plan").GetString());
        Assert.Equal(9, usage.GetProperty("forwardsLimit").GetInt32());
        Assert.Equal(5, usage.GetProperty("createsLimit").GetInt32());
    }

    [Fact]
    public async Task Usage_StoredPlanNoLongerConfigured_FallsBackToDefault_AndWarnsOncePerPlanName()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o =>
        {
            o.Settings["Veil:Plans:default:AliasDailyForwards"] = "9";
            o.Settings["Veil:Plans:default:AliasDailyCreates"] = "4";
        });
        var first = await server.RegisterUserAsync();
        var second = await server.RegisterUserAsync();
        await StorePlanAsync(server, first.AccountId, "gold"); // assigned while "gold" was configured; the operator removed it since
        await StorePlanAsync(server, second.AccountId, "gold");

        var a = await UsageAsync(server, first);
        var b = await UsageAsync(server, second);
        server.Time.Advance(AccountPlans.CacheLifetime + TimeSpan.FromSeconds(1));
        var again = await UsageAsync(server, first);

        foreach (var usage in new[] { a, b, again })
        {
            Assert.Equal("default", usage.GetProperty("plan").GetString());
            Assert.Equal(9, usage.GetProperty("forwardsLimit").GetInt32());
            Assert.Equal(4, usage.GetProperty("createsLimit").GetInt32());
        }

        var warning = Assert.Single(server.Logs.Entries, e => e.Contains("[1800]", StringComparison.Ordinal));
        Assert.StartsWith("Warning", warning, StringComparison.Ordinal);
        Assert.Contains("Plan=gold", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_ForAnotherUser_IsTheirOwn_AndWithoutCredentialsIs401()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:Plans:pro:AliasDailyForwards"] = "700");
        var pro = await server.RegisterUserAsync();
        var plain = await server.RegisterUserAsync();
        await SetPlanAsync(server, pro.Email, "pro");

        using var anonymous = await server.SendAsync(HttpMethod.Get, "/api/v1/alias/usage");

        await anonymous.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("pro", (await UsageAsync(server, pro)).GetProperty("plan").GetString());
        Assert.Equal("default", (await UsageAsync(server, plain)).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task Cache_AChangeByAnotherProcess_ShowsOnlyAfterSixtySeconds_OnTheInjectedClock()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:Plans:pro:AliasDailyForwards"] = "700");
        var user = await server.RegisterUserAsync();
        Assert.Equal("default", (await UsageAsync(server, user)).GetProperty("plan").GetString()); // now cached

        await StorePlanAsync(server, user.AccountId, "pro"); // what `veil admin plan set` does from its own process
        var sameMinute = await UsageAsync(server, user);
        server.Time.Advance(TimeSpan.FromSeconds(59));
        var at59 = await UsageAsync(server, user);
        server.Time.Advance(TimeSpan.FromSeconds(2));
        var at61 = await UsageAsync(server, user);

        Assert.Equal("default", sameMinute.GetProperty("plan").GetString());
        Assert.Equal("default", at59.GetProperty("plan").GetString());
        Assert.Equal("pro", at61.GetProperty("plan").GetString());
        Assert.Equal(700, at61.GetProperty("forwardsLimit").GetInt32());
    }

    [Fact]
    public async Task Cache_AnInProcessChange_CallsForget_AndIsImmediate()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:Plans:pro:AliasDailyForwards"] = "700");
        var user = await server.RegisterUserAsync();
        Assert.Equal("default", (await UsageAsync(server, user)).GetProperty("plan").GetString());

        await SetPlanAsync(server, user.Email, "pro");
        var set = await UsageAsync(server, user);
        await SetPlanAsync(server, user.Email, null);
        var cleared = await UsageAsync(server, user);

        Assert.Equal("pro", set.GetProperty("plan").GetString());
        Assert.Equal("default", cleared.GetProperty("plan").GetString());
    }

    [Fact]
    public async Task Admin_UnknownPlanOrEmail_ChangesNothing_AndDefaultAlwaysExists()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:Plans:pro:AliasDailyForwards"] = "700");
        var user = await server.RegisterUserAsync();
        await SetPlanAsync(server, user.Email, "pro");

        var unknownPlan = await SetPlanAsync(server, user.Email, "gold");
        var unknownEmail = await SetPlanAsync(server, "nobody@example.org", "pro");
        var stillPro = await UsageAsync(server, user);
        var toDefault = await SetPlanAsync(server, user.Email.ToUpperInvariant(), "default");

        Assert.Equal(PlanSetStatus.UnknownPlan, unknownPlan);
        Assert.Equal(PlanSetStatus.UnknownAccount, unknownEmail);
        Assert.Equal("pro", stillPro.GetProperty("plan").GetString());
        Assert.Equal(PlanSetStatus.Done, toDefault);
        Assert.Null(await StoredPlanAsync(server, user.AccountId));
    }

    [Fact]
    public async Task Export_IncludesThePlanName()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:Plans:pro:AliasDailyForwards"] = "700");
        var user = await server.RegisterUserAsync();
        await SetPlanAsync(server, user.Email, "pro");

        using var export = await server.SendAsync(HttpMethod.Get, "/api/v1/account/export", bearer: user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("pro", (await export.JsonAsync()).GetProperty("account").GetProperty("plan").GetString());
    }

    [Theory]
    [InlineData("Veil:Plans:Gold_1:AliasDailyForwards", "5", "Veil:Plans:Gold_1 (env Veil__Plans__Gold_1): a plan name is")]
    [InlineData("Veil:Plans:a-plan-name-longer-than-thirty-two-chars:AliasDailyForwards", "5", "Veil:Plans:a-plan-name-longer-than-thirty-two-chars (env ")]
    [InlineData("Veil:Plans:pro:AliasDailyForwards", "0", "Veil:Plans:pro:AliasDailyForwards (env Veil__Plans__pro__AliasDailyForwards): must be at least 1")]
    [InlineData("Veil:Plans:pro:AliasDailyCreates", "-3", "Veil:Plans:pro:AliasDailyCreates (env Veil__Plans__pro__AliasDailyCreates): must be at least 1")]
    [InlineData("Veil:Plans:pro:AliasDailyForwards", "lots", "Veil:Plans:pro:AliasDailyForwards (env Veil__Plans__pro__AliasDailyForwards): must be a whole number")]
    [InlineData("Veil:Plans:pro:AliasDailyForward", "5", "Veil:Plans:pro:AliasDailyForward (env Veil__Plans__pro__AliasDailyForward): unknown setting")]
    public async Task Configuration_Invalid_RefusesToStart_NamingTheKeyAndItsEnvironmentForm(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => VeilTestServer.StartAsync(o => o.Settings[key] = value));

        Assert.Contains(error.Failures, f => f.StartsWith(expected, StringComparison.Ordinal));
    }

    private static async Task WaitForwardedAsync(AliasHarness h, TestUser user, System.Text.Json.JsonElement alias, long count) =>
        await h.WaitForAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}", a => a.GetProperty("counters").GetProperty("forwarded").GetInt64() == count);

    /// <summary>How many messages reached <paramref name="mailbox"/> at the smarthost, once at least <paramref name="expected"/> did (the queue delivers on its own task).</summary>
    private static async Task<int> DeliveredToAsync(AliasHarness h, string mailbox, int expected)
    {
        await h.Sink.WaitForAsync(_ => h.Sink.All().Count(m => m.RcptTos.Contains(mailbox)) >= expected);
        return h.Sink.All().Count(m => m.RcptTos.Contains(mailbox));
    }

    private static async Task<System.Text.Json.JsonElement> UsageAsync(VeilTestServer server, TestUser user)
    {
        using var response = await server.SendAsync(HttpMethod.Get, "/api/v1/alias/usage", bearer: user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    private static async Task<PlanSetStatus> SetPlanAsync(VeilTestServer server, string email, string? plan)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PlanAdmin>().SetAsync(email, plan, CancellationToken.None);
    }

    private static async Task StorePlanAsync(VeilTestServer server, Guid accountId, string? plan)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        Assert.Equal(1, await db.Set<Account>().Where(a => a.Id == accountId).ExecuteUpdateAsync(s => s.SetProperty(a => a.Plan, plan)));
    }

    private static async Task<string?> StoredPlanAsync(VeilTestServer server, Guid accountId)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<VeilDbContext>().Set<Account>().Where(a => a.Id == accountId).Select(a => a.Plan).SingleAsync();
    }
}
