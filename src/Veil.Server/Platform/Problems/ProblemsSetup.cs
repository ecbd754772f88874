using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Veil.Server.Platform.Results;

namespace Veil.Server.Platform.Problems;

internal static class ProblemsSetup
{
    public static IServiceCollection AddVeilProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = Complete);
        services.AddExceptionHandler<VeilExceptionHandler>();
        // Without this, minimal APIs answer malformed JSON and wrong content types with an empty 400;
        // throwing lets VeilExceptionHandler turn them into problems with a code.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }

    public static WebApplication UseVeilProblems(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // VeilExceptionHandler logs what happened without the exception's message (messages can
            // carry values, e.g. a database constraint error quoting a row); the middleware's own
            // log line would include it.
            SuppressDiagnosticsCallback = _ => true,
        });
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>
    /// Gives every problem written through IProblemDetailsService (status pages, the exception
    /// handler, TypedResults.Problem) a Veil <c>type</c> and <c>code</c>, derived from the status when
    /// the writer did not set one.
    /// </summary>
    private static void Complete(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        if (problem.Extensions.TryGetValue(ProblemMapping.CodeExtension, out var code) && code is string known)
        {
            problem.Type = ProblemMapping.TypePrefix + known;
        }
        else
        {
            var error = PlatformErrors.ForStatus(status);
            problem.Type = ProblemMapping.TypePrefix + error.Code;
            problem.Title = error.Title;
            problem.Detail ??= error.Detail;
            problem.Extensions[ProblemMapping.CodeExtension] = error.Code;
        }

        // Only the error's own words go out: ASP.NET may have put a framework message in Detail for
        // some statuses, and outside Development nothing but our text leaves the server.
        if (status >= 500 && !context.HttpContext.RequestServices.GetRequiredService<IHostEnvironment>().IsDevelopment())
        {
            problem.Detail = null;
        }

        // The path can carry a token (e.g. a link id); the client knows it already, but a problem
        // body is often pasted into bug reports, so it is left out.
        problem.Instance = null;
    }
}
