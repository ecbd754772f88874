using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Diagnostics;

namespace Veil.Server.Platform.Hosting;

/// <summary>
/// One log line per request, naming the route TEMPLATE (<c>/d/{id}</c>), never the path or query
/// string (which can carry link ids and tokens) nor the client address. ASP.NET's own request
/// logging is switched off in VeilServer for the same reason.
/// </summary>
internal sealed partial class RequestLoggingMiddleware(RequestDelegate next, VeilMetrics metrics, ILogger<RequestLoggingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        metrics.RequestStarted();
        try
        {
            await next(context);
        }
        finally
        {
            metrics.RequestCompleted(context.Response.StatusCode);
            if (logger.IsEnabled(LogLevel.Information))
            {
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
                var method = KnownMethod(context.Request.Method);
                var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                LogRequest(logger, method, route, context.Response.StatusCode, elapsedMs);
            }
        }
    }

    // The method is client-chosen text; only the standard ones are echoed into the log.
    private static string KnownMethod(string method) =>
        HttpMethods.GetCanonicalizedValue(method) is var known && ReferenceEquals(known, method) && known.Length <= 7 ? known : "OTHER";

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "HTTP {Method} {Route} -> {Status} in {ElapsedMs:0.0} ms")]
    private static partial void LogRequest(ILogger logger, string method, string route, int status, double elapsedMs);
}
