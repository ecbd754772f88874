// Veil.Crypto.Vault beyond the vectors: ids, misuse that must throw, and fresh nonces.
using Veil.Crypto.Memory;
using Veil.Crypto.Vault;

namespace Veil.Crypto.Tests.Vault;

public sealed class VaultFormatTests
{
    private static readonly string VaultId = VaultIds.New();
    private static readonly string ItemId = VaultIds.New();

    [Fact]
    public void New_IsALowercaseCanonicalUuidV4_AndDiffersEachTime()
    {
        string a = VaultIds.New(), b = VaultIds.New();

        Assert.True(VaultIds.IsValid(a));
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", a);
        Assert.NotEqual(a, b);
        Assert.Equal(Guid.Parse(a).ToString("D"), a);
    }

    [Theory]
    [InlineData("6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B")] // capitals
    [InlineData("{6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b}")] // braces
    [InlineData("6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b")] // no hyphens
    [InlineData("6f1c2a3b-4d5e-1f60-8a7b-9c0d1e2f3a4b")] // version 1
    [InlineData("6f1c2a3b-4d5e-4f60-7a7b-9c0d1e2f3a4b")] // wrong variant
    [InlineData("")]
    public void IsValid_OtherSpellings_AreRefused(string id) => Assert.False(VaultIds.IsValid(id));

    [Fact]
    public void SealField_SameValueTwice_GivesDifferentCiphertexts()
    {
        using SecretBytes key = VaultCipher.NewKey();

        string a = VaultCipher.SealField(key, VaultId, ItemId, "title", "same"), b = VaultCipher.SealField(key, VaultId, ItemId, "title", "same");

        Assert.NotEqual(a, b);
        Assert.True(VaultCipher.TryOpenField(key, VaultId, ItemId, "title", b, out string value));
        Assert.Equal("same", value);
    }

    [Fact]
    public void SealField_64KiB_Fits_OneByteMore_Throws()
    {
        using SecretBytes key = VaultCipher.NewKey();

        string max = VaultCipher.SealField(key, VaultId, ItemId, "notes", new string('a', VaultCipher.MaxFieldBytes));

        Assert.True(VaultCipher.TryOpenField(key, VaultId, ItemId, "notes", max, out string value));
        Assert.Equal(VaultCipher.MaxFieldBytes, value.Length);
        Assert.Throws<ArgumentException>(() => VaultCipher.SealField(key, VaultId, ItemId, "notes", new string('a', VaultCipher.MaxFieldBytes + 1)));
    }

    [Theory]
    [InlineData("Title")]
    [InlineData("a|b")]
    [InlineData("")]
    [InlineData("fields/0/value ")]
    public void SealField_BadPath_Throws(string path)
    {
        using SecretBytes key = VaultCipher.NewKey();

        Assert.Throws<ArgumentException>(() => VaultCipher.SealField(key, VaultId, ItemId, path, "x"));
    }

    [Fact]
    public void Misuse_WrongKeyLengthOrLoneSurrogateOrBadId_Throws()
    {
        using SecretBytes shortKey = SecretBytes.Random(16), key = VaultCipher.NewKey();

        Assert.Throws<ArgumentException>(() => VaultCipher.SealField(shortKey, VaultId, ItemId, "title", "x"));
        Assert.Throws<ArgumentException>(() => VaultCipher.SealField(key, VaultId, ItemId, "title", "\ud800"));
        Assert.Throws<ArgumentException>(() => VaultCipher.SealField(key, VaultId.ToUpperInvariant(), ItemId, "title", "x"));
        Assert.Throws<ArgumentException>(() => VaultCipher.WrapVaultKey(key, VaultId, shortKey));
    }

    [Fact]
    public void Open_WithAnotherVaultKey_ReturnsFalse_AndNoText()
    {
        using SecretBytes key = VaultCipher.NewKey(), other = VaultCipher.NewKey();
        string ct = VaultCipher.SealField(key, VaultId, ItemId, "title", "secret");

        Assert.False(VaultCipher.TryOpenField(other, VaultId, ItemId, "title", ct, out string value));
        Assert.Equal(string.Empty, value);
        Assert.Null(VaultCipher.TryUnwrapVaultKey(other, VaultId, null));
    }

    [Fact]
    public async Task FileStream_OtherFileId_DoesNotDecrypt()
    {
        using SecretBytes fileKey = VaultCipher.NewKey();
        string fileId = VaultIds.New();
        var ciphertext = new MemoryStream();
        await using (var encryptor = VaultCipher.CreateFileEncryptor(ciphertext, fileKey, fileId, leaveOpen: true))
        {
            await encryptor.WriteAsync(new byte[20_000]);
            await encryptor.CompleteAsync();
        }

        var plain = new MemoryStream();
        Assert.False(await VaultCipher.DecryptFileAsync(fileKey, VaultIds.New(), new MemoryStream(ciphertext.ToArray()), plain));
        Assert.Equal(0, plain.Length);
        Assert.True(await VaultCipher.DecryptFileAsync(fileKey, fileId, new MemoryStream(ciphertext.ToArray()), plain));
        Assert.Equal(20_000, plain.Length);
    }
}
