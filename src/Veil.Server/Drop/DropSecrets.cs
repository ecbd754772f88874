// Tokens, peppered IP hashes and the report key. Every token is 32 random bytes shown once; the
// database keeps SHA-256 digests and compares them in constant time. IPs are never stored: only
// HMAC-SHA256 under a subkey of the `index` key (the server's pepper), so a database thief cannot
// enumerate the IPv4 space against them without the keyring.
using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Keys;
using Veil.Crypto.Primitives;

namespace Veil.Server.Drop;

internal sealed class DropSecrets(Keyring keyring)
{
    private const string ReportKeyName = "report";
    private const string PepperKeyName = "index";

    /// <summary>A new drop id: 16 random bytes, base64url (22 characters).</summary>
    public static string NewDropId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    /// <summary>A new bearer token (owner, ticket, tracking): 32 random bytes, base64url (43 characters).</summary>
    public static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>SHA-256 of a token's text; what the database stores and looks up.</summary>
    public static byte[] HashToken(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public static bool TokenMatches(string? token, byte[] storedHash)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 100)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), hash);
        return CryptographicOperations.FixedTimeEquals(hash, storedHash);
    }

    public static bool IsWellFormedId(string? id) =>
        id is { Length: DropRecord.IdLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>The quota/strike key of an anonymous owner: <c>ip:</c> + the peppered hash of the IP (hex, 128 bits).</summary>
    public string AnonymousOwnerKey(IPAddress? ip) => "ip:" + Convert.ToHexStringLower(HashIp("drop/owner-ip", ip).AsSpan(0, 16));

    /// <summary>The reporter's IP for deduplication: peppered hash, 32 bytes.</summary>
    public byte[] ReporterIpHash(IPAddress? ip) => HashIp("drop/reporter-ip", ip);

    /// <summary>
    /// Seals a drop key supplied by a reporter to the X25519 public key derived from the current `report`
    /// key. The sealed plaintext is report id || drop key, so a sealed key copied to another report row
    /// does not open as that report's. Output: key version (2 bytes, big-endian) || sealed box.
    /// </summary>
    public byte[] SealReportKey(Guid reportId, ReadOnlySpan<byte> dropKey)
    {
        var current = keyring.Current(ReportKeyName);
        using var privateKey = ReportPrivateKey(current);
        Span<byte> plaintext = stackalloc byte[16 + DropLimits.DropKeyBytes];
        try
        {
            reportId.TryWriteBytes(plaintext[..16], bigEndian: true, out _);
            dropKey.CopyTo(plaintext[16..]);
            var sealedBox = SealedBox.Seal(privateKey.PublicKey, plaintext);
            var output = new byte[2 + sealedBox.Length];
            output[0] = (byte)(current.Version >> 8);
            output[1] = (byte)current.Version;
            sealedBox.CopyTo(output, 2);
            return output;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Opens a sealed report key (operators only); null if it does not open or belongs to another report.</summary>
    public byte[]? OpenReportKey(Guid reportId, byte[] sealedKey)
    {
        ArgumentNullException.ThrowIfNull(sealedKey);
        if (sealedKey.Length < 2 + SealedBox.Overhead || !keyring.TryGet(ReportKeyName, (ushort)((sealedKey[0] << 8) | sealedKey[1]), out var version))
        {
            return null;
        }

        using var privateKey = ReportPrivateKey(version);
        var opened = SealedBox.Open(privateKey, sealedKey.AsSpan(2));
        if (opened is null)
        {
            return null;
        }

        try
        {
            Span<byte> id = stackalloc byte[16];
            reportId.TryWriteBytes(id, bigEndian: true, out _);
            return opened.Length == 16 + DropLimits.DropKeyBytes && opened.AsSpan(0, 16).SequenceEqual(id) ? opened[16..] : null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(opened);
        }
    }

    private static X25519PrivateKey ReportPrivateKey(VersionedKey key)
    {
        Span<byte> seed = stackalloc byte[32];
        try
        {
            key.DeriveSubkey("drop/report-x25519", seed);
            return X25519PrivateKey.Import(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    private byte[] HashIp(string purpose, IPAddress? ip)
    {
        // IPv4-mapped IPv6 and plain IPv4 are the same client.
        var bytes = (ip is { IsIPv4MappedToIPv6: true } ? ip.MapToIPv4() : ip)?.GetAddressBytes() ?? [];
        Span<byte> pepper = stackalloc byte[32];
        try
        {
            keyring.Current(PepperKeyName).DeriveSubkey(purpose, pepper);
            return HMACSHA256.HashData(pepper, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pepper);
        }
    }
}
