// SealedBox: anonymous public-key encryption (libsodium crypto_box_seal).
//
// The sender makes an ephemeral X25519 key pair, agrees a key with the recipient's public key and
// encrypts with XSalsa20-Poly1305; the output is ephemeral public key (32) || MAC (16) || ciphertext.
// Only the recipient can open it and nothing identifies the sender: Veil uses it where a server or
// a stranger drops a secret for a user (e.g. escrowed key halves). Opening a forged or truncated box
// returns false/null.
//
// Reference: https://doc.libsodium.org/public-key_cryptography/sealed_boxes
using System.Security.Cryptography;
using Veil.Crypto.Native;

namespace Veil.Crypto.Primitives;

/// <summary>Anonymous encryption to an X25519 public key.</summary>
public static unsafe class SealedBox
{
    /// <summary>The bytes a sealed box adds to its plaintext: 48.</summary>
    public const int Overhead = 48;

    /// <summary>Seals <paramref name="plaintext"/> for <paramref name="recipient"/> into <paramref name="sealedBox"/> (plaintext length + 48).</summary>
    /// <exception cref="ArgumentException"><paramref name="sealedBox"/> is not plaintext length + 48 bytes.</exception>
    /// <exception cref="NativeLibraryMissingException">libsodium is not installed.</exception>
    public static void Seal(X25519PublicKey recipient, ReadOnlySpan<byte> plaintext, Span<byte> sealedBox)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        if (sealedBox.Length != plaintext.Length + Overhead)
        {
            throw new ArgumentException($"The output must be {plaintext.Length + Overhead} bytes.", nameof(sealedBox));
        }

        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* c = sealedBox)
        fixed (byte* m = plaintext)
        fixed (byte* pk = recipient.Bytes)
        {
            result = Libsodium.crypto_box_seal(c, m, (ulong)plaintext.Length, pk);
        }

        if (result != 0)
        {
            throw new CryptographicException("crypto_box_seal failed.");
        }
    }

    /// <summary>Seals <paramref name="plaintext"/> for <paramref name="recipient"/> and returns the box.</summary>
    /// <exception cref="NativeLibraryMissingException">libsodium is not installed.</exception>
    public static byte[] Seal(X25519PublicKey recipient, ReadOnlySpan<byte> plaintext)
    {
        var box = new byte[plaintext.Length + Overhead];
        Seal(recipient, plaintext, box);
        return box;
    }

    /// <summary>
    /// Opens a sealed box with the recipient's key into <paramref name="plaintext"/> (box length − 48).
    /// Returns <see langword="false"/>, with <paramref name="plaintext"/> zeroed, if the box is forged,
    /// not for this key, or shorter than 48 bytes.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="plaintext"/> has the wrong length.</exception>
    /// <exception cref="ObjectDisposedException">The key was disposed.</exception>
    public static bool TryOpen(X25519PrivateKey recipient, ReadOnlySpan<byte> sealedBox, Span<byte> plaintext)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        if (sealedBox.Length < Overhead)
        {
            return false;
        }

        if (plaintext.Length != sealedBox.Length - Overhead)
        {
            throw new ArgumentException($"The output must be {sealedBox.Length - Overhead} bytes.", nameof(plaintext));
        }

        using var scalar = recipient.AcquireScalar();
        int result;
        fixed (byte* m = plaintext)
        fixed (byte* c = sealedBox)
        fixed (byte* pk = recipient.PublicKey.Bytes)
        fixed (byte* sk = scalar.Span)
        {
            result = Libsodium.crypto_box_seal_open(m, c, (ulong)sealedBox.Length, pk, sk);
        }

        if (result != 0)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }

        return true;
    }

    /// <summary>Opens a sealed box and returns the plaintext, or <see langword="null"/> if it does not open.</summary>
    /// <exception cref="ObjectDisposedException">The key was disposed.</exception>
    public static byte[]? Open(X25519PrivateKey recipient, ReadOnlySpan<byte> sealedBox)
    {
        if (sealedBox.Length < Overhead)
        {
            return null;
        }

        var plaintext = new byte[sealedBox.Length - Overhead];
        return TryOpen(recipient, sealedBox, plaintext) ? plaintext : null;
    }
}
