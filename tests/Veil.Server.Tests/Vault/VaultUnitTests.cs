// Pure pieces of the Vault server: the CT form check, the reminder schedule, the tokens.
using Veil.Crypto.Keys;
using Veil.Server.Vault;
using Xunit;

namespace Veil.Server.Tests.Vault;

public sealed class VaultUnitTests
{
    [Theory]
    [InlineData("v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true)] // 28 bytes exactly
    [InlineData("v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)] // 27 bytes + 5 stray bits
    [InlineData("v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", false)] // non-zero stray bits
    [InlineData("v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", false)]
    [InlineData("V1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)]
    [InlineData("v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/+AA", false)]
    [InlineData("", false)]
    public void IsCt_ChecksPrefixCanonicalBase64UrlAndBounds(string ct, bool expected) =>
        Assert.Equal(expected, VaultFormat.IsCt(ct));

    [Fact]
    public void IsCt_UpperBound_Is64KiBOfPlaintext()
    {
        Assert.True(VaultFormat.IsCt("v1." + System.Buffers.Text.Base64Url.EncodeToString(new byte[VaultFormat.MaxCtBytes])));
        Assert.False(VaultFormat.IsCt("v1." + System.Buffers.Text.Base64Url.EncodeToString(new byte[VaultFormat.MaxCtBytes + 1])));
    }

    [Theory]
    [InlineData("3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b", true)]
    [InlineData("3F2B8C1E-9A4D-4E6F-8B2A-1C3D5E7F9A0B", false)]
    [InlineData("3f2b8c1e9a4d4e6f8b2a1c3d5e7f9a0b", false)]
    [InlineData("3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0", false)]
    [InlineData("../../etc/passwd-aaaaaaaaaaaaaaaaaaaa", false)]
    public void IsId_AcceptsOnlyLowercaseCanonicalUuids(string id, bool expected) => Assert.Equal(expected, VaultFormat.IsId(id));

    [Theory]
    [InlineData(3600, new[] { 0.0, 1800 })] // grace ≤ 24 h: deadline, half-way
    [InlineData(36 * 3600, new[] { 0.0, 12 * 3600, 18 * 3600 })] // 24 h before release comes before half-way
    [InlineData(48 * 3600, new[] { 0.0, 24 * 3600 })] // half-way and 24 h before coincide: one reminder
    [InlineData(7 * 86400, new[] { 0.0, 3.5 * 86400, 6 * 86400 })]
    public void Reminders_AreInTimeOrder_WithDuplicatesMerged(int grace, double[] offsets)
    {
        var s = new VaultSwitch { VaultId = "v", IntervalSeconds = 86400, GraceSeconds = grace, LastCheckInAt = DateTimeOffset.UnixEpoch };
        var reminders = VaultSchedule.Reminders(s);
        Assert.Equal(offsets, reminders.Select(r => (r.At - s.Deadline).TotalSeconds));
    }

    [Fact]
    public void CheckInToken_BindsVaultAndGeneration()
    {
        using var keyring = new KeyringBuilder().Add("escrow", 1, new byte[32]).Build();
        var secrets = new VaultSecrets(keyring);
        var vault = "3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b";
        var token = secrets.NewCheckInToken(vault, 7);
        Assert.Equal((vault, 7L), secrets.VerifyCheckInToken(token));
        var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(token);
        bytes[23] ^= 1; // generation 7 -> 6, MAC unchanged
        Assert.Null(secrets.VerifyCheckInToken(System.Buffers.Text.Base64Url.EncodeToString(bytes)));
    }

    [Fact]
    public void SealedDeliveryKey_OpensOnlyForItsVaultAndRecipient()
    {
        using var keyring = new KeyringBuilder().Add("escrow", 1, new byte[32]).Build();
        var secrets = new VaultSecrets(keyring);
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var sealedKey = secrets.SealDeliveryKey("a", "r1", key);
        Assert.Equal(key, secrets.UnsealDeliveryKey("a", "r1", sealedKey));
        Assert.Null(secrets.UnsealDeliveryKey("a", "r2", sealedKey));
        Assert.Null(secrets.UnsealDeliveryKey("b", "r1", sealedKey));
    }
}
