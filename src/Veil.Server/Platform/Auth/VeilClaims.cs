// Who is calling: the claims Veil's authentication puts on HttpContext.User, and the accessors
// modules use. Modules never parse tokens themselves; they ask `user.UserId()`.
using System.Globalization;
using System.Security.Claims;

namespace Veil.Server.Platform.Auth;

/// <summary>Claim types set by Veil's authentication (JWT claim names where one exists).</summary>
internal static class VeilClaims
{
    public const string Subject = "sub";
    public const string SessionId = "sid";
    public const string AuthTime = "auth_time";

    /// <summary><c>session</c> (an access token) or <c>api-key</c>.</summary>
    public const string Credential = "veil:credential";
    public const string ApiKeyId = "veil:api-key-id";

    public const string SessionCredential = "session";
    public const string ApiKeyCredential = "api-key";

    public const string AuthenticationType = "Veil";
}

/// <summary>Accessors for the signed-in caller.</summary>
internal static class VeilPrincipalExtensions
{
    /// <summary>The account id of an authenticated caller, else null.</summary>
    public static Guid? OptionalUserId(this ClaimsPrincipal user) =>
        user?.Identity?.IsAuthenticated == true && Guid.TryParse(user.FindFirstValue(VeilClaims.Subject), out var id) ? id : null;

    /// <summary>The account id; only call behind <c>RequireVeilUser</c>.</summary>
    /// <exception cref="InvalidOperationException">The caller is not authenticated.</exception>
    public static Guid UserId(this ClaimsPrincipal user) =>
        user.OptionalUserId() ?? throw new InvalidOperationException("No authenticated Veil user on this request.");

    public static Guid? SessionId(this ClaimsPrincipal user) =>
        Guid.TryParse(user?.FindFirstValue(VeilClaims.SessionId), out var id) ? id : null;

    public static bool IsApiKey(this ClaimsPrincipal user) =>
        user?.FindFirstValue(VeilClaims.Credential) == VeilClaims.ApiKeyCredential;

    /// <summary>When the session last proved a password, magic link, 2FA or step-up; null for API keys.</summary>
    public static DateTimeOffset? AuthTime(this ClaimsPrincipal user) =>
        long.TryParse(user?.FindFirstValue(VeilClaims.AuthTime), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}
