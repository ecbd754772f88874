// Anonymous endpoints: prelogin, password login, the 2FA step, magic links, refresh and logout.
// Every response that could tell whether an address has an account (prelogin, magic-link request)
// has one shape and status for both cases.
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Crypto.Client;
using Veil.Crypto.Primitives;
using Veil.Server.Identity.Data;
using Veil.Server.Identity.Services;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;
using Veil.Server.Platform.RateLimiting;
using Veil.Server.Platform.Redaction;
using Veil.Server.Platform.Results;

namespace Veil.Server.Identity;

internal sealed record PreloginRequest(string? Email);

internal sealed record LoginRequest(string? Email, string? AuthToken, string? ClientLabel, string? TokenTransport);

internal sealed record TwoFactorLoginRequest(string? ChallengeToken, string? Method, string? Code);

internal sealed record MagicLinkRequest(string? Email);

internal sealed record MagicLinkConsumeRequest(string? Token, string? ClientLabel, string? TokenTransport);

internal sealed record RefreshRequest(string? RefreshToken);

internal sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string? RefreshToken, Guid SessionId, Guid AccountId);

internal sealed record StatusResponse(string Status);

internal static partial class SignInEndpoints
{
    public const string MagicLinkTargetPolicy = "identity-magic-link-target";
    public const string SignInTargetPolicy = "identity-signin-target";

    public static async Task<IResult> PreloginAsync(PreloginRequest body, VeilDbContext db, IdentityKeys keys, CancellationToken ct)
    {
        var email = IdentityValidation.Email(body?.Email, "email");
        if (!email.IsSuccess)
        {
            return email.Error.ToIdentityProblem();
        }

        var account = await db.Set<Account>().WhereBlindIndexMatches(a => a.EmailIndex, email.Value).AsNoTracking().FirstOrDefaultAsync(ct);
        var defaults = ClientKeyDerivation.StretchParameters;
        return TypedResults.Ok(account is null
            ? new KdfDto("argon2id", defaults.MemoryKiB, defaults.Iterations, defaults.Lanes, CryptoRandom.ToBase64Url(keys.FakeSalt(email.Value)))
            : KdfDto.From(account));
    }

    public static async Task<IResult> LoginAsync(
        LoginRequest body, HttpContext http, VeilDbContext db, SignInFlow flow, ITargetRateLimiter limiter,
        SessionIssuer sessions, AccessTokens tokens, CancellationToken ct)
    {
        var email = IdentityValidation.Email(body?.Email, "email");
        var auth = IdentityValidation.AuthToken(body?.AuthToken, "authToken");
        var label = IdentityValidation.Label(body?.ClientLabel, "clientLabel");
        var transport = Transport(body?.TokenTransport);
        if (Invalid(email.Error, auth.Error, label.Error, transport.Error) is { } invalid)
        {
            return invalid.ToIdentityProblem();
        }

        try
        {
            if (await limiter.AcquireAsync(SignInTargetPolicy, email.Value, ct) is { } limited)
            {
                return limited.ToIdentityProblem();
            }

            var account = await db.Set<Account>().WhereBlindIndexMatches(a => a.EmailIndex, email.Value).FirstOrDefaultAsync(ct);
            var verified = await flow.VerifyPasswordAsync(account, auth.Value, email.Value, ct);
            if (!verified.IsSuccess)
            {
                return verified.Error.ToIdentityProblem();
            }

            var outcome = await flow.CompleteFirstFactorAsync(verified.Value, label.Value, transport.Value, ct);
            return ToHttp(outcome, http, sessions, tokens);
        }
        finally
        {
            AuthTokens.Wipe(auth.IsSuccess ? auth.Value : null);
        }
    }

    public static async Task<IResult> LoginTwoFactorAsync(
        TwoFactorLoginRequest body, HttpContext http, VeilDbContext db, TwoFactorVerifier verifier, SessionIssuer sessions,
        AccessTokens tokens, TimeProvider clock, IOptions<IdentityOptions> options, CancellationToken ct)
    {
        if (body?.Method is not ("totp" or "backup" or "recovery") || string.IsNullOrEmpty(body.Code))
        {
            return IdentityErrors.InvalidRequest("method must be totp, backup or recovery, and code is required.").ToIdentityProblem();
        }

        var digest = SecretTokens.DigestOf(body.ChallengeToken);
        var now = clock.GetUtcNow();
        var challenge = digest is null ? null : await db.Set<TwoFactorChallenge>().FirstOrDefaultAsync(c => c.TokenHash == digest, ct);
        if (challenge is null || challenge.ExpiresAt <= now)
        {
            if (challenge is not null)
            {
                await db.Set<TwoFactorChallenge>().Where(c => c.Id == challenge.Id).ExecuteDeleteAsync(ct);
            }

            return IdentityErrors.InvalidChallenge.ToIdentityProblem();
        }

        var account = await db.Set<Account>().FirstAsync(a => a.Id == challenge.AccountId, ct);
        var ok = body.Method switch
        {
            "totp" => await verifier.VerifyTotpAsync(account, body.Code, ct),
            "backup" => await verifier.ConsumeBackupCodeAsync(account.Id, body.Code, ct),
            _ => await verifier.ConsumeRecoveryCodeAsync(account.Id, body.Code, ct),
        };
        if (!ok)
        {
            challenge.FailedAttempts++;
            if (challenge.FailedAttempts >= options.Value.TwoFactorChallengeMaxAttempts)
            {
                db.Remove(challenge);
                // A challenge opened by a magic link has the link's id: the link goes with its attempts.
                await db.Set<EmailToken>().Where(t => t.Id == challenge.Id).ExecuteDeleteAsync(ct);
            }

            await db.SaveChangesAsync(ct);
            return IdentityErrors.InvalidCode.ToIdentityProblem();
        }

        if (await db.Set<TwoFactorChallenge>().Where(c => c.Id == challenge.Id).ExecuteDeleteAsync(ct) != 1)
        {
            return IdentityErrors.InvalidChallenge.ToIdentityProblem();
        }

        // The sign-in is complete: a magic link that opened this challenge is used up now, not before.
        await db.Set<EmailToken>().Where(t => t.Id == challenge.Id).ExecuteDeleteAsync(ct);

        if (body.Method == "recovery")
        {
            // A recovery code is for a lost authenticator: it turns TOTP off so the user re-enrols.
            account.TotpSecret = null;
            account.PendingTotpSecret = null;
            account.TotpLastStep = null;
            await db.Set<BackupCode>().Where(c => c.AccountId == account.Id).ExecuteDeleteAsync(ct);
            await db.SaveChangesAsync(ct);
        }

        var issued = await sessions.StartAsync(account.Id, challenge.Label, now, ct);
        return ToHttp(new SignInOutcome(issued, null, challenge.BodyTransport), http, sessions, tokens);
    }

    public static async Task<IResult> RequestMagicLinkAsync(
        MagicLinkRequest body, VeilDbContext db, ITargetRateLimiter limiter, IdentityMail mail, TimeProvider clock,
        IOptions<IdentityOptions> options, ILoggerFactory loggers, CancellationToken ct)
    {
        var email = IdentityValidation.Email(body?.Email, "email");
        if (!email.IsSuccess)
        {
            return email.Error.ToIdentityProblem();
        }

        if (await limiter.AcquireAsync(MagicLinkTargetPolicy, email.Value, ct) is { } limited)
        {
            return limited.ToIdentityProblem();
        }

        // Equal work whatever the address (issue 14, finding 5: existing accounts answered 1.3-2 ms later): both paths do
        // the same two lookups, store one sealed token row and write one mail. For an unknown address the row has no account,
        // so it can never sign anyone in (consuming it answers invalid-token), and the mail says there is no account here:
        // the answer and the work are the same, and only the mailbox owner learns which it was.
        var account = await db.Set<Account>().WhereBlindIndexMatches(a => a.EmailIndex, email.Value).AsNoTracking().FirstOrDefaultAsync(ct);
        var byRecovery = await db.Set<Account>().WhereBlindIndexMatches(a => a.RecoveryEmailIndex, email.Value).Where(a => a.RecoveryEmailVerified).AsNoTracking().FirstOrDefaultAsync(ct);
        account ??= byRecovery;
        var now = clock.GetUtcNow();
        var (token, digest) = SecretTokens.New();
        db.Add(new EmailToken
        {
            Id = Guid.NewGuid(),
            AccountId = account?.Id,
            Purpose = EmailTokenPurposes.MagicLink,
            TokenHash = digest,
            Email = email.Value,
            CreatedAt = now,
            ExpiresAt = now + options.Value.MagicLinkLifetime,
        });
        await db.SaveChangesAsync(ct);
        if (account is not null)
        {
            await mail.SendLinkAsync(email.Value, EmailTokenPurposes.MagicLink, token, options.Value.MagicLinkLifetime, ct);
        }
        else
        {
            await mail.SendPlainAsync(email.Value, "Veil sign-in link requested",
                "Someone asked for a link to sign in to Veil with this address, but it has no Veil account, so no link was sent. "
                + "If it was you, register first, or try the address you registered with.", ct);
        }

        var logger = loggers.CreateLogger(typeof(SignInEndpoints).FullName!);
        if (logger.IsEnabled(LogLevel.Information))
        {
            var redacted = Redact.Email(email.Value);
            LogMagicLinkSent(logger, redacted);
        }

        return TypedResults.Accepted((string?)null, new StatusResponse("sent"));
    }

    public static async Task<IResult> ConsumeMagicLinkAsync(
        MagicLinkConsumeRequest body, HttpContext http, VeilDbContext db, SignInFlow flow, SessionIssuer sessions,
        AccessTokens tokens, TimeProvider clock, CancellationToken ct)
    {
        var label = IdentityValidation.Label(body?.ClientLabel, "clientLabel");
        var transport = Transport(body?.TokenTransport);
        if (Invalid(label.Error, transport.Error) is { } invalid)
        {
            return invalid.ToIdentityProblem();
        }

        // An account with 2FA: the link is not used up until the second factor completes (SignInFlow.ChallengeForLinkAsync).
        var now = clock.GetUtcNow();
        if (SecretTokens.DigestOf(body?.Token) is { } digest
            && await db.Set<EmailToken>().AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == digest && t.Purpose == EmailTokenPurposes.MagicLink, ct) is { AccountId: { } owner } live
            && live.ExpiresAt > now
            && await db.Set<Account>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == owner, ct) is { TwoFactorEnabled: true } guarded)
        {
            flow.ClearThrottle(guarded.Email, live.Email);
            return ToHttp(await flow.ChallengeForLinkAsync(guarded, live, body!.Token!, label.Value, transport.Value, ct), http, sessions, tokens);
        }

        var token = await EmailTokens.ConsumeAsync(db, body?.Token, EmailTokenPurposes.MagicLink, now, ct);
        if (token?.AccountId is not { } accountId)
        {
            return IdentityErrors.InvalidToken.ToIdentityProblem();
        }

        var account = await db.Set<Account>().FirstOrDefaultAsync(a => a.Id == accountId, ct);
        if (account is null)
        {
            return IdentityErrors.InvalidToken.ToIdentityProblem();
        }

        flow.ClearThrottle(account.Email, token.Email);

        return ToHttp(await flow.CompleteFirstFactorAsync(account, label.Value, transport.Value, ct), http, sessions, tokens);
    }

    public static async Task<IResult> RefreshAsync(HttpContext http, SessionIssuer sessions, AccessTokens tokens, IOptions<VeilOptions> veil, CancellationToken ct)
    {
        var presented = await ReadRefreshTokenAsync(http, veil.Value.PublicOrigin, ct);
        if (!presented.IsSuccess)
        {
            return presented.Error.ToIdentityProblem();
        }

        var (token, fromBody) = presented.Value;
        var result = await sessions.RefreshAsync(token, ct);
        if (!result.IsSuccess)
        {
            // A superseded token lost a race to a parallel refresh whose answer set the cookie to the new token:
            // clearing it here could wipe that new cookie.
            if (!fromBody && result.Error != IdentityErrors.RefreshTokenSuperseded)
            {
                SessionIssuer.ClearCookie(http.Response);
            }

            return result.Error.ToIdentityProblem();
        }

        return ToHttp(new SignInOutcome(result.Value, null, fromBody), http, sessions, tokens);
    }

    public static async Task<IResult> LogoutAsync(HttpContext http, SessionIssuer sessions, IOptions<VeilOptions> veil, CancellationToken ct)
    {
        var presented = await ReadRefreshTokenAsync(http, veil.Value.PublicOrigin, ct);
        if (!presented.IsSuccess)
        {
            return presented.Error.ToIdentityProblem();
        }

        await sessions.RevokeByRefreshTokenAsync(presented.Value.Token, ct);
        if (!presented.Value.FromBody)
        {
            SessionIssuer.ClearCookie(http.Response);
        }

        return TypedResults.NoContent();
    }

    /// <summary>The refresh token from the JSON body, else from the cookie (then the CSRF origin rule applies).</summary>
    private static async Task<Result<(string? Token, bool FromBody)>> ReadRefreshTokenAsync(HttpContext http, string? publicOrigin, CancellationToken ct)
    {
        RefreshRequest? body = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            if (!http.Request.HasJsonContentType())
            {
                return PlatformErrors.UnsupportedMediaType;
            }

            try
            {
                body = await http.Request.ReadFromJsonAsync<RefreshRequest>(ct);
            }
            catch (System.Text.Json.JsonException)
            {
                return PlatformErrors.MalformedJson;
            }
        }

        if (body?.RefreshToken is { } fromBody)
        {
            return (fromBody, true);
        }

        if (!http.Request.Cookies.TryGetValue(SessionIssuer.RefreshCookie, out var cookie))
        {
            return IdentityErrors.InvalidRefreshToken;
        }

        return CsrfGuard.IsSameOrigin(http, publicOrigin) ? (cookie, false) : AuthErrors.CsrfOriginMismatch;
    }

    internal static IResult ToHttp(SignInOutcome outcome, HttpContext http, SessionIssuer sessions, AccessTokens tokens)
    {
        if (outcome.Challenge is { } challenge)
        {
            return TypedResults.Ok(challenge);
        }

        var issued = outcome.Tokens!;
        if (!outcome.BodyTransport)
        {
            sessions.AppendCookie(http.Response, issued.RefreshToken);
        }

        return TypedResults.Ok(new TokenResponse(
            issued.AccessToken, "Bearer", (int)tokens.Lifetime.TotalSeconds,
            outcome.BodyTransport ? issued.RefreshToken : null, issued.SessionId, issued.AccountId));
    }

    internal static Result<bool> Transport(string? value) => value switch
    {
        null or "cookie" => false,
        "body" => true,
        _ => IdentityErrors.InvalidRequest("tokenTransport must be \"cookie\" or \"body\"."),
    };

    internal static Error? Invalid(params Error?[] errors) => errors.FirstOrDefault(e => e is not null);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Information, Message = "Magic link requested for {Email}")]
    private static partial void LogMagicLinkSent(ILogger logger, string email);
}

/// <summary>Single-use consumption of mailed tokens.</summary>
internal static class EmailTokens
{
    /// <summary>
    /// The token row, deleted in the same step, when <paramref name="presented"/> is a live token of
    /// <paramref name="purpose"/>; null otherwise. The delete's row count decides a race: one winner.
    /// </summary>
    public static async Task<EmailToken?> ConsumeAsync(VeilDbContext db, string? presented, string purpose, DateTimeOffset now, CancellationToken ct) =>
        await ConsumeAnyAsync(db, presented, [purpose], now, ct);

    public static async Task<EmailToken?> ConsumeAnyAsync(VeilDbContext db, string? presented, string[] purposes, DateTimeOffset now, CancellationToken ct)
    {
        if (SecretTokens.DigestOf(presented) is not { } digest)
        {
            return null;
        }

        var token = await db.Set<EmailToken>().AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == digest, ct);
        if (token is null || !purposes.Contains(token.Purpose))
        {
            return null;
        }

        var deleted = await db.Set<EmailToken>().Where(t => t.Id == token.Id).ExecuteDeleteAsync(ct);
        return deleted == 1 && token.ExpiresAt > now ? token : null;
    }
}
