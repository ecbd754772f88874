// The one mapping from Error to RFC 9457 problem details. Everything that produces an error
// response goes through here or through ProblemDefaults (which fills the same fields for bare
// status codes), so `type` and `code` are the same for the same failure wherever it arises.
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Veil.Server.Platform.Results;

namespace Veil.Server.Platform.Problems;

internal static class ProblemMapping
{
    public const string TypePrefix = "urn:veil:problem:";
    public const string CodeExtension = "code";

    public static ProblemDetails ToProblemDetails(this Error error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var problem = new ProblemDetails
        {
            Type = TypePrefix + error.Code,
            Title = error.Title,
            Status = error.Status,
            Detail = error.Detail,
        };
        problem.Extensions[CodeExtension] = error.Code;
        return problem;
    }

    /// <summary>The problem response for an error (with <c>Retry-After</c> when it is a rate limit).</summary>
    public static IResult ToProblem(this Error error) => new ErrorResult(error);

    /// <summary>Maps a command's result: success through <paramref name="onSuccess"/>, failure to its problem.</summary>
    public static IResult ToHttpResult<T>(this Result<T> result, Func<T, IResult> onSuccess) =>
        result.Match(onSuccess, error => error.ToProblem());

    /// <summary>Sets <c>Retry-After</c> (whole seconds, rounded up, at least 1) for rate-limit errors.</summary>
    public static void ApplyHeaders(Error error, HttpResponse response)
    {
        if (error is RateLimitedError limited)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(limited.RetryAfter.TotalSeconds));
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
    }

    private sealed class ErrorResult(Error error) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => error.Status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            ApplyHeaders(error, httpContext.Response);
            // TypedResults.Problem writes through IProblemDetailsService, so ProblemDefaults applies too.
            return TypedResults.Problem(error.ToProblemDetails()).ExecuteAsync(httpContext);
        }
    }
}
