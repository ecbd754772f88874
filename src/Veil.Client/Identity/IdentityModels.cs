// Request and response shapes of spec/identity-api.md. Member names are camelCase on the wire
// (System.Text.Json web defaults); binary values are unpadded base64url strings.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Veil.Client.Identity;

/// <summary>Argon2id parameters and salt of an account (the <c>Kdf</c> shape).</summary>
public sealed record KdfParameters(string Kdf, int MemoryKiB, int Iterations, int Parallelism, string Salt);

/// <summary>How the server sends a refresh token: <c>body</c> for SDK and CLI clients.</summary>
internal static class TokenTransport
{
    public const string Body = "body";
}

internal sealed record RegisterRequest(string Email, string AuthToken, KdfParameters Kdf, string ProtectedUserKey, string? RecoveryEmail);

internal sealed record StatusResponse(string Status);

internal sealed record TokenRequest(string Token);

internal sealed record EmailRequest(string Email);

internal sealed record LoginRequest(string Email, string AuthToken, string? ClientLabel, string TokenTransport);

internal sealed record TwoFactorRequest(string ChallengeToken, string Method, string Code);

internal sealed record MagicLinkConsumeRequest(string Token, string? ClientLabel, string TokenTransport);

internal sealed record RefreshRequest(string RefreshToken);

internal sealed record StepUpRequest(string AuthToken, string? TotpCode);

internal sealed record StepUpResponse(string AccessToken, int ExpiresIn, DateTimeOffset AuthTime);

internal sealed record ChangePasswordRequest(string CurrentAuthToken, string NewAuthToken, KdfParameters NewKdf, string NewProtectedUserKey);

internal sealed record ChangeEmailRequest(string NewEmail, string NewAuthToken, KdfParameters NewKdf, string NewProtectedUserKey);

internal sealed record RecoveryEmailRequest(string? RecoveryEmail);

internal sealed record CodeRequest(string Code);

internal sealed record ApiKeyCreateRequest(string Name);

/// <summary>
/// The answer to a sign-in request: a <c>TokenResponse</c> or, when <see cref="TwoFactorRequired"/>,
/// a <c>TwoFactorChallenge</c> (spec/identity-api.md). Both arrive with status 200.
/// </summary>
internal sealed record SignInResponse(
    string? AccessToken,
    string? TokenType,
    int ExpiresIn,
    string? RefreshToken,
    Guid? SessionId,
    Guid? AccountId,
    bool TwoFactorRequired,
    string? ChallengeToken,
    IReadOnlyList<string>? Methods);

/// <summary>A signed-in session as the client holds it (the access token stays inside the client).</summary>
public sealed record SignedIn(Guid AccountId, Guid SessionId, DateTimeOffset AccessTokenExpiresAt);

/// <summary>The server asks for a second factor before it issues tokens.</summary>
public sealed record TwoFactorChallenge(string ChallengeToken, IReadOnlyList<string> Methods, DateTimeOffset ExpiresAt);

/// <summary>The outcome of a sign-in: either signed in, or a second factor is needed.</summary>
public sealed record SignInResult(SignedIn? Session, TwoFactorChallenge? Challenge)
{
    /// <summary>True when <see cref="Challenge"/> must be answered with <c>CompleteTwoFactorAsync</c>.</summary>
    [JsonIgnore]
    public bool TwoFactorRequired => Challenge is not null;
}

/// <summary>Which kind of second-factor code is presented.</summary>
public enum TwoFactorMethod
{
    /// <summary>A 6-digit code from the authenticator.</summary>
    Totp,

    /// <summary>One of the 8 backup codes (XXXXX-XXXXXXXXXXX).</summary>
    Backup,

    /// <summary>One of the 10 recovery codes; using one turns TOTP off.</summary>
    Recovery,
}

/// <summary>What email verification link was consumed: <c>registration</c>, <c>recovery-email</c> or <c>email-change</c>.</summary>
public sealed record VerifyEmailResult(string Purpose);

/// <summary>The signed-in account (<c>GET /account</c>).</summary>
public sealed record AccountInfo(
    Guid AccountId,
    string Email,
    string? RecoveryEmail,
    bool RecoveryEmailVerified,
    bool TwoFactorEnabled,
    DateTimeOffset CreatedAt,
    string Credential,
    Guid? SessionId,
    DateTimeOffset? AuthTime);

/// <summary>The account's KDF parameters and protected user key (<c>GET /account/keys</c>).</summary>
public sealed record AccountKeys(string Kdf, int MemoryKiB, int Iterations, int Parallelism, string Salt, string ProtectedUserKey)
{
    internal KdfParameters Parameters => new(Kdf, MemoryKiB, Iterations, Parallelism, Salt);
}

/// <summary>Second-factor state (<c>GET /account/2fa</c>).</summary>
public sealed record TwoFactorStatus(bool TotpEnabled, int BackupCodesRemaining, int RecoveryCodesRemaining);

/// <summary>A started TOTP enrolment: show the URI (or QR code), then confirm with a code.</summary>
public sealed record TotpEnrolment(string Secret, string OtpauthUri, string? QrCodeSvg);

/// <summary>The 8 backup codes, shown once.</summary>
public sealed record BackupCodes(IReadOnlyList<string> Codes);

/// <summary>The 10 recovery codes, shown once.</summary>
public sealed record RecoveryCodes(IReadOnlyList<string> Codes);

internal sealed record BackupCodesResponse(IReadOnlyList<string> BackupCodes);

internal sealed record RecoveryCodesResponse(IReadOnlyList<string> RecoveryCodes);

/// <summary>One session of the account (no IP address is stored).</summary>
public sealed record SessionInfo(Guid Id, string? Label, DateTimeOffset CreatedAt, DateTimeOffset LastUsedAt, bool Current);

internal sealed record RevokedResponse(int Revoked);

/// <summary>An API key as listed (the key itself is never shown again).</summary>
public sealed record ApiKeyInfo(Guid Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>A new API key: <see cref="Key"/> (<c>ak_…</c>) is shown this once.</summary>
public sealed record CreatedApiKey(Guid Id, string Name, string Key, DateTimeOffset CreatedAt);

/// <summary>The account export (<c>veil-account-export/v1</c>), kept as the JSON the server sent.</summary>
public sealed record AccountExport(string Format, JsonElement Document);
