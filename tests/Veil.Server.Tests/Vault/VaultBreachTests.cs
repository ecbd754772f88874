// The breach table of docs/THREAT-MODEL.md (Vault), as tests. The attacker gets:
//   the database alone   -> no delivery key, no vault key, no item: everything is ciphertext whose keys are elsewhere;
//   the environment alone -> nothing: the `escrow` secret seals keys, it does not hold data;
//   both                 -> exactly the vaults that have recipients open (through their escrow); the others stay sealed
//                           under the owners' user keys, which the server never has.
// The attacker's tools are plain AES-GCM and HKDF with the published formats, never Veil's own code.
using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Vault;

public sealed class VaultBreachFixture : IAsyncLifetime
{
    public VeilTestServer Server { get; private set; } = null!;

    public TestUser Owner { get; private set; } = null!;

    /// <summary>Has two recipients.</summary>
    public TestVault Shared { get; private set; } = null!;

    /// <summary>Has none.</summary>
    public TestVault Private { get; private set; } = null!;

    public List<byte[]> DeliveryKeys { get; } = [];

    public string ReleasedToken { get; private set; } = "";

    public string ReleasedEmail { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = await VaultKit.StartVaultServerAsync();
        Owner = await Server.RegisterOwnerAsync();
        Shared = await Server.CreateVaultAsync(Owner, "shared vault");
        Private = await Server.CreateVaultAsync(Owner, "private vault");
        await Server.PutItemAsync(Owner, Shared, "shared title", "shared notes");
        await Server.PutItemAsync(Owner, Private, "private title", "private notes");
        ReleasedEmail = IdentityKit.NewEmail("heir");
        DeliveryKeys.Add((await Server.AddRecipientAsync(Owner, Shared, ReleasedEmail)).DeliveryKey);
        DeliveryKeys.Add((await Server.AddRecipientAsync(Owner, Shared, IdentityKit.NewEmail("second"))).DeliveryKey);

        // A released third vault gives the environment-alone test a genuine link to try elsewhere.
        var released = await Server.CreateVaultAsync(Owner, "released vault");
        var heir = IdentityKit.NewEmail("released-heir");
        DeliveryKeys.Add((await Server.AddRecipientAsync(Owner, released, heir)).DeliveryKey);
        await Server.ArmAsync(Owner, released, TimeSpan.FromDays(1), TimeSpan.FromHours(1));
        Server.Time.Advance(TimeSpan.FromDays(2));
        await Server.RunSchedulerAsync();
        ReleasedEmail = heir;
        ReleasedToken = VaultKit.ClaimToken(Assert.Single(Server.MailTo(heir, "left to you")));
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class VaultBreachTests(VaultBreachFixture fixture) : IClassFixture<VaultBreachFixture>
{
    private VeilTestServer Server => fixture.Server;

    [Fact]
    public async Task DatabaseAlone_HoldsNoDeliveryKeyOrVaultKey_InAnyForm()
    {
        var stored = await StoredData.ReadAsync(Server);
        var secrets = fixture.DeliveryKeys.Concat([fixture.Shared.VaultKey, fixture.Private.VaultKey, fixture.Shared.UserKey]);
        foreach (var key in secrets)
        {
            foreach (var form in Forms(key))
            {
                Assert.DoesNotContain(form, stored, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public async Task DatabaseAlone_NoValueInItOpensAnEscrowOrAnItem()
    {
        var recipients = await Server.ReadRowsAsync("VaultRecipients");
        var items = await Server.ReadRowsAsync("VaultItems");
        Assert.NotEmpty(recipients);

        // Every 32-byte window of every stored value (raw bytes, or the decoded bytes of a base64url text)
        // is tried as a delivery key on every escrow and as a vault key on every item title.
        var candidates = new List<byte[]>();
        foreach (var table in new[] { "Vaults", "VaultItems", "VaultFiles", "VaultRecipients", "VaultSwitches", "VaultClaimLinks" })
        {
            foreach (var value in (await Server.ReadRowsAsync(table)).SelectMany(r => r.Values))
            {
                var bytes = value switch
                {
                    byte[] b => b,
                    string s when Decode(s) is { } d => d,
                    _ => null,
                };
                for (var i = 0; bytes is not null && i + 32 <= bytes.Length; i++)
                {
                    candidates.Add(bytes[i..(i + 32)]);
                }
            }
        }

        Assert.True(candidates.Count > 100, "the attacker should have plenty to try");
        foreach (var r in recipients)
        {
            var aad = $"veil/v1/vault-escrow|{r["VaultId"]}|{r["Id"]}";
            Assert.All(candidates, key => Assert.Null(VaultKit.Open(key, (string)r["Escrow"]!, aad)));

            // The sealed delivery key without the environment secret: a guessed or absent secret fails.
            var sealedKey = (byte[])r["SealedDeliveryKey"]!;
            Assert.Null(Unseal(RandomNumberGenerator.GetBytes(32), (string)r["VaultId"]!, (string)r["Id"]!, sealedKey));
            Assert.Null(Unseal(new byte[32], (string)r["VaultId"]!, (string)r["Id"]!, sealedKey));
        }

        foreach (var item in items)
        {
            Assert.All(candidates, key => Assert.Null(VaultKit.OpenField(key, (string)item["VaultId"]!, (string)item["Id"]!, "title", (string)item["Title"]!)));
        }
    }

    [Fact]
    public async Task EnvironmentAlone_AGenuineLinkAndCode_OpenNothing()
    {
        // A second server with the same environment secrets but not the database.
        await using var elsewhere = await VaultKit.StartVaultServerAsync();
        using var code = await elsewhere.PostAsync("/api/v1/vault/claim/code", new { token = fixture.ReleasedToken });
        await code.ExpectProblemAsync(HttpStatusCode.NotFound, "link-invalid");
        using var claim = await elsewhere.ClaimAsync(fixture.ReleasedToken, "123456");
        await claim.ExpectProblemAsync(HttpStatusCode.NotFound, "link-invalid");
        Assert.Empty(await elsewhere.ReadRowsAsync("VaultRecipients"));
        Assert.Empty(await elsewhere.ReadRowsAsync("VaultItems"));
    }

    [Fact]
    public async Task DatabaseAndEnvironment_OpenExactlyTheVaultsWithRecipients()
    {
        var sealKey = SealKey(VaultKit.EscrowSecret);
        var recipients = await Server.ReadRowsAsync("VaultRecipients");
        var items = await Server.ReadRowsAsync("VaultItems");
        var vaults = await Server.ReadRowsAsync("Vaults");
        var recovered = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var r in recipients)
        {
            var (vaultId, id) = ((string)r["VaultId"]!, (string)r["Id"]!);
            var deliveryKey = Unseal(sealKey, vaultId, id, (byte[])r["SealedDeliveryKey"]!);
            Assert.NotNull(deliveryKey);
            var vaultKey = VaultKit.Open(deliveryKey, (string)r["Escrow"]!, $"veil/v1/vault-escrow|{vaultId}|{id}");
            Assert.NotNull(vaultKey);
            recovered[vaultId] = vaultKey;
        }

        // Exactly the vaults with recipients, each opening its own items.
        var withRecipients = recipients.Select(r => (string)r["VaultId"]!).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(withRecipients.Order(StringComparer.Ordinal), recovered.Keys.Order(StringComparer.Ordinal));
        Assert.Contains(fixture.Shared.Id, recovered.Keys);
        Assert.DoesNotContain(fixture.Private.Id, recovered.Keys);
        var sharedItem = Assert.Single(items, i => (string)i["VaultId"]! == fixture.Shared.Id);
        Assert.Equal("shared title", VaultKit.OpenField(recovered[fixture.Shared.Id], fixture.Shared.Id, (string)sharedItem["Id"]!, "title", (string)sharedItem["Title"]!));

        // The vault without recipients stays sealed: no recovered key opens its name, its items or its wrapped key.
        var privateVault = Assert.Single(vaults, v => (string)v["Id"]! == fixture.Private.Id);
        var privateItem = Assert.Single(items, i => (string)i["VaultId"]! == fixture.Private.Id);
        var keys = recovered.Values.Concat(fixture.DeliveryKeys).Append(sealKey).ToList();
        foreach (var key in keys)
        {
            Assert.Null(VaultKit.OpenField(key, fixture.Private.Id, (string)privateItem["Id"]!, "title", (string)privateItem["Title"]!));
            Assert.Null(VaultKit.OpenField(key, fixture.Private.Id, "", "name", (string)privateVault["Name"]!));
            Assert.Null(VaultKit.Open(key, (string)privateVault["WrappedKey"]!, "veil/v1/vault-key|" + fixture.Private.Id));
        }
    }

    /// <summary>What the attacker computes from the environment secret: HKDF-SHA256(secret, info "veil/v1/escrow/vault/escrow-seal").</summary>
    private static byte[] SealKey(byte[] escrowSecret) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, escrowSecret, 32, [], Encoding.ASCII.GetBytes("veil/v1/escrow/vault/escrow-seal"));

    /// <summary>version(2) || nonce12 || ciphertext32 || tag16 under the seal key, aad "veil/v1/vault/escrow-seal|vault|recipient".</summary>
    private static byte[]? Unseal(byte[] sealKey, string vaultId, string recipientId, byte[] sealedKey)
    {
        Assert.Equal(62, sealedKey.Length);
        var plain = new byte[32];
        using var aes = new AesGcm(sealKey, 16);
        try
        {
            aes.Decrypt(sealedKey.AsSpan(2, 12), sealedKey.AsSpan(14, 32), sealedKey.AsSpan(46), plain, Encoding.ASCII.GetBytes($"veil/v1/vault/escrow-seal|{vaultId}|{recipientId}"));
            return plain;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }

    private static byte[]? Decode(string text)
    {
        var body = text.StartsWith("v1.", StringComparison.Ordinal) ? text[3..] : text;
        return Base64Url.IsValid(body) ? Base64Url.DecodeFromChars(body) : null;
    }

    internal static IEnumerable<string> Forms(byte[] key)
    {
        yield return Encoding.Latin1.GetString(key);
        yield return Convert.ToHexString(key);
        yield return Base64Url.EncodeToString(key);
        yield return Convert.ToBase64String(key).TrimEnd('=');
    }
}
