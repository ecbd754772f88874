// "Delete my account" and "export my data" reach Vault: deletion removes every vault of the account
// with its rows and blobs (and nobody else's); export lists vault metadata and no ciphertext or key.
using System.Net;
using System.Text.Json;
using Veil.Server.Tests.Identity;
using Xunit;

namespace Veil.Server.Tests.Vault;

public sealed class VaultAccountDataTests
{
    [Fact]
    public async Task AccountDeletion_RemovesTheUsersVaultsRowsAndBlobs_AndNobodyElses()
    {
        await using var server = await VaultKit.StartVaultServerAsync();
        var user = await server.RegisterUserAsync();
        var vault = await server.CreateVaultAsync(user);
        var itemId = await server.PutItemAsync(user, vault, "t", "n");
        using (await server.PutFileAsync(user, vault, itemId, VaultKit.NewId(), [1, 2, 3]))
        {
        }

        await server.AddRecipientAsync(user, vault, IdentityKit.NewEmail("r"));
        await server.ArmAsync(user, vault, TimeSpan.FromDays(1), TimeSpan.FromHours(1));
        var other = await server.RegisterOwnerAsync();
        var kept = await server.CreateVaultAsync(other);

        using (var delete = await server.SendAsync(HttpMethod.Delete, "/api/v1/account", bearer: user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        Assert.Equal([kept.Id], (await server.ReadRowsAsync("Vaults")).Select(r => (string)r["Id"]!));
        foreach (var table in new[] { "VaultItems", "VaultFiles", "VaultRecipients", "VaultSwitches" })
        {
            Assert.Empty(await server.ReadRowsAsync(table));
        }

        Assert.False(Directory.Exists(Path.Combine(server.DataDirectory, "blobs", "vault", vault.Id)));
    }

    [Fact]
    public async Task AccountExport_ListsVaultMetadata_AndNoCiphertextOrAddress()
    {
        await using var server = await VaultKit.StartVaultServerAsync();
        var user = await server.RegisterUserAsync();
        var vault = await server.CreateVaultAsync(user);
        await server.PutItemAsync(user, vault, "t", "n");
        var recipient = IdentityKit.NewEmail("recipient");
        await server.AddRecipientAsync(user, vault, recipient);
        await server.ArmAsync(user, vault, TimeSpan.FromDays(1), TimeSpan.FromHours(1));

        using var export = await server.SendAsync(HttpMethod.Get, "/api/v1/account/export", bearer: user.AccessToken);
        var text = await export.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        var section = JsonDocument.Parse(text).RootElement.GetProperty("modules").GetProperty("vault");
        var item = Assert.Single(section.GetProperty("vaults").EnumerateArray());
        Assert.Equal(vault.Id, item.GetProperty("id").GetString());
        Assert.Equal(1, item.GetProperty("itemCount").GetInt32());
        Assert.Equal(1, item.GetProperty("recipientCount").GetInt32());
        Assert.Equal("armed", item.GetProperty("switchState").GetString());
        Assert.DoesNotContain("v1.", section.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(recipient, text, StringComparison.OrdinalIgnoreCase);
    }
}
