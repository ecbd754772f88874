using System.Globalization;
using Microsoft.AspNetCore.Http;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.Results;

namespace Veil.Server.Identity.Services;

/// <summary>Maps Identity results to HTTP, adding Retry-After to its own 429/503 problems.</summary>
internal static class IdentityResults
{
    public static IResult ToIdentityResult<T>(this Result<T> result, Func<T, IResult> onSuccess) =>
        result.Match(onSuccess, ToIdentityProblem);

    public static IResult ToIdentityProblem(this Error error) => error switch
    {
        SignInThrottledError throttled => new WithRetryAfter(error, throttled.RetryAfter),
        ServerBusyError => new WithRetryAfter(error, TimeSpan.FromSeconds(1)),
        _ => error.ToProblem(),
    };

    private sealed class WithRetryAfter(Error error, TimeSpan after) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => error.Status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return error.ToProblem().ExecuteAsync(httpContext);
        }
    }
}
