using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Vault;

// Notify is opt-in: mail the recipient that they were added (naming the owner's address, nothing about the vault's content).
internal sealed record AddRecipientRequest(string? Id, string? Email, string? Escrow, string? DeliveryKey, bool? Notify = null);

/// <summary>
/// Recipients and their split-key escrow. The escrow (vault key wrapped by the delivery key) is a
/// client CT; the delivery key arrives once and is sealed at once under the `escrow` server key, so
/// the database alone never holds both halves in the clear.
/// </summary>
internal sealed class VaultRecipientsCommand(VeilDbContext db, VaultSecrets secrets, VaultMail mail, IOptionsSnapshot<VaultOptions> options, TimeProvider time, ILogger<VaultRecipientsCommand> logger)
{
    public async Task<Result<RecipientDto>> AddAsync(string vaultId, AddRecipientRequest request, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        if (!VaultFormat.IsId(request.Id))
        {
            return VaultErrors.InvalidId;
        }

        var email = request.Email?.Trim();
        if (!VaultFormat.IsEmail(email))
        {
            return VaultErrors.InvalidEmail;
        }

        if (!VaultFormat.IsCt(request.Escrow))
        {
            return new InvalidCiphertextError("escrow");
        }

        var deliveryKey = VaultFormat.DecodeKey(request.DeliveryKey, VaultFormat.DeliveryKeyBytes);
        if (deliveryKey is null)
        {
            return VaultErrors.InvalidDeliveryKey;
        }

        try
        {
            if (await db.Set<VaultSwitch>().AnyAsync(s => s.VaultId == vault.Id && s.State == VaultSwitchState.Released, cancellationToken))
            {
                return VaultErrors.SwitchReleased;
            }

            if (await db.Set<VaultRecipient>().CountAsync(r => r.VaultId == vault.Id, cancellationToken) >= options.Value.MaxRecipients)
            {
                return VaultErrors.TooManyRecipients;
            }

            if (await db.Set<VaultRecipient>().AnyAsync(r => r.Id == request.Id, cancellationToken))
            {
                return VaultErrors.AlreadyExists;
            }

            var recipient = new VaultRecipient
            {
                Id = request.Id!, VaultId = vault.Id, Email = email!, Escrow = request.Escrow!,
                SealedDeliveryKey = secrets.SealDeliveryKey(vault.Id, request.Id!, deliveryKey),
                State = VaultRecipientState.Waiting, CreatedAt = time.GetUtcNow(),
            };
            db.Add(recipient);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                return VaultErrors.AlreadyExists;
            }

            VaultLog.RecipientAdded(logger, vault.Id);
            if (request.Notify == true)
            {
                // Opt-in only: by default a recipient learns of the vault when it is released. The notice goes through
                // the durable outbox after the recipient is saved, so a failed send never undoes the addition.
                var owner = await VaultMail.OwnerAddressAsync(db, ownerId, cancellationToken);
                await mail.SendRecipientAddedAsync(email!, owner, cancellationToken);
                VaultLog.RecipientNotified(logger, vault.Id);
            }

            return RecipientDto.From(recipient);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(deliveryKey);
        }
    }

    public async Task<Result<RecipientListDto>> ListAsync(string vaultId, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        var recipients = await db.Set<VaultRecipient>().AsNoTracking().Where(r => r.VaultId == vault.Id).ToListAsync(cancellationToken);
        return new RecipientListDto([.. recipients.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id, StringComparer.Ordinal).Select(RecipientDto.From)]);
    }

    /// <summary>Removes one recipient with its escrow, sealed key and link; nobody else is affected.</summary>
    public async Task<Result<bool>> RemoveAsync(string vaultId, string recipientId, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        var deleted = await db.Set<VaultRecipient>().Where(r => r.Id == recipientId && r.VaultId == vault.Id).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return VaultErrors.RecipientNotFound;
        }

        await db.Set<VaultClaimLink>().Where(l => l.SubjectId == recipientId && l.VaultId == vault.Id && !l.Rehearsal).ExecuteDeleteAsync(cancellationToken);
        VaultLog.RecipientRemoved(logger, vault.Id);
        return true;
    }
}
