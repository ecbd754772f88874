using System.Net;
using System.Net.Http.Json;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests;

// The rate limiters keep their own clock, so these tests count requests inside a long window
// instead of advancing time.
public sealed class RateLimitingTests
{
    [Fact]
    public async Task PerIpPolicy_ThirdRequestInTheWindow_Gets429ProblemWithRetryAfter()
    {
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.MapEndpoints = TestEndpoints.Map;
            o.Settings["Veil:RateLimits:ip:PermitLimit"] = "2";
            o.Settings["Veil:RateLimits:ip:Window"] = "00:10:00";
        });

        using var first = await server.Client.GetAsync(new Uri("/test/limited", UriKind.Relative));
        using var second = await server.Client.GetAsync(new Uri("/test/limited", UriKind.Relative));
        using var third = await server.Client.GetAsync(new Uri("/test/limited", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        await ProblemDetailsTests.AssertProblemAsync(third, HttpStatusCode.TooManyRequests, "rate-limited");
        var retryAfter = third.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task TargetPolicy_LimitsOneTargetWithoutBlockingAnother()
    {
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.MapEndpoints = TestEndpoints.Map;
            o.Settings["Veil:RateLimits:target:PermitLimit"] = "1";
            o.Settings["Veil:RateLimits:target:Window"] = "01:00:00";
        });

        using var first = await server.Client.PostAsJsonAsync("/test/notify", new NotifyRequest("a@example.org", "s", "b"));
        using var again = await server.Client.PostAsJsonAsync("/test/notify", new NotifyRequest("a@example.org", "s", "b"));
        using var other = await server.Client.PostAsJsonAsync("/test/notify", new NotifyRequest("b@example.org", "s", "b"));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        await ProblemDetailsTests.AssertProblemAsync(again, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.NotNull(again.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
    }

    [Fact]
    public async Task InvalidPolicySetting_RefusesToStartNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            VeilTestServer.StartAsync(o => o.Settings["Veil:RateLimits:ip:PermitLimit"] = "0"));

        Assert.Contains(error.Failures, f => f.StartsWith("Veil:RateLimits:ip:PermitLimit", StringComparison.Ordinal));
    }

    private static async Task<HttpStatusCode> GetAsForwardedAsync(VeilTestServer server, string client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/test/limited", UriKind.Relative));
        request.Headers.Add("X-Forwarded-For", client);
        using var response = await server.Client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task PerIpPolicy_BehindATrustedProxy_LimitsEachForwardedClientOnItsOwn()
    {
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.MapEndpoints = TestEndpoints.Map;
            o.Settings["Veil:RateLimits:ip:PermitLimit"] = "2";
            o.Settings["Veil:RateLimits:ip:Window"] = "00:10:00";
            o.Settings["Veil:TrustedProxies:0"] = "127.0.0.0/8"; // the test client connects from loopback: it is the proxy
        });

        Assert.Equal(HttpStatusCode.OK, await GetAsForwardedAsync(server, "203.0.113.7"));
        Assert.Equal(HttpStatusCode.OK, await GetAsForwardedAsync(server, "203.0.113.7"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsForwardedAsync(server, "203.0.113.7"));
        Assert.Equal(HttpStatusCode.OK, await GetAsForwardedAsync(server, "203.0.113.8"));
        // Only the address the proxy appended counts: a client cannot pick a fresh one by prepending its own.
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsForwardedAsync(server, "198.51.100.1, 203.0.113.7"));
    }

    [Fact]
    public async Task PerIpPolicy_WithoutTrustedProxies_IgnoresForwardingHeaders()
    {
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.MapEndpoints = TestEndpoints.Map;
            o.Settings["Veil:RateLimits:ip:PermitLimit"] = "2";
            o.Settings["Veil:RateLimits:ip:Window"] = "00:10:00";
        });

        Assert.Equal(HttpStatusCode.OK, await GetAsForwardedAsync(server, "203.0.113.7"));
        Assert.Equal(HttpStatusCode.OK, await GetAsForwardedAsync(server, "203.0.113.8"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsForwardedAsync(server, "203.0.113.9"));
    }

    [Fact]
    public async Task TrustedProxies_NotAnAddress_RefusesToStartNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            VeilTestServer.StartAsync(o => o.Settings["Veil:TrustedProxies:0"] = "proxy.example"));

        Assert.Contains(error.Failures, f => f.StartsWith("Veil:TrustedProxies:0", StringComparison.Ordinal));
    }
}
