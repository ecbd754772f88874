// Second factors. Every "use once" rule is enforced by a conditional write whose row count decides
// the outcome (delete-where-matches for codes, update-where-step-is-newer for TOTP), so two
// concurrent requests with the same code cannot both succeed.
using Microsoft.EntityFrameworkCore;
using Veil.Crypto.Otp;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Identity.Services;

internal sealed class TwoFactorVerifier(VeilDbContext db, IdentityKeys keys, TimeProvider clock)
{
    /// <summary>Accepts a TOTP code (±1 step) whose step is newer than the last accepted one, and records it.</summary>
    public async Task<bool> VerifyTotpAsync(Account account, string? code, CancellationToken cancellationToken)
    {
        if (account.TotpSecret is not { } secret || code is null)
        {
            return false;
        }

        var step = Totp.Verify(secret, code, clock.GetUtcNow(), account.TotpLastStep);
        if (step is not { } matched)
        {
            return false;
        }

        var updated = await db.Set<Account>()
            .Where(a => a.Id == account.Id && (a.TotpLastStep == null || a.TotpLastStep < matched))
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.TotpLastStep, matched), cancellationToken);
        account.TotpLastStep = matched;
        return updated == 1;
    }

    public async Task<bool> ConsumeBackupCodeAsync(Guid accountId, string? code, CancellationToken cancellationToken)
    {
        if (code is null || OneTimeCodes.HashBackupCode(code) is not { } hash)
        {
            return false;
        }

        return await db.Set<BackupCode>().Where(c => c.AccountId == accountId && c.Hash == hash).ExecuteDeleteAsync(cancellationToken) == 1;
    }

    public async Task<bool> ConsumeRecoveryCodeAsync(Guid accountId, string? code, CancellationToken cancellationToken)
    {
        if (code is null)
        {
            return false;
        }

        foreach (var fingerprint in keys.RecoveryFingerprints(code))
        {
            if (await db.Set<RecoveryCode>().Where(c => c.AccountId == accountId && c.Fingerprint == fingerprint).ExecuteDeleteAsync(cancellationToken) == 1)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Replaces the backup codes; returns the new ones (shown once).</summary>
    public async Task<IReadOnlyList<string>> RegenerateBackupCodesAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await db.Set<BackupCode>().Where(c => c.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        var codes = OneTimeCodes.GenerateBackupCodes();
        foreach (var code in codes)
        {
            db.Add(new BackupCode { Id = Guid.NewGuid(), AccountId = accountId, Hash = OneTimeCodes.HashBackupCode(code)! });
        }

        await db.SaveChangesAsync(cancellationToken);
        return codes;
    }

    /// <summary>Replaces the recovery codes; returns the new ones (shown once).</summary>
    public async Task<IReadOnlyList<string>> RegenerateRecoveryCodesAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await db.Set<RecoveryCode>().Where(c => c.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        var codes = OneTimeCodes.GenerateRecoveryCodes();
        foreach (var code in codes)
        {
            db.Add(new RecoveryCode { Id = Guid.NewGuid(), AccountId = accountId, Fingerprint = keys.RecoveryFingerprints(code)[0] });
        }

        await db.SaveChangesAsync(cancellationToken);
        return codes;
    }
}
