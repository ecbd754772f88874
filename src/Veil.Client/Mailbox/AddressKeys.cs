// OpenPGP for the mailbox client: make an address key pair (v4, Ed25519 primary for certification and signing,
// Curve25519 ECDH subkey for encryption — the profile gpg 2.2, Thunderbird and OpenPGP.js all read), read a key
// pair someone imports, and decrypt what the server sealed to an address key. The secret key ring is handled
// unprotected in memory only as long as a call needs it; at rest it exists only wrapped (AddressKeyChain).
using System.Text;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Veil.Client.Mailbox;

/// <summary>An address key pair: the armoured public key to publish and the binary secret key ring to wrap.</summary>
public sealed record AddressKeyPair(string PublicKey, byte[] SecretKeyRing);

public static class AddressKeys
{
    /// <summary>Makes a key pair whose user ID is <c>&lt;address&gt;</c> (WKD clients check it).</summary>
    public static AddressKeyPair Generate(string address)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        var random = new SecureRandom();
        var now = DateTime.UtcNow;
        var signing = new Ed25519KeyPairGenerator();
        signing.Init(new Ed25519KeyGenerationParameters(random));
        var encryption = new X25519KeyPairGenerator();
        encryption.Init(new X25519KeyGenerationParameters(random));
        var primary = new PgpKeyPair(PublicKeyAlgorithmTag.EdDsa_Legacy, signing.GenerateKeyPair(), now);
        var subkey = new PgpKeyPair(PublicKeyAlgorithmTag.ECDH, encryption.GenerateKeyPair(), now);

        var certification = new PgpSignatureSubpacketGenerator();
        certification.SetKeyFlags(false, PgpKeyFlags.CanCertify | PgpKeyFlags.CanSign);
        certification.SetPreferredSymmetricAlgorithms(false, [(int)SymmetricKeyAlgorithmTag.Aes256]);
        certification.SetPreferredHashAlgorithms(false, [(int)HashAlgorithmTag.Sha256, (int)HashAlgorithmTag.Sha512]);
        certification.SetPreferredCompressionAlgorithms(false, [(int)CompressionAlgorithmTag.Uncompressed]);
        certification.SetFeature(false, Features.FEATURE_MODIFICATION_DETECTION);
        var encryptionFlags = new PgpSignatureSubpacketGenerator();
        encryptionFlags.SetKeyFlags(false, PgpKeyFlags.CanEncryptCommunications | PgpKeyFlags.CanEncryptStorage);

        var generator = new PgpKeyRingGenerator(PgpSignature.PositiveCertification, primary, "<" + address + ">",
            SymmetricKeyAlgorithmTag.Null, HashAlgorithmTag.Sha256, [], false, certification.Generate(), null, random);
        generator.AddSubKey(subkey, encryptionFlags.Generate(), null, HashAlgorithmTag.Sha256);
        return new AddressKeyPair(Armor(generator.GeneratePublicKeyRing().GetEncoded()), generator.GenerateSecretKeyRing().GetEncoded());
    }

    /// <summary>The armoured public key of a secret key ring.</summary>
    public static string PublicKeyOf(byte[] secretKeyRing)
    {
        var ring = new PgpSecretKeyRing(secretKeyRing);
        using var output = new MemoryStream();
        foreach (var key in ring.GetPublicKeys())
        {
            key.Encode(output);
        }

        return Armor(output.ToArray());
    }

    /// <summary>Reads an imported secret key (armoured or binary, unprotected or protected by <paramref name="passphrase"/>) as an unprotected ring.</summary>
    /// <exception cref="MailboxKeyException">Not a secret key, a wrong passphrase, or a kind Veil does not support.</exception>
    public static byte[] Import(byte[] secretKey, string? passphrase)
    {
        PgpSecretKeyRing ring;
        try
        {
            using var input = PgpUtilities.GetDecoderStream(new MemoryStream(secretKey));
            ring = new PgpSecretKeyRing(input);
        }
        catch (Exception e) when (e is IOException or PgpException or ArgumentException or InvalidCastException)
        {
            throw new MailboxKeyException("the file is not an OpenPGP secret key", e);
        }

        var pass = (passphrase ?? "").ToCharArray();
        try
        {
            var keys = new List<PgpSecretKey>();
            foreach (PgpSecretKey key in ring.GetSecretKeys())
            {
                keys.Add(PgpSecretKey.CopyWithNewPassword(key, pass, [], SymmetricKeyAlgorithmTag.Null, new SecureRandom()));
            }

            return new PgpSecretKeyRing(keys).GetEncoded();
        }
        catch (PgpException e)
        {
            throw new MailboxKeyException("the secret key does not open (wrong passphrase?)", e);
        }
    }

    /// <summary>The armoured secret key ring (unprotected: the caller writes it where the user asked, mode 0600).</summary>
    public static string ExportArmored(byte[] secretKeyRing) => Armor(secretKeyRing);

    /// <summary>Decrypts a message sealed to the ring's encryption key into <paramref name="output"/>.</summary>
    /// <exception cref="MailboxKeyException">Not for this key, or the integrity check failed.</exception>
    public static async Task DecryptAsync(byte[] secretKeyRing, Stream sealedMessage, Stream output, CancellationToken cancellationToken)
    {
        var ring = new PgpSecretKeyRing(secretKeyRing);
        try
        {
            var factory = new PgpObjectFactory(PgpUtilities.GetDecoderStream(sealedMessage));
            var list = NextOf<PgpEncryptedDataList>(factory) ?? throw new MailboxKeyException("not an OpenPGP encrypted message");
            foreach (PgpEncryptedData data in list.GetEncryptedDataObjects())
            {
                if (data is not PgpPublicKeyEncryptedData encrypted || ring.GetSecretKey(encrypted.KeyId) is not { } secret)
                {
                    continue;
                }

                var privateKey = secret.ExtractPrivateKey([]);
                await using (var clear = encrypted.GetDataStream(privateKey))
                {
                    var inner = new PgpObjectFactory(clear);
                    var next = inner.NextPgpObject();
                    if (next is PgpCompressedData compressed)
                    {
                        next = new PgpObjectFactory(compressed.GetDataStream()).NextPgpObject();
                    }

                    if (next is not PgpLiteralData literal)
                    {
                        throw new MailboxKeyException("the message holds no literal data");
                    }

                    await literal.GetInputStream().CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                }

                if (!encrypted.IsIntegrityProtected() || !encrypted.Verify())
                {
                    throw new MailboxKeyException("the message failed its integrity check");
                }

                return;
            }
        }
        catch (PgpException e)
        {
            throw new MailboxKeyException("the message does not decrypt with this address key", e);
        }

        throw new MailboxKeyException("the message is not sealed to this address key");
    }

    private static T? NextOf<T>(PgpObjectFactory factory)
        where T : PgpObject
    {
        while (factory.NextPgpObject() is { } next)
        {
            if (next is T wanted)
            {
                return wanted;
            }
        }

        return null;
    }

    private static string Armor(byte[] binary)
    {
        using var buffer = new MemoryStream();
        using (var armored = new ArmoredOutputStream(buffer))
        {
            armored.Write(binary);
        }

        return Encoding.ASCII.GetString(buffer.ToArray());
    }
}

/// <summary>An address key or sealed message that cannot be used; the message says why, without key material.</summary>
public sealed class MailboxKeyException : Exception
{
    public MailboxKeyException(string message)
        : base(message)
    {
    }

    public MailboxKeyException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public MailboxKeyException()
    {
    }
}
