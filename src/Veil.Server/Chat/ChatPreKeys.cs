// Prekeys (spec/chat-api.md, Prekeys): a device replaces its signed prekey and tops up one-time
// prekeys; an initiator fetches the bundles of every device of an account, claiming one one-time
// prekey per device. A one-time prekey is handed out at most once, even to concurrent claimers: the
// claim is one conditional UPDATE (ClaimedAt IS NULL), and a claimer that loses the race takes the
// next key. The claimed row stays 7 days (so an operator can see claim rates) and is then purged.
using Microsoft.EntityFrameworkCore;
using Veil.Crypto.Chat;
using Veil.Crypto.Primitives;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Chat;

internal sealed record UploadPreKeysRequest(SignedPreKeyDto? SignedPreKey, IReadOnlyList<OneTimePreKeyDto>? OneTimePreKeys);

internal sealed record PreKeyCountDto(int OneTimePreKeys);

internal sealed record DeviceBundleDto(
    int DeviceId, int RegistrationId, byte[] SigningKey, byte[] IdentityKey, byte[] Certificate,
    SignedPreKeyDto SignedPreKey, OneTimePreKeyDto? OneTimePreKey);

internal sealed record BundlesDto(byte[] AccountKey, IReadOnlyList<DeviceBundleDto> Devices, Transparency.KtLookupDto? Transparency = null);

internal sealed record CertifiedDeviceDto(int DeviceId, int RegistrationId, byte[] SigningKey, byte[] IdentityKey, byte[] Certificate);

internal sealed record CertifiedDevicesDto(byte[] AccountKey, IReadOnlyList<CertifiedDeviceDto> Devices);

/// <summary>
/// Another account's devices with their certificates, claiming nothing: a client that receives a first message from
/// a device it does not know checks that device's certificate against the account key it pinned (spec/chat-client.md).
/// </summary>
internal sealed class ListAccountDevicesCommand(VeilDbContext db)
{
    public async Task<Result<CertifiedDevicesDto>> ExecuteAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var account = await db.Set<ChatAccount>().AsNoTracking().FirstOrDefaultAsync(a => a.AccountId == accountId, cancellationToken);
        var devices = await db.Set<ChatDevice>().AsNoTracking().Where(d => d.AccountId == accountId).OrderBy(d => d.DeviceId)
            .Select(d => new CertifiedDeviceDto(d.DeviceId, d.RegistrationId, d.SigningKey, d.IdentityKey, d.Certificate)).ToListAsync(cancellationToken);
        return account is null || devices.Count == 0 ? ChatErrors.NoChatAccount : new CertifiedDevicesDto(account.AccountKey, devices);
    }
}

internal static class ChatPreKeys
{
    public static bool SignedPreKeyVerifies(byte[] signingKey, SignedPreKeyDto signed) =>
        signingKey is { Length: Ed25519PublicKey.Length } && signed.Signature is { Length: 64 }
        && signed.PublicKey is { Length: ChatPublicKey.Length } && ChatPublicKey.TryParse(signed.PublicKey) is { } key
        && SignedPreKey.Verify(Ed25519PublicKey.Import(signingKey), key, signed.Signature);

    public static Error? Validate(IReadOnlyList<OneTimePreKeyDto> keys)
    {
        if (keys.Count > ChatLimits.MaxPreKeysPerUpload)
        {
            return ChatErrors.TooManyPreKeys;
        }

        if (keys.Any(k => k.Id < 0 || k.Id > uint.MaxValue || k.PublicKey is not { Length: ChatPublicKey.Length } || ChatPublicKey.TryParse(k.PublicKey) is null)
            || keys.Select(k => k.Id).Distinct().Count() != keys.Count)
        {
            return ChatErrors.BadKeys;
        }

        return null;
    }
}

internal sealed class UploadPreKeysCommand(VeilDbContext db)
{
    public async Task<Result<PreKeyCountDto>> ExecuteAsync(Guid accountId, int deviceId, UploadPreKeysRequest body, CancellationToken cancellationToken)
    {
        var device = await db.Set<ChatDevice>().FirstOrDefaultAsync(d => d.AccountId == accountId && d.DeviceId == deviceId, cancellationToken);
        if (device is null)
        {
            return ChatErrors.DeviceNotFound;
        }

        var oneTime = body.OneTimePreKeys ?? [];
        if (ChatPreKeys.Validate(oneTime) is { } bad)
        {
            return bad;
        }

        if (body.SignedPreKey is { } signed)
        {
            if (!ChatPreKeys.SignedPreKeyVerifies(device.SigningKey, signed))
            {
                return ChatErrors.BadKeys;
            }

            device.SignedPreKeyId = signed.Id;
            device.SignedPreKey = signed.PublicKey;
            device.SignedPreKeySignature = signed.Signature;
        }

        var keys = db.Set<ChatOneTimePreKey>().Where(k => k.AccountId == accountId && k.DeviceId == deviceId);
        var stored = await keys.CountAsync(k => k.ClaimedAt == null, cancellationToken);
        if (stored + oneTime.Count > ChatLimits.MaxStoredPreKeys)
        {
            return ChatErrors.TooManyPreKeys;
        }

        var ids = oneTime.Select(k => k.Id).ToList();
        if (await keys.AnyAsync(k => ids.Contains(k.KeyId), cancellationToken))
        {
            // A reused id would let two different keys answer to one id in an initiator's first message.
            return ChatErrors.BadKeys;
        }

        db.AddRange(oneTime.Select(k => new ChatOneTimePreKey { AccountId = accountId, DeviceId = deviceId, KeyId = k.Id, PublicKey = k.PublicKey }));
        await db.SaveChangesAsync(cancellationToken);
        return new PreKeyCountDto(stored + oneTime.Count);
    }
}

internal sealed class CountPreKeysCommand(VeilDbContext db)
{
    public async Task<Result<PreKeyCountDto>> ExecuteAsync(Guid accountId, int deviceId, CancellationToken cancellationToken)
    {
        if (!await db.Set<ChatDevice>().AnyAsync(d => d.AccountId == accountId && d.DeviceId == deviceId, cancellationToken))
        {
            return ChatErrors.DeviceNotFound;
        }

        return new PreKeyCountDto(await db.Set<ChatOneTimePreKey>()
            .CountAsync(k => k.AccountId == accountId && k.DeviceId == deviceId && k.ClaimedAt == null, cancellationToken));
    }
}

/// <summary>Every device's bundle for an account, each with one freshly claimed one-time prekey when any is left.</summary>
internal sealed class ClaimBundlesCommand(VeilDbContext db, Transparency.KtProofs proofs, TimeProvider time)
{
    private const int ClaimAttempts = 8;

    public async Task<Result<BundlesDto>> ExecuteAsync(Guid targetAccountId, CancellationToken cancellationToken, long? since = null)
    {
        var account = await db.Set<ChatAccount>().AsNoTracking().FirstOrDefaultAsync(a => a.AccountId == targetAccountId, cancellationToken);
        var devices = await db.Set<ChatDevice>().AsNoTracking().Where(d => d.AccountId == targetAccountId).OrderBy(d => d.DeviceId).ToListAsync(cancellationToken);
        if (account is null || devices.Count == 0)
        {
            return ChatErrors.NoChatAccount;
        }

        var bundles = new List<DeviceBundleDto>(devices.Count);
        foreach (var device in devices)
        {
            bundles.Add(new DeviceBundleDto(
                device.DeviceId, device.RegistrationId, device.SigningKey, device.IdentityKey, device.Certificate,
                new SignedPreKeyDto(device.SignedPreKeyId, device.SignedPreKey, device.SignedPreKeySignature),
                await ClaimOneAsync(targetAccountId, device.DeviceId, cancellationToken)));
        }

        // The account's key events with proofs: the sender's client uses only keys the log shows (spec/kt.md, "Lookups").
        var transparency = await proofs.ForSubjectAsync(Veil.Crypto.Transparency.KeyEvent.ChatSubject(targetAccountId), since, cancellationToken);
        return new BundlesDto(account.AccountKey, bundles, transparency);
    }

    private async Task<OneTimePreKeyDto?> ClaimOneAsync(Guid accountId, int deviceId, CancellationToken cancellationToken)
    {
        var keys = db.Set<ChatOneTimePreKey>().Where(k => k.AccountId == accountId && k.DeviceId == deviceId);
        for (var attempt = 0; attempt < ClaimAttempts; attempt++)
        {
            var candidate = await keys.AsNoTracking().Where(k => k.ClaimedAt == null).OrderBy(k => k.KeyId).FirstOrDefaultAsync(cancellationToken);
            if (candidate is null)
            {
                return null;
            }

            var now = time.GetUtcNow();
            var won = await keys.Where(k => k.KeyId == candidate.KeyId && k.ClaimedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.ClaimedAt, now), cancellationToken);
            if (won == 1)
            {
                return new OneTimePreKeyDto(candidate.KeyId, candidate.PublicKey);
            }
        }

        // Every attempt lost a race: answer without a one-time prekey (X3DH works without one) rather than fail.
        return null;
    }
}
