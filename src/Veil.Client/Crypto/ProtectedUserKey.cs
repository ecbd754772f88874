// ProtectedUserKey: the user key wrapped by the client's encryption key (spec/keys.md, "Protected user key").
//
//   protected = "v1." || base64url(nonce(24) || XChaCha20-Poly1305(enc, nonce, userKey(32), aad) )
//   aad       = ASCII "veil/v1/user-key"
//
// The user key is 32 random bytes made once at registration; every data key of the account is wrapped
// by it, so a password change only re-wraps this one value under the new `enc` key. The server stores
// the string opaquely and cannot open it: `enc` never leaves the client. The nonce is random (192 bits
// is safe at random for any number of wraps). The AAD binds the purpose, so a ciphertext made under the
// same key for another purpose cannot be passed off as the user key. The version prefix lets the format
// evolve; an unknown version fails to open like a wrong key.
using Veil.Crypto.Memory;

namespace Veil.Client.Crypto;

/// <summary>Wraps and unwraps the account's 32-byte user key under the client encryption key (format v1).</summary>
public static class ProtectedUserKey
{
    /// <summary>The version prefix of the current format.</summary>
    public const string V1Prefix = "v1.";

    /// <summary>The length of the user key: 32 bytes.</summary>
    public const int UserKeyLength = 32;

    /// <summary>The associated data of a v1 wrap.</summary>
    public const string AssociatedData = "veil/v1/user-key";

    /// <summary>Makes a new random user key (in secure memory).</summary>
    public static SecretBytes NewUserKey() => SecretBytes.Random(UserKeyLength);

    /// <summary>Wraps <paramref name="userKey"/> under <paramref name="encryptionKey"/> with a fresh random nonce.</summary>
    /// <exception cref="ArgumentException">A key is not 32 bytes.</exception>
    public static string Wrap(SecretBytes encryptionKey, SecretBytes userKey)
    {
        ArgumentNullException.ThrowIfNull(userKey);
        using var plain = userKey.Acquire();
        return SealedKey.Wrap(encryptionKey, plain.Span, AssociatedData, nameof(userKey));
    }

    /// <summary>
    /// Opens a protected user key. Returns <see langword="null"/> when it does not authenticate under
    /// <paramref name="encryptionKey"/> (wrong password, tampered, unknown version or malformed).
    /// </summary>
    /// <exception cref="ArgumentException">The encryption key is not 32 bytes.</exception>
    public static SecretBytes? TryUnwrap(SecretBytes encryptionKey, string? protectedKey) =>
        SealedKey.TryUnwrap(encryptionKey, protectedKey, AssociatedData);
}
