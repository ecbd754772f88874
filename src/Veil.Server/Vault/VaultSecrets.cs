// The Vault's server-side secrets, all derived from the `escrow` server key (environment only,
// never in the database; docs/THREAT-MODEL.md, Vault):
//   seal   = escrow.DeriveSubkey("vault/escrow-seal")  AES-256-GCM key sealing delivery keys
//   link   = escrow.DeriveSubkey("vault/link")         HMAC-SHA256 key of claim links
//   check  = escrow.DeriveSubkey("vault/checkin")      HMAC-SHA256 key of one-click check-in links
// (DeriveSubkey is HKDF-SHA256, info "veil/v1/escrow/<purpose>".) Claim links and check-in links are
// verified by recomputing the HMAC and comparing in constant time; every presented token takes the
// same path (decode, HMAC, compare, digest lookup), so a forged token costs what a genuine one does.
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Keys;

namespace Veil.Server.Vault;

/// <summary>A verified claim link: its id (recipient or rehearsal) and its SHA-256 digest.</summary>
internal readonly record struct ClaimLinkProof(bool Valid, string SubjectId, byte[] Digest);

internal sealed class VaultSecrets(Keyring keyring)
{
    public const int SealedDeliveryKeyLength = 2 + 12 + VaultFormat.DeliveryKeyBytes + 16;
    public const int LinkTokenBytes = 16 + 16 + 32;
    public const int CheckInTokenBytes = 16 + 8 + 32;
    private const string KeyName = "escrow";
    private static readonly byte[] LinkLabel = Encoding.ASCII.GetBytes("veil/v1/vault/link|");
    private static readonly byte[] CheckInLabel = Encoding.ASCII.GetBytes("veil/v1/vault/checkin|");

    /// <summary>Seals a delivery key: version (2 bytes BE) || nonce12 || AES-256-GCM(key, aad = "veil/v1/vault/escrow-seal|" + vaultId + "|" + recipientId).</summary>
    public byte[] SealDeliveryKey(string vaultId, string recipientId, ReadOnlySpan<byte> deliveryKey)
    {
        if (deliveryKey.Length != VaultFormat.DeliveryKeyBytes)
        {
            throw new ArgumentException("A delivery key is 32 bytes.", nameof(deliveryKey));
        }

        var current = keyring.Current(KeyName);
        var output = new byte[SealedDeliveryKeyLength];
        BinaryPrimitives.WriteUInt16BigEndian(output, current.Version);
        var nonce = output.AsSpan(2, 12);
        RandomNumberGenerator.Fill(nonce);
        Span<byte> key = stackalloc byte[32];
        try
        {
            current.DeriveSubkey("vault/escrow-seal", key);
            using var aes = new AesGcm(key, 16);
            aes.Encrypt(nonce, deliveryKey, output.AsSpan(14, VaultFormat.DeliveryKeyBytes), output.AsSpan(14 + VaultFormat.DeliveryKeyBytes), SealAad(vaultId, recipientId));
            return output;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Opens a sealed delivery key; null if it does not open (wrong key, other recipient, damaged).</summary>
    public byte[]? UnsealDeliveryKey(string vaultId, string recipientId, byte[] sealedKey)
    {
        ArgumentNullException.ThrowIfNull(sealedKey);
        if (sealedKey.Length != SealedDeliveryKeyLength || !keyring.TryGet(KeyName, BinaryPrimitives.ReadUInt16BigEndian(sealedKey), out var version))
        {
            return null;
        }

        Span<byte> key = stackalloc byte[32];
        var plain = new byte[VaultFormat.DeliveryKeyBytes];
        try
        {
            version.DeriveSubkey("vault/escrow-seal", key);
            using var aes = new AesGcm(key, 16);
            aes.Decrypt(sealedKey.AsSpan(2, 12), sealedKey.AsSpan(14, VaultFormat.DeliveryKeyBytes), sealedKey.AsSpan(14 + VaultFormat.DeliveryKeyBytes), plain, SealAad(vaultId, recipientId));
            return plain;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>A new claim link token for <paramref name="subjectId"/>: base64url(id16 || nonce16 || HMAC), and its digest.</summary>
    public (string Token, byte[] Digest) NewLinkToken(string subjectId)
    {
        var bytes = new byte[LinkTokenBytes];
        VaultFormat.IdBytes(subjectId).CopyTo(bytes, 0);
        RandomNumberGenerator.Fill(bytes.AsSpan(16, 16));
        Mac("vault/link", LinkLabel, bytes.AsSpan(0, 32), bytes.AsSpan(32));
        return (Base64Url.EncodeToString(bytes), SHA256.HashData(bytes));
    }

    /// <summary>
    /// Verifies a presented claim token. Malformed input is replaced by zero bytes and goes through the
    /// same HMAC and digest, so the caller's lookup and the time spent do not depend on why it fails.
    /// </summary>
    public ClaimLinkProof VerifyLinkToken(string? token)
    {
        var bytes = new byte[LinkTokenBytes];
        var wellFormed = token is { Length: 86 } && VaultFormat.IsCanonicalBase64Url(token, out var length) && length == LinkTokenBytes
            && Base64Url.DecodeFromChars(token, bytes) == LinkTokenBytes;
        if (!wellFormed)
        {
            Array.Clear(bytes);
        }

        Span<byte> expected = stackalloc byte[32];
        Mac("vault/link", LinkLabel, bytes.AsSpan(0, 32), expected);
        var valid = CryptographicOperations.FixedTimeEquals(expected, bytes.AsSpan(32)) & wellFormed;
        return new ClaimLinkProof(valid, VaultFormat.IdFromBytes(bytes.AsSpan(0, 16)), SHA256.HashData(bytes));
    }

    public string NewCheckInToken(string vaultId, long generation)
    {
        var bytes = new byte[CheckInTokenBytes];
        VaultFormat.IdBytes(vaultId).CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(16), generation);
        Mac("vault/checkin", CheckInLabel, bytes.AsSpan(0, 24), bytes.AsSpan(24));
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The vault id and generation of a genuine check-in token, or null.</summary>
    public (string VaultId, long Generation)? VerifyCheckInToken(string? token)
    {
        var bytes = new byte[CheckInTokenBytes];
        var wellFormed = token is { Length: 75 } && VaultFormat.IsCanonicalBase64Url(token, out var length) && length == CheckInTokenBytes
            && Base64Url.DecodeFromChars(token, bytes) == CheckInTokenBytes;
        if (!wellFormed)
        {
            Array.Clear(bytes);
        }

        Span<byte> expected = stackalloc byte[32];
        Mac("vault/checkin", CheckInLabel, bytes.AsSpan(0, 24), expected);
        var valid = CryptographicOperations.FixedTimeEquals(expected, bytes.AsSpan(24)) & wellFormed;
        return valid ? (VaultFormat.IdFromBytes(bytes.AsSpan(0, 16)), BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(16))) : null;
    }

    /// <summary>A 6-digit code from the CSPRNG.</summary>
    public static string NewCode() => RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>SHA-256 of a code's or token's text.</summary>
    public static byte[] Digest(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));

    /// <summary>Compares a presented code with the stored digest in constant time.</summary>
    public static bool CodeMatches(string? code, byte[] digest)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(code is { Length: <= 16 } ? code : string.Empty), hash);
        return CryptographicOperations.FixedTimeEquals(hash, digest);
    }

    /// <summary>A random bearer token (download tokens): 32 bytes, base64url.</summary>
    public static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    private static byte[] SealAad(string vaultId, string recipientId) =>
        Encoding.ASCII.GetBytes("veil/v1/vault/escrow-seal|" + vaultId + "|" + recipientId);

    private void Mac(string purpose, byte[] label, ReadOnlySpan<byte> data, Span<byte> mac)
    {
        Span<byte> key = stackalloc byte[32];
        var message = new byte[label.Length + data.Length];
        label.CopyTo(message, 0);
        data.CopyTo(message.AsSpan(label.Length));
        try
        {
            keyring.Current(KeyName).DeriveSubkey(purpose, key);
            HMACSHA256.HashData(key, message, mac);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
