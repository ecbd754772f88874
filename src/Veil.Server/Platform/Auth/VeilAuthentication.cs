// Authentication and authorization as endpoint filters on a module's route group:
//
//   var group = endpoints.MapGroup("/api/v1/drops").RequireVeilUser(VeilAccess.User);
//   group.MapDelete("/{id}", ...).RequireStepUp();
//   anonymousAllowed.AllowVeilUser(VeilAccess.User);   // signed in if a header says so, else anonymous
//
// Why filters and not ASP.NET's authentication middleware: the composition root's pipeline runs the
// problem-details handler, routing and rate limiting in a fixed order, and a middleware added before
// them (where ASP.NET puts UseAuthentication implicitly) would run database lookups outside the
// exception handler. A filter runs after routing, inside the handler, only on endpoints that ask for it.
//
// Credentials come only from the Authorization header. A header that is present but not valid is a
// 401 — never a fallback to a cookie — so a revoked API key cannot be "rescued" by a browser session.
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.RateLimiting;
using Veil.Server.Platform.Results;

namespace Veil.Server.Platform.Auth;

/// <summary>Which credentials an endpoint accepts.</summary>
internal enum VeilAccess
{
    /// <summary>An access token (a signed-in session) or an API key.</summary>
    User,

    /// <summary>An access token only: account management is not for API keys.</summary>
    Session,
}

/// <summary>Validates the request's <c>Authorization</c> header. Implemented by the Identity module.</summary>
internal interface IRequestAuthenticator
{
    /// <summary>The caller, or null when the header is missing or not valid (expired, revoked, malformed).</summary>
    Task<ClaimsPrincipal?> AuthenticateAsync(HttpContext context, CancellationToken cancellationToken);
}

/// <summary>Settings of the authorization filters (section <c>Veil:Identity</c>).</summary>
internal sealed class StepUpOptions
{
    /// <summary>How recent an authentication must be for a step-up endpoint (default 5 minutes).</summary>
    public TimeSpan StepUpWindow { get; set; } = TimeSpan.FromMinutes(5);
}

internal static class AuthErrors
{
    public static readonly Error Unauthorized = new("unauthorized", ErrorKind.Unauthorized, "Unauthorized", "Sign in, or send a valid access token or API key.");
    public static readonly Error StepUpRequired = new("step-up-required", ErrorKind.Unauthorized, "Step-up required", "This action needs a recent authentication: call POST /api/v1/auth/step-up and retry with the new access token.");
    public static readonly Error ApiKeyNotAllowed = new("api-key-not-allowed", ErrorKind.Forbidden, "API key not allowed", "This endpoint needs a signed-in session; API keys cannot use it.");
    public static readonly Error CsrfOriginMismatch = new("csrf-origin-mismatch", ErrorKind.Forbidden, "Cross-site request refused", "A cookie-authenticated request must come from the server's own origin.");
}

internal static class VeilAuthentication
{
    /// <summary>Per-account request limit applied by <see cref="RequireVeilUser{TBuilder}"/> (a target policy keyed by account id).</summary>
    public const string AccountRequestsPolicy = "account-requests";

    public static IServiceCollection AddVeilAuthentication(this IServiceCollection services)
    {
        services.AddOptions<StepUpOptions>().BindConfiguration("Veil:Identity")
            .Validate(o => o.StepUpWindow >= TimeSpan.FromSeconds(10) && o.StepUpWindow <= TimeSpan.FromHours(1),
                "Veil:Identity:StepUpWindow (env Veil__Identity__StepUpWindow): must be between 00:00:10 and 01:00:00")
            .ValidateOnStart();
        services.AddVeilRateLimitPolicy(AccountRequestsPolicy, RateLimitKey.Target, permitLimit: 600, TimeSpan.FromMinutes(1));
        return services;
    }

    /// <summary>Requires a valid access token (or, for <see cref="VeilAccess.User"/>, an API key) and sets <c>HttpContext.User</c>.</summary>
    public static TBuilder RequireVeilUser<TBuilder>(this TBuilder builder, VeilAccess access)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
            await SignInAsync(context, access) ?? await next(context));

    /// <summary>
    /// Optional sign-in, for endpoints anonymous callers may use but where a signed-in user matters
    /// (Drop: the creator owns its drops). No <c>Authorization</c> header: the request goes on anonymous.
    /// A header that is present is authenticated exactly as by <see cref="RequireVeilUser{TBuilder}"/>:
    /// not valid (expired, revoked, an unknown <c>Bearer ak_…</c>) is a 401 — never a silent fallback to
    /// anonymous, or a script with a revoked key would quietly create ownerless drops under the IP quota.
    /// </summary>
    public static TBuilder AllowVeilUser<TBuilder>(this TBuilder builder, VeilAccess access)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
            context.HttpContext.Request.Headers.Authorization.Count == 0
                ? await next(context)
                : await SignInAsync(context, access) ?? await next(context));

    // Authenticates the request, hands the user to the handler and applies the per-account limit:
    // null to go on, or the problem to answer with.
    private static async ValueTask<object?> SignInAsync(EndpointFilterInvocationContext context, VeilAccess access)
    {
        var http = context.HttpContext;
        var authenticator = http.RequestServices.GetRequiredService<IRequestAuthenticator>();
        var principal = await authenticator.AuthenticateAsync(http, http.RequestAborted);
        if (principal is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return AuthErrors.Unauthorized.ToProblem();
        }

        http.User = principal;
        // Handler parameters were bound before this filter ran: hand them the authenticated user.
        for (var i = 0; i < context.Arguments.Count; i++)
        {
            if (context.Arguments[i] is ClaimsPrincipal)
            {
                context.Arguments[i] = principal;
            }
        }

        var limiter = http.RequestServices.GetRequiredService<ITargetRateLimiter>();
        if (await limiter.AcquireAsync(AccountRequestsPolicy, principal.UserId().ToString(), http.RequestAborted) is { } limited)
        {
            return limited.ToProblem();
        }

        if (access == VeilAccess.Session && principal.IsApiKey())
        {
            return AuthErrors.ApiKeyNotAllowed.ToProblem();
        }

        return null;
    }

    /// <summary>
    /// Applies the account-keyed policy <paramref name="policy"/> (declared with <see cref="RateLimitKey.Account"/>) to the
    /// authenticated caller. Goes after <see cref="RequireVeilUser{TBuilder}"/> (group filters run first): keyed by the account,
    /// users behind one address do not share a quota and one account does not get a fresh one per address.
    /// </summary>
    public static TBuilder RequireAccountRateLimit<TBuilder>(this TBuilder builder, string policy)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (http.User.OptionalUserId() is not { } account)
            {
                throw new InvalidOperationException($"Rate limit '{policy}' is per account: put RequireVeilUser before it.");
            }

            var limiter = http.RequestServices.GetRequiredService<ITargetRateLimiter>();
            return await limiter.AcquireAsync(policy, "account:" + account.ToString(), http.RequestAborted) is { } limited
                ? limited.ToProblem()
                : await next(context);
        });

    /// <summary>
    /// Requires an authentication within the step-up window (<c>auth_time</c> of the access token).
    /// Goes after <see cref="RequireVeilUser{TBuilder}"/>; API keys never satisfy it.
    /// </summary>
    public static TBuilder RequireStepUp<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var window = http.RequestServices.GetRequiredService<IOptions<StepUpOptions>>().Value.StepUpWindow;
            var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            var authTime = http.User.AuthTime();
            if (http.User.IsApiKey() || authTime is null || now - authTime.Value > window)
            {
                return AuthErrors.StepUpRequired.ToProblem();
            }

            return await next(context);
        });
}

/// <summary>The CSRF rule for cookie-authenticated, state-changing requests.</summary>
internal static class CsrfGuard
{
    /// <summary>
    /// True when the request's <c>Origin</c> (or, without one, <c>Referer</c>) has exactly the origin
    /// <paramref name="publicOrigin"/> (or, when that is not configured, the request's own scheme and host).
    /// A request with neither header is refused: SameSite=Strict already stops most cross-site
    /// requests, and this check keeps working where SameSite does not (same-site subdomains).
    /// </summary>
    public static bool IsSameOrigin(HttpContext context, string? publicOrigin)
    {
        ArgumentNullException.ThrowIfNull(context);
        var expected = string.IsNullOrEmpty(publicOrigin)
            ? $"{context.Request.Scheme}://{context.Request.Host}"
            : publicOrigin;
        if (!Uri.TryCreate(expected, UriKind.Absolute, out var expectedUri))
        {
            return false;
        }

        var presented = context.Request.Headers.Origin.ToString();
        if (string.IsNullOrEmpty(presented))
        {
            presented = context.Request.Headers.Referer.ToString();
        }

        return Uri.TryCreate(presented, UriKind.Absolute, out var uri)
            && string.Equals(uri.Scheme, expectedUri.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(uri.IdnHost, expectedUri.IdnHost, StringComparison.OrdinalIgnoreCase)
            && uri.Port == expectedUri.Port;
    }
}
