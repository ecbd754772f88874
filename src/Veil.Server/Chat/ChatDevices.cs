// Device registration, listing and removal (spec/chat-api.md, Devices). The server checks what it can
// check without trusting anyone: the certificate verifies under the account key the account first
// registered, and the signed prekey verifies under the device's signing key. It does not vouch for the
// account key itself: peers compare it out of band (safety numbers) and check the key transparency log, where
// every account key and device added or removed is written in the same transaction (Transparency/).
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Veil.Crypto.Chat;
using Veil.Crypto.Primitives;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;
using Veil.Server.Platform.Wakeups;
using Veil.Server.Transparency;
using Veil.Crypto.Transparency;

namespace Veil.Server.Chat;

internal sealed record SignedPreKeyDto(int Id, byte[] PublicKey, byte[] Signature);

internal sealed record OneTimePreKeyDto(long Id, byte[] PublicKey);

internal sealed record RegisterDeviceRequest(
    byte[] AccountKey, int DeviceId, int RegistrationId, byte[] SigningKey, byte[] IdentityKey, byte[] Certificate,
    SignedPreKeyDto SignedPreKey, IReadOnlyList<OneTimePreKeyDto>? OneTimePreKeys);

internal sealed record DeviceDto(int DeviceId, int RegistrationId, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt);

internal sealed record DeviceListDto(IReadOnlyList<DeviceDto> Devices);

internal sealed class RegisterDeviceCommand(VeilDbContext db, ChatAudit audit, KeyTransparencyLog log, TimeProvider time)
{
    public async Task<Result<DeviceDto>> ExecuteAsync(RegisterDeviceRequest body, Guid accountId, CancellationToken cancellationToken)
    {
        if (body.DeviceId < 1)
        {
            return ChatErrors.BadDeviceId;
        }

        if (!CertificateVerifies(body) || body.SignedPreKey is null || !ChatPreKeys.SignedPreKeyVerifies(body.SigningKey, body.SignedPreKey))
        {
            return ChatErrors.BadKeys;
        }

        var oneTime = body.OneTimePreKeys ?? [];
        if (ChatPreKeys.Validate(oneTime) is { } bad)
        {
            return bad;
        }

        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var account = await db.Set<ChatAccount>().FirstOrDefaultAsync(a => a.AccountId == accountId, cancellationToken);
        var subject = KeyEvent.ChatSubject(accountId);
        var by = KeyTransparencyLog.BySession(accountId);
        if (account is null)
        {
            db.Add(new ChatAccount { AccountId = accountId, AccountKey = body.AccountKey, CreatedAt = now });
            log.Record(new KeyEvent(KeyEventKinds.ChatAccountKey, subject, null, [body.AccountKey], by, now.ToUnixTimeSeconds()), now);
        }
        else if (!CryptographicOperations.FixedTimeEquals(account.AccountKey, body.AccountKey))
        {
            return ChatErrors.AccountKeyMismatch;
        }

        var devices = await db.Set<ChatDevice>().Where(d => d.AccountId == accountId).Select(d => d.DeviceId).ToListAsync(cancellationToken);
        if (devices.Contains(body.DeviceId))
        {
            return ChatErrors.DeviceExists;
        }

        if (devices.Count >= ChatLimits.MaxDevices)
        {
            return ChatErrors.DeviceLimit;
        }

        var device = new ChatDevice
        {
            AccountId = accountId,
            DeviceId = body.DeviceId,
            RegistrationId = body.RegistrationId,
            SigningKey = body.SigningKey,
            IdentityKey = body.IdentityKey,
            Certificate = body.Certificate,
            SignedPreKeyId = body.SignedPreKey.Id,
            SignedPreKey = body.SignedPreKey.PublicKey,
            SignedPreKeySignature = body.SignedPreKey.Signature,
            CreatedAt = now,
            LastSeenAt = now,
        };
        db.Add(device);
        db.AddRange(oneTime.Select(k => new ChatOneTimePreKey { AccountId = accountId, DeviceId = body.DeviceId, KeyId = k.Id, PublicKey = k.PublicKey }));
        audit.Record(accountId, ChatAudit.DeviceRegistered, body.DeviceId, now);
        log.Record(new KeyEvent(KeyEventKinds.ChatDeviceAdded, subject, body.DeviceId, [body.SigningKey, body.IdentityKey], by, now.ToUnixTimeSeconds()), now);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A concurrent registration of the same device id (or the first device of the account) won.
            return ChatErrors.DeviceExists;
        }

        await transaction.CommitAsync(cancellationToken);
        return new DeviceDto(device.DeviceId, device.RegistrationId, device.CreatedAt, device.LastSeenAt);
    }

    private static bool CertificateVerifies(RegisterDeviceRequest body)
    {
        if (body.AccountKey is not { Length: Ed25519PublicKey.Length } || body.SigningKey is not { Length: Ed25519PublicKey.Length }
            || body.IdentityKey is not { Length: ChatPublicKey.Length } || body.Certificate is not { Length: 64 }
            || ChatPublicKey.TryParse(body.IdentityKey) is not { } identity)
        {
            return false;
        }

        var certificate = new DeviceCertificate((uint)body.DeviceId, Ed25519PublicKey.Import(body.SigningKey), identity, body.Certificate);
        return certificate.Verify(Ed25519PublicKey.Import(body.AccountKey));
    }
}

internal sealed class ListDevicesCommand(VeilDbContext db)
{
    public async Task<Result<DeviceListDto>> ExecuteAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var devices = await db.Set<ChatDevice>().AsNoTracking().Where(d => d.AccountId == accountId).OrderBy(d => d.DeviceId)
            .Select(d => new DeviceDto(d.DeviceId, d.RegistrationId, d.CreatedAt, d.LastSeenAt)).ToListAsync(cancellationToken);
        return new DeviceListDto(devices);
    }
}

/// <summary>Removes a device: its keys, its prekeys and its mailbox go, and its open sockets are closed.</summary>
internal sealed class RemoveDeviceCommand(VeilDbContext db, ChatAudit audit, KeyTransparencyLog log, ChatConnections connections, IWakeupBus wakeups, TimeProvider time)
{
    public async Task<Result<bool>> ExecuteAsync(Guid accountId, int deviceId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var removed = await db.Set<ChatDevice>().Where(d => d.AccountId == accountId && d.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken);
        if (removed == 0)
        {
            return ChatErrors.DeviceNotFound;
        }

        await db.Set<ChatOneTimePreKey>().Where(k => k.AccountId == accountId && k.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken);
        await db.Set<ChatMailboxEntry>().Where(m => m.AccountId == accountId && m.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken);
        audit.Record(accountId, ChatAudit.DeviceRemoved, deviceId, now);
        log.Record(new KeyEvent(KeyEventKinds.ChatDeviceRemoved, KeyEvent.ChatSubject(accountId), deviceId, [], KeyTransparencyLog.BySession(accountId), now.ToUnixTimeSeconds()), now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await connections.CloseDeviceAsync(accountId, deviceId);
        await wakeups.PublishAsync(ChatConnections.WakeupChannel, ChatConnections.RemovedPayload(accountId, deviceId), cancellationToken); // sockets on other nodes
        return true;
    }
}

/// <summary>Writes audit rows (kept <see cref="ChatLimits.AuditLifetime"/>); the caller saves.</summary>
internal sealed class ChatAudit(VeilDbContext db)
{
    public const string DeviceRegistered = "device-registered";
    public const string DeviceRemoved = "device-removed";

    public void Record(Guid accountId, string @event, int deviceId, DateTimeOffset at) =>
        db.Add(new ChatAuditEntry { Id = Guid.NewGuid(), AccountId = accountId, Event = @event, DeviceId = deviceId, At = at });
}

/// <summary>Sets the 16-byte delivery access key that gates sealed sends to this account (stored as SHA-256).</summary>
internal sealed class SetAccessKeyCommand(VeilDbContext db)
{
    public async Task<Result<bool>> ExecuteAsync(Guid accountId, AccessKeyRequest body, CancellationToken cancellationToken)
    {
        if (body.AccessKey is not { Length: ChatLimits.AccessKeyBytes })
        {
            return ChatErrors.BadKeys;
        }

        var account = await db.Set<ChatAccount>().FirstOrDefaultAsync(a => a.AccountId == accountId, cancellationToken);
        if (account is null)
        {
            return ChatErrors.NoChatAccount;
        }

        account.AccessKeyHash = SHA256.HashData(body.AccessKey);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }
}
