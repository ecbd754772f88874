// The one place the server touches OpenPGP: it checks a public key an owner publishes, and seals (encrypts, never
// signs: it holds no private key) a message to an address's public key. Profile: AES-256, SEIPD v1 with MDC, no
// compression (nothing to learn from ciphertext lengths), a literal packet with no file name and a zero date
// (the arrival time is in the row; the packet need not repeat it). Streaming: memory stays flat for any size.
using System.Text;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Security;

namespace Veil.Server.Mailbox;

internal sealed class MailSealer
{
    private const int BufferSize = 1 << 16;

    /// <summary>Null when <paramref name="armored"/> is a usable key for <paramref name="address"/>; otherwise why not.</summary>
    public static string? CheckPublicKey(string? armored, string address)
    {
        if (string.IsNullOrWhiteSpace(armored) || armored.Length > MailboxAddresses.MaxPublicKeyLength)
        {
            return "publicKey must be an ASCII-armoured OpenPGP public key of at most 64 KiB.";
        }

        PgpPublicKeyRing ring;
        try
        {
            ring = Read(armored);
        }
        catch (Exception e) when (e is IOException or PgpException or ArgumentException or InvalidOperationException)
        {
            return "publicKey is not an OpenPGP public key.";
        }

        var primary = ring.GetPublicKey();
        if (primary.Version != 4)
        {
            return "Only v4 keys are supported (Ed25519 primary with a Curve25519 encryption subkey, or RSA of 2048 bits or more).";
        }

        var encryption = EncryptionKey(ring);
        if (encryption is null)
        {
            return "The key has no usable encryption subkey; supported are Curve25519 ECDH (v4) and RSA of 2048 bits or more.";
        }

        if (encryption.Algorithm is PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaEncrypt && encryption.BitStrength < 2048)
        {
            return "RSA keys must have at least 2048 bits.";
        }

        var uids = primary.GetUserIds().OfType<string>().ToList();
        if (!uids.Any(u => u.Contains("<" + address + ">", StringComparison.OrdinalIgnoreCase) || string.Equals(u.Trim(), address, StringComparison.OrdinalIgnoreCase)))
        {
            return "The key's user ID must name the address (as <local@domain>), so that WKD clients accept it.";
        }

        return null;
    }

    /// <summary>The key in binary (unarmoured) form, as WKD serves it.</summary>
    public static byte[] ToBinary(string armored) => Read(armored).GetEncoded();

    /// <summary>The hex v4 fingerprint of the key's primary key.</summary>
    public static string Fingerprint(string armored) => Convert.ToHexString(Read(armored).GetPublicKey().GetFingerprint());

    /// <summary>Encrypts <paramref name="plaintext"/> to the key, writing a binary OpenPGP message to <paramref name="output"/>.</summary>
    public static async Task SealAsync(string armoredPublicKey, Stream plaintext, Stream output, CancellationToken ct)
    {
        var key = EncryptionKey(Read(armoredPublicKey)) ?? throw new InvalidOperationException("The stored key has no encryption subkey.");
        var generator = new PgpEncryptedDataGenerator(SymmetricKeyAlgorithmTag.Aes256, withIntegrityPacket: true, new SecureRandom());
        generator.AddMethod(key);
        await using (var encrypted = generator.Open(output, new byte[BufferSize]))
        {
            var literal = new PgpLiteralDataGenerator();
            await using var body = literal.Open(encrypted, PgpLiteralData.Binary, "", DateTime.UnixEpoch, new byte[BufferSize]);
            await plaintext.CopyToAsync(body, BufferSize, ct);
        }
    }

    /// <summary>Seals a small value and returns the OpenPGP message's bytes.</summary>
    public static async Task<byte[]> SealSmallAsync(string armoredPublicKey, byte[] plaintext, CancellationToken ct)
    {
        using var input = new MemoryStream(plaintext, writable: false);
        using var output = new MemoryStream();
        await SealAsync(armoredPublicKey, input, output, ct);
        return output.ToArray();
    }

    private static PgpPublicKeyRing Read(string armored)
    {
        using var input = PgpUtilities.GetDecoderStream(new MemoryStream(Encoding.ASCII.GetBytes(armored)));
        return new PgpPublicKeyRing(input);
    }

    private static PgpPublicKey? EncryptionKey(PgpPublicKeyRing ring) =>
        ring.GetPublicKeys().LastOrDefault(k => k.IsEncryptionKey && !k.HasRevocation()
            && (k.Algorithm is PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaEncrypt
                || (k.Algorithm == PublicKeyAlgorithmTag.ECDH && k.PublicKeyPacket.Key is ECDHPublicBcpgKey { CurveOid.Id: Curve25519Oid })));

    // The "legacy" Curve25519 ECDH of RFC 4880bis (the v4 profile gpg 2.2 and OpenPGP.js use).
    private const string Curve25519Oid = "1.3.6.1.4.1.3029.1.5.1";
}
