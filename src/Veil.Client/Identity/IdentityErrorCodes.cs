namespace Veil.Client.Identity;

/// <summary>The problem <c>code</c>s of spec/identity-api.md that clients act on.</summary>
public static class IdentityErrorCodes
{
    public const string InvalidRequest = "invalid-request";
    public const string MalformedJson = "malformed-json";
    public const string InvalidToken = "invalid-token";
    public const string InvalidCredentials = "invalid-credentials";
    public const string InvalidChallenge = "invalid-challenge";
    public const string InvalidCode = "invalid-code";
    public const string TwoFactorRequired = "two-factor-required";
    public const string Unauthorized = "unauthorized";
    public const string StepUpRequired = "step-up-required";
    public const string InvalidRefreshToken = "invalid-refresh-token";
    public const string RefreshTokenSuperseded = "refresh-token-superseded";

    public const string RefreshTokenReused = "refresh-token-reused";
    public const string ApiKeyNotAllowed = "api-key-not-allowed";
    public const string NotFound = "not-found";
    public const string TwoFactorAlreadyEnabled = "two-factor-already-enabled";
    public const string TwoFactorNotEnabled = "two-factor-not-enabled";
    public const string NoPendingEnrolment = "no-pending-enrolment";
    public const string SignInThrottled = "sign-in-throttled";
    public const string RateLimited = "rate-limited";
    public const string ServerBusy = "server-busy";

    /// <summary>Client-side: the password did not open the user key the server returned.</summary>
    public const string WrongPassword = "wrong-password";

    /// <summary>Client-side: there is no session (sign in first).</summary>
    public const string NotSignedIn = "not-signed-in";
}
