using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Veil.Server.Platform.Diagnostics;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests;

public sealed class HealthAndDiagnosticsTests
{
    [Fact]
    public async Task Health_ReportsOkVersionAndTheChosenDatabase()
    {
        await using var server = await VeilTestServer.StartAsync();

        var health = await server.GetHealthAsync();

        Assert.Equal("ok", health.Status);
        Assert.Matches(@"^\d+\.\d+\.\d+", health.Version);
        Assert.Equal(TestDatabase.ChosenProvider, health.Database);
    }

    [Fact]
    public async Task Health_CarriesSecurityHeaders()
    {
        await using var server = await VeilTestServer.StartAsync();

        using var response = await server.Client.GetAsync(new Uri("/health", UriKind.Relative));

        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task Metrics_FromLoopback_CountsRequests()
    {
        await using var server = await VeilTestServer.StartAsync();
        await server.GetHealthAsync();

        using var response = await server.Client.GetAsync(new Uri("/diagnostics/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("requests").GetInt64() >= 2);
        Assert.True(json.RootElement.GetProperty("responses2xx").GetInt64() >= 1);
    }

    [Fact]
    public async Task Metrics_ThroughAProxy_AreNotFound()
    {
        await using var server = await VeilTestServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/diagnostics/metrics");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public void IsLocal_RemoteAddress_IsFalse()
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse("198.51.100.4");

        Assert.False(DiagnosticsEndpoints.IsLocal(context));
    }
}
