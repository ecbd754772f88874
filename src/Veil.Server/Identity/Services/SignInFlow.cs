// The parts every sign-in shares: checking an auth token against an account with throttling
// (SignInThrottle), and finishing a first factor (password or magic link) either with a session or with
// a second-factor challenge.
using Microsoft.AspNetCore.Http;
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
    VeilDbContext db, PasswordHasher hasher, SessionIssuer sessions, TimeProvider clock, SignInThrottle throttle,
    IdentityMail mail, IHttpContextAccessor http, IOptions<IdentityOptions> options, ILogger<SignInFlow> logger)
{
    private static readonly string[] Methods = ["totp", "backup", "recovery"];

    /// <summary>
    /// Verifies <paramref name="authToken"/> for <paramref name="account"/> (null: an unknown address, verified against
    /// a dummy so it costs the same). The throttle (<see cref="SignInThrottle"/>) is keyed by the address and the
    /// client's IP, never by whether an account exists, so every answer is the same for existing and unknown addresses.
    /// </summary>
    public async Task<Result<Account>> VerifyPasswordAsync(Account? account, byte[] authToken, string email, CancellationToken cancellationToken)
    {
        var source = http.HttpContext?.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (throttle.Blocked(email, source) is { } wait)
        {
            return new SignInThrottledError(wait);
        }

        var verified = await hasher.VerifyAsync(account?.AuthHash, authToken, cancellationToken);
        if (!verified.IsSuccess)
        {
            return verified.Error;
        }

        if (account is null || !verified.Value)
        {
            if (throttle.RecordFailure(email, source))
            {
                LogThrottled(logger);
                if (account is not null)
                {
                    // The owner hears about it; nobody else learns anything (the answer below is the same either way).
                    await mail.SendNoticeAsync(account.Email, "Failed sign-ins to your Veil account",
                        "Someone tried to sign in to your Veil account with a wrong password several times, so Veil now slows down "
                        + "password sign-ins from where they came from. Your own sign-ins are not affected, and you can always sign in "
                        + "with a link sent to this address (veil account login --magic-link, or \"Email me a link\" in the browser).",
                        cancellationToken);
                }
            }

            LogFailure(email);
            return IdentityErrors.InvalidCredentials;
        }

        throttle.Succeeded(email, source);
        return account;
    }

    /// <summary>Ends the throttling of the addresses: a magic link proved control of the mailbox.</summary>
    public void ClearThrottle(params string?[] emails)
    {
        foreach (var email in emails)
        {
            if (!string.IsNullOrEmpty(email))
            {
                throttle.Clear(email);
            }
        }
    }

    /// <summary>
    /// The second-factor challenge for a magic link to an account with 2FA. The link is not used up here: it stays
    /// good until the challenge is answered (then both go) or its attempts run out (then both go), so a client that
    /// asks for the code only after opening the link can open it again (issue 15, point 7). Opening the link again
    /// returns the same challenge, with the same attempt count, so a link never buys more than the usual attempts:
    /// the challenge has the link's id, and its token is derived from the link's token (whoever holds one holds both).
    /// </summary>
    public async Task<SignInOutcome> ChallengeForLinkAsync(Account account, EmailToken link, string linkToken, string? label, bool bodyTransport, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var token = SecretTokens.Derive("magic-link-challenge", linkToken);
        var existing = await db.Set<TwoFactorChallenge>().FirstOrDefaultAsync(c => c.Id == link.Id, cancellationToken);
        if (existing is null)
        {
            db.Add(new TwoFactorChallenge
            {
                Id = link.Id,
                AccountId = account.Id,
                TokenHash = SecretTokens.DigestOf(token)!,
                Label = label,
                BodyTransport = bodyTransport,
                ExpiresAt = link.ExpiresAt,
            });
        }
        else
        {
            existing.Label = label;
            existing.BodyTransport = bodyTransport;
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The same link opened twice at once: the other request created the challenge; this one answers with it.
            db.ChangeTracker.Clear();
        }

        return new SignInOutcome(null, new TwoFactorChallengeResponse(true, token, Methods, Math.Max(1, (int)(link.ExpiresAt - now).TotalSeconds)), bodyTransport);
    }

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

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Signed in (first factor, no second factor needed)")]
    private static partial void LogSignedIn(ILogger logger);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Sign-in failed for {Email}")]
    private static partial void LogSignInFailed(ILogger logger, string email);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Password sign-ins to one address from one source were throttled after too many failures")]
    private static partial void LogThrottled(ILogger logger);
}
