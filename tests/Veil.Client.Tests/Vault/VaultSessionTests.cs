// VaultSession: keys in, sealed values out; Lock() wipes every key and the session refuses to work afterwards;
// a value that does not open is "tampered", never partial text.
using Veil.Client.Vault;
using Veil.Crypto.Memory;
using Veil.Crypto.Vault;

namespace Veil.Client.Tests.Vault;

public sealed class VaultSessionTests
{
    private static readonly string VaultId = VaultIds.New();
    private static readonly string ItemId = VaultIds.New();

    [Fact]
    public void SealThenOpen_SameVaultItemAndPath_GivesTheValue()
    {
        using SecretBytes userKey = SecretBytes.Random(32);
        using var session = VaultSession.ForOwner(userKey);
        session.CreateVaultKey(VaultId);

        string ct = session.Seal(VaultId, ItemId, "fields/0/value", "correct horse battery staple");

        Assert.StartsWith("v1.", ct, StringComparison.Ordinal);
        Assert.Equal("correct horse battery staple", session.Open(VaultId, ItemId, "fields/0/value", ct));
    }

    [Fact]
    public void Open_ValueMovedToAnotherPath_IsTampered()
    {
        using SecretBytes userKey = SecretBytes.Random(32);
        using var session = VaultSession.ForOwner(userKey);
        session.CreateVaultKey(VaultId);
        string label = session.Seal(VaultId, ItemId, "fields/0/label", "pin");

        var error = Assert.Throws<VaultException>(() => session.Open(VaultId, ItemId, "fields/0/value", label));

        Assert.Equal(VaultException.TamperedCode, error.Code);
        Assert.DoesNotContain("pin", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lock_WipesEveryKey_AndTheSessionRefusesToDecrypt()
    {
        using SecretBytes userKey = SecretBytes.Random(32);
        var session = VaultSession.ForOwner(userKey);
        string wrapped = session.CreateVaultKey(VaultId);
        string ct = session.Seal(VaultId, ItemId, "title", "Safe deposit box");
        IReadOnlyList<SecretBytes> held = session.HeldKeys();
        Assert.Equal(2, held.Count);

        session.Lock();

        Assert.True(session.IsLocked);
        Assert.All(held, key => Assert.True(key.IsClosed));
        Assert.Equal(0, session.VaultKeyCount);
        Assert.Throws<VaultLockedException>(() => session.Open(VaultId, ItemId, "title", ct));
        Assert.Throws<VaultLockedException>(() => session.Seal(VaultId, ItemId, "title", "x"));
        Assert.Throws<VaultLockedException>(() => session.AddVault(VaultId, wrapped));
        Assert.Throws<VaultLockedException>(() => session.CreateEscrow(VaultId, VaultIds.New(), out _));
        Assert.False(userKey.IsClosed); // the caller's own copy is the caller's
    }

    [Fact]
    public void ForRecipient_EscrowAndDeliveryKey_RebuildTheVaultKey()
    {
        using SecretBytes userKey = SecretBytes.Random(32);
        using var owner = VaultSession.ForOwner(userKey);
        owner.CreateVaultKey(VaultId);
        string ct = owner.Seal(VaultId, ItemId, "notes", "The key is under the mat.");
        string recipientId = VaultIds.New();
        string escrow = owner.CreateEscrow(VaultId, recipientId, out string deliveryKey);

        using var recipient = VaultSession.ForRecipient(VaultId, recipientId, escrow, deliveryKey);

        Assert.Equal("The key is under the mat.", recipient.Open(VaultId, ItemId, "notes", ct));
        Assert.Throws<InvalidOperationException>(() => recipient.CreateVaultKey(VaultIds.New()));
    }

    [Fact]
    public void ForRecipient_EscrowOfAnotherRecipient_IsTampered()
    {
        using SecretBytes userKey = SecretBytes.Random(32);
        using var owner = VaultSession.ForOwner(userKey);
        owner.CreateVaultKey(VaultId);
        string escrow = owner.CreateEscrow(VaultId, VaultIds.New(), out string deliveryKey);

        var error = Assert.Throws<VaultException>(() => VaultSession.ForRecipient(VaultId, VaultIds.New(), escrow, deliveryKey));

        Assert.Equal(VaultException.TamperedCode, error.Code);
    }

    [Fact]
    public void AddVault_KeyWrappedForAnotherAccount_IsTampered()
    {
        using SecretBytes mine = SecretBytes.Random(32), theirs = SecretBytes.Random(32);
        using var other = VaultSession.ForOwner(theirs);
        string wrapped = other.CreateVaultKey(VaultId);
        using var session = VaultSession.ForOwner(mine);

        var error = Assert.Throws<VaultException>(() => session.AddVault(VaultId, wrapped));

        Assert.Equal(VaultException.TamperedCode, error.Code);
        Assert.False(session.HasVault(VaultId));
    }

    [Theory]
    [InlineData("https://veil.example/vault/claim/AAAA", "https://veil.example/", "AAAA")]
    [InlineData("https://example.org/veil/vault/claim/abc-_w", "https://example.org/veil/", "abc-_w")]
    [InlineData("https://veil.example/d/xyz", null, null)]
    [InlineData("not a link", null, null)]
    [InlineData("https://veil.example/vault/claim/", null, null)]
    public void ClaimLink_Parse(string link, string? origin, string? token)
    {
        VaultClaimLink? parsed = VaultClaimLink.TryParse(link);

        Assert.Equal(origin, parsed?.Origin.ToString());
        Assert.Equal(token, parsed?.Token);
    }
}
