// Signed-in account management. Authorization sits on the route group (IdentityModule); these
// handlers can rely on `user.UserId()` and, where mapped with RequireStepUp, on a fresh auth_time.
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using QRCoder;
using Veil.Crypto.Otp;
using Veil.Crypto.Primitives;
using Veil.Server.Identity.Data;
using Veil.Server.Identity.Services;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;
using Veil.Server.Platform.Results;

namespace Veil.Server.Identity;

internal sealed record WhoAmIResponse(Guid AccountId, string Email, string? RecoveryEmail, bool RecoveryEmailVerified, bool TwoFactorEnabled,
    DateTimeOffset CreatedAt, string Credential, Guid? SessionId, DateTimeOffset? AuthTime);

internal sealed record KeysResponse(string Kdf, int MemoryKiB, int Iterations, int Parallelism, string Salt, string ProtectedUserKey);

internal sealed record StepUpRequest(string? AuthToken, string? TotpCode);

internal sealed record StepUpResponse(string AccessToken, int ExpiresIn, DateTimeOffset AuthTime);

internal sealed record ChangePasswordRequest(string? CurrentAuthToken, string? NewAuthToken, KdfDto? NewKdf, string? NewProtectedUserKey);

internal sealed record ChangeEmailRequest(string? NewEmail, string? NewAuthToken, KdfDto? NewKdf, string? NewProtectedUserKey);

internal sealed record RecoveryEmailRequest(string? RecoveryEmail);

internal sealed record UnlockShareResponse(string Share);

internal sealed record TwoFactorStatus(bool TotpEnabled, int BackupCodesRemaining, int RecoveryCodesRemaining);

internal sealed record TotpEnrolment(string Secret, string OtpauthUri, string QrCodeSvg);

internal sealed record CodeRequest(string? Code);

internal sealed record BackupCodesResponse(IReadOnlyList<string> BackupCodes);

internal sealed record RecoveryCodesResponse(IReadOnlyList<string> RecoveryCodes);

internal sealed record SessionDto(Guid Id, string? Label, DateTimeOffset CreatedAt, DateTimeOffset LastUsedAt, bool Current);

internal sealed record RevokedResponse(int Revoked);

internal sealed record CreateApiKeyRequest(string? Name);

internal sealed record CreatedApiKey(Guid Id, string Name, string Key, DateTimeOffset CreatedAt);

internal sealed record ApiKeyDto(Guid Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

internal static partial class AccountEndpoints
{
    public static async Task<IResult> WhoAmIAsync(ClaimsPrincipal user, VeilDbContext db, CancellationToken ct)
    {
        var account = await db.Set<Account>().AsNoTracking().FirstAsync(a => a.Id == user.UserId(), ct);
        return TypedResults.Ok(new WhoAmIResponse(account.Id, account.Email, account.RecoveryEmail, account.RecoveryEmailVerified, account.TwoFactorEnabled,
            account.CreatedAt, user.IsApiKey() ? VeilClaims.ApiKeyCredential : VeilClaims.SessionCredential, user.SessionId(), user.AuthTime()));
    }

    public static async Task<IResult> KeysAsync(ClaimsPrincipal user, VeilDbContext db, CancellationToken ct)
    {
        var account = await db.Set<Account>().AsNoTracking().FirstAsync(a => a.Id == user.UserId(), ct);
        var kdf = KdfDto.From(account);
        return TypedResults.Ok(new KeysResponse(kdf.Kdf!, kdf.MemoryKiB, kdf.Iterations, kdf.Parallelism, kdf.Salt!, account.ProtectedUserKey));
    }

    public static async Task<IResult> StepUpAsync(
        StepUpRequest body, ClaimsPrincipal user, VeilDbContext db, SignInFlow flow, TwoFactorVerifier verifier,
        AccessTokens tokens, TimeProvider clock, CancellationToken ct)
    {
        var auth = IdentityValidation.AuthToken(body?.AuthToken, "authToken");
        if (!auth.IsSuccess)
        {
            return auth.Error.ToIdentityProblem();
        }

        try
        {
            var account = await db.Set<Account>().FirstAsync(a => a.Id == user.UserId(), ct);
            var verified = await flow.VerifyPasswordAsync(account, auth.Value, account.Email, ct);
            if (!verified.IsSuccess)
            {
                return verified.Error.ToIdentityProblem();
            }

            if (account.TwoFactorEnabled)
            {
                if (string.IsNullOrEmpty(body!.TotpCode))
                {
                    return IdentityErrors.TwoFactorRequired.ToIdentityProblem();
                }

                if (!await verifier.VerifyTotpAsync(account, body.TotpCode, ct) && !await verifier.ConsumeBackupCodeAsync(account.Id, body.TotpCode, ct))
                {
                    return IdentityErrors.InvalidCode.ToIdentityProblem();
                }
            }

            var now = clock.GetUtcNow();
            var sessionId = user.SessionId()!.Value;
            await db.Set<Session>().Where(s => s.Id == sessionId).ExecuteUpdateAsync(s => s.SetProperty(x => x.AuthTime, now), ct);
            return TypedResults.Ok(new StepUpResponse(tokens.Issue(account.Id, sessionId, now), (int)tokens.Lifetime.TotalSeconds, now));
        }
        finally
        {
            AuthTokens.Wipe(auth.IsSuccess ? auth.Value : null);
        }
    }

    public static async Task<IResult> ChangePasswordAsync(
        ChangePasswordRequest body, ClaimsPrincipal user, VeilDbContext db, SignInFlow flow, PasswordHasher hasher,
        SessionIssuer sessions, IdentityMail mail, CancellationToken ct)
    {
        var current = IdentityValidation.AuthToken(body?.CurrentAuthToken, "currentAuthToken");
        var next = IdentityValidation.AuthToken(body?.NewAuthToken, "newAuthToken");
        var kdf = IdentityValidation.Kdf(body?.NewKdf, "newKdf");
        var key = IdentityValidation.ProtectedUserKey(body?.NewProtectedUserKey, "newProtectedUserKey");
        if (SignInEndpoints.Invalid(current.Error, next.Error, kdf.Error, key.Error) is { } invalid)
        {
            return invalid.ToIdentityProblem();
        }

        try
        {
            var account = await db.Set<Account>().FirstAsync(a => a.Id == user.UserId(), ct);
            var verified = await flow.VerifyPasswordAsync(account, current.Value, account.Email, ct);
            if (!verified.IsSuccess)
            {
                return verified.Error.ToIdentityProblem();
            }

            var hash = await hasher.HashAsync(next.Value, ct);
            if (!hash.IsSuccess)
            {
                return hash.Error.ToIdentityProblem();
            }

            var (m, t, p, salt) = kdf.Value;
            account.SetCredentials(new AccountCredentials(m, t, p, salt, hash.Value, key.Value));
            await db.SaveChangesAsync(ct);
            await sessions.RevokeAllExceptAsync(account.Id, user.SessionId(), ct);
            await mail.SendNoticeAsync(account.Email, "Your Veil password was changed", "The password of your Veil account was changed and your other sessions were signed out.", ct);
            return TypedResults.NoContent();
        }
        finally
        {
            AuthTokens.Wipe(current.IsSuccess ? current.Value : null);
            AuthTokens.Wipe(next.IsSuccess ? next.Value : null);
        }
    }

    public static async Task<IResult> ChangeEmailAsync(
        ChangeEmailRequest body, ClaimsPrincipal user, VeilDbContext db, PasswordHasher hasher, IdentityMail mail,
        Platform.RateLimiting.ITargetRateLimiter limiter, TimeProvider clock, IOptions<IdentityOptions> options, CancellationToken ct)
    {
        var email = IdentityValidation.Email(body?.NewEmail, "newEmail");
        var next = IdentityValidation.AuthToken(body?.NewAuthToken, "newAuthToken");
        var kdf = IdentityValidation.Kdf(body?.NewKdf, "newKdf");
        var key = IdentityValidation.ProtectedUserKey(body?.NewProtectedUserKey, "newProtectedUserKey");
        if (SignInEndpoints.Invalid(email.Error, next.Error, kdf.Error, key.Error) is { } invalid)
        {
            return invalid.ToIdentityProblem();
        }

        try
        {
            if (await limiter.AcquireAsync(RegistrationEndpoints.MailTargetPolicy, email.Value, ct) is { } limited)
            {
                return limited.ToIdentityProblem();
            }

            var hash = await hasher.HashAsync(next.Value, ct);
            if (!hash.IsSuccess)
            {
                return hash.Error.ToIdentityProblem();
            }

            var account = await db.Set<Account>().AsNoTracking().FirstAsync(a => a.Id == user.UserId(), ct);
            if (await db.Set<Account>().WhereBlindIndexMatches(a => a.EmailIndex, email.Value).AnyAsync(ct))
            {
                await mail.SendNoticeAsync(email.Value, "Someone tried to use this address at Veil",
                    "Someone tried to move a Veil account to this address, which already has an account. Nothing was changed.", ct);
            }
            else
            {
                var (m, t, p, salt) = kdf.Value;
                var pending = new PendingCredentials(m, t, p, CryptoRandom.ToBase64Url(salt), hash.Value, key.Value, null, user.SessionId());
                await db.Set<EmailToken>().Where(x => x.AccountId == account.Id && x.Purpose == EmailTokenPurposes.EmailChange).ExecuteDeleteAsync(ct);
                var token = await RegistrationEndpoints.AddLinkAsync(db, account.Id, EmailTokenPurposes.EmailChange, email.Value,
                    JsonSerializer.Serialize(pending), clock, options.Value.VerificationLinkLifetime, ct);
                await mail.SendLinkAsync(email.Value, EmailTokenPurposes.EmailChange, token, options.Value.VerificationLinkLifetime, ct);
                await mail.SendNoticeAsync(account.Email, "A change of your Veil address was requested",
                    "Someone signed in to your Veil account asked to change its address. It changes only when the link sent to the new address is opened.", ct);
            }

            return TypedResults.Accepted((string?)null, new StatusResponse("verification-sent"));
        }
        finally
        {
            AuthTokens.Wipe(next.IsSuccess ? next.Value : null);
        }
    }

    public static async Task<IResult> SetRecoveryEmailAsync(
        RecoveryEmailRequest body, ClaimsPrincipal user, VeilDbContext db, IdentityMail mail,
        Platform.RateLimiting.ITargetRateLimiter limiter, TimeProvider clock, CancellationToken ct)
    {
        var account = await db.Set<Account>().FirstAsync(a => a.Id == user.UserId(), ct);
        if (body?.RecoveryEmail is null)
        {
            account.RecoveryEmail = null;
            account.RecoveryEmailVerified = false;
            await db.SaveChangesAsync(ct);
            return TypedResults.NoContent();
        }

        var email = IdentityValidation.Email(body.RecoveryEmail, "recoveryEmail");
        if (!email.IsSuccess)
        {
            return email.Error.ToIdentityProblem();
        }

        if (await limiter.AcquireAsync(RegistrationEndpoints.MailTargetPolicy, email.Value, ct) is { } limited)
        {
            return limited.ToIdentityProblem();
        }

        account.RecoveryEmail = email.Value;
        account.RecoveryEmailVerified = false;
        await db.SaveChangesAsync(ct);
        await RegistrationEndpoints.SendRecoveryVerificationAsync(db, mail, account.Id, email.Value, clock, ct);
        return TypedResults.Accepted((string?)null, new StatusResponse("verification-sent"));
    }

    public static async Task<IResult> DeleteAsync(
        ClaimsPrincipal user, VeilDbContext db, IEnumerable<IAccountDataDeleter> deleters, ILoggerFactory loggers, CancellationToken ct)
    {
        var accountId = user.UserId();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        foreach (var deleter in deleters)
        {
            await deleter.DeleteAccountDataAsync(accountId, ct);
        }

        // Every Identity table references Accounts with ON DELETE CASCADE.
        await db.Set<Account>().Where(a => a.Id == accountId).ExecuteDeleteAsync(ct);
        await transaction.CommitAsync(ct);
        var logger = loggers.CreateLogger(typeof(AccountEndpoints).FullName!);
        LogAccountDeleted(logger);
        return TypedResults.NoContent();
    }

    public static async Task<IResult> ExportAsync(
        ClaimsPrincipal user, VeilDbContext db, IEnumerable<IAccountDataExporter> exporters, TimeProvider clock, CancellationToken ct)
    {
        var id = user.UserId();
        var account = await db.Set<Account>().AsNoTracking().FirstAsync(a => a.Id == id, ct);
        var modules = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var exporter in exporters)
        {
            modules[exporter.Module] = await exporter.ExportAccountDataAsync(id, ct);
        }

        return TypedResults.Ok(new
        {
            format = "veil-account-export/v1",
            exportedAt = clock.GetUtcNow(),
            account = new
            {
                accountId = account.Id,
                email = account.Email,
                recoveryEmail = account.RecoveryEmail,
                createdAt = account.CreatedAt,
                kdf = KdfDto.From(account),
                protectedUserKey = account.ProtectedUserKey,
                twoFactorEnabled = account.TwoFactorEnabled,
                plan = account.Plan, // the operator-assigned plan (Platform/Plans); null: the default plan
            },
            sessions = await ListSessionsAsync(db, id, user.SessionId(), ct),
            apiKeys = await ListKeysAsync(db, id, ct),
            modules,
        });
    }

    // ---- two-factor ----

    public static async Task<IResult> TwoFactorStatusAsync(ClaimsPrincipal user, VeilDbContext db, CancellationToken ct)
    {
        var id = user.UserId();
        var account = await db.Set<Account>().AsNoTracking().FirstAsync(a => a.Id == id, ct);
        return TypedResults.Ok(new TwoFactorStatus(account.TwoFactorEnabled,
            await db.Set<BackupCode>().CountAsync(c => c.AccountId == id, ct),
            await db.Set<RecoveryCode>().CountAsync(c => c.AccountId == id, ct)));
    }

    public static async Task<IResult> StartTotpAsync(ClaimsPrincipal user, VeilDbContext db, CancellationToken ct)
    {
        var account = await db.Set<Account>().FirstAsync(a => a.Id == user.UserId(), ct);
        if (account.TwoFactorEnabled)
        {
            return IdentityErrors.TwoFactorAlreadyEnabled.ToIdentityProblem();
        }

        var secret = Totp.GenerateSecret();
        account.PendingTotpSecret = secret;
        await db.SaveChangesAsync(ct);
        var uri = OtpAuthUri.ForTotp("Veil", account.Email, secret);
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        var svg = new SvgQRCode(data).GetGraphic(4);
        return TypedResults.Ok(new TotpEnrolment(Base32.Encode(secret), uri, "data:image/svg+xml;base64," + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(svg))));
    }

    public static async Task<IResult> ConfirmTotpAsync(CodeRequest body, ClaimsPrincipal user, VeilDbContext db, TwoFactorVerifier verifier, TimeProvider clock, CancellationToken ct)
    {
        var account = await db.Set<Account>().FirstAsync(a => a.Id == user.UserId(), ct);
        if (account.TwoFactorEnabled)
        {
            return IdentityErrors.TwoFactorAlreadyEnabled.ToIdentityProblem();
        }

        if (account.PendingTotpSecret is not { } pending)
        {
            return IdentityErrors.NoPendingEnrolment.ToIdentityProblem();
        }

        if (body?.Code is null || Totp.Verify(pending, body.Code, clock.GetUtcNow(), null) is not { } step)
        {
            return IdentityErrors.InvalidEnrolmentCode.ToIdentityProblem();
        }

        account.TotpSecret = pending;
        account.PendingTotpSecret = null;
        account.TotpLastStep = step;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new BackupCodesResponse(await verifier.RegenerateBackupCodesAsync(account.Id, ct)));
    }

    public static async Task<IResult> DisableTotpAsync(ClaimsPrincipal user, VeilDbContext db, IdentityMail mail, CancellationToken ct)
    {
        var account = await db.Set<Account>().FirstAsync(a => a.Id == user.UserId(), ct);
        if (!account.TwoFactorEnabled)
        {
            return IdentityErrors.TwoFactorNotEnabled.ToIdentityProblem();
        }

        account.TotpSecret = null;
        account.PendingTotpSecret = null;
        account.TotpLastStep = null;
        await db.SaveChangesAsync(ct);
        await db.Set<BackupCode>().Where(c => c.AccountId == account.Id).ExecuteDeleteAsync(ct);
        await mail.SendNoticeAsync(account.Email, "Two-factor sign-in was turned off", "Two-factor authentication was turned off for your Veil account.", ct);
        return TypedResults.NoContent();
    }

    public static async Task<IResult> RegenerateBackupCodesAsync(ClaimsPrincipal user, VeilDbContext db, TwoFactorVerifier verifier, CancellationToken ct)
    {
        var account = await db.Set<Account>().AsNoTracking().FirstAsync(a => a.Id == user.UserId(), ct);
        return account.TwoFactorEnabled
            ? TypedResults.Ok(new BackupCodesResponse(await verifier.RegenerateBackupCodesAsync(account.Id, ct)))
            : IdentityErrors.TwoFactorNotEnabled.ToIdentityProblem();
    }

    public static async Task<IResult> RegenerateRecoveryCodesAsync(ClaimsPrincipal user, TwoFactorVerifier verifier, CancellationToken ct) =>
        TypedResults.Ok(new RecoveryCodesResponse(await verifier.RegenerateRecoveryCodesAsync(user.UserId(), ct)));

    // ---- sessions ----

    public static async Task<IResult> SessionsAsync(ClaimsPrincipal user, VeilDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await ListSessionsAsync(db, user.UserId(), user.SessionId(), ct));

    /// <summary>The calling session's share of its "trust this browser" capsule; never cached (spec/identity-api.md).</summary>
    public static IResult UnlockShare(ClaimsPrincipal user, IdentityKeys keys, HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new UnlockShareResponse(CryptoRandom.ToBase64Url(keys.UnlockShare(user.UserId(), user.SessionId()!.Value))));
    }

    public static async Task<IResult> RevokeSessionAsync(Guid id, ClaimsPrincipal user, VeilDbContext db, CancellationToken ct)
    {
        var accountId = user.UserId();
        var deleted = await db.Set<Session>().Where(s => s.Id == id && s.AccountId == accountId).ExecuteDeleteAsync(ct);
        return deleted == 1 ? TypedResults.NoContent() : PlatformErrors.NotFound.ToIdentityProblem();
    }

    public static async Task<IResult> RevokeOtherSessionsAsync(ClaimsPrincipal user, SessionIssuer sessions, CancellationToken ct) =>
        TypedResults.Ok(new RevokedResponse(await sessions.RevokeAllExceptAsync(user.UserId(), user.SessionId(), ct)));

    // ---- API keys ----

    public static async Task<IResult> CreateApiKeyAsync(CreateApiKeyRequest body, ClaimsPrincipal user, VeilDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var name = IdentityValidation.Label(body?.Name, "name", required: true);
        if (!name.IsSuccess)
        {
            return name.Error.ToIdentityProblem();
        }

        var (key, digest) = SecretTokens.NewApiKey();
        var apiKey = new ApiKey { Id = Guid.NewGuid(), AccountId = user.UserId(), Name = name.Value!, KeyHash = digest, CreatedAt = clock.GetUtcNow() };
        db.Add(apiKey);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/account/api-keys/{apiKey.Id}", new CreatedApiKey(apiKey.Id, apiKey.Name, key, apiKey.CreatedAt));
    }

    public static async Task<IResult> ApiKeysAsync(ClaimsPrincipal user, VeilDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await ListKeysAsync(db, user.UserId(), ct));

    public static async Task<IResult> RevokeApiKeyAsync(Guid id, ClaimsPrincipal user, VeilDbContext db, CancellationToken ct)
    {
        var accountId = user.UserId();
        var deleted = await db.Set<ApiKey>().Where(k => k.Id == id && k.AccountId == accountId).ExecuteDeleteAsync(ct);
        return deleted == 1 ? TypedResults.NoContent() : PlatformErrors.NotFound.ToIdentityProblem();
    }

    private static async Task<List<SessionDto>> ListSessionsAsync(VeilDbContext db, Guid accountId, Guid? current, CancellationToken ct) =>
        [.. (await db.Set<Session>().AsNoTracking().Where(s => s.AccountId == accountId).ToListAsync(ct))
            .OrderBy(s => s.CreatedAt)
            .Select(s => new SessionDto(s.Id, s.Label, s.CreatedAt, s.LastUsedAt, s.Id == current))];

    private static async Task<List<ApiKeyDto>> ListKeysAsync(VeilDbContext db, Guid accountId, CancellationToken ct) =>
        [.. (await db.Set<ApiKey>().AsNoTracking().Where(k => k.AccountId == accountId).ToListAsync(ct))
            .OrderBy(k => k.CreatedAt)
            .Select(k => new ApiKeyDto(k.Id, k.Name, k.CreatedAt, k.LastUsedAt))];

    [LoggerMessage(EventId = 2040, Level = LogLevel.Information, Message = "An account and all its data were deleted")]
    private static partial void LogAccountDeleted(ILogger logger);
}
