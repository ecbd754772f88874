// Veil's OpenPGP layer against OpenPGP.js 6.3 (curve25519Legacy keys, SEIPD v1), both ways.
using System.Text;
using System.Text.Json;
using Veil.Crypto.OpenPgp;
using static Veil.Crypto.Tests.OpenPgp.OpenPgpRoundTripTests;

namespace Veil.Crypto.Tests.OpenPgp;

public sealed class OpenPgpJsInteropTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly byte[] Plaintext = Encoding.UTF8.GetBytes("From OpenPGP.js and back ✓\n" + new string('q', 70_000));
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("veil-openpgpjs-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    [Fact]
    public async Task OpenPgpJs_DecryptsAndVerifies_WhatVeilEncryptsAndSigns()
    {
        await OpenPgpJs.RunAsync("gen", "Erin <erin@example.org>", PathOf("erin.pub"), PathOf("erin.sec"));
        OpenPgpPublicKey erin = OpenPgpPublicKey.Parse(File.ReadAllText(PathOf("erin.pub")), Now).Key!;
        (OpenPgpGeneratedKey alice, OpenPgpSecretKey aliceSecret) = NewKey("Alice");
        File.WriteAllText(PathOf("alice.pub"), alice.PublicKey.ToArmored());
        File.WriteAllBytes(PathOf("message.pgp"), Encrypt(Plaintext, [erin], aliceSecret));

        string output = await OpenPgpJs.RunAsync("decrypt", PathOf("erin.sec"), PathOf("alice.pub"), PathOf("message.pgp"), PathOf("plain.bin"));

        using JsonDocument json = JsonDocument.Parse(output);
        Assert.Equal("valid", json.RootElement.GetProperty("signature").GetString());
        Assert.Equal(alice.PublicKey.Fingerprint, json.RootElement.GetProperty("signer").GetString());
        Assert.Equal(Plaintext, File.ReadAllBytes(PathOf("plain.bin")));
    }

    [Fact]
    public async Task Veil_DecryptsAndVerifies_WhatOpenPgpJsEncryptsAndSigns()
    {
        await OpenPgpJs.RunAsync("gen", "Erin <erin@example.org>", PathOf("erin.pub"), PathOf("erin.sec"));
        OpenPgpPublicKey erin = OpenPgpPublicKey.Parse(File.ReadAllText(PathOf("erin.pub")), Now).Key!;
        (OpenPgpGeneratedKey bob, OpenPgpSecretKey bobSecret) = NewKey("Bob");
        File.WriteAllText(PathOf("bob.pub"), bob.PublicKey.ToArmored());
        File.WriteAllBytes(PathOf("plain.bin"), Plaintext);

        await OpenPgpJs.RunAsync("encrypt", PathOf("bob.pub"), PathOf("erin.sec"), PathOf("plain.bin"), PathOf("message.pgp"));
        (OpenPgpDecryptResult result, byte[] decrypted) = Decrypt(File.ReadAllBytes(PathOf("message.pgp")), bobSecret, erin);

        Assert.Equal(OpenPgpDecryptStatus.Ok, result.Status);
        Assert.Equal(OpenPgpSignatureStatus.Valid, result.Signature);
        Assert.Equal(erin.Fingerprint, result.SignerFingerprint);
        Assert.Equal(Plaintext, decrypted);
    }

    [Fact]
    public async Task Veil_LoadsAnOpenPgpJsSecretKey_AndDecryptsForIt()
    {
        await OpenPgpJs.RunAsync("gen", "Erin <erin@example.org>", PathOf("erin.pub"), PathOf("erin.sec"));
        OpenPgpSecretKey erin = OpenPgpSecretKey.Load(File.ReadAllBytes(PathOf("erin.sec")), Now)!;

        (OpenPgpDecryptResult result, byte[] decrypted) = Decrypt(Encrypt(Plaintext, [erin.PublicKey], armor: true), erin);

        Assert.Equal(OpenPgpDecryptStatus.Ok, result.Status);
        Assert.Equal(Plaintext, decrypted);
    }
}
