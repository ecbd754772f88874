// The parts every sign-in shares: checking an auth token against an account with lockout
// accounting, and finishing a first factor (password or magic link) either with a session or with
// a second-factor challenge.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Redaction;
using Veil.Server.Platform.Results;

namespace Veil.Server.Identity.Services;

/// <summary>Either tokens or a 2FA challenge; <see cref="BodyTransport"/> says where the refresh token goes.</summary>
internal sealed record SignInOutcome(IssuedTokens? Tokens, TwoFactorChallengeResponse? Challenge, bool BodyTransport);

internal sealed record TwoFactorChallengeResponse(bool TwoFactorRequired, string ChallengeToken, IReadOnlyList<string> Methods, int ExpiresIn);

internal sealed partial class SignInFlow(
    VeilDbContext db, PasswordHasher hasher, SessionIssuer sessions, TimeProvider clock,
    IOptions<IdentityOptions> options, ILogger<SignInFlow> logger)
{
    private static readonly string[] Methods = ["totp", "backup", "recovery"];

    /// <summary>
    /// Verifies <paramref name="authToken"/> for <paramref name="account"/> (null: an unknown address,
    /// verified against a dummy so it costs the same). A locked account is refused before any hashing.
    /// </summary>
    public async Task<Result<Account>> VerifyPasswordAsync(Account? account, byte[] authToken, string emailForLog, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (account is not null && account.IsLockedAt(now))
        {
            return new AccountLockedError(account.LockedUntil!.Value - now);
        }

        var verified = await hasher.VerifyAsync(account?.AuthHash, authToken, cancellationToken);
        if (!verified.IsSuccess)
        {
            return verified.Error;
        }

        if (account is null)
        {
            LogFailure(emailForLog);
            return IdentityErrors.InvalidCredentials;
        }

        if (!verified.Value)
        {
            await RecordFailureAsync(account.Id, now, cancellationToken);
            LogFailure(emailForLog);
            return IdentityErrors.InvalidCredentials;
        }

        if (account.FailedSignIns != 0)
        {
            await db.Set<Account>().Where(a => a.Id == account.Id).ExecuteUpdateAsync(s => s.SetProperty(a => a.FailedSignIns, 0), cancellationToken);
        }

        return account;
    }

    /// <summary>Ends a lockout: a magic link proved control of the mailbox.</summary>
    public Task ClearLockoutAsync(Guid accountId, CancellationToken cancellationToken) =>
        db.Set<Account>().Where(a => a.Id == accountId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.FailedSignIns, 0).SetProperty(a => a.LockedUntil, (DateTimeOffset?)null), cancellationToken);

    /// <summary>After a first factor: a session, or a challenge when TOTP is on.</summary>
    public async Task<SignInOutcome> CompleteFirstFactorAsync(Account account, string? label, bool bodyTransport, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (account.TwoFactorEnabled)
        {
            var (token, digest) = SecretTokens.New();
            db.Add(new TwoFactorChallenge
            {
                Id = Guid.NewGuid(),
                AccountId = account.Id,
                TokenHash = digest,
                Label = label,
                BodyTransport = bodyTransport,
                ExpiresAt = now + options.Value.TwoFactorChallengeLifetime,
            });
            await db.SaveChangesAsync(cancellationToken);
            return new SignInOutcome(null, new TwoFactorChallengeResponse(true, token, Methods, (int)options.Value.TwoFactorChallengeLifetime.TotalSeconds), bodyTransport);
        }

        LogSignedIn(logger);
        return new SignInOutcome(await sessions.StartAsync(account.Id, label, now, cancellationToken), null, bodyTransport);
    }

    private void LogFailure(string email)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var redacted = Redact.Email(email);
            LogSignInFailed(logger, redacted);
        }
    }

    private async Task RecordFailureAsync(Guid accountId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await db.Set<Account>().Where(a => a.Id == accountId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.FailedSignIns, a => a.FailedSignIns + 1), cancellationToken);
        var failures = await db.Set<Account>().Where(a => a.Id == accountId).Select(a => a.FailedSignIns).FirstAsync(cancellationToken);
        var lockout = options.Value.Lockout;
        if (failures >= lockout.MaxFailedAttempts)
        {
            await db.Set<Account>().Where(a => a.Id == accountId)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.FailedSignIns, 0).SetProperty(a => a.LockedUntil, (DateTimeOffset?)(now + lockout.Duration)), cancellationToken);
            LogLockedOut(logger);
        }
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Signed in (first factor, no second factor needed)")]
    private static partial void LogSignedIn(ILogger logger);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Sign-in failed for {Email}")]
    private static partial void LogSignInFailed(ILogger logger, string email);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "An account was locked after too many failed sign-ins")]
    private static partial void LogLockedOut(ILogger logger);
}
