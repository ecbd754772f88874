// XChaCha20-Poly1305 and ChaCha20-Poly1305 (IETF) authenticated encryption through libsodium.
//
// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) has a 192-bit nonce, so random nonces are safe for
// practically unlimited messages under one key; it is Veil's default for small client-side
// envelopes. ChaCha20-Poly1305 IETF (RFC 8439) with a 96-bit nonce is bound for interoperability.
// The key lives in SecretBytes (sodium_malloc memory) for the lifetime of the instance.
// Ciphertext is ciphertext || 16-byte tag; a failed authentication returns false, output zeroed.
//
// Reference: https://doc.libsodium.org/secret-key_cryptography/aead
using System.Security.Cryptography;
using Veil.Crypto.Memory;
using Veil.Crypto.Native;

namespace Veil.Crypto.Primitives;

/// <summary>Common implementation of the libsodium ChaCha20-Poly1305 AEADs.</summary>
public abstract unsafe class SodiumAead : IDisposable
{
    /// <summary>The key length: 32 bytes.</summary>
    public const int KeyLength = 32;

    /// <summary>The tag length, appended to the ciphertext: 16 bytes.</summary>
    public const int TagLength = 16;

    private readonly SecretBytes _key;

    private protected SodiumAead(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyLength)
        {
            throw new ArgumentException($"The key must be {KeyLength} bytes.", nameof(key));
        }

        Libsodium.EnsureInitialized();
        _key = SecretBytes.Copy(key);
    }

    /// <summary>The nonce length of this algorithm.</summary>
    public abstract int NonceLength { get; }

    private protected abstract int NativeEncrypt(byte* c, ulong* clen, byte* m, ulong mlen, byte* ad, ulong adlen, byte* npub, byte* k);

    private protected abstract int NativeDecrypt(byte* m, ulong* mlen, byte* c, ulong clen, byte* ad, ulong adlen, byte* npub, byte* k);

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (plaintext length + 16: ciphertext || tag).</summary>
    /// <exception cref="ArgumentException">The nonce has the wrong length or the output is not plaintext length + 16.</exception>
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, ReadOnlySpan<byte> associatedData = default)
    {
        AeadArguments.Check(nonce, NonceLength, ciphertext.Length, plaintext.Length + TagLength, nameof(ciphertext));
        using var key = _key.Acquire();
        ulong written;
        int result;
        fixed (byte* c = ciphertext)
        fixed (byte* m = plaintext)
        fixed (byte* ad = associatedData)
        fixed (byte* n = nonce)
        fixed (byte* k = key.Span)
        {
            result = NativeEncrypt(c, &written, m, (ulong)plaintext.Length, ad, (ulong)associatedData.Length, n, k);
        }

        if (result != 0 || written != (ulong)ciphertext.Length)
        {
            throw new CryptographicException("libsodium AEAD encryption failed.");
        }
    }

    /// <summary>Encrypts and returns ciphertext || tag.</summary>
    /// <exception cref="ArgumentException">The nonce has the wrong length.</exception>
    public byte[] Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData = default)
    {
        var output = new byte[plaintext.Length + TagLength];
        Encrypt(nonce, plaintext, output, associatedData);
        return output;
    }

    /// <summary>
    /// Authenticates and decrypts ciphertext || tag into <paramref name="plaintext"/> (ciphertext length − 16).
    /// Returns <see langword="false"/>, with <paramref name="plaintext"/> zeroed, if authentication fails
    /// or the input is shorter than a tag.
    /// </summary>
    /// <exception cref="ArgumentException">The nonce has the wrong length or the output has the wrong length.</exception>
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext, ReadOnlySpan<byte> associatedData = default)
    {
        if (ciphertext.Length < TagLength)
        {
            AeadArguments.Check(nonce, NonceLength, 0, 0, nameof(plaintext));
            return false;
        }

        AeadArguments.Check(nonce, NonceLength, plaintext.Length, ciphertext.Length - TagLength, nameof(plaintext));
        using var key = _key.Acquire();
        ulong written;
        int result;
        fixed (byte* m = plaintext)
        fixed (byte* c = ciphertext)
        fixed (byte* ad = associatedData)
        fixed (byte* n = nonce)
        fixed (byte* k = key.Span)
        {
            result = NativeDecrypt(m, &written, c, (ulong)ciphertext.Length, ad, (ulong)associatedData.Length, n, k);
        }

        if (result != 0)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }

        return true;
    }

    /// <summary>Decrypts and returns the plaintext, or <see langword="null"/> if authentication fails.</summary>
    /// <exception cref="ArgumentException">The nonce has the wrong length.</exception>
    public byte[]? Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData = default)
    {
        if (ciphertext.Length < TagLength)
        {
            AeadArguments.Check(nonce, NonceLength, 0, 0, nameof(ciphertext));
            return null;
        }

        var plaintext = new byte[ciphertext.Length - TagLength];
        return TryDecrypt(nonce, ciphertext, plaintext, associatedData) ? plaintext : null;
    }

    /// <summary>Wipes and frees the key.</summary>
    public void Dispose()
    {
        _key.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Names the algorithm only.</summary>
    public override string ToString() => GetType().Name;
}

/// <summary>XChaCha20-Poly1305 (IETF construction) with a 24-byte nonce, safe to choose at random.</summary>
public sealed unsafe class XChaCha20Poly1305 : SodiumAead
{
    /// <summary>The nonce length: 24 bytes.</summary>
    public const int NonceSize = 24;

    /// <summary>Creates an instance holding a copy of <paramref name="key"/> in secure memory.</summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not 32 bytes.</exception>
    /// <exception cref="NativeLibraryMissingException">libsodium is not installed.</exception>
    public XChaCha20Poly1305(ReadOnlySpan<byte> key)
        : base(key)
    {
    }

    /// <inheritdoc />
    public override int NonceLength => NonceSize;

    private protected override int NativeEncrypt(byte* c, ulong* clen, byte* m, ulong mlen, byte* ad, ulong adlen, byte* npub, byte* k) =>
        Libsodium.crypto_aead_xchacha20poly1305_ietf_encrypt(c, clen, m, mlen, ad, adlen, null, npub, k);

    private protected override int NativeDecrypt(byte* m, ulong* mlen, byte* c, ulong clen, byte* ad, ulong adlen, byte* npub, byte* k) =>
        Libsodium.crypto_aead_xchacha20poly1305_ietf_decrypt(m, mlen, null, c, clen, ad, adlen, npub, k);
}

/// <summary>ChaCha20-Poly1305 as in RFC 8439, with a 12-byte nonce (never random for many messages).</summary>
public sealed unsafe class ChaCha20Poly1305Ietf : SodiumAead
{
    /// <summary>The nonce length: 12 bytes.</summary>
    public const int NonceSize = 12;

    /// <summary>Creates an instance holding a copy of <paramref name="key"/> in secure memory.</summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not 32 bytes.</exception>
    /// <exception cref="NativeLibraryMissingException">libsodium is not installed.</exception>
    public ChaCha20Poly1305Ietf(ReadOnlySpan<byte> key)
        : base(key)
    {
    }

    /// <inheritdoc />
    public override int NonceLength => NonceSize;

    private protected override int NativeEncrypt(byte* c, ulong* clen, byte* m, ulong mlen, byte* ad, ulong adlen, byte* npub, byte* k) =>
        Libsodium.crypto_aead_chacha20poly1305_ietf_encrypt(c, clen, m, mlen, ad, adlen, null, npub, k);

    private protected override int NativeDecrypt(byte* m, ulong* mlen, byte* c, ulong clen, byte* ad, ulong adlen, byte* npub, byte* k) =>
        Libsodium.crypto_aead_chacha20poly1305_ietf_decrypt(m, mlen, null, c, clen, ad, adlen, npub, k);
}
