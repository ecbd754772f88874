// Ed25519 signatures (RFC 8032 §5.1, pure Ed25519) through libsodium 1.0.18.
//
// Private keys are created from a 32-byte seed (RFC 8032's "private key") and held as libsodium's
// 64-byte secret key (seed || public key) in SecretBytes. Verification is libsodium's
// crypto_sign_verify_detached, whose 1.0.18 rules Veil relies on and tests against the C2SP CCTV
// edge-case vectors (see spec/keys.md, "Ed25519 verification rules"):
//   * S must be canonical (S < L)                         → malleable signatures rejected;
//   * A must be a canonical encoding and not of small order;
//   * R must not be of small order; R is compared by its canonical re-encoding, so a
//     non-canonical R never verifies;
//   * the equation is the cofactorless [S]B = R + [k]A.
// A signature of the wrong length is "not a valid signature" (false), not misuse.
//
// Reference: RFC 8032; https://doc.libsodium.org/public-key_cryptography/public-key_signatures
using System.Security.Cryptography;
using Veil.Crypto.Memory;
using Veil.Crypto.Native;

namespace Veil.Crypto.Primitives;

/// <summary>An Ed25519 signing key, held in secure native memory.</summary>
public sealed unsafe class Ed25519PrivateKey : IDisposable
{
    /// <summary>The seed length (RFC 8032's private key): 32 bytes.</summary>
    public const int SeedLength = 32;

    /// <summary>The signature length: 64 bytes.</summary>
    public const int SignatureLength = 64;

    private readonly SecretBytes _secretKey;

    private Ed25519PrivateKey(ReadOnlySpan<byte> seed)
    {
        Span<byte> secretKey = stackalloc byte[Libsodium.SignSecretKeyBytes];
        Span<byte> publicKey = stackalloc byte[Ed25519PublicKey.Length];
        try
        {
            fixed (byte* pk = publicKey)
            fixed (byte* sk = secretKey)
            fixed (byte* s = seed)
            {
                if (Libsodium.crypto_sign_seed_keypair(pk, sk, s) != 0)
                {
                    throw new CryptographicException("Ed25519 key generation failed.");
                }
            }

            _secretKey = SecretBytes.Copy(secretKey);
            PublicKey = new Ed25519PublicKey(publicKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secretKey);
        }
    }

    /// <summary>The matching public key.</summary>
    public Ed25519PublicKey PublicKey { get; }

    /// <summary>Generates a new random signing key.</summary>
    /// <exception cref="NativeLibraryMissingException">libsodium is not installed.</exception>
    public static Ed25519PrivateKey Generate()
    {
        Span<byte> seed = stackalloc byte[SeedLength];
        try
        {
            RandomNumberGenerator.Fill(seed);
            return ImportSeed(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Creates the signing key for a 32-byte seed; the caller wipes its copy.</summary>
    /// <exception cref="ArgumentException"><paramref name="seed"/> is not 32 bytes.</exception>
    /// <exception cref="NativeLibraryMissingException">libsodium is not installed.</exception>
    public static Ed25519PrivateKey ImportSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedLength)
        {
            throw new ArgumentException($"An Ed25519 seed is {SeedLength} bytes.", nameof(seed));
        }

        Libsodium.EnsureInitialized();
        return new Ed25519PrivateKey(seed);
    }

    /// <summary>Copies the 32-byte seed into <paramref name="destination"/>; the caller wipes it when done.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not 32 bytes.</exception>
    /// <exception cref="ObjectDisposedException">The key was disposed.</exception>
    public void ExportSeed(Span<byte> destination)
    {
        if (destination.Length != SeedLength)
        {
            throw new ArgumentException($"An Ed25519 seed is {SeedLength} bytes.", nameof(destination));
        }

        using var lease = _secretKey.Acquire();
        lease.Span[..SeedLength].CopyTo(destination);
    }

    /// <summary>Signs <paramref name="message"/> into <paramref name="signature"/> (64 bytes, deterministic).</summary>
    /// <exception cref="ArgumentException"><paramref name="signature"/> is not 64 bytes.</exception>
    /// <exception cref="ObjectDisposedException">The key was disposed.</exception>
    public void Sign(ReadOnlySpan<byte> message, Span<byte> signature)
    {
        if (signature.Length != SignatureLength)
        {
            throw new ArgumentException($"An Ed25519 signature is {SignatureLength} bytes.", nameof(signature));
        }

        using var lease = _secretKey.Acquire();
        int result;
        fixed (byte* sig = signature)
        fixed (byte* m = message)
        fixed (byte* sk = lease.Span)
        {
            result = Libsodium.crypto_sign_detached(sig, null, m, (ulong)message.Length, sk);
        }

        if (result != 0)
        {
            throw new CryptographicException("Ed25519 signing failed.");
        }
    }

    /// <summary>Signs <paramref name="message"/> and returns the 64-byte signature.</summary>
    /// <exception cref="ObjectDisposedException">The key was disposed.</exception>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signature = new byte[SignatureLength];
        Sign(message, signature);
        return signature;
    }

    /// <summary>Wipes and frees the key.</summary>
    public void Dispose() => _secretKey.Dispose();

    /// <summary>Shows the type and the public key's fingerprint, never the private key.</summary>
    public override string ToString() => $"Ed25519PrivateKey(public {PublicKey.Fingerprint})";
}

/// <summary>An Ed25519 public (verification) key: 32 bytes, not secret.</summary>
public sealed unsafe class Ed25519PublicKey : IEquatable<Ed25519PublicKey>
{
    /// <summary>The public key length: 32 bytes.</summary>
    public const int Length = 32;

    private readonly byte[] _bytes;

    internal Ed25519PublicKey(ReadOnlySpan<byte> bytes) => _bytes = bytes.ToArray();

    /// <summary>The key's bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>A short fingerprint for logs and diagnostics: the first 8 bytes of SHA-256, hex.</summary>
    public string Fingerprint => KeyFingerprint.Of(_bytes);

    /// <summary>
    /// Imports a public key from its 32 raw bytes. The encoding is checked when verifying, so a
    /// non-canonical or small-order key imports but verifies nothing.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="publicKey"/> is not 32 bytes.</exception>
    public static Ed25519PublicKey Import(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != Length)
        {
            throw new ArgumentException($"An Ed25519 public key is {Length} bytes.", nameof(publicKey));
        }

        return new Ed25519PublicKey(publicKey);
    }

    /// <summary>
    /// Whether <paramref name="signature"/> is a valid signature of <paramref name="message"/> by this
    /// key under libsodium 1.0.18's strict rules. A signature that is not 64 bytes returns <see langword="false"/>.
    /// </summary>
    /// <exception cref="NativeLibraryMissingException">libsodium is not installed.</exception>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != Ed25519PrivateKey.SignatureLength)
        {
            return false;
        }

        Libsodium.EnsureInitialized();
        fixed (byte* sig = signature)
        fixed (byte* m = message)
        fixed (byte* pk = _bytes)
        {
            return Libsodium.crypto_sign_verify_detached(sig, m, (ulong)message.Length, pk) == 0;
        }
    }

    /// <summary>Returns a copy of the key's bytes.</summary>
    public byte[] ToArray() => (byte[])_bytes.Clone();

    /// <summary>Whether both keys have the same bytes.</summary>
    public bool Equals(Ed25519PublicKey? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Ed25519PublicKey);

    /// <inheritdoc />
    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    /// <summary>Shows the type and fingerprint.</summary>
    public override string ToString() => $"Ed25519PublicKey({Fingerprint})";
}
