// Password drops, v1 (spec/drop.md): the drop key wrapped under a password, so the link carries no key.
//
//   wrapping key = Argon2id(P = UTF-8(password), S = salt32, m = 65536 KiB, t = 3, p = 1, T = 32, v = 0x13)
//   aad          = 0x01 || ASCII("veil/drop/v1/wrap")
//   wrapped key  = 0x01 || nonce(12) || AES-256-GCM(wrapping key, nonce, drop key(32), aad)   (32 + 16-byte tag)
//                = 61 bytes
//
// The server stores the salt and the wrapped key and hands them to anyone holding the link, so the password is
// the only secret: a weak password falls to an offline guess at Argon2id's cost (about 0.1 s and 64 MiB per guess
// on one core). The drop id is NOT in the AAD: the wrapped key travels in the create request, before the server
// has assigned the id (spec/drop-api.md). Nothing is lost: a wrapped key moved to another drop unwraps to the
// original drop's key, which cannot open the other drop's streams (their context is that drop's id). No Unicode
// normalisation of the password, as in spec/keys.md (InvariantGlobalization cannot compute NFC identically).
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Drop;

/// <summary>Wraps and unwraps a drop key under a password (spec/drop.md, v1).</summary>
public static class DropPassword
{
    /// <summary>The format version, the first byte of a wrapped key.</summary>
    public const byte Version = 1;

    /// <summary>The Argon2id salt length: 32 bytes.</summary>
    public const int SaltLength = 32;

    /// <summary>The wrapped key length: version(1) + nonce(12) + key(32) + tag(16) = 61 bytes.</summary>
    public const int WrappedKeyLength = 1 + Aes256Gcm.NonceLength + DropKey.Length + Aes256Gcm.TagLength;

    /// <summary>The longest password accepted, in UTF-16 code units.</summary>
    public const int MaxPasswordLength = 1024;

    /// <summary>The AAD label (ASCII), after the version byte.</summary>
    public const string AadLabel = "veil/drop/v1/wrap";

    /// <summary>Argon2id cost: 64 MiB, 3 passes, 1 lane (so a browser with one thread derives the same key).</summary>
    public static Argon2Parameters Parameters { get; } = new(64 * 1024, 3, 1);

    /// <summary>A fresh random 32-byte salt.</summary>
    /// <returns>The salt; the server stores it with the drop.</returns>
    public static byte[] NewSalt() => CryptoRandom.Bytes(SaltLength);

    /// <summary>Wraps <paramref name="key"/> under <paramref name="password"/>, with a fresh random nonce. Takes about 0.1–0.3 s and 64 MiB.</summary>
    /// <param name="key">The drop key.</param>
    /// <param name="password">The password, used exactly as entered.</param>
    /// <param name="salt">32 bytes from <see cref="NewSalt"/>.</param>
    /// <returns>The 61-byte wrapped key.</returns>
    /// <exception cref="ArgumentException">Invalid salt length, or a password that is empty, too long or not valid UTF-16.</exception>
    public static byte[] Wrap(DropKey key, string password, ReadOnlySpan<byte> salt)
    {
        Span<byte> nonce = stackalloc byte[Aes256Gcm.NonceLength];
        CryptoRandom.Fill(nonce);
        return Wrap(key, password, salt, nonce);
    }

    /// <summary>Deterministic wrapping with a caller-chosen nonce: for known-answer tests only.</summary>
    internal static byte[] Wrap(DropKey key, string password, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] aad = Aad();
        Span<byte> wrappingKey = stackalloc byte[DropKey.Length];
        try
        {
            DeriveWrappingKey(password, salt, wrappingKey, throwOnEmpty: true);
            byte[] wrapped = new byte[WrappedKeyLength];
            wrapped[0] = Version;
            nonce.CopyTo(wrapped.AsSpan(1, Aes256Gcm.NonceLength));
            using var aes = new Aes256Gcm(wrappingKey);
            using SecretLease lease = key.Acquire();
            aes.Encrypt(nonce, lease.Span, wrapped.AsSpan(1 + Aes256Gcm.NonceLength), aad);
            return wrapped;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrappingKey);
        }
    }

    /// <summary>Unwraps a drop key. Takes about 0.1–0.3 s and 64 MiB.</summary>
    /// <param name="wrapped">The wrapped key from the server.</param>
    /// <param name="password">The password as entered.</param>
    /// <param name="salt">The salt from the server.</param>
    /// <returns>The drop key, or null when the password is wrong or the wrapped key or salt is not a v1 value.</returns>
    /// <exception cref="ArgumentException">A password that is too long or not valid UTF-16.</exception>
    public static DropKey? TryUnwrap(ReadOnlySpan<byte> wrapped, string password, ReadOnlySpan<byte> salt)
    {
        byte[] aad = Aad();
        if (wrapped.Length != WrappedKeyLength || wrapped[0] != Version || salt.Length != SaltLength)
        {
            // Values from the server: a bad length or version is an inauthentic input, not a programming error.
            return null;
        }

        Span<byte> wrappingKey = stackalloc byte[DropKey.Length];
        Span<byte> key = stackalloc byte[DropKey.Length];
        try
        {
            DeriveWrappingKey(password, salt, wrappingKey, throwOnEmpty: false);
            using var aes = new Aes256Gcm(wrappingKey);
            return aes.TryDecrypt(wrapped.Slice(1, Aes256Gcm.NonceLength), wrapped[(1 + Aes256Gcm.NonceLength)..], key, aad)
                ? DropKey.FromBytes(key)
                : null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrappingKey);
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The AES-GCM associated data: 0x01 || ASCII("veil/drop/v1/wrap").</summary>
    /// <returns>The AAD bytes.</returns>
    public static byte[] Aad()
    {
        byte[] aad = new byte[1 + AadLabel.Length];
        aad[0] = Version;
        Encoding.ASCII.GetBytes(AadLabel, aad.AsSpan(1));
        return aad;
    }

    /// <summary>Derives the AES-256-GCM wrapping key: Argon2id(UTF-8(password), salt; 64 MiB, t = 3, p = 1, 32 bytes).</summary>
    internal static void DeriveWrappingKey(string password, ReadOnlySpan<byte> salt, Span<byte> output, bool throwOnEmpty)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (salt.Length != SaltLength)
        {
            throw new ArgumentException($"A drop password salt is {SaltLength} bytes.", nameof(salt));
        }

        if (password.Length > MaxPasswordLength || (throwOnEmpty && password.Length == 0))
        {
            throw new ArgumentException($"A drop password is 1 to {MaxPasswordLength} characters.", nameof(password));
        }

        Argon2id.DeriveBytesFromPassword(password, salt, Parameters, output);
    }
}
