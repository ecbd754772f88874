using Veil.Server.Platform.Results;

namespace Veil.Server.Identity;

/// <summary>Identity's expected failures (spec/identity-api.md, Problem codes).</summary>
internal static class IdentityErrors
{
    public static Error InvalidRequest(string detail) => new("invalid-request", ErrorKind.BadRequest, "Invalid request", detail);

    public static readonly Error InvalidToken = new("invalid-token", ErrorKind.BadRequest, "Invalid or expired link", "The link is unknown, already used or expired.");
    public static readonly Error InvalidCredentials = new("invalid-credentials", ErrorKind.Unauthorized, "Invalid credentials", "The email address or password is wrong.");
    public static readonly Error InvalidChallenge = new("invalid-challenge", ErrorKind.Unauthorized, "Invalid two-factor challenge", "The sign-in challenge is unknown, expired or used up; sign in again.");
    public static readonly Error InvalidCode = new("invalid-code", ErrorKind.Unauthorized, "Invalid code", "The code is wrong or was already used.");
    public static readonly Error InvalidEnrolmentCode = new("invalid-code", ErrorKind.BadRequest, "Invalid code", "The code does not match the new authenticator secret.");
    public static readonly Error TwoFactorRequired = new("two-factor-required", ErrorKind.Unauthorized, "Two-factor code required", "This account uses two-factor authentication: send totpCode.");
    public static readonly Error InvalidRefreshToken = new("invalid-refresh-token", ErrorKind.Unauthorized, "Invalid refresh token", "Sign in again.");
    public static readonly Error RefreshTokenSuperseded = new("refresh-token-superseded", ErrorKind.Conflict, "Refresh token superseded", "A parallel request has just replaced this refresh token; retry with the newest one (a browser's cookie already holds it).");
    public static readonly Error RefreshTokenReused = new("refresh-token-reused", ErrorKind.Unauthorized, "Refresh token reused", "A refresh token was used twice; the session has been revoked. Sign in again.");
    public static readonly Error TwoFactorAlreadyEnabled = new("two-factor-already-enabled", ErrorKind.Conflict, "Two-factor already enabled");
    public static readonly Error TwoFactorNotEnabled = new("two-factor-not-enabled", ErrorKind.Conflict, "Two-factor not enabled");
    public static readonly Error NoPendingEnrolment = new("no-pending-enrolment", ErrorKind.Conflict, "No pending enrolment", "Start the enrolment first (POST /api/v1/account/2fa/totp).");
}

/// <summary>
/// Too many failed passwords for this address from this source: 429 with Retry-After. The same for addresses with and
/// without an account (it says nothing about the account), and it never blocks magic-link sign-in.
/// </summary>
internal sealed record SignInThrottledError(TimeSpan RetryAfter)
    : Error("sign-in-throttled", ErrorKind.TooManyRequests, "Too many failed sign-ins", "Too many failed sign-in attempts from here. Retry later, or sign in with a link sent by mail.");

/// <summary>The bounded password-hashing queue is full: 503 with Retry-After.</summary>
internal sealed record ServerBusyError()
    : Error("server-busy", ErrorKind.Unavailable, "Server busy", "Too many sign-ins at once; retry in a moment.");
