using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Vault;

internal sealed record SetSwitchRequest(long IntervalSeconds, long GraceSeconds);

internal enum SwitchAction
{
    CheckIn,
    Pause,
    Resume,
}

/// <summary>The owner's switch operations: arm, read, check in, pause, resume, cancel.</summary>
internal sealed class VaultSwitchCommand(VeilDbContext db, TimeProvider time, ILogger<VaultSwitchCommand> logger)
{
    public async Task<Result<SwitchDto>> SetAsync(string vaultId, SetSwitchRequest request, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        if (request.IntervalSeconds is < VaultLimits.MinIntervalSeconds or > VaultLimits.MaxIntervalSeconds)
        {
            return VaultErrors.InvalidInterval;
        }

        if (request.GraceSeconds is < VaultLimits.MinGraceSeconds or > VaultLimits.MaxGraceSeconds)
        {
            return VaultErrors.InvalidGrace;
        }

        var s = await db.Set<VaultSwitch>().FirstOrDefaultAsync(x => x.VaultId == vault.Id, cancellationToken);
        if (s?.State == VaultSwitchState.Released)
        {
            return VaultErrors.SwitchReleased;
        }

        if (s is null)
        {
            s = new VaultSwitch { VaultId = vault.Id };
            db.Add(s);
        }

        s.IntervalSeconds = (int)request.IntervalSeconds;
        s.GraceSeconds = (int)request.GraceSeconds;
        s.Arm(time.GetUtcNow());
        return await SaveAsync(s, "armed", cancellationToken);
    }

    public async Task<Result<SwitchDto>> GetAsync(string vaultId, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        var s = await db.Set<VaultSwitch>().AsNoTracking().FirstOrDefaultAsync(x => x.VaultId == vault.Id, cancellationToken);
        return s is null ? VaultErrors.SwitchNotFound : SwitchDto.From(s);
    }

    public async Task<Result<SwitchDto>> ActAsync(string vaultId, SwitchAction action, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        var s = await db.Set<VaultSwitch>().FirstOrDefaultAsync(x => x.VaultId == vault.Id, cancellationToken);
        if (s is null)
        {
            return VaultErrors.SwitchNotFound;
        }

        return await ApplyAsync(s, action, cancellationToken);
    }

    /// <summary>Applies an action to a loaded (tracked) switch; also used by the one-click check-in page.</summary>
    public async Task<Result<SwitchDto>> ApplyAsync(VaultSwitch s, SwitchAction action, CancellationToken cancellationToken)
    {
        if (s.State == VaultSwitchState.Released)
        {
            return VaultErrors.SwitchReleased;
        }

        var now = time.GetUtcNow();
        switch (action)
        {
            case SwitchAction.CheckIn when s.State == VaultSwitchState.Paused:
                return VaultErrors.SwitchPaused;
            case SwitchAction.Resume when s.State != VaultSwitchState.Paused:
                return VaultErrors.SwitchNotPaused;
            case SwitchAction.Pause:
                s.Pause();
                break;
            default:
                // A check-in and a resume both re-arm from now with a new generation.
                s.Arm(now);
                break;
        }

        return await SaveAsync(s, action.ToString(), cancellationToken);
    }

    public async Task<Result<bool>> CancelAsync(string vaultId, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        var deleted = await db.Set<VaultSwitch>().Where(x => x.VaultId == vault.Id).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return VaultErrors.SwitchNotFound;
        }

        VaultLog.SwitchChanged(logger, vault.Id, "cancelled");
        return true;
    }

    private async Task<Result<SwitchDto>> SaveAsync(VaultSwitch s, string what, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The scheduler changed this switch at the same moment (e.g. released it): the caller retries and sees the new state.
            return VaultErrors.Busy;
        }

        VaultLog.SwitchChanged(logger, s.VaultId, what);
        return SwitchDto.From(s);
    }
}
