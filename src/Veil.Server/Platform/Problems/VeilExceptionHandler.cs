using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Diagnostics;
using Veil.Server.Platform.Results;

namespace Veil.Server.Platform.Problems;

/// <summary>
/// The one place unexpected exceptions and rejected requests become problems. Framework request
/// errors (malformed JSON, body too large, wrong content type) arrive as BadHttpRequestException
/// and get their own code; anything else is a 500 with no detail outside Development.
/// </summary>
internal sealed partial class VeilExceptionHandler(
    IProblemDetailsService problems,
    IHostEnvironment environment,
    VeilMetrics metrics,
    ILogger<VeilExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var error = Classify(exception, httpContext);
        if (error.Kind == ErrorKind.Internal)
        {
            metrics.UnhandledException();
            // The message is deliberately not logged: exception messages can quote values (a
            // constraint violation names the row, a parser quotes its input). Type and stack suffice.
            LogUnhandled(logger, DescribeTypes(exception), exception.StackTrace ?? "(no stack trace)");
        }
        else
        {
            LogRejected(logger, error.Code, error.Status);
        }

        var problem = error.ToProblemDetails();
        if (error.Kind == ErrorKind.Internal && environment.IsDevelopment())
        {
            problem.Detail = exception.Message;
            problem.Extensions["exception"] = exception.ToString();
        }

        httpContext.Response.StatusCode = error.Status;
        ProblemMapping.ApplyHeaders(error, httpContext.Response);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
        });
    }

    internal static Error Classify(Exception exception, HttpContext context) => exception switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => PlatformErrors.BodyTooLarge,
        BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } => PlatformErrors.UnsupportedMediaType,
        BadHttpRequestException { InnerException: JsonException } => PlatformErrors.MalformedJson,
        BadHttpRequestException bad => PlatformErrors.ForStatus(bad.StatusCode),
        // A string in a JSON body that cannot become a .NET string (invalid UTF-8, an unpaired surrogate escape) makes
        // System.Text.Json throw InvalidOperationException when a handler reads it; JsonBodyGuardMiddleware stops these
        // before the handler where it can, this is the net for handlers that read their body themselves.
        InvalidOperationException { Source: "System.Text.Json" } when context.Request.HasJsonContentType() => PlatformErrors.MalformedJson,
        _ => PlatformErrors.Internal,
    };

    private static string DescribeTypes(Exception exception)
    {
        var types = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            types.Add(current.GetType().FullName ?? current.GetType().Name);
        }

        return string.Join(" <- ", types);
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Error, Message = "Unhandled exception {ExceptionTypes}; message withheld. Stack: {StackTrace}")]
    private static partial void LogUnhandled(ILogger logger, string exceptionTypes, string stackTrace);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Debug, Message = "Request rejected: {Code} ({Status})")]
    private static partial void LogRejected(ILogger logger, string code, int status);
}
