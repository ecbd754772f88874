// Veil's libsodium binding (the system libsodium.so.23) cross-checked against NSec.Cryptography 26.4.0, which
// bundles its own libsodium 1.0.22 natively: two independent bindings over two builds of the library, loaded side by
// side in this process, must agree byte for byte on seeded random inputs. NSec is a test oracle only (ADR 0002); Veil
// keeps its own binding because NSec has no sealed boxes and no Argon2id with lanes > 1.
//
// Not cross-checked here: sealed boxes (NSec has no XSalsa20-Poly1305 box) and BLAKE2b (Veil's binding has none).
// Seeds are fixed so a failure reproduces; each loop varies lengths across the 0/1/block-boundary cases.
using NSec.Cryptography;
using Veil.Crypto.Primitives;
using NSecKey = NSec.Cryptography.Key;
using VeilX25519 = Veil.Crypto.Primitives.X25519;
using VeilXChaCha20Poly1305 = Veil.Crypto.Primitives.XChaCha20Poly1305;
using NSecPublicKey = NSec.Cryptography.PublicKey;

namespace Veil.Crypto.Tests;

public sealed class NSecCrossCheckTests
{
    private const int Rounds = 200;

    [Fact]
    public void BothLibsodiumBuilds_AreLoadedSideBySide_InOneProcess()
    {
        // Touch both bindings so each has loaded its library.
        using var veil = Ed25519PrivateKey.Generate();
        using var nsec = NSecKey.Create(SignatureAlgorithm.Ed25519);

        var maps = File.ReadAllLines("/proc/self/maps")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && Path.GetFileName(f[5]).StartsWith("libsodium", StringComparison.Ordinal))
            .Select(f => f[5])
            .Distinct(StringComparer.Ordinal)
            .ToList();

        Assert.Contains(maps, p => p.EndsWith("libsodium.so.23", StringComparison.Ordinal) || p.Contains("libsodium.so.23.", StringComparison.Ordinal));
        Assert.Contains(maps, p => p.Contains("runtimes", StringComparison.Ordinal) || p.StartsWith(AppContext.BaseDirectory, StringComparison.Ordinal));
    }

    [Fact]
    public void Ed25519_RandomSeedsAndMessages_SameKeysAndSignatures_AndEachVerifiesTheOther()
    {
        var random = new Random(2501);
        for (var i = 0; i < Rounds; i++)
        {
            var seed = Bytes(random, 32);
            var message = Bytes(random, LengthFor(random, i));

            using var veil = Ed25519PrivateKey.ImportSeed(seed);
            using var nsec = NSecKey.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
            var veilSignature = veil.Sign(message);
            var nsecSignature = SignatureAlgorithm.Ed25519.Sign(nsec, message);

            Assert.Equal(nsec.PublicKey.Export(KeyBlobFormat.RawPublicKey), veil.PublicKey.ToArray());
            Assert.Equal(nsecSignature, veilSignature);
            Assert.True(SignatureAlgorithm.Ed25519.Verify(nsec.PublicKey, message, veilSignature));
            Assert.True(veil.PublicKey.Verify(message, nsecSignature));

            // A flipped bit fails in both.
            var bad = (byte[])veilSignature.Clone();
            bad[random.Next(bad.Length)] ^= (byte)(1 << random.Next(8));
            Assert.False(veil.PublicKey.Verify(message, bad));
            Assert.False(SignatureAlgorithm.Ed25519.Verify(nsec.PublicKey, message, bad));
        }
    }

    [Fact]
    public void X25519_RandomKeys_SamePublicKeysAndSharedSecrets()
    {
        var random = new Random(2502);
        for (var i = 0; i < Rounds; i++)
        {
            var secret = Bytes(random, 32);
            var peerSecret = Bytes(random, 32);

            using var veil = X25519PrivateKey.Import(secret);
            using var veilPeer = X25519PrivateKey.Import(peerSecret);
            using var nsec = NSecKey.Import(KeyAgreementAlgorithm.X25519, secret, KeyBlobFormat.RawPrivateKey);
            using var nsecPeer = NSecKey.Import(KeyAgreementAlgorithm.X25519, peerSecret, KeyBlobFormat.RawPrivateKey);

            Assert.Equal(nsec.PublicKey.Export(KeyBlobFormat.RawPublicKey), veil.PublicKey.ToArray());
            Assert.True(VeilX25519.TryAgree(veil, veilPeer.PublicKey, out var veilShared));
            using (veilShared)
            using (var nsecShared = KeyAgreementAlgorithm.X25519.Agree(nsec, nsecPeer.PublicKey, new SharedSecretCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }))
            {
                Assert.NotNull(nsecShared);
                var veilBytes = new byte[SharedSecretLength];
                veilShared.CopyTo(veilBytes);
                Assert.Equal(nsecShared.Export(SharedSecretBlobFormat.RawSharedSecret), veilBytes);
            }
        }
    }

    [Fact]
    public void X25519_RandomPeerPublicKeys_BothAcceptOrBothRefuse_AndAgreeWhenAccepted()
    {
        // Random 32-byte strings as the peer's key, plus the all-zero (low-order) point that both must refuse.
        var random = new Random(2503);
        var peers = Enumerable.Range(0, Rounds).Select(_ => Bytes(random, 32)).Append(new byte[32]).ToList();
        using var veil = X25519PrivateKey.Import(Bytes(random, 32));
        var secret = new byte[32];
        veil.ExportPrivateKey(secret);
        using var nsec = NSecKey.Import(KeyAgreementAlgorithm.X25519, secret, KeyBlobFormat.RawPrivateKey);
        var refused = 0;

        foreach (var peer in peers)
        {
            var veilOk = VeilX25519.TryAgree(veil, X25519PublicKey.Import(peer), out var veilShared);
            using var nsecShared = KeyAgreementAlgorithm.X25519.Agree(nsec, NSecPublicKey.Import(KeyAgreementAlgorithm.X25519, peer, KeyBlobFormat.RawPublicKey), new SharedSecretCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
            using (veilShared)
            {
                Assert.Equal(nsecShared is not null, veilOk);
                if (veilOk)
                {
                    var veilBytes = new byte[SharedSecretLength];
                    veilShared!.CopyTo(veilBytes);
                    Assert.Equal(nsecShared!.Export(SharedSecretBlobFormat.RawSharedSecret), veilBytes);
                }
                else
                {
                    refused++;
                }
            }
        }

        Assert.True(refused >= 1, "the all-zero point must be refused");
    }

    [Fact]
    public void XChaCha20Poly1305_RandomInputs_SameCiphertexts_AndEachOpensTheOther()
    {
        var random = new Random(2504);
        for (var i = 0; i < Rounds; i++)
        {
            var key = Bytes(random, 32);
            var nonce = Bytes(random, VeilXChaCha20Poly1305.NonceSize);
            var plaintext = Bytes(random, LengthFor(random, i));
            var ad = Bytes(random, random.Next(0, 40));

            using var veil = new VeilXChaCha20Poly1305(key);
            using var nsec = NSecKey.Import(AeadAlgorithm.XChaCha20Poly1305, key, KeyBlobFormat.RawSymmetricKey);
            AssertAeadAgrees(veil, AeadAlgorithm.XChaCha20Poly1305, nsec, nonce, plaintext, ad, random);
        }
    }

    [Fact]
    public void ChaCha20Poly1305Ietf_RandomInputs_SameCiphertexts_AndEachOpensTheOther()
    {
        var random = new Random(2505);
        for (var i = 0; i < Rounds; i++)
        {
            var key = Bytes(random, 32);
            var nonce = Bytes(random, ChaCha20Poly1305Ietf.NonceSize);
            var plaintext = Bytes(random, LengthFor(random, i));
            var ad = Bytes(random, random.Next(0, 40));

            using var veil = new ChaCha20Poly1305Ietf(key);
            using var nsec = NSecKey.Import(AeadAlgorithm.ChaCha20Poly1305, key, KeyBlobFormat.RawSymmetricKey);
            AssertAeadAgrees(veil, AeadAlgorithm.ChaCha20Poly1305, nsec, nonce, plaintext, ad, random);
        }
    }

    private const int SharedSecretLength = 32;

    private static void AssertAeadAgrees(SodiumAead veil, AeadAlgorithm algorithm, NSecKey nsec, byte[] nonce, byte[] plaintext, byte[] ad, Random random)
    {
        var veilSealed = veil.Encrypt(nonce, plaintext, ad);
        var nsecSealed = algorithm.Encrypt(nsec, nonce, ad, plaintext);

        Assert.Equal(nsecSealed, veilSealed);
        Assert.Equal(plaintext, veil.Decrypt(nonce, nsecSealed, ad));
        var opened = new byte[plaintext.Length];
        Assert.True(algorithm.Decrypt(nsec, nonce, ad, veilSealed, opened));
        Assert.Equal(plaintext, opened);

        // Tampering anywhere (ciphertext or tag) is refused by both.
        var tampered = (byte[])veilSealed.Clone();
        tampered[random.Next(tampered.Length)] ^= (byte)(1 << random.Next(8));
        Assert.Null(veil.Decrypt(nonce, tampered, ad));
        Assert.False(algorithm.Decrypt(nsec, nonce, ad, tampered, new byte[plaintext.Length]));
    }

    // Lengths cycle through the edge cases first (empty, one byte, around the 64-byte ChaCha block), then random.
    private static int LengthFor(Random random, int round) => round switch
    {
        0 => 0,
        1 => 1,
        2 => 63,
        3 => 64,
        4 => 65,
        _ => random.Next(0, 4096),
    };

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
