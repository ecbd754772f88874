// OpenPGP for the mailbox client, on Veil.Crypto.OpenPgp (spec/openpgp.md): make an address key pair (v4 Ed25519 +
// Curve25519, user ID <address>), read a key pair someone imports, and decrypt what the server sealed to an address
// key. The secret key ring is handled unprotected in memory only as long as a call needs it; at rest it exists only
// wrapped (AddressKeyChain).
using System.Text;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Security;
using Veil.Crypto.OpenPgp;

namespace Veil.Client.Mailbox;

/// <summary>An address key pair: the armoured public key to publish and the binary secret key ring to wrap.</summary>
public sealed record AddressKeyPair(string PublicKey, byte[] SecretKeyRing);

public static class AddressKeys
{
    /// <summary>Makes a key pair whose user ID is <c>&lt;address&gt;</c> (WKD clients check it).</summary>
    public static AddressKeyPair Generate(string address, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        var generated = OpenPgpKeys.Generate("<" + address + ">", now);
        return new AddressKeyPair(generated.PublicKey.ToArmored(), generated.SecretKey);
    }

    /// <summary>The armoured public key of a secret key ring.</summary>
    public static string PublicKeyOf(byte[] secretKeyRing, DateTimeOffset now) =>
        (OpenPgpSecretKey.Load(secretKeyRing, now) ?? throw new MailboxKeyException("the secret key is not a kind Veil supports: " + OpenPgpKeyError.Supported)).PublicKey.ToArmored();

    /// <summary>Reads an imported secret key (armoured or binary, unprotected or protected by <paramref name="passphrase"/>) as an unprotected ring.</summary>
    /// <exception cref="MailboxKeyException">Not a secret key, a wrong passphrase, or a kind Veil does not support.</exception>
    public static byte[] Import(byte[] secretKey, string? passphrase)
    {
        // Only the passphrase is removed here (BouncyCastle's S2K): the ring is then wrapped by Veil's own chain. Which
        // kinds of key are acceptable is decided by Veil.Crypto (OpenPgpSecretKey.Load) right after.
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

        try
        {
            // A transferable secret key is its keys' packets in order; each key re-encoded without its passphrase.
            using var output = new MemoryStream();
            foreach (PgpSecretKey key in ring.GetSecretKeys())
            {
                PgpSecretKey.CopyWithNewPassword(key, (passphrase ?? "").ToCharArray(), [], SymmetricKeyAlgorithmTag.Null, new SecureRandom()).Encode(output);
            }

            return output.ToArray();
        }
        catch (PgpException e)
        {
            throw new MailboxKeyException("the secret key does not open (wrong passphrase?)", e);
        }
    }

    /// <summary>The armoured secret key ring (unprotected: the caller writes it where the user asked, mode 0600).</summary>
    public static string ExportArmored(byte[] secretKeyRing)
    {
        using var buffer = new MemoryStream();
        using (var armored = new ArmoredOutputStream(buffer))
        {
            armored.Write(secretKeyRing);
        }

        return Encoding.ASCII.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Decrypts a message sealed to the ring's encryption key and returns the plaintext; nothing is returned unless
    /// the integrity check passed (the plaintext is buffered until then).
    /// </summary>
    /// <exception cref="MailboxKeyException">Not for this key, or the integrity check failed.</exception>
    public static byte[] Decrypt(byte[] secretKeyRing, Stream sealedMessage, DateTimeOffset now) =>
        Decrypt(secretKeyRing, sealedMessage, now, [], out _);

    /// <summary>As <see cref="Decrypt(byte[], Stream, DateTimeOffset)"/>, also checking a signature inside against <paramref name="verifiers"/>.</summary>
    public static byte[] Decrypt(byte[] secretKeyRing, Stream sealedMessage, DateTimeOffset now, IReadOnlyList<OpenPgpPublicKey> verifiers, out OpenPgpSignatureStatus signature)
    {
        var key = OpenPgpSecretKey.Load(secretKeyRing, now) ?? throw new MailboxKeyException("the address key is not usable");
        using var output = new MemoryStream();
        var result = OpenPgpMessage.Decrypt(sealedMessage, output, key, verifiers);
        if (!result.IsOk)
        {
            throw new MailboxKeyException("the message does not decrypt with this address key (" + result.Status + ")");
        }

        signature = result.Signature;
        return output.ToArray();
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
