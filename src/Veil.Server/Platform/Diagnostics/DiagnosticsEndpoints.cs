using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Platform.Diagnostics;

internal sealed record HealthResponse(string Status, string Version, string Database);

internal static class DiagnosticsEndpoints
{
    public static readonly string Version =
        typeof(DiagnosticsEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    public static IEndpointRouteBuilder MapVeilDiagnostics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/health", (IDatabaseInfo database) =>
                TypedResults.Ok(new HealthResponse("ok", Version, database.ProviderName)))
            .WithName("Platform_Health");

        // Metrics describe the whole server's traffic, so only someone on the machine itself may
        // read them. A request that came through a proxy is not local even from 127.0.0.1.
        var diagnostics = endpoints.MapGroup("/diagnostics")
            .AddEndpointFilter(static async (context, next) =>
                IsLocal(context.HttpContext) ? await next(context) : TypedResults.NotFound());
        diagnostics.MapGet("/metrics", (VeilMetrics metrics) => TypedResults.Ok(metrics.Snapshot()))
            .WithName("Platform_Metrics");
        return endpoints;
    }

    private static readonly string[] ForwardingHeaders = ["Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP"];

    internal static bool IsLocal(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } remote
        && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote)
        && !ForwardingHeaders.Any(context.Request.Headers.ContainsKey);
}
