using System.Security.Cryptography;
using Veil.Crypto.Keys;

namespace Veil.Crypto.Tests.Keys;

public sealed class KeyringTests
{
    [Fact]
    public void Current_SeveralVersions_IsTheHighest()
    {
        using var keyring = TestKeyrings.Create(1, 3, 2);

        Assert.Equal((ushort)3, keyring.Current("field").Version);
        Assert.Equal([3, 2, 1], keyring.Versions("field").Select(k => (int)k.Version));
    }

    [Fact]
    public void Current_UnknownName_ThrowsNamingTheKey()
    {
        using var keyring = TestKeyrings.Create(1);

        var error = Assert.Throws<KeyNotFoundException>(() => keyring.Current("session"));
        Assert.Contains("session", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_ShortMaterial_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new KeyringBuilder().Add("field", 1, new byte[31]));
        Assert.Contains("shorter than 32", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Field")]
    [InlineData("field key")]
    [InlineData("field/x")]
    public void Add_InvalidName_IsRefused(string name) =>
        Assert.Throws<ArgumentException>(() => new KeyringBuilder().Add(name, 1, new byte[32]));

    [Fact]
    public void Add_SameVersionTwice_IsRefused()
    {
        var builder = new KeyringBuilder().Add("field", 1, new byte[32]);
        Assert.Throws<ArgumentException>(() => builder.Add("field", 1, new byte[32]));
    }

    [Fact]
    public void ToString_NeverShowsMaterial()
    {
        var material = Enumerable.Repeat((byte)0xAB, 32).ToArray();
        using var keyring = TestKeyrings.FromMaterial(("field", 7, material));

        var text = keyring + " " + keyring.Current("field");

        Assert.Equal("Keyring(field: v7) field v7", text);
        Assert.DoesNotContain("AB", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(material), text, StringComparison.Ordinal);
    }

    [Fact]
    public void DeriveSubkey_DifferentPurposesAndVersions_GiveDifferentKeys()
    {
        using var keyring = TestKeyrings.FromMaterial(("field", 1, new byte[32]), ("field", 2, new byte[32]));
        var a = new byte[32];
        var b = new byte[32];
        var c = new byte[32];

        keyring.Current("field").DeriveSubkey("one", a);
        keyring.Current("field").DeriveSubkey("two", b);
        Assert.True(keyring.TryGet("field", 1, out var v1));
        v1.DeriveSubkey("one", c);

        Assert.NotEqual(a, b);
        // Same material, same purpose, different version: still the same derivation (info has no version),
        // because the version is an operator label; distinct material is what separates versions.
        Assert.Equal(a, c);
    }

    [Fact]
    public void DeriveSubkey_Repeated_GivesTheSameKeyEachTime_AndNothingAfterDispose()
    {
        var material = RandomNumberGenerator.GetBytes(32);
        var keyring = TestKeyrings.FromMaterial(("field", 1, material));
        var key = keyring.Current("field");
        var first = new byte[32];
        var again = new byte[32];
        var other = new byte[32];

        key.DeriveSubkey("one", first);
        key.DeriveSubkey("two", other);
        key.DeriveSubkey("one", again); // served from the cache

        Assert.Equal(HKDF.DeriveKey(HashAlgorithmName.SHA256, material, 32, [], "veil/v1/field/one"u8.ToArray()), again);
        Assert.Equal(first, again);
        Assert.Equal(HKDF.DeriveKey(HashAlgorithmName.SHA256, material, 32, [], "veil/v1/field/two"u8.ToArray()), other);
        keyring.Dispose();
        Assert.Throws<ObjectDisposedException>(() => key.DeriveSubkey("one", again)); // the cached subkey is wiped too
    }

    [Fact]
    public void DeriveSubkey_MatchesDocumentedHkdf()
    {
        var material = RandomNumberGenerator.GetBytes(40);
        using var keyring = TestKeyrings.FromMaterial(("index", 1, material));
        var subkey = new byte[32];

        keyring.Current("index").DeriveSubkey("blind-index", subkey);

        var expected = HKDF.DeriveKey(HashAlgorithmName.SHA256, material, 32, [], "veil/v1/index/blind-index"u8.ToArray());
        Assert.Equal(expected, subkey);
    }

    [Fact]
    public void Dispose_ThenUse_Throws()
    {
        var keyring = TestKeyrings.Create(1);
        var key = keyring.Current("field");
        keyring.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.DeriveSubkey("x", new byte[32]));
    }
}
