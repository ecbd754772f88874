// Blind index: a keyed, deterministic digest of a value, so the server can find a row by an
// encrypted column's value ("which account has this email?") without decrypting the table.
//
//   index = key version (2 bytes, big-endian) | HMAC-SHA256(subkey, purpose || 0x00 || UTF-8(value))
//
// The subkey comes from the keyring's "index" key. The purpose separates uses, so the index of an
// email as a login and as an alias recipient differ and cannot be joined. The key version is part
// of the stored value: after a rotation, lookups try every version (newest first) until the
// re-index job has rewritten the old rows. Callers normalise the value first (e.g. trim and
// lowercase an email); the index only ever sees the normalised form.
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Veil.Crypto.Keys;

/// <summary>Computes blind indexes with the keyring's <c>index</c> key.</summary>
public static class BlindIndex
{
    /// <summary>The name of the keyring key that computes blind indexes.</summary>
    public const string KeyName = "index";

    /// <summary>The length of an index value: 2-byte key version and 32-byte HMAC.</summary>
    public const int Length = 34;

    private const string SubkeyPurpose = "blind-index";

    /// <summary>The index of <paramref name="normalizedValue"/> under the current index key.</summary>
    /// <exception cref="ArgumentException">The purpose is empty or contains NUL.</exception>
    /// <exception cref="KeyNotFoundException">The keyring has no <c>index</c> key.</exception>
    public static byte[] Compute(Keyring keyring, string purpose, string normalizedValue)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        return Compute(keyring.Current(KeyName), purpose, normalizedValue);
    }

    /// <summary>The index of the value under every index key version, newest first: the candidates for a lookup.</summary>
    public static IReadOnlyList<byte[]> ComputeAll(Keyring keyring, string purpose, string normalizedValue)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        return [.. keyring.Versions(KeyName).Select(key => Compute(key, purpose, normalizedValue))];
    }

    /// <summary>The key version an index value was computed with, or null if it is malformed.</summary>
    public static ushort? KeyVersionOf(ReadOnlySpan<byte> index) =>
        index.Length == Length ? BinaryPrimitives.ReadUInt16BigEndian(index) : null;

    private static byte[] Compute(VersionedKey key, string purpose, string normalizedValue)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        ArgumentNullException.ThrowIfNull(normalizedValue);
        if (purpose.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A blind-index purpose must not contain NUL.", nameof(purpose));
        }

        var purposeBytes = Encoding.UTF8.GetBytes(purpose);
        var message = new byte[purposeBytes.Length + 1 + Encoding.UTF8.GetByteCount(normalizedValue)];
        purposeBytes.CopyTo(message, 0);
        Encoding.UTF8.GetBytes(normalizedValue, message.AsSpan(purposeBytes.Length + 1));

        var index = new byte[Length];
        BinaryPrimitives.WriteUInt16BigEndian(index, key.Version);
        Span<byte> subkey = stackalloc byte[32];
        try
        {
            key.DeriveSubkey(SubkeyPurpose, subkey);
            HMACSHA256.HashData(subkey, message, index.AsSpan(2));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(subkey);
            CryptographicOperations.ZeroMemory(message);
        }

        return index;
    }
}
