// Chat key types (spec/chat-wire.md §1–2): per-account signing key, per-device identity, prekeys, bundles.
//
// Veil follows Signal's key layout without XEdDSA. Each device holds two long-lived keys: an Ed25519
// signing identity (signs its signed prekeys) and an X25519 identity key (the "IK" of X3DH, and the
// identity bytes the Double Ratchet MAC covers). Both are certified by the account's Ed25519 signing
// key, which the account's linked devices share (as Signal's linked devices share one identity key),
// so a peer that trusts the account key trusts every device it certifies and nothing else.
//
// Public X25519 keys travel in Signal's 33-byte form (0x05 type byte || 32-byte u-coordinate) so that
// libsignal's parsers and MAC layout apply unchanged. Every signature carries a domain label, so a
// signature made for one purpose can never be replayed as another.
using System.Buffers.Binary;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Chat;

/// <summary>Signal's 33-byte serialisation of an X25519 public key: 0x05 then the 32-byte u-coordinate.</summary>
public static class ChatPublicKey
{
    /// <summary>The serialised length: 33 bytes.</summary>
    public const int Length = 33;

    /// <summary>The type byte Signal uses for Curve25519 (X25519) keys.</summary>
    public const byte DjbType = 0x05;

    /// <summary>Serialises <paramref name="key"/> as 0x05 || key.</summary>
    public static byte[] Serialize(X25519PublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var bytes = new byte[Length];
        bytes[0] = DjbType;
        key.Bytes.CopyTo(bytes.AsSpan(1));
        return bytes;
    }

    /// <summary>
    /// Parses a 33-byte serialised key. Returns <see langword="null"/> for any other length or type byte.
    /// Low-order points parse (they are 32 bytes like any other); every agreement with one is refused.
    /// </summary>
    public static X25519PublicKey? TryParse(ReadOnlySpan<byte> serialized) =>
        serialized.Length == Length && serialized[0] == DjbType ? X25519PublicKey.Import(serialized[1..]) : null;
}

/// <summary>Domain labels for every chat signature (ASCII, prefixed to the signed bytes).</summary>
internal static class ChatLabels
{
    internal static ReadOnlySpan<byte> DeviceCertificate => "veil/chat/v1/device-certificate"u8;
    internal static ReadOnlySpan<byte> SignedPreKey => "veil/chat/v1/signed-prekey"u8;
}

/// <summary>
/// An account's device certificate: the account signing key vouches for one device's Ed25519 signing
/// key and X25519 identity key. Signed bytes: label || device id (u32 big-endian) || signing key (32) ||
/// serialised identity key (33).
/// </summary>
/// <param name="DeviceId">The account-local device number (1 for the first device).</param>
/// <param name="SigningKey">The device's Ed25519 signing identity.</param>
/// <param name="IdentityKey">The device's X25519 identity key.</param>
/// <param name="Signature">The account key's Ed25519 signature (64 bytes).</param>
public sealed record DeviceCertificate(uint DeviceId, Ed25519PublicKey SigningKey, X25519PublicKey IdentityKey, byte[] Signature)
{
    /// <summary>Whether <paramref name="accountKey"/> signed exactly this certificate.</summary>
    public bool Verify(Ed25519PublicKey accountKey)
    {
        ArgumentNullException.ThrowIfNull(accountKey);
        return accountKey.Verify(SignedBytes(DeviceId, SigningKey, IdentityKey), Signature);
    }

    internal static byte[] SignedBytes(uint deviceId, Ed25519PublicKey signingKey, X25519PublicKey identityKey)
    {
        var label = ChatLabels.DeviceCertificate;
        var bytes = new byte[label.Length + 4 + Ed25519PublicKey.Length + ChatPublicKey.Length];
        label.CopyTo(bytes);
        var rest = bytes.AsSpan(label.Length);
        BinaryPrimitives.WriteUInt32BigEndian(rest, deviceId);
        signingKey.Bytes.CopyTo(rest[4..]);
        rest[36] = ChatPublicKey.DjbType;
        identityKey.Bytes.CopyTo(rest[37..]);
        return bytes;
    }
}

/// <summary>The account's Ed25519 signing key, shared by its linked devices, that certifies each device.</summary>
public sealed class ChatAccountKey : IDisposable
{
    private readonly Ed25519PrivateKey _key;

    private ChatAccountKey(Ed25519PrivateKey key) => _key = key;

    /// <summary>The public key peers trust for this account.</summary>
    public Ed25519PublicKey PublicKey => _key.PublicKey;

    /// <summary>Generates a new account key.</summary>
    public static ChatAccountKey Generate() => new(Ed25519PrivateKey.Generate());

    /// <summary>Imports an account key from its 32-byte seed; the caller wipes its copy.</summary>
    public static ChatAccountKey ImportSeed(ReadOnlySpan<byte> seed) => new(Ed25519PrivateKey.ImportSeed(seed));

    /// <summary>Copies the 32-byte seed out, for wrapping under the user key. The caller wipes it.</summary>
    public void ExportSeed(Span<byte> destination) => _key.ExportSeed(destination);

    /// <summary>Certifies <paramref name="device"/>'s two public keys under <paramref name="deviceId"/>.</summary>
    public DeviceCertificate Certify(uint deviceId, ChatDeviceKeys device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var signature = _key.Sign(DeviceCertificate.SignedBytes(deviceId, device.SigningKey.PublicKey, device.IdentityKey.PublicKey));
        return new DeviceCertificate(deviceId, device.SigningKey.PublicKey, device.IdentityKey.PublicKey, signature);
    }

    /// <summary>Wipes the key.</summary>
    public void Dispose() => _key.Dispose();

    /// <summary>Names the type and public fingerprint only.</summary>
    public override string ToString() => $"ChatAccountKey(public {PublicKey.Fingerprint})";
}

/// <summary>One device's long-lived keys: an Ed25519 signing identity and an X25519 identity key.</summary>
public sealed class ChatDeviceKeys : IDisposable
{
    /// <summary>Wraps existing keys; the instance owns and disposes them.</summary>
    public ChatDeviceKeys(Ed25519PrivateKey signingKey, X25519PrivateKey identityKey)
    {
        SigningKey = signingKey ?? throw new ArgumentNullException(nameof(signingKey));
        IdentityKey = identityKey ?? throw new ArgumentNullException(nameof(identityKey));
    }

    /// <summary>Signs this device's signed prekeys.</summary>
    public Ed25519PrivateKey SigningKey { get; }

    /// <summary>The X3DH identity key; its public half is the identity the ratchet MAC covers.</summary>
    public X25519PrivateKey IdentityKey { get; }

    /// <summary>Generates both keys.</summary>
    public static ChatDeviceKeys Generate() => new(Ed25519PrivateKey.Generate(), X25519PrivateKey.Generate());

    /// <summary>Makes a signed prekey with <paramref name="id"/>: a fresh X25519 key signed by this device.</summary>
    public SignedPreKey CreateSignedPreKey(uint id)
    {
        var key = X25519PrivateKey.Generate();
        return new SignedPreKey(id, key, SigningKey.Sign(SignedPreKey.SignedBytes(key.PublicKey)));
    }

    /// <summary>Wipes both keys.</summary>
    public void Dispose()
    {
        SigningKey.Dispose();
        IdentityKey.Dispose();
    }

    /// <summary>Names the type and public fingerprints only.</summary>
    public override string ToString() => $"ChatDeviceKeys({SigningKey.PublicKey.Fingerprint}, {IdentityKey.PublicKey.Fingerprint})";
}

/// <summary>
/// A medium-term signed prekey held by its device. Signed bytes: label || serialised public key (33).
/// </summary>
public sealed class SignedPreKey : IDisposable
{
    internal SignedPreKey(uint id, X25519PrivateKey key, byte[] signature)
    {
        Id = id;
        Key = key;
        Signature = signature;
    }

    /// <summary>The prekey id the initiator names in its first message.</summary>
    public uint Id { get; }

    /// <summary>The private key.</summary>
    public X25519PrivateKey Key { get; }

    /// <summary>The device signing key's signature over the public key.</summary>
    public byte[] Signature { get; }

    /// <summary>Whether <paramref name="signature"/> is <paramref name="deviceSigningKey"/>'s signature of <paramref name="key"/>.</summary>
    public static bool Verify(Ed25519PublicKey deviceSigningKey, X25519PublicKey key, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(deviceSigningKey);
        return deviceSigningKey.Verify(SignedBytes(key), signature);
    }

    internal static byte[] SignedBytes(X25519PublicKey key)
    {
        var label = ChatLabels.SignedPreKey;
        var bytes = new byte[label.Length + ChatPublicKey.Length];
        label.CopyTo(bytes);
        bytes[label.Length] = ChatPublicKey.DjbType;
        key.Bytes.CopyTo(bytes.AsSpan(label.Length + 1));
        return bytes;
    }

    /// <summary>Wipes the private key.</summary>
    public void Dispose() => Key.Dispose();
}

/// <summary>A one-time prekey's public half as published in a bundle.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Key">Its X25519 public key.</param>
public sealed record OneTimePreKeyPublic(uint Id, X25519PublicKey Key);

/// <summary>
/// Everything an initiator fetches to start a session with one device (X3DH's prekey bundle).
/// </summary>
/// <param name="RegistrationId">The device's registration id (14 bits in Signal; carried, not interpreted).</param>
/// <param name="Certificate">The account's certificate for the device.</param>
/// <param name="SignedPreKeyId">The signed prekey's id.</param>
/// <param name="SignedPreKey">The signed prekey.</param>
/// <param name="SignedPreKeySignature">The device signing key's signature over it.</param>
/// <param name="OneTimePreKey">A one-time prekey, when the relay had one left.</param>
/// <param name="KemPreKey">
/// Reserved for the hybrid ML-KEM prekey (Signal's PQXDH, message version 4). ML-KEM is not available on
/// this platform's OpenSSL, so a bundle that carries one is refused rather than silently downgraded.
/// </param>
public sealed record PreKeyBundle(
    uint RegistrationId,
    DeviceCertificate Certificate,
    uint SignedPreKeyId,
    X25519PublicKey SignedPreKey,
    byte[] SignedPreKeySignature,
    OneTimePreKeyPublic? OneTimePreKey,
    byte[]? KemPreKey = null);
