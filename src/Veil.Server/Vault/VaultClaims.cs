// Delivery to recipients (spec/vault-api.md, Claim). A claim needs two things: the link (HMAC-signed,
// stored as SHA-256, single use, expiring) and a 6-digit code mailed to the recipient's address on
// request. Every claim first reserves one of the link's five attempts with a conditional UPDATE, then
// checks the code, so parallel guesses cannot exceed five. Only then is the delivery key unsealed,
// returned with the escrow, and the sealed copy deleted: the server cannot hand it out twice.
using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Vault;

internal sealed record ClaimCodeRequest(string? Token);

internal sealed record ClaimRequest(string? Token, string? Code);

internal sealed record ExpiresDto(DateTimeOffset ExpiresAt);

internal sealed record ClaimedVaultDto(string Name, IReadOnlyList<ItemDto> Items);

internal sealed record ClaimResponse(
    bool Rehearsal, string VaultId, string RecipientId, string Escrow, string DeliveryKey, ClaimedVaultDto Vault, string DownloadToken, DateTimeOffset DownloadTokenExpiresAt);

internal sealed record RehearsalClaimResponse(bool Rehearsal, int Recipients);

internal sealed class VaultClaimCommand(
    VeilDbContext db, VaultSecrets secrets, VaultMail mail, IBlobStore blobs, TimeProvider time, ILogger<VaultClaimCommand> logger)
{
    public async Task<Result<ExpiresDto>> RequestCodeAsync(ClaimCodeRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var found = await FindLinkAsync(request.Token, now, cancellationToken);
        if (!found.IsSuccess)
        {
            return found.Error;
        }

        var link = found.Value;
        if (link.CodeWindowStart is not { } start || now - start >= VaultLimits.CodeWindow)
        {
            link.CodeWindowStart = now;
            link.CodesSent = 0;
        }
        else if (link.CodesSent >= VaultLimits.CodesPerWindow)
        {
            return new RateLimitedError(start + VaultLimits.CodeWindow - now);
        }

        // Rehearsal codes go to the owner, never to a recipient.
        string? to;
        if (link.Rehearsal)
        {
            var ownerId = await db.Set<VaultRecord>().Where(v => v.Id == link.VaultId).Select(v => v.OwnerId).FirstAsync(cancellationToken);
            to = await VaultMail.OwnerAddressAsync(db, ownerId, cancellationToken);
        }
        else
        {
            to = await db.Set<VaultRecipient>().AsNoTracking().Where(r => r.Id == link.SubjectId && r.VaultId == link.VaultId)
                .Select(r => r.Email).FirstOrDefaultAsync(cancellationToken);
        }

        if (to is null)
        {
            return VaultErrors.LinkInvalid;
        }

        var code = VaultSecrets.NewCode();
        link.CodeDigest = VaultSecrets.Digest(code);
        link.CodeExpiresAt = now + VaultLimits.CodeLifetime;
        link.CodesSent++;
        await db.SaveChangesAsync(cancellationToken);
        await mail.SendCodeAsync(to, code, link.Rehearsal, cancellationToken);
        VaultLog.CodeSent(logger, link.VaultId, link.Rehearsal);
        return new ExpiresDto(link.CodeExpiresAt.Value);
    }

    public async Task<Result<object>> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var found = await FindLinkAsync(request.Token, now, cancellationToken);
        if (!found.IsSuccess)
        {
            return found.Error;
        }

        var link = found.Value;
        if (link.CodeDigest is null || link.CodeExpiresAt <= now)
        {
            return VaultErrors.CodeExpired;
        }

        // Reserve one attempt atomically (compare-and-swap on the count), so this request knows exactly which
        // attempt it holds even when guesses arrive in parallel; a link that has used its five is locked.
        var digest = link.Digest;
        var attempts = await ReserveAttemptAsync(digest, cancellationToken);
        if (attempts == 0)
        {
            return await StateErrorAsync(digest, cancellationToken);
        }

        if (!VaultSecrets.CodeMatches(request.Code, link.CodeDigest))
        {
            if (attempts < VaultLimits.MaxAttempts)
            {
                VaultLog.WrongCode(logger, link.VaultId, attempts);
                return new WrongCodeError(VaultLimits.MaxAttempts - attempts);
            }

            await db.Set<VaultClaimLink>().Where(l => l.Digest == digest && l.LockedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.LockedAt, now).SetProperty(l => l.CodeDigest, (byte[]?)null), cancellationToken);
            if (!link.Rehearsal)
            {
                await db.Set<VaultRecipient>().Where(r => r.Id == link.SubjectId && r.State != VaultRecipientState.Claimed)
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, VaultRecipientState.Locked), cancellationToken);
            }

            VaultLog.LinkLocked(logger, link.VaultId);
            return VaultErrors.LinkLocked;
        }

        var downloadToken = VaultSecrets.NewToken();
        var downloadExpires = now + VaultLimits.DownloadLifetime;
        var downloadDigest = link.Rehearsal ? null : VaultSecrets.Digest(downloadToken);
        var used = await db.Set<VaultClaimLink>().Where(l => l.Digest == digest && l.UsedAt == null && l.LockedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.UsedAt, now).SetProperty(l => l.CodeDigest, (byte[]?)null)
                .SetProperty(l => l.DownloadDigest, downloadDigest).SetProperty(l => l.DownloadExpiresAt, link.Rehearsal ? null : downloadExpires), cancellationToken);
        if (used == 0)
        {
            return await StateErrorAsync(digest, cancellationToken);
        }

        var vault = await db.Set<VaultRecord>().AsNoTracking().FirstAsync(v => v.Id == link.VaultId, cancellationToken);
        var owner = await VaultMail.OwnerAddressAsync(db, vault.OwnerId, cancellationToken);
        if (link.Rehearsal)
        {
            var count = await db.Set<VaultRecipient>().CountAsync(r => r.VaultId == vault.Id, cancellationToken);
            await NotifyOwnerAsync(owner, rehearsal: true, cancellationToken);
            VaultLog.Claimed(logger, vault.Id, rehearsal: true);
            return new RehearsalClaimResponse(true, count);
        }

        var recipient = await db.Set<VaultRecipient>().FirstOrDefaultAsync(r => r.Id == link.SubjectId && r.VaultId == vault.Id, cancellationToken);
        var deliveryKey = recipient?.SealedDeliveryKey is { } sealedKey ? secrets.UnsealDeliveryKey(vault.Id, recipient.Id, sealedKey) : null;
        if (recipient is null || deliveryKey is null)
        {
            // The recipient was removed meanwhile, or the `escrow` key that sealed it is no longer configured.
            VaultLog.UnsealFailed(logger, vault.Id);
            return recipient is null ? VaultErrors.LinkInvalid : PlatformErrors.Internal;
        }

        try
        {
            // The delivery key leaves the server once: the sealed copy is deleted with the claim.
            recipient.SealedDeliveryKey = null;
            recipient.State = VaultRecipientState.Claimed;
            recipient.ClaimedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            var items = await ReadItemsCommand.ItemsOfAsync(db, vault.Id, cancellationToken);
            await NotifyOwnerAsync(owner, rehearsal: false, cancellationToken);
            VaultLog.Claimed(logger, vault.Id, rehearsal: false);
            return new ClaimResponse(false, vault.Id, recipient.Id, recipient.Escrow, Base64Url.EncodeToString(deliveryKey),
                new ClaimedVaultDto(vault.Name, items), downloadToken, downloadExpires);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(deliveryKey);
        }
    }

    /// <summary>A released file for the holder of a download token (from a claim, valid 1 h).</summary>
    public async Task<Result<Stream>> OpenFileAsync(string fileId, string? authorization, CancellationToken cancellationToken)
    {
        const string prefix = "Bearer ";
        var token = authorization is not null && authorization.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? authorization[prefix.Length..].Trim() : null;
        if (token is not { Length: > 0 and <= 64 })
        {
            return VaultErrors.Unauthorized;
        }

        var digest = VaultSecrets.Digest(token);
        var now = time.GetUtcNow();
        var vaultId = await db.Set<VaultClaimLink>().AsNoTracking().Where(l => l.DownloadDigest == digest && l.DownloadExpiresAt > now)
            .Select(l => l.VaultId).FirstOrDefaultAsync(cancellationToken);
        if (vaultId is null)
        {
            return VaultErrors.Unauthorized;
        }

        return await VaultFiles.OpenFileAsync(db, blobs, vaultId, f => f.Id == fileId, cancellationToken);
    }

    /// <summary>
    /// Verifies the token and loads its link. Forged, malformed and genuine tokens all run the same
    /// HMAC and the same digest lookup before anything is decided.
    /// </summary>
    private async Task<Result<VaultClaimLink>> FindLinkAsync(string? token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var proof = secrets.VerifyLinkToken(token);
        var link = await db.Set<VaultClaimLink>().FirstOrDefaultAsync(l => l.Digest == proof.Digest, cancellationToken);
        if (!proof.Valid || link is null || link.SubjectId != proof.SubjectId)
        {
            return VaultErrors.LinkInvalid;
        }

        return link.LockedAt is not null ? VaultErrors.LinkLocked
            : link.UsedAt is not null ? VaultErrors.LinkUsed
            : link.ExpiresAt <= now ? VaultErrors.LinkExpired
            : link;
    }

    /// <summary>
    /// Takes the next attempt of a link: returns its number (1..5), or 0 when the link is used up, locked or used.
    /// Each failed swap means another request took an attempt, so the loop ends after at most five successes overall.
    /// </summary>
    private async Task<int> ReserveAttemptAsync(byte[] digest, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = await db.Set<VaultClaimLink>().AsNoTracking().Where(l => l.Digest == digest)
                .Select(l => new { l.Attempts, l.UsedAt, l.LockedAt }).FirstOrDefaultAsync(cancellationToken);
            if (current is null || current.UsedAt is not null || current.LockedAt is not null || current.Attempts >= VaultLimits.MaxAttempts)
            {
                return 0;
            }

            var seen = current.Attempts;
            var swapped = await db.Set<VaultClaimLink>()
                .Where(l => l.Digest == digest && l.Attempts == seen && l.UsedAt == null && l.LockedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.Attempts, seen + 1), cancellationToken);
            if (swapped == 1)
            {
                return seen + 1;
            }
        }
    }

    private async Task<Error> StateErrorAsync(byte[] digest, CancellationToken cancellationToken)
    {
        var state = await db.Set<VaultClaimLink>().AsNoTracking().Where(l => l.Digest == digest).Select(l => new { l.LockedAt, l.UsedAt }).FirstOrDefaultAsync(cancellationToken);
        return state is null ? VaultErrors.LinkInvalid : state.UsedAt is not null ? VaultErrors.LinkUsed : VaultErrors.LinkLocked;
    }

    private async Task NotifyOwnerAsync(string? owner, bool rehearsal, CancellationToken cancellationToken)
    {
        if (owner is not null)
        {
            await mail.SendClaimedToOwnerAsync(owner, rehearsal, cancellationToken);
        }
    }
}

/// <summary>A test delivery: a rehearsal link (and later its code) to the owner only. Nothing is released.</summary>
internal sealed class RehearseCommand(VeilDbContext db, VaultSecrets secrets, VaultMail mail, IOptionsSnapshot<VaultOptions> options, TimeProvider time, ILogger<RehearseCommand> logger)
{
    public async Task<Result<ExpiresDto>> ExecuteAsync(string vaultId, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        var owner = await VaultMail.OwnerAddressAsync(db, ownerId, cancellationToken);
        if (owner is null)
        {
            return VaultErrors.VaultNotFound;
        }

        var now = time.GetUtcNow();
        var subject = Guid.NewGuid().ToString("D");
        var (token, digest) = secrets.NewLinkToken(subject);
        var expires = now + options.Value.ClaimLinkLifetime;
        db.Add(new VaultClaimLink { Digest = digest, VaultId = vault.Id, SubjectId = subject, Rehearsal = true, CreatedAt = now, ExpiresAt = expires });
        await db.SaveChangesAsync(cancellationToken);
        var recipients = await db.Set<VaultRecipient>().CountAsync(r => r.VaultId == vault.Id, cancellationToken);
        await mail.SendRehearsalLinkAsync(owner, token, expires, recipients, cancellationToken);
        VaultLog.Rehearsed(logger, vault.Id);
        return new ExpiresDto(expires);
    }
}
