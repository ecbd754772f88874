using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Outbox;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.RateLimiting;
using Veil.Server.Platform.Redaction;
using Veil.Server.Platform.Results;

namespace Veil.Server.Tests.Kit;

public sealed record EchoRequest(string Text);

public sealed record NotifyRequest(string To, string Subject, string Body);

/// <summary>Endpoints that exercise platform features the way a module will, for tests only.</summary>
internal static partial class TestEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/test/echo", (EchoRequest body) => TypedResults.Ok(body));
        endpoints.MapGet("/test/throw/{secret}", (string secret) => Throw(secret));
        endpoints.MapGet("/test/gone", () => PlatformErrors.Gone.ToProblem());
        endpoints.MapGet("/test/limited", () => TypedResults.Ok("fine")).RequireRateLimiting(VeilRateLimiting.PerIp);
        endpoints.MapGet("/test/token/{token}", (string token, ILoggerFactory loggers) =>
        {
            var redacted = Redact.Token(token);
            var logger = loggers.CreateLogger("Veil.Tests");
            LogToken(logger, redacted);
            return TypedResults.NoContent();
        });
        endpoints.MapPost("/test/notify", async (NotifyRequest body, ITargetRateLimiter limiter, IMailOutbox outbox, ILoggerFactory loggers, CancellationToken ct) =>
        {
            if (await limiter.AcquireAsync(VeilRateLimiting.PerTarget, body.To, ct) is { } limited)
            {
                return limited.ToProblem();
            }

            var address = Redact.Email(body.To);
            var logger = loggers.CreateLogger("Veil.Tests");
            LogNotify(logger, address);
            await outbox.SendAsync(new OutboxMessage(body.To, body.Subject, body.Body) { HtmlBody = "<p>" + body.Body + "</p>" }, ct);
            return TypedResults.Accepted((string?)null);
        });
    }

    private static IResult Throw(string secret) => throw new InvalidOperationException("boom with " + secret);

    [LoggerMessage(EventId = 9000, Level = LogLevel.Information, Message = "token seen: {Token}")]
    private static partial void LogToken(ILogger logger, string token);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "notifying {Address}")]
    private static partial void LogNotify(ILogger logger, string address);
}
