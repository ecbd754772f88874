// Key generation (spec/openpgp.md §Keys): a v4 Ed25519 primary (EdDSA legacy, algorithm 22) that certifies and
// signs, and a Curve25519 ECDH subkey (algorithm 18) that encrypts; SHA-512 self-signatures, preferences AES-256
// then AES-128, SHA-512 then SHA-256, the MDC feature, no expiry.
//
// The secret key comes back UNPROTECTED (S2K usage 0): BouncyCastle's own protection is a fixed SHA-1 S2K, too weak
// to be the only lock, so Veil wraps these bytes in its own key hierarchy (spec/keys.md) and never stores them bare.
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Veil.Crypto.OpenPgp;

/// <summary>A freshly generated key: the public half to publish and the unprotected secret half to wrap.</summary>
/// <param name="PublicKey">The public key (binary via <see cref="OpenPgpPublicKey.Encoded"/>, armored via <see cref="OpenPgpPublicKey.ToArmored"/>).</param>
/// <param name="SecretKey">The binary transferable secret key with S2K usage 0 (secret: wrap it, wipe it).</param>
public sealed record OpenPgpGeneratedKey(OpenPgpPublicKey PublicKey, byte[] SecretKey)
{
    /// <inheritdoc />
    public override string ToString() => $"OpenPgpGeneratedKey({PublicKey.Fingerprint})";
}

/// <summary>Generates OpenPGP keys in Veil's profile.</summary>
public static class OpenPgpKeys
{
    /// <summary>Generates a v4 Ed25519 primary key with a Curve25519 encryption subkey.</summary>
    /// <param name="userId">The user ID, e.g. <c>Alice &lt;alice@example.org&gt;</c>.</param>
    /// <param name="created">The creation time of both keys and their self-signatures.</param>
    /// <returns>The public key and the unprotected secret key bytes.</returns>
    /// <exception cref="ArgumentException">The user ID is empty.</exception>
    public static OpenPgpGeneratedKey Generate(string userId, DateTimeOffset created)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        var random = new SecureRandom();
        DateTime time = created.UtcDateTime;

        var edGenerator = new Ed25519KeyPairGenerator();
        edGenerator.Init(new Ed25519KeyGenerationParameters(random));
        var primary = new PgpKeyPair(PublicKeyAlgorithmTag.EdDsa_Legacy, edGenerator.GenerateKeyPair(), time);

        var xGenerator = new X25519KeyPairGenerator();
        xGenerator.Init(new X25519KeyGenerationParameters(random));
        var subkey = new PgpKeyPair(PublicKeyAlgorithmTag.ECDH, xGenerator.GenerateKeyPair(), time);

        var primaryPackets = new PgpSignatureSubpacketGenerator();
        primaryPackets.SetSignatureCreationTime(false, time);
        primaryPackets.SetKeyFlags(false, PgpKeyFlags.CanCertify | PgpKeyFlags.CanSign);
        primaryPackets.SetPreferredSymmetricAlgorithms(false, [(int)SymmetricKeyAlgorithmTag.Aes256, (int)SymmetricKeyAlgorithmTag.Aes128]);
        primaryPackets.SetPreferredHashAlgorithms(false, [(int)HashAlgorithmTag.Sha512, (int)HashAlgorithmTag.Sha256]);
        primaryPackets.SetPreferredCompressionAlgorithms(false, [(int)CompressionAlgorithmTag.Uncompressed]);
        primaryPackets.SetFeature(false, Org.BouncyCastle.Bcpg.Sig.Features.FEATURE_MODIFICATION_DETECTION);
        primaryPackets.SetIssuerFingerprint(false, primary.PublicKey);

        var subkeyPackets = new PgpSignatureSubpacketGenerator();
        subkeyPackets.SetSignatureCreationTime(false, time);
        subkeyPackets.SetKeyFlags(false, PgpKeyFlags.CanEncryptCommunications | PgpKeyFlags.CanEncryptStorage);
        subkeyPackets.SetIssuerFingerprint(false, primary.PublicKey);

        var generator = new PgpKeyRingGenerator(
            PgpSignature.PositiveCertification, primary, userId, SymmetricKeyAlgorithmTag.Null, HashAlgorithmTag.Sha512,
            rawPassPhrase: [], useSha1: false, primaryPackets.Generate(), null, random);
        generator.AddSubKey(subkey, subkeyPackets.Generate(), null, HashAlgorithmTag.Sha512);

        PgpPublicKeyRing publicRing = generator.GeneratePublicKeyRing();
        byte[] secret = generator.GenerateSecretKeyRing().GetEncoded();
        OpenPgpKeyParseResult parsed = OpenPgpPublicKey.Parse(publicRing.GetEncoded(), created);
        return parsed.Key is { } key
            ? new OpenPgpGeneratedKey(key, secret)
            : throw new InvalidOperationException($"A generated key failed validation: {parsed.Error?.Code}");
    }
}

/// <summary>
/// An unprotected OpenPGP secret key loaded for decrypting and signing. BouncyCastle keeps the key material in
/// managed memory that cannot be wiped: load it for one operation and drop it, keep only Veil-wrapped bytes at rest.
/// </summary>
public sealed class OpenPgpSecretKey
{
    private readonly PgpSecretKeyRing _ring;
    private readonly Dictionary<long, PgpPrivateKey> _privateKeys = [];

    private OpenPgpSecretKey(PgpSecretKeyRing ring, OpenPgpPublicKey publicKey)
    {
        _ring = ring;
        PublicKey = publicKey;
        foreach (PgpSecretKey secret in ring.GetSecretKeys())
        {
            if (!secret.IsPrivateKeyEmpty)
            {
                _privateKeys[secret.KeyId] = secret.ExtractPrivateKeyRaw([]);
            }
        }
    }

    /// <summary>The public half.</summary>
    public OpenPgpPublicKey PublicKey { get; }

    internal PgpPrivateKey SigningKey => _privateKeys[_ring.GetPublicKey().KeyId];

    internal PgpPrivateKey? FindPrivateKey(long keyId) => _privateKeys.GetValueOrDefault(keyId);

    internal IEnumerable<PgpPrivateKey> DecryptionKeys =>
        _ring.GetSecretKeys().Where(k => k.PublicKey.IsEncryptionKey && _privateKeys.ContainsKey(k.KeyId)).Select(k => _privateKeys[k.KeyId]);

    /// <summary>Loads an unprotected binary transferable secret key (as <see cref="OpenPgpKeys.Generate"/> returns it, or gpg exports it without a passphrase).</summary>
    /// <param name="secretKey">The secret key bytes (binary or armored).</param>
    /// <param name="now">The time against which the public half's expiry is checked.</param>
    /// <returns>The key, or null when the bytes are not an unprotected secret key Veil supports.</returns>
    public static OpenPgpSecretKey? Load(ReadOnlySpan<byte> secretKey, DateTimeOffset now)
    {
        PgpSecretKeyRing ring;
        try
        {
            using var input = new MemoryStream(secretKey.ToArray(), writable: false);
            using Stream decoder = PgpUtilities.GetDecoderStream(input);
            ring = new PgpSecretKeyRing(decoder);
        }
        catch (Exception e) when (e is IOException or PgpException or ArgumentException or InvalidCastException)
        {
            return null;
        }

        if (ring.GetSecretKeys().Any(k => !k.IsPrivateKeyEmpty && k.KeyEncryptionAlgorithm != SymmetricKeyAlgorithmTag.Null))
        {
            return null;
        }

        using var publicBytes = new MemoryStream();
        foreach (PgpPublicKey key in ring.GetPublicKeys())
        {
            key.Encode(publicBytes);
        }

        OpenPgpKeyParseResult parsed = OpenPgpPublicKey.Parse(publicBytes.ToArray(), now);
        if (parsed.Key is null)
        {
            return null;
        }

        try
        {
            return new OpenPgpSecretKey(ring, parsed.Key);
        }
        catch (PgpException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"OpenPgpSecretKey({PublicKey.Fingerprint})";
}
