using System.Security.Cryptography;
using Veil.Crypto.Drop;
using Veil.Crypto.Streams;

namespace Veil.Crypto.Tests.Drop;

public sealed class DropFormatTests
{
    private const string Id = "q3T8Jm0c7m3Wl8n9dQv0sA";
    private const string OtherId = "AAAAAAAAAAAAAAAAAAAAAA";

    [Fact]
    public async Task Content_RoundTrips_ForManySizes()
    {
        using DropKey key = DropKey.Generate();
        foreach (int size in new[] { 0, 1, 16383, 16384, 16385, 100_000 })
        {
            byte[] plain = RandomNumberGenerator.GetBytes(size);
            byte[] blob = await EncryptAsync(key, Id, plain);
            Assert.Equal(Cobblestone256.GetCiphertextLength(size), blob.Length);
            Assert.Equal(plain, await DecryptAsync(key, Id, blob));
        }
    }

    [Fact]
    public async Task Content_FlippedByteAnywhere_IsNotAuthentic()
    {
        using DropKey key = DropKey.Generate();
        byte[] blob = await EncryptAsync(key, Id, RandomNumberGenerator.GetBytes(40_000));
        foreach (int position in new[] { 0, 30, 60, 16_000, 16_455, 30_000, blob.Length - 1 })
        {
            byte[] tampered = (byte[])blob.Clone();
            tampered[position] ^= 0x01;
            Assert.Null(await TryDecryptAsync(key, Id, tampered));
        }
    }

    [Fact]
    public async Task Content_Truncated_IsNotAuthentic()
    {
        using DropKey key = DropKey.Generate();
        byte[] blob = await EncryptAsync(key, Id, RandomNumberGenerator.GetBytes(40_000));
        foreach (int length in new[] { 0, 55, 56, 72, 16_456, blob.Length - 1 })
        {
            Assert.Null(await TryDecryptAsync(key, Id, blob[..length]));
        }
    }

    [Fact]
    public async Task Content_WrongKeyOrOtherDrop_FailsAtTheHeader()
    {
        using DropKey key = DropKey.Generate();
        using DropKey other = DropKey.Generate();
        byte[] blob = await EncryptAsync(key, Id, RandomNumberGenerator.GetBytes(100));
        Assert.Null(await DropCipher.OpenContentAsync(new MemoryStream(blob), other, Id));
        Assert.Null(await DropCipher.OpenContentAsync(new MemoryStream(blob), key, OtherId));
    }

    [Fact]
    public void Metadata_RoundTrips_AndIsPaddedTo256()
    {
        using DropKey key = DropKey.Generate();
        var metadata = new DropMetadata("Überweisung März.pdf", "application/pdf", 123_456_789);
        byte[] blob = DropCipher.EncryptMetadata(key, Id, metadata);
        Assert.Equal(Cobblestone256.GetCiphertextLength(256), blob.Length);
        Assert.Equal((DropOpenStatus.Ok, metadata), DropCipher.DecryptMetadata(key, Id, blob));
    }

    [Fact]
    public void Metadata_OtherDropIdWrongKeyOrTampered_IsNotAuthentic()
    {
        using DropKey key = DropKey.Generate();
        using DropKey other = DropKey.Generate();
        byte[] blob = DropCipher.EncryptMetadata(key, Id, new DropMetadata("a.txt", "text/plain", 1));
        Assert.Equal(DropOpenStatus.NotAuthentic, DropCipher.DecryptMetadata(key, OtherId, blob).Status);
        Assert.Equal(DropOpenStatus.NotAuthentic, DropCipher.DecryptMetadata(other, Id, blob).Status);
        blob[^1] ^= 1;
        Assert.Equal(DropOpenStatus.NotAuthentic, DropCipher.DecryptMetadata(key, Id, blob).Status);
    }

    [Fact]
    public async Task Metadata_BlobIsNeverContent_SubkeysDiffer()
    {
        using DropKey key = DropKey.Generate();
        byte[] blob = DropCipher.EncryptMetadata(key, Id, new DropMetadata("a.txt", "text/plain", 1));
        Assert.Null(await DropCipher.OpenContentAsync(new MemoryStream(blob), key, Id));
    }

    [Fact]
    public void Metadata_LargestRecordFitsTheServerLimit_LongerNameIsRefused()
    {
        Assert.True(DropCipher.MaxMetadataCiphertextLength <= 4096);
        Assert.Throws<ArgumentException>(() => new DropMetadata(new string('a', 1025), "", 1).Encode());
        Assert.Throws<ArgumentException>(() => new DropMetadata("", "", 1).Encode());
        Assert.Throws<ArgumentException>(() => new DropMetadata("a", "", -1).Encode());
        Assert.True(new DropMetadata(new string('a', 1024), new string('t', 255), DropMetadata.MaxSize).Encode().Length <= DropMetadata.MaxEncodedLength);
    }

    [Fact]
    public void Password_WrapUnwrap_RoundTrips_WrongPasswordReturnsNull()
    {
        using DropKey key = DropKey.Generate();
        byte[] salt = DropPassword.NewSalt();
        byte[] wrapped = DropPassword.Wrap(key, "hunter2 ☂", salt);
        Assert.Equal(DropPassword.WrappedKeyLength, wrapped.Length);
        using DropKey? unwrapped = DropPassword.TryUnwrap(wrapped, "hunter2 ☂", salt);
        Assert.Equal(key.ToBase64Url(), unwrapped?.ToBase64Url());
        Assert.Null(DropPassword.TryUnwrap(wrapped, "hunter3 ☂", salt));
        Assert.Null(DropPassword.TryUnwrap(wrapped, "hunter2 ☂", DropPassword.NewSalt()));
    }

    [Fact]
    public void Password_UnknownVersionOrLength_ReturnsNull()
    {
        using DropKey key = DropKey.Generate();
        byte[] salt = DropPassword.NewSalt();
        byte[] wrapped = DropPassword.Wrap(key, "pw", salt);
        byte[] v2 = (byte[])wrapped.Clone();
        v2[0] = 2;
        Assert.Null(DropPassword.TryUnwrap(v2, "pw", salt));
        Assert.Null(DropPassword.TryUnwrap(wrapped.AsSpan(0, 60), "pw", salt));
        Assert.Null(DropPassword.TryUnwrap(wrapped, "pw", salt.AsSpan(0, 31)));
    }

    [Fact]
    public void Key_Base64Url_IsCanonical_AndToStringHidesIt()
    {
        using DropKey key = DropKey.Generate();
        string text = key.ToBase64Url();
        Assert.Equal(43, text.Length);
        using DropKey? parsed = DropKey.FromBase64Url(text);
        Assert.Equal(text, parsed?.ToBase64Url());
        Assert.Null(DropKey.FromBase64Url(text + "="));
        Assert.Null(DropKey.FromBase64Url(text.AsSpan(0, 42)));
        // 'B' sets one of the two unused low bits of the last character: another spelling of the same bytes.
        Assert.Null(DropKey.FromBase64Url(new string('A', 42) + "B"));
        Assert.Equal("DropKey", key.ToString());
    }

    [Theory]
    [InlineData("https://veil.example/d/q3T8Jm0c7m3Wl8n9dQv0sA", "https://veil.example", "q3T8Jm0c7m3Wl8n9dQv0sA")]
    [InlineData("http://127.0.0.1:5080/d/abc-_9", "http://127.0.0.1:5080", "abc-_9")]
    [InlineData("https://example.org/veil/d/x", "https://example.org/veil", "x")]
    [InlineData("  https://example.org/d/d/x  ", "https://example.org/d", "x")]
    public void Link_Parses_OriginAndId(string text, string origin, string id)
    {
        DropLink? link = DropLink.TryParse(text);
        Assert.Equal(new DropLink(origin, id, null), link);
    }

    [Theory]
    [InlineData("q3T8Jm0c7m3Wl8n9dQv0sA")]
    [InlineData("ftp://veil.example/d/abc")]
    [InlineData("https://veil.example/d/")]
    [InlineData("https://veil.example/d/a/b")]
    [InlineData("https://veil.example/d/a?x=1")]
    [InlineData("https://veil.example/d/a.b")]
    [InlineData("https://veil.example/d/abc#short")]
    [InlineData("https://d/abc")]
    public void Link_RefusesWhatIsNotADropLink(string text) => Assert.Null(DropLink.TryParse(text));

    [Fact]
    public void Link_FormatThenParse_KeepsTheKey()
    {
        using DropKey key = DropKey.Generate();
        string text = DropLink.Format("https://veil.example/", Id, key);
        Assert.Equal($"https://veil.example/d/{Id}#{key.ToBase64Url()}", text);
        DropLink link = DropLink.TryParse(text)!;
        using DropKey? parsed = link.Key();
        Assert.Equal(key.ToBase64Url(), parsed?.ToBase64Url());
        Assert.DoesNotContain(key.ToBase64Url(), link.ToString(), StringComparison.Ordinal);
    }

    private static async Task<byte[]> EncryptAsync(DropKey key, string id, byte[] plain)
    {
        var blob = new MemoryStream();
        await using (CobblestoneEncryptStream encryptor = DropCipher.CreateContentEncryptor(blob, key, id, DropCipher.NewContentSalt(), leaveOpen: true))
        {
            await encryptor.WriteAsync(plain);
            await encryptor.CompleteAsync();
        }

        return blob.ToArray();
    }

    private static async Task<byte[]> DecryptAsync(DropKey key, string id, byte[] blob) =>
        await TryDecryptAsync(key, id, blob) ?? throw new InvalidOperationException("not authentic");

    private static async Task<byte[]?> TryDecryptAsync(DropKey key, string id, byte[] blob)
    {
        await using CobblestoneDecryptStream? decryptor = await DropCipher.OpenContentAsync(new MemoryStream(blob), key, id);
        if (decryptor is null)
        {
            return null;
        }

        var plain = new MemoryStream();
        try
        {
            await decryptor.CopyToAsync(plain);
            return plain.ToArray();
        }
        catch (CobblestoneAuthenticationException)
        {
            return null;
        }
    }
}
