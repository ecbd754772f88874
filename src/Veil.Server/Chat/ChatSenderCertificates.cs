// Sender certificates for sealed sends (spec/chat-api.md, Sealed sender; chat-wire §6.2). Both signing keys are
// derived from the `chat` server key, so the relay needs no key file of its own and every secret is required at boot:
//
//   trust root  Ed25519 seed = chat (OLDEST configured version).DeriveSubkey("chat/trust-root")
//   server key  Ed25519 seed = chat (CURRENT version).DeriveSubkey("chat/sender-certificates"); server certificate id = that version
//
// (DeriveSubkey is HKDF-SHA256, info "veil/v1/chat/<purpose>", spec/keys.md.) Clients pin the trust root on first use,
// so it must outlive rotations: rotating `chat` (new current version, old one retired) changes the server key and the
// certificate id while the trust root, from the oldest version still configured, stays. Dropping that oldest version
// changes the trust root, and every client refuses sealed messages until it re-pins (docs/OPERATIONS.md).
using Microsoft.EntityFrameworkCore;
using Veil.Crypto.Chat;
using Veil.Crypto.Keys;
using Veil.Crypto.Primitives;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Chat;

internal sealed record SenderCertificateDto(byte[] Certificate, DateTimeOffset ExpiresAt);

internal sealed record TrustRootDto(byte[] TrustRoot, int ServerCertificateId);

internal sealed class ChatSenderCertificateIssuer : IDisposable
{
    public const string KeyName = "chat";
    private readonly Ed25519PrivateKey _serverKey;
    private readonly byte[] _serverCertificate;

    public ChatSenderCertificateIssuer(Keyring keyring)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        var versions = keyring.Versions(KeyName);
        if (versions.Count == 0)
        {
            throw new InvalidOperationException($"The keyring has no '{KeyName}' key.");
        }

        var current = versions[0];
        using var trustRoot = Derive(versions[^1], "chat/trust-root");
        TrustRoot = trustRoot.PublicKey;
        ServerCertificateId = current.Version;
        _serverKey = Derive(current, "chat/sender-certificates");
        _serverCertificate = ChatSenderCertificate.IssueServerCertificate(trustRoot, current.Version, _serverKey.PublicKey);
    }

    /// <summary>The public key clients validate every sender certificate's chain against.</summary>
    public Ed25519PublicKey TrustRoot { get; }

    public ushort ServerCertificateId { get; }

    /// <summary>A certificate naming <paramref name="accountId"/>'s device and its identity key, valid for 24 hours from <paramref name="now"/>.</summary>
    public SenderCertificateDto Issue(Guid accountId, int deviceId, X25519PublicKey identityKey, DateTimeOffset now)
    {
        var expires = DateTimeOffset.FromUnixTimeMilliseconds((now + ChatSenderCertificate.Lifetime).ToUnixTimeMilliseconds());
        var certificate = ChatSenderCertificate.Issue(_serverKey, _serverCertificate, accountId.ToString("D"), (uint)deviceId, identityKey, expires);
        return new SenderCertificateDto(certificate, expires);
    }

    public void Dispose() => _serverKey.Dispose();

    private static Ed25519PrivateKey Derive(VersionedKey key, string purpose)
    {
        Span<byte> seed = stackalloc byte[32];
        try
        {
            key.DeriveSubkey(purpose, seed);
            return Ed25519PrivateKey.ImportSeed(seed);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);
        }
    }
}

/// <summary>Issues a sender certificate for one of the caller's own devices, with the identity key the relay registered for it.</summary>
internal sealed class IssueSenderCertificateCommand(VeilDbContext db, ChatSenderCertificateIssuer issuer, TimeProvider time)
{
    public async Task<Result<SenderCertificateDto>> ExecuteAsync(Guid accountId, int? deviceId, CancellationToken cancellationToken)
    {
        if (deviceId is not { } id)
        {
            return ChatErrors.BadDeviceId;
        }

        var identity = await db.Set<ChatDevice>().AsNoTracking().Where(d => d.AccountId == accountId && d.DeviceId == id)
            .Select(d => d.IdentityKey).FirstOrDefaultAsync(cancellationToken);
        if (identity is null || ChatPublicKey.TryParse(identity) is not { } identityKey)
        {
            return ChatErrors.DeviceNotFound;
        }

        return issuer.Issue(accountId, id, identityKey, time.GetUtcNow());
    }
}
