// X25519 key agreement (RFC 7748 §5, §6.1) through libsodium's crypto_scalarmult.
//
// Private keys are 32 random bytes held in SecretBytes (sodium_malloc memory); clamping happens
// inside the scalar multiplication, so any 32 bytes are a valid private key. Public keys are any
// 32 bytes (the top bit is ignored, as RFC 7748 requires). Agreement fails, returning false, when
// the shared secret is all zeros: the peer sent a low-order point and the "secret" is predictable
// (RFC 7748 §6.1; libsodium 1.0.18 reports this as a -1 result). The shared secret is its own type
// that can only be fed to a KDF or copied out deliberately; it is never a byte[].
//
// Reference: RFC 7748; https://doc.libsodium.org/advanced/scalar_multiplication
using System.Security.Cryptography;
using Veil.Crypto.Memory;
using Veil.Crypto.Native;

namespace Veil.Crypto.Primitives;

/// <summary>An X25519 private key, held in secure native memory.</summary>
public sealed unsafe class X25519PrivateKey : IDisposable
{
    /// <summary>The private key length: 32 bytes.</summary>
    public const int Length = 32;

    private readonly SecretBytes _scalar;

    // A copy of a key whose public key is known: no scalar multiplication.
    private X25519PrivateKey(SecretBytes scalar, X25519PublicKey publicKey)
    {
        _scalar = scalar;
        PublicKey = publicKey;
    }

    private X25519PrivateKey(SecretBytes scalar)
    {
        _scalar = scalar;
        using var lease = scalar.Acquire();
        Span<byte> publicKey = stackalloc byte[X25519PublicKey.Length];
        fixed (byte* q = publicKey)
        fixed (byte* n = lease.Span)
        {
            if (Libsodium.crypto_scalarmult_base(q, n) != 0)
            {
                throw new CryptographicException("X25519 public key computation failed.");
            }
        }

        PublicKey = new X25519PublicKey(publicKey);
    }

    /// <summary>The matching public key.</summary>
    public X25519PublicKey PublicKey { get; }

    /// <summary>Generates a new random private key.</summary>
    /// <exception cref="NativeLibraryMissingException">libsodium is not installed.</exception>
    public static X25519PrivateKey Generate()
    {
        Libsodium.EnsureInitialized();
        return new X25519PrivateKey(SecretBytes.Random(Length));
    }

    /// <summary>Imports a private key from its 32 raw bytes; the caller wipes its copy.</summary>
    /// <exception cref="ArgumentException"><paramref name="privateKey"/> is not 32 bytes.</exception>
    /// <exception cref="NativeLibraryMissingException">libsodium is not installed.</exception>
    public static X25519PrivateKey Import(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != Length)
        {
            throw new ArgumentException($"An X25519 private key is {Length} bytes.", nameof(privateKey));
        }

        Libsodium.EnsureInitialized();
        return new X25519PrivateKey(SecretBytes.Copy(privateKey));
    }

    /// <summary>
    /// Copies the raw private key into <paramref name="destination"/>, for wrapping it under another key.
    /// The caller must wipe the destination when done.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not 32 bytes.</exception>
    /// <exception cref="ObjectDisposedException">The key was disposed.</exception>
    public void ExportPrivateKey(Span<byte> destination)
    {
        if (destination.Length != Length)
        {
            throw new ArgumentException($"An X25519 private key is {Length} bytes.", nameof(destination));
        }

        using var lease = _scalar.Acquire();
        lease.Span.CopyTo(destination);
    }

    /// <summary>
    /// An independent copy (its own secure memory, disposed separately) with the same public key, taken as is
    /// rather than recomputed: the chat responder installs its signed prekey as its first ratchet key this way.
    /// </summary>
    internal X25519PrivateKey Duplicate()
    {
        using var lease = _scalar.Acquire();
        return new X25519PrivateKey(SecretBytes.Copy(lease.Span), PublicKey);
    }

    /// <summary>Borrows the scalar for a native call inside Veil.Crypto.</summary>
    internal SecretLease AcquireScalar() => _scalar.Acquire();

    /// <summary>Wipes and frees the key.</summary>
    public void Dispose() => _scalar.Dispose();

    /// <summary>Shows the type and the public key's fingerprint, never the private key.</summary>
    public override string ToString() => $"X25519PrivateKey(public {PublicKey.Fingerprint})";
}

/// <summary>An X25519 public key: 32 bytes, not secret.</summary>
public sealed class X25519PublicKey : IEquatable<X25519PublicKey>
{
    /// <summary>The public key length: 32 bytes.</summary>
    public const int Length = 32;

    private readonly byte[] _bytes;

    internal X25519PublicKey(ReadOnlySpan<byte> bytes) => _bytes = bytes.ToArray();

    /// <summary>The key's bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>A short fingerprint for logs and diagnostics: the first 8 bytes of SHA-256, hex.</summary>
    public string Fingerprint => KeyFingerprint.Of(_bytes);

    /// <summary>Imports a public key from its 32 raw bytes.</summary>
    /// <exception cref="ArgumentException"><paramref name="publicKey"/> is not 32 bytes.</exception>
    public static X25519PublicKey Import(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != Length)
        {
            throw new ArgumentException($"An X25519 public key is {Length} bytes.", nameof(publicKey));
        }

        return new X25519PublicKey(publicKey);
    }

    /// <summary>Returns a copy of the key's bytes.</summary>
    public byte[] ToArray() => (byte[])_bytes.Clone();

    /// <summary>Whether both keys have the same bytes.</summary>
    public bool Equals(X25519PublicKey? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as X25519PublicKey);

    /// <inheritdoc />
    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    /// <summary>Shows the type and fingerprint.</summary>
    public override string ToString() => $"X25519PublicKey({Fingerprint})";
}

/// <summary>
/// The result of a key agreement, held in secure memory. Feed it to a KDF; never use it as a key.
/// </summary>
public sealed class SharedSecret : IDisposable
{
    private readonly SecretBytes _secret;

    internal SharedSecret(SecretBytes secret) => _secret = secret;

    /// <summary>The secret's length in bytes.</summary>
    public int Length => _secret.Length;

    /// <summary>Derives key material from the secret with HKDF-SHA256 (RFC 5869).</summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> is empty or too long.</exception>
    /// <exception cref="ObjectDisposedException">The secret was disposed.</exception>
    public void DeriveHkdfSha256(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> info, Span<byte> output)
    {
        using var lease = _secret.Acquire();
        Hkdf.DeriveSha256(lease.Span, salt, info, output);
    }

    /// <summary>
    /// Copies the raw secret, for protocols that concatenate several agreements before a KDF (X3DH).
    /// The caller must wipe the destination when done.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not <see cref="Length"/> bytes.</exception>
    /// <exception cref="ObjectDisposedException">The secret was disposed.</exception>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length != Length)
        {
            throw new ArgumentException($"The destination must be {Length} bytes.", nameof(destination));
        }

        using var lease = _secret.Acquire();
        lease.Span.CopyTo(destination);
    }

    /// <summary>Wipes and frees the secret.</summary>
    public void Dispose() => _secret.Dispose();

    /// <summary>Names the type only.</summary>
    public override string ToString() => $"SharedSecret({Length} bytes)";
}

/// <summary>X25519 Diffie-Hellman key agreement.</summary>
public static unsafe class X25519
{
    /// <summary>
    /// Computes the shared secret between <paramref name="privateKey"/> and <paramref name="peer"/>.
    /// Returns <see langword="false"/> if the result is all zeros (a low-order peer key).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The private key was disposed.</exception>
    public static bool TryAgree(X25519PrivateKey privateKey, X25519PublicKey peer, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SharedSecret? sharedSecret)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        ArgumentNullException.ThrowIfNull(peer);
        sharedSecret = null;
        Span<byte> shared = stackalloc byte[32];
        try
        {
            using var scalar = privateKey.AcquireScalar();
            int result;
            fixed (byte* q = shared)
            fixed (byte* n = scalar.Span)
            fixed (byte* p = peer.Bytes)
            {
                result = Libsodium.crypto_scalarmult(q, n, p);
            }

            // libsodium returns -1 for an all-zero output; check the bytes as well, in constant time.
            if (result != 0 || CryptographicOperations.FixedTimeEquals(shared, stackalloc byte[32]))
            {
                return false;
            }

            sharedSecret = new SharedSecret(SecretBytes.Copy(shared));
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>
    /// <see cref="TryAgree(X25519PrivateKey, X25519PublicKey, out SharedSecret?)"/> into <paramref name="destination"/>
    /// (32 bytes, which the caller wipes), for a secret fed to a KDF at once. On a low-order peer key it returns false
    /// and leaves the destination zeroed.
    /// </summary>
    internal static bool TryAgreeInto(X25519PrivateKey privateKey, X25519PublicKey peer, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        ArgumentNullException.ThrowIfNull(peer);
        if (destination.Length != 32)
        {
            throw new ArgumentException("An X25519 shared secret is 32 bytes.", nameof(destination));
        }

        using var scalar = privateKey.AcquireScalar();
        int result;
        fixed (byte* q = destination)
        fixed (byte* n = scalar.Span)
        fixed (byte* p = peer.Bytes)
        {
            result = Libsodium.crypto_scalarmult(q, n, p);
        }

        if (result != 0 || CryptographicOperations.FixedTimeEquals(destination, stackalloc byte[32]))
        {
            CryptographicOperations.ZeroMemory(destination);
            return false;
        }

        return true;
    }
}
