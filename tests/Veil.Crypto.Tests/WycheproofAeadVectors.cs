// Wycheproof AEAD vectors: AES-256-GCM (.NET), XChaCha20-Poly1305 and ChaCha20-Poly1305 (libsodium).
// valid → encrypts to ct||tag and decrypts; invalid → decryption returns false.
// Shapes Veil does not offer (other key sizes, nonce sizes, tag sizes) are counted as unsupported.
using Veil.Crypto.Primitives;
using Xunit.Abstractions;

namespace Veil.Crypto.Tests;

public sealed class WycheproofAeadVectors(ITestOutputHelper output)
{
    [Theory]
    [InlineData("aes_gcm_test.json", 12)]
    [InlineData("xchacha20_poly1305_test.json", 24)]
    [InlineData("chacha20_poly1305_test.json", 12)]
    public void AeadFile_AllSupportedVectorsBehaveAsExpected(string file, int nonceLength)
    {
        using var document = VectorFiles.Json("wycheproof/testvectors_v1/" + file);
        int passed = 0, unsupported = 0;
        foreach (var (group, test) in VectorFiles.WycheproofTests(document))
        {
            var key = test.Hex("key");
            var iv = test.Hex("iv");
            if (key.Length != 32 || iv.Length != nonceLength || group.GetProperty("tagSize").GetInt32() != 128)
            {
                unsupported++;
                continue;
            }

            using IDisposableAead aead = file switch
            {
                "aes_gcm_test.json" => new AesAdapter(new Aes256Gcm(key)),
                "xchacha20_poly1305_test.json" => new SodiumAdapter(new XChaCha20Poly1305(key)),
                _ => new SodiumAdapter(new ChaCha20Poly1305Ietf(key)),
            };
            var aad = test.Hex("aad");
            var msg = test.Hex("msg");
            byte[] sealedBytes = [.. test.Hex("ct"), .. test.Hex("tag")];

            var opened = aead.Decrypt(iv, sealedBytes, aad);
            if (test.Result() == "valid")
            {
                Assert.True(opened is not null, $"{file} {test.Id()}: valid vector did not decrypt");
                Assert.Equal(msg, opened);
                Assert.Equal(sealedBytes, aead.Encrypt(iv, msg, aad));
            }
            else
            {
                Assert.True(opened is null, $"{file} {test.Id()}: invalid vector decrypted");
            }

            passed++;
        }

        VectorFiles.Report(output, file, passed, unsupported);
        Assert.True(passed > 0);
    }

    private interface IDisposableAead : IDisposable
    {
        byte[] Encrypt(byte[] nonce, byte[] plaintext, byte[] aad);

        byte[]? Decrypt(byte[] nonce, byte[] ciphertext, byte[] aad);
    }

    private sealed class AesAdapter(Aes256Gcm aead) : IDisposableAead
    {
        public byte[] Encrypt(byte[] nonce, byte[] plaintext, byte[] aad) => aead.Encrypt(nonce, plaintext, aad);

        public byte[]? Decrypt(byte[] nonce, byte[] ciphertext, byte[] aad) => aead.Decrypt(nonce, ciphertext, aad);

        public void Dispose() => aead.Dispose();
    }

    private sealed class SodiumAdapter(SodiumAead aead) : IDisposableAead
    {
        public byte[] Encrypt(byte[] nonce, byte[] plaintext, byte[] aad) => aead.Encrypt(nonce, plaintext, aad);

        public byte[]? Decrypt(byte[] nonce, byte[] ciphertext, byte[] aad) => aead.Decrypt(nonce, ciphertext, aad);

        public void Dispose() => aead.Dispose();
    }
}
