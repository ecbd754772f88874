// Veil's OpenPGP layer against gpg 2.2, both ways, with a real gpg in a temporary GNUPGHOME.
using System.Text;
using Veil.Crypto.OpenPgp;
using static Veil.Crypto.Tests.OpenPgp.OpenPgpRoundTripTests;

namespace Veil.Crypto.Tests.OpenPgp;

public sealed class GpgInteropTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 5, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Plaintext = Encoding.UTF8.GetBytes("Subject: hi\r\n\r\nA line for gpg ✓\r\n" + new string('z', 100_000));

    [Fact]
    public async Task Gpg_DecryptsAndVerifies_WhatVeilEncryptsAndSigns()
    {
        using var gpg = new Gpg();
        (OpenPgpGeneratedKey bob, OpenPgpSecretKey bobSecret) = NewKey("Bob");
        (OpenPgpGeneratedKey alice, OpenPgpSecretKey aliceSecret) = NewKey("Alice");
        await gpg.CheckedAsync(bob.SecretKey, "--import");
        await gpg.CheckedAsync(alice.PublicKey.Encoded.ToArray(), "--import");

        foreach (bool armor in new[] { false, true })
        {
            byte[] message = Encrypt(Plaintext, [bobSecret.PublicKey], aliceSecret, armor);
            GpgRun run = await gpg.CheckedAsync(message, "--decrypt");

            Assert.Equal(Plaintext, run.Stdout);
            Assert.Contains($"[GNUPG:] VALIDSIG {alice.PublicKey.Fingerprint}", run.Status, StringComparison.Ordinal);
            Assert.Contains("[GNUPG:] DECRYPTION_OKAY", run.Status, StringComparison.Ordinal);
            Assert.Contains("[GNUPG:] GOODMDC", run.Status, StringComparison.Ordinal);
            // 9 = AES-256 in DECRYPTION_INFO <mdc_method> <sym_algo>.
            Assert.Contains("[GNUPG:] DECRYPTION_INFO 2 9", run.Status, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Veil_DecryptsAndVerifies_WhatGpgEncryptsAndSigns()
    {
        using var gpg = new Gpg();
        string carolFingerprint = await gpg.GenerateAsync("Carol <carol@example.org>", "ed25519", "sign");
        await gpg.CheckedAsync(null, "--quick-add-key", carolFingerprint, "cv25519", "encr");
        OpenPgpPublicKey carol = OpenPgpPublicKey.Parse(await gpg.ExportAsync(carolFingerprint), Now).Key!;
        (OpenPgpGeneratedKey bob, OpenPgpSecretKey bobSecret) = NewKey("Bob");
        await gpg.CheckedAsync(bob.PublicKey.Encoded.ToArray(), "--import");

        foreach (string[] mode in new[] { new[] { "--armor" }, new[] { "--compress-algo", "zlib" }, new[] { "--compress-algo", "none" } })
        {
            GpgRun run = await gpg.CheckedAsync(Plaintext, [.. mode, "--local-user", carolFingerprint, "--recipient", bob.PublicKey.Fingerprint, "--sign", "--encrypt"]);
            (OpenPgpDecryptResult result, byte[] decrypted) = Decrypt(run.Stdout, bobSecret, carol);

            Assert.Equal(OpenPgpDecryptStatus.Ok, result.Status);
            Assert.Equal(Plaintext, decrypted);
            Assert.Equal(OpenPgpSignatureStatus.Valid, result.Signature);
            Assert.Equal(carolFingerprint, result.SignerFingerprint);
        }
    }

    [Fact]
    public async Task Veil_DecryptsWithAKeyGpgMadeAndExportedUnprotected()
    {
        using var gpg = new Gpg();
        string fingerprint = await gpg.GenerateAsync("Dan <dan@example.org>", "future-default");
        OpenPgpSecretKey? dan = OpenPgpSecretKey.Load((await gpg.CheckedAsync(null, "--export-secret-keys", fingerprint)).Stdout, Now);
        Assert.NotNull(dan);

        GpgRun run = await gpg.CheckedAsync(Plaintext, "--recipient", fingerprint, "--encrypt");
        (OpenPgpDecryptResult result, byte[] decrypted) = Decrypt(run.Stdout, dan);

        Assert.Equal(OpenPgpDecryptStatus.Ok, result.Status);
        Assert.Equal(Plaintext, decrypted);
    }

    [Fact]
    public async Task Veil_RefusesGpgMessageWithoutIntegrityProtection()
    {
        using var gpg = new Gpg();
        (OpenPgpGeneratedKey bob, OpenPgpSecretKey bobSecret) = NewKey("Bob");
        await gpg.CheckedAsync(bob.PublicKey.Encoded.ToArray(), "--import");

        GpgRun run = await gpg.CheckedAsync(Plaintext, "--rfc2440", "--cipher-algo", "AES256", "--recipient", bob.PublicKey.Fingerprint, "--encrypt");
        (OpenPgpDecryptResult result, _) = Decrypt(run.Stdout, bobSecret);

        Assert.Equal(OpenPgpDecryptStatus.NoIntegrityProtection, result.Status);
    }

    [Fact]
    public async Task Veil_RefusesGpgMessageInCast5()
    {
        using var gpg = new Gpg();
        (OpenPgpGeneratedKey bob, OpenPgpSecretKey bobSecret) = NewKey("Bob");
        await gpg.CheckedAsync(bob.PublicKey.Encoded.ToArray(), "--import");

        GpgRun run = await gpg.CheckedAsync(Plaintext, "--cipher-algo", "CAST5", "--force-mdc", "--recipient", bob.PublicKey.Fingerprint, "--encrypt");
        (OpenPgpDecryptResult result, _) = Decrypt(run.Stdout, bobSecret);

        Assert.Equal(OpenPgpDecryptStatus.UnsupportedCipher, result.Status);
    }

    [Fact]
    public async Task Parse_AcceptsGpgRsa3072AndCurve25519Keys_AndTheirFingerprintsMatchGpg()
    {
        using var gpg = new Gpg();
        string rsa = await gpg.GenerateAsync("Rsa <rsa@example.org>", "rsa3072");
        await gpg.CheckedAsync(null, "--quick-add-key", rsa, "rsa3072", "encr");
        string ecc = await gpg.GenerateAsync("Ecc <ecc@example.org>", "future-default");

        OpenPgpPublicKey rsaKey = OpenPgpPublicKey.Parse(await gpg.ExportAsync(rsa), Now).Key!;
        OpenPgpPublicKey eccKey = OpenPgpPublicKey.Parse((await gpg.CheckedAsync(null, "--armor", "--export", ecc)).Text, Now).Key!;

        Assert.Equal(rsa, rsaKey.Fingerprint);
        Assert.Equal("rsa3072", rsaKey.Algorithm);
        Assert.Equal(ecc, eccKey.Fingerprint);
        Assert.Equal("ed25519", eccKey.Algorithm);
    }

    [Theory]
    [InlineData("rsa1024", "openpgp-key-rsa-too-short", "1024 bits")]
    [InlineData("dsa2048", "openpgp-key-unsupported-algorithm", "DSA")]
    [InlineData("nistp256", "openpgp-key-unsupported-algorithm", "ECDSA")]
    public async Task Parse_RefusesUnsupportedGpgKeys_NamingWhatIsSupported(string algorithm, string code, string mention)
    {
        using var gpg = new Gpg();
        string fingerprint = await gpg.GenerateAsync($"{algorithm} <x@example.org>", algorithm);

        OpenPgpKeyError? error = OpenPgpPublicKey.Parse(await gpg.ExportAsync(fingerprint), Now).Error;

        Assert.Equal(code, error?.Code);
        Assert.Contains(mention, error!.Message, StringComparison.Ordinal);
        Assert.Contains(OpenPgpKeyError.Supported, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parse_RefusesASigningOnlyKey()
    {
        using var gpg = new Gpg();
        string fingerprint = await gpg.GenerateAsync("Signer <s@example.org>", "ed25519", "sign");

        Assert.Equal("openpgp-key-no-encryption-subkey", OpenPgpPublicKey.Parse(await gpg.ExportAsync(fingerprint), Now).Error?.Code);
    }

    [Fact]
    public async Task Parse_RefusesAnExpiredKey_AcceptingItBeforeExpiry()
    {
        using var gpg = new Gpg();
        // Made "in 2026-01" with a 30-day life: valid on 2026-01-15, expired at Now.
        string fingerprint = await gpg.GenerateAsync("Old <old@example.org>", "future-default", "default", "30d", "--faked-system-time", "20260101T000000!");
        byte[] exported = await gpg.ExportAsync(fingerprint);

        Assert.True(OpenPgpPublicKey.Parse(exported, new DateTimeOffset(2026, 1, 15, 0, 0, 0, TimeSpan.Zero)).IsSuccess);
        Assert.Equal("openpgp-key-expired", OpenPgpPublicKey.Parse(exported, Now).Error?.Code);
    }

    [Fact]
    public async Task Parse_RefusesARevokedKey()
    {
        using var gpg = new Gpg();
        string fingerprint = await gpg.GenerateAsync("Gone <gone@example.org>", "future-default");
        // gpg writes a revocation certificate at key creation, its armor line escaped with ':' against accidents.
        string certificate = File.ReadAllText(Path.Combine(gpg.Home, "openpgp-revocs.d", fingerprint + ".rev")).Replace(":-----BEGIN", "-----BEGIN", StringComparison.Ordinal);
        await gpg.CheckedAsync(Encoding.ASCII.GetBytes(certificate), "--import");

        Assert.Equal("openpgp-key-revoked", OpenPgpPublicKey.Parse(await gpg.ExportAsync(fingerprint), Now).Error?.Code);
    }
}
