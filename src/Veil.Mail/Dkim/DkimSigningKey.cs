// DKIM signing keys: rsa-sha256 (RSA 2048–4096, RFC 6376 / RFC 8301) and ed25519-sha256 (RFC 8463).
// RSA keys live in System.Security.Cryptography's RSA (OpenSSL); Ed25519 keys in Veil.Crypto's
// libsodium-backed secure memory. Export is for storing the key encrypted; ToString never shows it.
using System.Security.Cryptography;
using Veil.Crypto.Primitives;

namespace Veil.Mail.Dkim;

/// <summary>A DKIM signing algorithm.</summary>
public enum DkimAlgorithm
{
    /// <summary>rsa-sha256 (RFC 6376), RSASSA-PKCS1-v1_5 over SHA-256.</summary>
    RsaSha256,

    /// <summary>ed25519-sha256 (RFC 8463), Ed25519 over the SHA-256 of the header hash input.</summary>
    Ed25519Sha256,
}

/// <summary>A private key that signs DKIM signatures.</summary>
public abstract class DkimSigningKey : IDisposable
{
    private protected DkimSigningKey()
    {
    }

    /// <summary>The algorithm this key signs with.</summary>
    public abstract DkimAlgorithm Algorithm { get; }

    /// <summary>The a= tag value.</summary>
    public string AlgorithmTag => Algorithm == DkimAlgorithm.RsaSha256 ? "rsa-sha256" : "ed25519-sha256";

    /// <summary>The k= value of the key record: "rsa" or "ed25519".</summary>
    public string KeyType => Algorithm == DkimAlgorithm.RsaSha256 ? "rsa" : "ed25519";

    /// <summary>The public key as published in p=: SubjectPublicKeyInfo DER for RSA, the 32 raw bytes for Ed25519.</summary>
    public abstract byte[] ExportPublicKey();

    /// <summary>
    /// The private key for encrypted storage: PKCS#8 DER for RSA, the 32-byte seed for Ed25519.
    /// The caller wipes the array when done.
    /// </summary>
    public abstract byte[] ExportPrivateKey();

    /// <summary>Generates a new 2048-bit RSA key.</summary>
    public static DkimSigningKey GenerateRsa2048() => new DkimRsaSigningKey(RSA.Create(2048));

    /// <summary>Generates a new Ed25519 key.</summary>
    public static DkimSigningKey GenerateEd25519() => new DkimEd25519SigningKey(Ed25519PrivateKey.Generate());

    /// <summary>Imports an RSA key from PKCS#8 DER (as written by <see cref="ExportPrivateKey"/>).</summary>
    /// <exception cref="ArgumentException">The bytes are not a PKCS#8 RSA key of 2048–4096 bits.</exception>
    public static DkimSigningKey ImportRsaPkcs8(ReadOnlySpan<byte> pkcs8)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportPkcs8PrivateKey(pkcs8, out int read);
            if (read != pkcs8.Length)
            {
                throw new ArgumentException("Trailing bytes after the PKCS#8 key.", nameof(pkcs8));
            }
        }
        catch (CryptographicException e)
        {
            rsa.Dispose();
            throw new ArgumentException("Not a PKCS#8 RSA private key.", nameof(pkcs8), e);
        }

        return new DkimRsaSigningKey(rsa);
    }

    /// <summary>Imports an RSA key from PEM ("RSA PRIVATE KEY" or "PRIVATE KEY").</summary>
    /// <exception cref="ArgumentException">The text holds no RSA key of 2048–4096 bits.</exception>
    public static DkimSigningKey ImportRsaPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw new ArgumentException("Not a PEM RSA private key.", nameof(pem), e);
        }

        return new DkimRsaSigningKey(rsa);
    }

    /// <summary>Imports an Ed25519 key from its 32-byte seed; the caller wipes its copy.</summary>
    /// <exception cref="ArgumentException"><paramref name="seed"/> is not 32 bytes.</exception>
    public static DkimSigningKey ImportEd25519Seed(ReadOnlySpan<byte> seed) => new DkimEd25519SigningKey(Ed25519PrivateKey.ImportSeed(seed));

    /// <summary>Signs the header hash input (RFC 6376 §3.7) and returns the b= signature bytes.</summary>
    internal abstract byte[] SignHeaderHashInput(ReadOnlySpan<byte> headerHashInput);

    /// <summary>Frees the key.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the key material.</summary>
    /// <param name="disposing">Whether called from <see cref="Dispose()"/>.</param>
    protected abstract void Dispose(bool disposing);

    /// <summary>Names the algorithm, never the key.</summary>
    public override string ToString() => $"DkimSigningKey({AlgorithmTag})";
}

/// <summary>An rsa-sha256 signing key.</summary>
internal sealed class DkimRsaSigningKey : DkimSigningKey
{
    private readonly RSA _rsa;

    public DkimRsaSigningKey(RSA rsa)
    {
        if (rsa.KeySize is < 2048 or > 4096)
        {
            int size = rsa.KeySize;
            rsa.Dispose();
            throw new ArgumentException($"A DKIM RSA signing key must be 2048 to 4096 bits, not {size}.", nameof(rsa));
        }

        _rsa = rsa;
    }

    public override DkimAlgorithm Algorithm => DkimAlgorithm.RsaSha256;

    public override byte[] ExportPublicKey() => _rsa.ExportSubjectPublicKeyInfo();

    public override byte[] ExportPrivateKey() => _rsa.ExportPkcs8PrivateKey();

    internal override byte[] SignHeaderHashInput(ReadOnlySpan<byte> headerHashInput)
        => DkimRsa.Sign(_rsa, headerHashInput, HashAlgorithmName.SHA256);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _rsa.Dispose();
        }
    }
}

/// <summary>An ed25519-sha256 signing key (RFC 8463).</summary>
internal sealed class DkimEd25519SigningKey(Ed25519PrivateKey key) : DkimSigningKey
{
    public override DkimAlgorithm Algorithm => DkimAlgorithm.Ed25519Sha256;

    public override byte[] ExportPublicKey() => key.PublicKey.ToArray();

    public override byte[] ExportPrivateKey()
    {
        var seed = new byte[Ed25519PrivateKey.SeedLength];
        key.ExportSeed(seed);
        return seed;
    }

    // RFC 8463 §3: the Ed25519 message is the SHA-256 of the header hash input ("PureEdDSA" on the digest).
    internal override byte[] SignHeaderHashInput(ReadOnlySpan<byte> headerHashInput)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(headerHashInput, digest);
        return key.Sign(digest);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            key.Dispose();
        }
    }
}

/// <summary>The RSASSA-PKCS1-v1_5 calls DKIM uses; the Wycheproof tests exercise exactly these.</summary>
internal static class DkimRsa
{
    /// <summary>Signs <paramref name="data"/> (hashed with <paramref name="hash"/>) with PKCS#1 v1.5.</summary>
    public static byte[] Sign(RSA rsa, ReadOnlySpan<byte> data, HashAlgorithmName hash)
        => rsa.SignData(data, hash, RSASignaturePadding.Pkcs1);

    /// <summary>Verifies a PKCS#1 v1.5 signature of <paramref name="data"/> with SHA-256; never throws on bad signatures.</summary>
    public static bool VerifySha256(RSA rsa, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        // A signature longer or shorter than the modulus cannot be valid.
        if (signature.Length != (rsa.KeySize + 7) / 8)
        {
            return false;
        }

        try
        {
            return rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>Imports a DKIM p= RSA key: SubjectPublicKeyInfo DER, or a bare PKCS#1 RSAPublicKey as some publishers use.</summary>
    public static RSA? TryImportPublicKey(ReadOnlySpan<byte> der)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportSubjectPublicKeyInfo(der, out int read);
            if (read == der.Length)
            {
                return rsa;
            }
        }
        catch (CryptographicException)
        {
            // Not SubjectPublicKeyInfo: try PKCS#1 below.
        }

        try
        {
            rsa.ImportRSAPublicKey(der, out int read);
            if (read == der.Length)
            {
                return rsa;
            }
        }
        catch (CryptographicException)
        {
            // Neither encoding: the caller reports a malformed key.
        }

        rsa.Dispose();
        return null;
    }
}
