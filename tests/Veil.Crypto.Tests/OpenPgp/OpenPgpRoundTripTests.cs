using System.Text;
using Veil.Crypto.OpenPgp;

namespace Veil.Crypto.Tests.OpenPgp;

public sealed class OpenPgpRoundTripTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 5, 0, 0, TimeSpan.Zero);

    internal static (OpenPgpGeneratedKey Generated, OpenPgpSecretKey Secret) NewKey(string name)
    {
        OpenPgpGeneratedKey generated = OpenPgpKeys.Generate($"{name} <{name.ToLowerInvariant()}@example.org>", Now);
        OpenPgpSecretKey secret = OpenPgpSecretKey.Load(generated.SecretKey, Now) ?? throw new InvalidOperationException("generated secret key did not load");
        return (generated, secret);
    }

    internal static byte[] Encrypt(byte[] plaintext, IReadOnlyList<OpenPgpPublicKey> to, OpenPgpSecretKey? signer = null, bool armor = false)
    {
        using var output = new MemoryStream();
        OpenPgpMessage.Encrypt(new MemoryStream(plaintext), output, to, new OpenPgpEncryptOptions(Now, signer, armor));
        return output.ToArray();
    }

    internal static (OpenPgpDecryptResult Result, byte[] Plaintext) Decrypt(byte[] message, OpenPgpSecretKey key, params OpenPgpPublicKey[] verifiers)
    {
        using var output = new MemoryStream();
        OpenPgpDecryptResult result = OpenPgpMessage.Decrypt(new MemoryStream(message), output, key, verifiers);
        return (result, output.ToArray());
    }

    [Fact]
    public void Generate_MakesV4Ed25519PrimaryWithCurve25519Subkey()
    {
        (OpenPgpGeneratedKey generated, _) = NewKey("Alice");

        Assert.Equal("ed25519", generated.PublicKey.Algorithm);
        Assert.Matches("^[0-9A-F]{40}$", generated.PublicKey.Fingerprint);
        Assert.Matches("^[0-9a-f]{64}$", generated.PublicKey.Sha256Fingerprint);
        Assert.Equal(["Alice <alice@example.org>"], generated.PublicKey.UserIds);
        Assert.Contains("-----BEGIN PGP PUBLIC KEY BLOCK-----", generated.PublicKey.ToArmored(), StringComparison.Ordinal);
        Assert.DoesNotContain("Version:", generated.PublicKey.ToArmored(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ArmoredAndBinaryOfOneKey_GiveTheSameFingerprints()
    {
        (OpenPgpGeneratedKey generated, _) = NewKey("Alice");

        OpenPgpPublicKey fromArmor = OpenPgpPublicKey.Parse(generated.PublicKey.ToArmored(), Now).Key!;
        OpenPgpPublicKey fromBinary = OpenPgpPublicKey.Parse(generated.PublicKey.Encoded.Span, Now).Key!;

        Assert.Equal(generated.PublicKey.Fingerprint, fromArmor.Fingerprint);
        Assert.Equal(generated.PublicKey.Sha256Fingerprint, fromBinary.Sha256Fingerprint);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void EncryptDecrypt_RoundTrips(bool withSignature, bool armor)
    {
        (OpenPgpGeneratedKey alice, OpenPgpSecretKey aliceSecret) = NewKey("Alice");
        (_, OpenPgpSecretKey bobSecret) = NewKey("Bob");
        byte[] plaintext = Encoding.UTF8.GetBytes("Meet at noon. ✓");

        byte[] message = Encrypt(plaintext, [bobSecret.PublicKey], withSignature ? aliceSecret : null, armor);
        (OpenPgpDecryptResult result, byte[] decrypted) = Decrypt(message, bobSecret, alice.PublicKey);

        Assert.Equal(OpenPgpDecryptStatus.Ok, result.Status);
        Assert.Equal(plaintext, decrypted);
        Assert.Equal(withSignature ? OpenPgpSignatureStatus.Valid : OpenPgpSignatureStatus.NotSigned, result.Signature);
        Assert.Equal(withSignature ? alice.PublicKey.Fingerprint : null, result.SignerFingerprint);
        Assert.Equal(armor, Encoding.ASCII.GetString(message).StartsWith("-----BEGIN PGP MESSAGE-----", StringComparison.Ordinal));
    }

    [Fact]
    public void Decrypt_SignedByAKeyNotAmongVerifiers_ReportsUnknownSigner()
    {
        (_, OpenPgpSecretKey aliceSecret) = NewKey("Alice");
        (_, OpenPgpSecretKey bobSecret) = NewKey("Bob");

        (OpenPgpDecryptResult result, _) = Decrypt(Encrypt([1, 2, 3], [bobSecret.PublicKey], aliceSecret), bobSecret);

        Assert.Equal(OpenPgpDecryptStatus.Ok, result.Status);
        Assert.Equal(OpenPgpSignatureStatus.UnknownSigner, result.Signature);
        Assert.Null(result.SignerFingerprint);
    }

    [Fact]
    public void Decrypt_MessageForAnotherKey_IsNotForThisKey()
    {
        (_, OpenPgpSecretKey bobSecret) = NewKey("Bob");
        (_, OpenPgpSecretKey carolSecret) = NewKey("Carol");

        (OpenPgpDecryptResult result, byte[] plaintext) = Decrypt(Encrypt([1, 2, 3], [bobSecret.PublicKey]), carolSecret);

        Assert.Equal(OpenPgpDecryptStatus.NotForThisKey, result.Status);
        Assert.Empty(plaintext);
    }

    [Fact]
    public void Decrypt_TwoRecipients_EachDecrypts()
    {
        (_, OpenPgpSecretKey bobSecret) = NewKey("Bob");
        (_, OpenPgpSecretKey carolSecret) = NewKey("Carol");

        byte[] message = Encrypt([4, 5, 6], [bobSecret.PublicKey, carolSecret.PublicKey]);

        Assert.Equal([4, 5, 6], Decrypt(message, bobSecret).Plaintext);
        Assert.Equal([4, 5, 6], Decrypt(message, carolSecret).Plaintext);
    }

    [Fact]
    public void Decrypt_EveryFlippedByteOfTheEncryptedBody_IsRefused()
    {
        (_, OpenPgpSecretKey bobSecret) = NewKey("Bob");
        byte[] message = Encrypt(Encoding.UTF8.GetBytes(new string('x', 3000)), [bobSecret.PublicKey]);

        // The PKESK is ~95 bytes; flip bytes all through the rest (the SEIPD body and its MDC).
        for (int i = 120; i < message.Length; i += 97)
        {
            byte[] tampered = (byte[])message.Clone();
            tampered[i] ^= 0x01;
            (OpenPgpDecryptResult result, _) = Decrypt(tampered, bobSecret);
            Assert.True(result.Status == OpenPgpDecryptStatus.Tampered, $"byte {i} flipped: {result.Status}");
        }
    }

    [Fact]
    public void Decrypt_TruncatedMessage_IsRefused()
    {
        (_, OpenPgpSecretKey bobSecret) = NewKey("Bob");
        byte[] message = Encrypt(new byte[10_000], [bobSecret.PublicKey]);

        (OpenPgpDecryptResult result, _) = Decrypt(message[..^30], bobSecret);

        Assert.Equal(OpenPgpDecryptStatus.Tampered, result.Status);
    }

    [Fact]
    public void Decrypt_NotAMessage_IsNotEncrypted()
    {
        (OpenPgpGeneratedKey bob, OpenPgpSecretKey bobSecret) = NewKey("Bob");

        Assert.Equal(OpenPgpDecryptStatus.NotEncrypted, Decrypt(bob.PublicKey.Encoded.ToArray(), bobSecret).Result.Status);
        Assert.NotEqual(OpenPgpDecryptStatus.Ok, Decrypt(Encoding.ASCII.GetBytes("hello"), bobSecret).Result.Status);
    }

    [Fact]
    public void Parse_SecretKey_IsRefusedWithAClearError()
    {
        (OpenPgpGeneratedKey generated, _) = NewKey("Alice");

        OpenPgpKeyParseResult result = OpenPgpPublicKey.Parse(generated.SecretKey, Now);

        Assert.Equal("openpgp-key-is-secret", result.Error?.Code);
    }

    [Theory]
    [InlineData("rfc9580_A3_sample_v6_certificate.asc")]
    public void Parse_V6Key_IsRefusedNamingWhatIsSupported(string file)
    {
        string armored = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "vectors", "openpgp", file));

        OpenPgpKeyParseResult result = OpenPgpPublicKey.Parse(armored, Now);

        Assert.Equal("openpgp-key-unsupported-version", result.Error?.Code);
        Assert.Contains("version 6", result.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("RSA (2048 bits or more)", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Garbage_IsMalformed()
    {
        Assert.Equal("openpgp-key-malformed", OpenPgpPublicKey.Parse("not a key", Now).Error?.Code);
        Assert.Equal("openpgp-key-malformed", OpenPgpPublicKey.Parse([], Now).Error?.Code);
    }

    [Fact]
    public void LoadSecretKey_PublicKeyBytes_ReturnsNull()
    {
        (OpenPgpGeneratedKey generated, _) = NewKey("Alice");

        Assert.Null(OpenPgpSecretKey.Load(generated.PublicKey.Encoded.Span, Now));
    }
}
