using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Keys;

namespace Veil.Crypto.Tests.Keys;

public sealed class BlindIndexTests
{
    [Fact]
    public void Compute_SameInput_IsDeterministic()
    {
        using var keyring = TestKeyrings.Create(1);

        Assert.Equal(BlindIndex.Compute(keyring, "account-email", "a@example.org"), BlindIndex.Compute(keyring, "account-email", "a@example.org"));
    }

    [Fact]
    public void Compute_DifferentPurposeOrValueOrKey_Differs()
    {
        using var keyring = TestKeyrings.Create(1);
        using var other = TestKeyrings.Create(1);
        var baseline = BlindIndex.Compute(keyring, "account-email", "a@example.org");

        Assert.NotEqual(baseline, BlindIndex.Compute(keyring, "alias-recipient", "a@example.org"));
        Assert.NotEqual(baseline, BlindIndex.Compute(keyring, "account-email", "b@example.org"));
        Assert.NotEqual(baseline, BlindIndex.Compute(other, "account-email", "a@example.org"));
    }

    [Fact]
    public void Compute_MatchesDocumentedConstruction()
    {
        var material = RandomNumberGenerator.GetBytes(32);
        using var keyring = TestKeyrings.FromMaterial(("index", 5, material));

        var index = BlindIndex.Compute(keyring, "account-email", "zoë@example.org");

        var subkey = HKDF.DeriveKey(HashAlgorithmName.SHA256, material, 32, [], "veil/v1/index/blind-index"u8.ToArray());
        var message = Encoding.UTF8.GetBytes("account-email\0zoë@example.org");
        byte[] expected = [0x00, 0x05, .. HMACSHA256.HashData(subkey, message)];
        Assert.Equal(expected, index);
        Assert.Equal((ushort)5, BlindIndex.KeyVersionOf(index));
    }

    [Fact]
    public void ComputeAll_AfterRotation_ContainsTheOldIndexNewestFirst()
    {
        var v1 = RandomNumberGenerator.GetBytes(32);
        using var before = TestKeyrings.FromMaterial(("index", 1, v1));
        using var after = TestKeyrings.FromMaterial(("index", 1, v1), ("index", 2, RandomNumberGenerator.GetBytes(32)));
        var stored = BlindIndex.Compute(before, "account-email", "a@example.org");

        var candidates = BlindIndex.ComputeAll(after, "account-email", "a@example.org");

        Assert.Equal(2, candidates.Count);
        Assert.Equal((ushort)2, BlindIndex.KeyVersionOf(candidates[0]));
        Assert.Equal(stored, candidates[1]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\0b")]
    public void Compute_InvalidPurpose_Throws(string purpose)
    {
        using var keyring = TestKeyrings.Create(1);

        Assert.ThrowsAny<ArgumentException>(() => BlindIndex.Compute(keyring, purpose, "x"));
    }
}
