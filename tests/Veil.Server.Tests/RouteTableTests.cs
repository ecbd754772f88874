// Modules map their own endpoints; two modules answering the same method and path would leave one of them
// unreachable (ASP.NET Core's matcher throws AmbiguousMatchException on the request, a 500). This happened when the
// Mailbox (operator domains) and the custom-domain module both mapped GET /api/v1/mail/domains: every module on.
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests;

public sealed class RouteTableTests
{
    [Fact]
    public async Task EveryMethodAndPath_IsMappedByOneEndpointOnly()
    {
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Alias:Domains:0"] = "alias.test";
            o.Settings["Veil:Mail:Domains:0"] = "mail.test";
        });

        var routes = server.Services.GetServices<EndpointDataSource>()
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(method => $"{method} /{endpoint.RoutePattern.RawText?.Trim('/')}"))
            .ToList();

        Assert.True(routes.Count > 50, $"only {routes.Count} routes found: the test no longer sees the route table");
        var clashes = routes.GroupBy(r => r, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(clashes.Count == 0, "mapped more than once: " + string.Join(", ", clashes));
    }
}
