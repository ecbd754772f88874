using System.Text;
using Veil.Crypto.Client;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Tests;

public sealed class PrimitiveTests
{
    private static readonly byte[] Key32 = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Token_32Bytes_Is43CharBase64Url()
    {
        var token = CryptoRandom.Token(32);

        Assert.Equal(43, token.Length);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", token);
        Assert.Equal(32, CryptoRandom.FromBase64Url(token)!.Length);
    }

    [Fact]
    public void FromBase64Url_Garbage_ReturnsNull() => Assert.Null(CryptoRandom.FromBase64Url("not base64url!"));

    [Fact]
    public void ConstantTimeEquals_DifferentLengths_False() => Assert.False(CryptoBytes.ConstantTimeEquals([1, 2], [1, 2, 3]));

    [Fact]
    public void XChaCha_TamperedCiphertext_ReturnsFalseAndZeroesOutput()
    {
        using var aead = new XChaCha20Poly1305(Key32);
        var nonce = new byte[24];
        var sealedBytes = aead.Encrypt(nonce, "secret"u8, "ad"u8);
        sealedBytes[0] ^= 1;
        var plaintext = new byte[sealedBytes.Length - 16];

        Assert.False(aead.TryDecrypt(nonce, sealedBytes, plaintext, "ad"u8));
        Assert.All(plaintext, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Aes256Gcm_WrongAssociatedData_ReturnsNull()
    {
        using var aead = new Aes256Gcm(Key32);
        var nonce = new byte[12];
        var sealedBytes = aead.Encrypt(nonce, "secret"u8, "ad"u8);

        Assert.Null(aead.Decrypt(nonce, sealedBytes, "other"u8));
        Assert.Equal("secret"u8.ToArray(), aead.Decrypt(nonce, sealedBytes, "ad"u8));
    }

    [Fact]
    public void Aead_ShortCiphertext_ReturnsNull()
    {
        using var aead = new XChaCha20Poly1305(Key32);

        Assert.Null(aead.Decrypt(new byte[24], new byte[5]));
    }

    [Fact]
    public void Aead_WrongKeyOrNonceLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => new XChaCha20Poly1305(new byte[16]));
        Assert.Throws<ArgumentException>(() => new Aes256Gcm(new byte[16]));
        using var aead = new XChaCha20Poly1305(Key32);
        Assert.Throws<ArgumentException>(() => aead.Encrypt(new byte[12], "x"u8));
    }

    [Fact]
    public void Aead_Disposed_ThrowsObjectDisposed()
    {
        var aead = new XChaCha20Poly1305(Key32);
        aead.Dispose();

        Assert.Throws<ObjectDisposedException>(() => aead.Encrypt(new byte[24], "x"u8));
    }

    [Fact]
    public void SealedBox_RoundTripsOnlyForRecipient()
    {
        using var recipient = X25519PrivateKey.Generate();
        using var other = X25519PrivateKey.Generate();
        var box = SealedBox.Seal(recipient.PublicKey, "hello"u8);

        Assert.Equal(5 + SealedBox.Overhead, box.Length);
        Assert.Equal("hello"u8.ToArray(), SealedBox.Open(recipient, box));
        Assert.Null(SealedBox.Open(other, box));
        Assert.Null(SealedBox.Open(recipient, box.AsSpan(0, 10)));
    }

    [Fact]
    public void X25519_BothSidesAgree()
    {
        using var alice = X25519PrivateKey.Generate();
        using var bob = X25519PrivateKey.Generate();

        Assert.True(X25519.TryAgree(alice, bob.PublicKey, out var ab));
        Assert.True(X25519.TryAgree(bob, alice.PublicKey, out var ba));
        using (ab)
        using (ba)
        {
            Span<byte> k1 = stackalloc byte[32], k2 = stackalloc byte[32];
            ab.DeriveHkdfSha256(default, "test"u8, k1);
            ba.DeriveHkdfSha256(default, "test"u8, k2);
            Assert.True(k1.SequenceEqual(k2));
        }
    }

    [Fact]
    public void X25519_LowOrderPeer_ReturnsFalse()
    {
        using var key = X25519PrivateKey.Generate();

        Assert.False(X25519.TryAgree(key, X25519PublicKey.Import(new byte[32]), out var secret));
        Assert.Null(secret);
    }

    [Fact]
    public void X25519PrivateKey_ExportImport_SamePublicKey()
    {
        using var key = X25519PrivateKey.Generate();
        var raw = new byte[32];
        key.ExportPrivateKey(raw);
        using var again = X25519PrivateKey.Import(raw);

        Assert.Equal(key.PublicKey, again.PublicKey);
    }

    [Fact]
    public void Ed25519_SignVerify_AndTamperFails()
    {
        using var key = Ed25519PrivateKey.Generate();
        var signature = key.Sign("message"u8);

        Assert.True(key.PublicKey.Verify("message"u8, signature));
        Assert.False(key.PublicKey.Verify("massage"u8, signature));
        Assert.False(key.PublicKey.Verify("message"u8, signature.AsSpan(0, 63)));
    }

    [Fact]
    public void Ed25519_DisposedKey_ThrowsObjectDisposed()
    {
        var key = Ed25519PrivateKey.Generate();
        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.Sign("m"u8));
    }

    [Fact]
    public void KeyTypes_ToString_ShowsNoKeyMaterial()
    {
        var seed = Key32;
        using var ed = Ed25519PrivateKey.ImportSeed(seed);
        using var x = X25519PrivateKey.Import(seed);
        var hexSeed = Convert.ToHexStringLower(seed);

        foreach (var text in new[] { ed.ToString(), x.ToString(), ed.PublicKey.ToString(), x.PublicKey.ToString() })
        {
            Assert.DoesNotContain(hexSeed[..16], text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexStringLower(ed.PublicKey.Bytes)[..16], text, StringComparison.Ordinal);
        }

        Assert.StartsWith("Ed25519PrivateKey(public ", ed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Hmac_TruncatedTagBelow16_ReturnsFalse()
    {
        var tag = HmacSha256.Compute(Key32, "data"u8);

        Assert.True(HmacSha256.Verify(Key32, "data"u8, tag.AsSpan(0, 16)));
        Assert.False(HmacSha256.Verify(Key32, "data"u8, tag.AsSpan(0, 15)));
    }

    [Fact]
    public void Argon2Phc_HashThenVerify_RoundTrips()
    {
        var parameters = new Argon2Parameters(64, 1, 1);
        var phc = Argon2PasswordHash.Hash("pw"u8, parameters);

        Assert.StartsWith("$argon2id$v=19$m=64,t=1,p=1$", phc, StringComparison.Ordinal);
        Assert.True(Argon2PasswordHash.Verify(phc, "pw"u8));
        Assert.False(Argon2PasswordHash.Verify(phc, "pW"u8));
    }

    [Fact]
    public void Argon2Phc_ReferenceEncoding_Verifies()
    {
        // `echo -n password | argon2 somesalt -id -t 2 -m 8 -p 1` (argon2 CLI, Debian 0~20171227).
        const string phc = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";

        Assert.True(Argon2PasswordHash.Verify(phc, "password"u8));
    }

    [Theory]
    [InlineData("")]
    [InlineData("$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("$argon2id$v=19$m=064,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHR$AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("$argon2id$v=19$m=64,t=1,p=1,x=2$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("$argon2id$v=19$m=64,t=4294967295,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("$argon2id$v=19$m=-64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")]
    public void Argon2Phc_MalformedOrHostile_ReturnsFalse(string phc) => Assert.False(Argon2PasswordHash.Verify(phc, "pw"u8));

    [Fact]
    public void Argon2Parameters_OutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Argon2Parameters(7, 1, 1).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => Argon2id.DeriveBytes("p"u8, new byte[16], new Argon2Parameters(64, 0, 1), new byte[32]));
        Assert.Throws<ArgumentException>(() => Argon2id.DeriveBytes("p"u8, new byte[7], new Argon2Parameters(64, 1, 1), new byte[32]));
    }

    [Fact]
    public void ClientKeys_EncAndAuthDiffer_AndSaltIsChecked()
    {
        Assert.Throws<ArgumentException>(() => ClientKeyDerivation.Derive("pw", "a@b.c", new byte[15]));
        Assert.Equal("alice@example.com", ClientKeyDerivation.NormalizeEmail(" Alice@EXAMPLE.com\t"));
        Assert.Equal(Encoding.UTF8.GetBytes("pwa@b.c"), ClientKeyDerivation.BuildInput("pw", "A@B.C"));
    }
}
