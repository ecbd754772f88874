// Registration and email verification. A registration is only a pending, mailed token until the
// mailbox owner opens the link: the account row is created then. Someone who registers a victim's
// address first gets nothing (their link goes to the victim), and the response never says whether
// the address already had an account.
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Crypto.Primitives;
using Veil.Server.Identity.Data;
using Veil.Server.Identity.Services;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;
using Veil.Server.Platform.RateLimiting;
using Veil.Server.Platform.Results;

namespace Veil.Server.Identity;

internal sealed record RegisterRequest(string? Email, string? AuthToken, KdfDto? Kdf, string? ProtectedUserKey, string? RecoveryEmail);

internal sealed record VerifyEmailRequest(string? Token);

internal sealed record VerifyEmailResponse(string Purpose);

/// <summary>What a pending registration or email change will set once its link is opened (JSON, field-encrypted).</summary>
internal sealed record PendingCredentials(int MemoryKiB, int Iterations, int Parallelism, string Salt, string AuthHash, string ProtectedUserKey, string? RecoveryEmail, Guid? KeepSession)
{
    public AccountCredentials ToCredentials() => new(MemoryKiB, Iterations, Parallelism, CryptoRandom.FromBase64Url(Salt)!, AuthHash, ProtectedUserKey);
}

internal static partial class RegistrationEndpoints
{
    public const string MailTargetPolicy = "identity-mail-target";

    public static async Task<IResult> RegisterAsync(
        RegisterRequest body, VeilDbContext db, PasswordHasher hasher, ITargetRateLimiter limiter, IdentityMail mail,
        TimeProvider clock, IOptions<IdentityOptions> options, ILoggerFactory loggers, CancellationToken ct)
    {
        var email = IdentityValidation.Email(body?.Email, "email");
        var auth = IdentityValidation.AuthToken(body?.AuthToken, "authToken");
        var kdf = IdentityValidation.Kdf(body?.Kdf, "kdf");
        var key = IdentityValidation.ProtectedUserKey(body?.ProtectedUserKey, "protectedUserKey");
        var recovery = body?.RecoveryEmail is null ? Result<string>.Success("") : IdentityValidation.Email(body.RecoveryEmail, "recoveryEmail");
        if (SignInEndpoints.Invalid(email.Error, auth.Error, kdf.Error, key.Error, recovery.Error) is { } invalid)
        {
            return invalid.ToIdentityProblem();
        }

        try
        {
            if (await limiter.AcquireAsync(MailTargetPolicy, email.Value, ct) is { } limited)
            {
                return limited.ToIdentityProblem();
            }

            // Hash first, whatever the address: both answers then take the same time.
            var hash = await hasher.HashAsync(auth.Value, ct);
            if (!hash.IsSuccess)
            {
                return hash.Error.ToIdentityProblem();
            }

            // Equal work whatever the address (issue 14, finding 5): both paths store one sealed token row and write one mail.
            // For an address that already has an account the row is a decoy: its token is mailed to nobody, so it can never
            // be presented (and verification refuses an address that has an account anyway); the purge removes it on expiry.
            var exists = await db.Set<Account>().WhereBlindIndexMatches(a => a.EmailIndex, email.Value).AnyAsync(ct);
            var (m, t, p, salt) = kdf.Value;
            var pending = new PendingCredentials(m, t, p, CryptoRandom.ToBase64Url(salt), hash.Value, key.Value, recovery.Value.Length > 0 ? recovery.Value : null, null);
            var token = await AddLinkAsync(db, null, EmailTokenPurposes.Registration, email.Value, JsonSerializer.Serialize(pending), clock, options.Value.VerificationLinkLifetime, ct);
            if (exists)
            {
                await mail.SendNoticeAsync(email.Value, "Someone tried to register this address at Veil",
                    "Someone tried to create a Veil account with this address, which already has one. Nothing was changed.", ct);
            }
            else
            {
                await mail.SendLinkAsync(email.Value, EmailTokenPurposes.Registration, token, options.Value.VerificationLinkLifetime, ct);
            }

            return TypedResults.Accepted((string?)null, new StatusResponse("verification-sent"));
        }
        finally
        {
            AuthTokens.Wipe(auth.IsSuccess ? auth.Value : null);
        }
    }

    public static async Task<IResult> VerifyEmailAsync(
        VerifyEmailRequest body, VeilDbContext db, SessionIssuer sessions, IdentityMail mail, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var token = await EmailTokens.ConsumeAnyAsync(db, body?.Token,
            [EmailTokenPurposes.Registration, EmailTokenPurposes.RecoveryEmail, EmailTokenPurposes.EmailChange], now, ct);
        if (token?.Email is not { } email)
        {
            return IdentityErrors.InvalidToken.ToIdentityProblem();
        }

        var logger = loggers.CreateLogger(typeof(RegistrationEndpoints).FullName!);
        switch (token.Purpose)
        {
            case EmailTokenPurposes.Registration:
            {
                if (await db.Set<Account>().WhereBlindIndexMatches(a => a.EmailIndex, email).AnyAsync(ct))
                {
                    return IdentityErrors.InvalidToken.ToIdentityProblem();
                }

                var pending = JsonSerializer.Deserialize<PendingCredentials>(token.Payload!)!;
                var account = new Account { Id = Guid.NewGuid(), Email = email, RecoveryEmail = pending.RecoveryEmail, CreatedAt = now };
                account.SetCredentials(pending.ToCredentials());
                db.Add(account);
                // Other pending registrations of this address are now moot.
                await db.Set<EmailToken>().WhereBlindIndexMatches(t => t.EmailIndex, email)
                    .Where(t => t.Purpose == EmailTokenPurposes.Registration).ExecuteDeleteAsync(ct);
                if (!await TrySaveAsync(db, ct))
                {
                    return IdentityErrors.InvalidToken.ToIdentityProblem();
                }

                if (pending.RecoveryEmail is { } recoveryEmail)
                {
                    await SendRecoveryVerificationAsync(db, mail, account.Id, recoveryEmail, clock, ct);
                }

                LogAccountCreated(logger);
                return TypedResults.Ok(new VerifyEmailResponse(token.Purpose));
            }

            case EmailTokenPurposes.RecoveryEmail:
            {
                var account = await db.Set<Account>().FirstOrDefaultAsync(a => a.Id == token.AccountId, ct);
                if (account is null || !string.Equals(account.RecoveryEmail, email, StringComparison.Ordinal))
                {
                    return IdentityErrors.InvalidToken.ToIdentityProblem();
                }

                account.RecoveryEmailVerified = true;
                await db.SaveChangesAsync(ct);
                return TypedResults.Ok(new VerifyEmailResponse(token.Purpose));
            }

            default:
            {
                var account = await db.Set<Account>().FirstOrDefaultAsync(a => a.Id == token.AccountId, ct);
                if (account is null || await db.Set<Account>().WhereBlindIndexMatches(a => a.EmailIndex, email).AnyAsync(ct))
                {
                    return IdentityErrors.InvalidToken.ToIdentityProblem();
                }

                var pending = JsonSerializer.Deserialize<PendingCredentials>(token.Payload!)!;
                var old = account.Email;
                account.Email = email;
                account.SetCredentials(pending.ToCredentials());
                if (!await TrySaveAsync(db, ct))
                {
                    return IdentityErrors.InvalidToken.ToIdentityProblem();
                }

                await sessions.RevokeAllExceptAsync(account.Id, pending.KeepSession, ct);
                await mail.SendNoticeAsync(old, "Your Veil address was changed", "The sign-in address of your Veil account was changed to another address.", ct);
                return TypedResults.Ok(new VerifyEmailResponse(token.Purpose));
            }
        }
    }

    internal static async Task SendRecoveryVerificationAsync(VeilDbContext db, IdentityMail mail, Guid accountId, string recoveryEmail, TimeProvider clock, CancellationToken ct)
    {
        var lifetime = TimeSpan.FromHours(24);
        await db.Set<EmailToken>().Where(t => t.AccountId == accountId && t.Purpose == EmailTokenPurposes.RecoveryEmail).ExecuteDeleteAsync(ct);
        var token = await AddLinkAsync(db, accountId, EmailTokenPurposes.RecoveryEmail, recoveryEmail, null, clock, lifetime, ct);
        await mail.SendLinkAsync(recoveryEmail, EmailTokenPurposes.RecoveryEmail, token, lifetime, ct);
    }

    internal static async Task<string> AddLinkAsync(VeilDbContext db, Guid? accountId, string purpose, string email, string? payload, TimeProvider clock, TimeSpan lifetime, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var (token, digest) = SecretTokens.New();
        db.Add(new EmailToken { Id = Guid.NewGuid(), AccountId = accountId, Purpose = purpose, TokenHash = digest, Email = email, Payload = payload, CreatedAt = now, ExpiresAt = now + lifetime });
        await db.SaveChangesAsync(ct);
        return token;
    }

    /// <summary>Saves; false when a unique index refused it (the address was taken by a concurrent verification).</summary>
    private static async Task<bool> TrySaveAsync(VeilDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return false;
        }
    }

    [LoggerMessage(EventId = 2030, Level = LogLevel.Information, Message = "Account created from a verified registration")]
    private static partial void LogAccountCreated(ILogger logger);
}
