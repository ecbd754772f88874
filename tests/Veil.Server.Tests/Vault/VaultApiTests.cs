// The owner API's validation and bookkeeping: malformed ciphertexts and ids are refused with 400 and
// change nothing, ids are unique, revisions are optimistic, the quota counts encrypted bytes, limits
// hold, and account deletion/export cover vaults.
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Vault;

public sealed class VaultApiFixture : IAsyncLifetime
{
    public VeilTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await VaultKit.StartVaultServerAsync(o => o.Settings["Veil:Vault:QuotaBytes"] = "300000");

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class VaultApiTests(VaultApiFixture fixture) : IClassFixture<VaultApiFixture>
{
    private VeilTestServer Server => fixture.Server;

    public static TheoryData<string, string> MalformedCiphertexts => new()
    {
        { "no prefix", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
        { "v2 prefix", "v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
        { "too short", "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
        { "padding", "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
        { "standard base64", "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+/AA" },
        { "non-canonical tail", "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB" },
        { "plaintext", "my bank password" },
        { "too long", "v1." + new string('A', 87_500) },
    };

    [Theory]
    [MemberData(nameof(MalformedCiphertexts))]
    public async Task PutItem_MalformedCiphertext_Is400AndStoresNothing(string why, string bad)
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        var itemId = VaultKit.NewId();
        var body = new
        {
            title = VaultKit.Field(vault, itemId, "title", "t"),
            tags = Array.Empty<string>(),
            fields = new[] { new { label = VaultKit.Field(vault, itemId, "fields/0/label", "l"), value = bad } },
        };
        using var put = await Server.SendAsync(HttpMethod.Put, $"{VaultKit.Base}/{vault.Id}/items/{itemId}", body, owner.AccessToken);
        await put.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-ciphertext");
        Assert.Equal("fields/0/value", (await put.JsonAsync()).GetProperty("field").GetString());
        using var get = await Server.SendAsync(HttpMethod.Get, $"{VaultKit.Base}/{vault.Id}/items/{itemId}", bearer: owner.AccessToken);
        Assert.True(get.StatusCode == HttpStatusCode.NotFound, why);
    }

    [Fact]
    public async Task CreateVault_BadIdOrDuplicate_IsRefused()
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        var name = VaultKit.Field(vault, "", "name", "n");
        foreach (var id in new[] { "not-a-uuid", vault.Id.ToUpperInvariant(), "{" + vault.Id + "}" })
        {
            using var bad = await Server.PostAsync(VaultKit.Base, new { id, name, wrappedKey = name }, owner.AccessToken);
            await bad.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-id");
        }

        // Taken ids are refused whoever owns them.
        var other = await Server.RegisterOwnerAsync();
        using var dup = await Server.PostAsync(VaultKit.Base, new { id = vault.Id, name, wrappedKey = name }, other.AccessToken);
        await dup.ExpectProblemAsync(HttpStatusCode.Conflict, "already-exists");
    }

    [Fact]
    public async Task PutItem_Replace_BumpsRevision_AndStaleRevisionConflicts()
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        var itemId = await Server.PutItemAsync(owner, vault, "v1", "n");
        using (var replace = await Server.SendAsync(HttpMethod.Put, $"{VaultKit.Base}/{vault.Id}/items/{itemId}", WithRevision(VaultKit.ItemBody(vault, itemId, "v2", "n"), 1), owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, replace.StatusCode);
            Assert.Equal(2, (await replace.JsonAsync()).GetProperty("revision").GetInt32());
        }

        using var stale = await Server.SendAsync(HttpMethod.Put, $"{VaultKit.Base}/{vault.Id}/items/{itemId}", WithRevision(VaultKit.ItemBody(vault, itemId, "v3", "n"), 1), owner.AccessToken);
        await stale.ExpectProblemAsync(HttpStatusCode.Conflict, "revision-conflict");
        Assert.Equal(2, (await stale.JsonAsync()).GetProperty("currentRevision").GetInt32());
        using var get = await Server.SendAsync(HttpMethod.Get, $"{VaultKit.Base}/{vault.Id}/items/{itemId}", bearer: owner.AccessToken);
        Assert.Equal("v2", VaultKit.OpenField(vault.VaultKey, vault.Id, itemId, "title", (await get.JsonAsync()).GetProperty("title").GetString()!));
    }

    [Fact]
    public async Task Quota_CountsEncryptedBytes_AndRefusesTheWriteThatExceedsIt()
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        var itemId = await Server.PutItemAsync(owner, vault, "t", "n");
        using (var fits = await Server.PutFileAsync(owner, vault, itemId, VaultKit.NewId(), RandomNumberGenerator.GetBytes(200_000)))
        {
            Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        }

        var fileId = VaultKit.NewId();
        using (var over = await Server.PutFileAsync(owner, vault, itemId, fileId, RandomNumberGenerator.GetBytes(100_000)))
        {
            await over.ExpectProblemAsync(HttpStatusCode.RequestEntityTooLarge, "quota-exceeded");
        }

        using var get = await Server.SendAsync(HttpMethod.Get, $"{VaultKit.Base}/{vault.Id}", bearer: owner.AccessToken);
        var used = (await get.JsonAsync()).GetProperty("usedBytes").GetInt64();
        Assert.InRange(used, 200_000, 201_000);
        using var missing = await Server.SendAsync(HttpMethod.Get, $"{VaultKit.Base}/{vault.Id}/items/{itemId}/files/{fileId}", bearer: owner.AccessToken);
        await missing.ExpectProblemAsync(HttpStatusCode.NotFound, "file-not-found");
    }

    [Fact]
    public async Task File_RoundTrips_AndDeleteRemovesIt()
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        var itemId = await Server.PutItemAsync(owner, vault, "t", "n");
        var fileId = VaultKit.NewId();
        var content = RandomNumberGenerator.GetBytes(5000);
        using (var put = await Server.PutFileAsync(owner, vault, itemId, fileId, content))
        {
            Assert.Equal(5000, (await put.JsonAsync()).GetProperty("size").GetInt64());
        }

        using (var dup = await Server.PutFileAsync(owner, vault, itemId, fileId, content))
        {
            await dup.ExpectProblemAsync(HttpStatusCode.Conflict, "already-exists");
        }

        var path = $"{VaultKit.Base}/{vault.Id}/items/{itemId}/files/{fileId}";
        using (var get = await Server.SendAsync(HttpMethod.Get, path, bearer: owner.AccessToken))
        {
            Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
        }

        using (var del = await Server.SendAsync(HttpMethod.Delete, path, bearer: owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        }

        using var gone = await Server.SendAsync(HttpMethod.Get, path, bearer: owner.AccessToken);
        await gone.ExpectProblemAsync(HttpStatusCode.NotFound, "file-not-found");
        Assert.False(Directory.Exists(Path.Combine(Server.DataDirectory, "blobs", "vault", vault.Id, fileId)));
    }

    [Fact]
    public async Task File_WithMalformedNameHeader_Is400()
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        var itemId = await Server.PutItemAsync(owner, vault, "t", "n");
        using var put = await Server.PutFileAsync(owner, vault, itemId, VaultKit.NewId(), [1, 2, 3], name: "holiday.jpg");
        await put.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-ciphertext");
    }

    [Theory]
    [InlineData(86399, 3600, "invalid-interval")]
    [InlineData(31536001, 3600, "invalid-interval")]
    [InlineData(86400, 3599, "invalid-grace")]
    [InlineData(86400, 7776001, "invalid-grace")]
    public async Task Switch_OutOfBounds_Is400(long interval, long grace, string code)
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        using var put = await Server.SendAsync(HttpMethod.Put, $"{VaultKit.Base}/{vault.Id}/switch", new { intervalSeconds = interval, graceSeconds = grace }, owner.AccessToken);
        await put.ExpectProblemAsync(HttpStatusCode.BadRequest, code);
    }

    [Theory]
    [InlineData(3600, 3600, "The check-in interval must be at least 1 day and at most 365 days")]
    [InlineData(86400, 60, "The grace period must be at least 1 hour and at most 90 days")]
    public async Task Switch_OutOfBounds_DetailSaysTheRangeInDaysAndHours(long interval, long grace, string detail)
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        using var put = await Server.SendAsync(HttpMethod.Put, $"{VaultKit.Base}/{vault.Id}/switch", new { intervalSeconds = interval, graceSeconds = grace }, owner.AccessToken);

        var problem = JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement;
        Assert.StartsWith(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not an address", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid-email")]
    [InlineData("a@example.org", "AAAA", "invalid-delivery-key")]
    [InlineData("a@example.org", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid-delivery-key")]
    public async Task Recipient_BadInput_Is400(string email, string deliveryKey, string code)
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        var id = VaultKit.NewId();
        using var post = await Server.PostAsync($"{VaultKit.Base}/{vault.Id}/recipients",
            new { id, email, escrow = VaultKit.Seal(RandomNumberGenerator.GetBytes(32), vault.VaultKey, "x"), deliveryKey }, owner.AccessToken);
        await post.ExpectProblemAsync(HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task DeleteVault_RemovesEverything_AndAccountExportListsVaults()
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        var kept = await Server.CreateVaultAsync(owner);
        var itemId = await Server.PutItemAsync(owner, vault, "t", "n");
        using (await Server.PutFileAsync(owner, vault, itemId, VaultKit.NewId(), [1, 2, 3]))
        {
        }

        await Server.AddRecipientAsync(owner, vault, IdentityKit.NewEmail("r"));
        await Server.ArmAsync(owner, vault, TimeSpan.FromDays(1), TimeSpan.FromHours(1));
        using (var del = await Server.SendAsync(HttpMethod.Delete, $"{VaultKit.Base}/{vault.Id}", bearer: owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        }

        foreach (var table in new[] { "VaultItems", "VaultFiles", "VaultRecipients", "VaultSwitches" })
        {
            Assert.DoesNotContain(await Server.ReadRowsAsync(table), r => (string)r["VaultId"]! == vault.Id);
        }

        Assert.False(Directory.Exists(Path.Combine(Server.DataDirectory, "blobs", "vault", vault.Id)));
        using var list = await Server.SendAsync(HttpMethod.Get, VaultKit.Base, bearer: owner.AccessToken);
        var ids = (await list.JsonAsync()).GetProperty("vaults").EnumerateArray().Select(v => v.GetProperty("id").GetString()).ToList();
        Assert.Equal([kept.Id], ids);
    }

    [Fact]
    public async Task PutItem_AboveTheServerWideBodyLimit_UpToMaxItemBytes_IsAccepted_AndAboveIs413()
    {
        await using var server = await VaultKit.StartVaultServerAsync(o => o.Settings["Veil:Vault:MaxItemBytes"] = "3145728");
        var owner = await server.RegisterOwnerAsync();
        var vault = await server.CreateVaultAsync(owner);
        var value = new string('x', 60_000);
        var large = Enumerable.Range(0, 30).Select(i => ($"label {i}", value)).ToArray(); // ~2.4 MiB of JSON
        var itemId = await server.PutItemAsync(owner, vault, "big", "n", large);
        using (var get = await server.SendAsync(HttpMethod.Get, $"{VaultKit.Base}/{vault.Id}/items/{itemId}", bearer: owner.AccessToken))
        {
            Assert.Equal(30, (await get.JsonAsync()).GetProperty("fields").GetArrayLength());
        }

        var tooLarge = Enumerable.Range(0, 45).Select(i => ($"label {i}", value)).ToArray(); // ~3.6 MiB
        var id = VaultKit.NewId();
        using var put = await server.SendAsync(HttpMethod.Put, $"{VaultKit.Base}/{vault.Id}/items/{id}", VaultKit.ItemBody(vault, id, "t", "n", tooLarge), owner.AccessToken);
        await put.ExpectProblemAsync(HttpStatusCode.RequestEntityTooLarge, "body-too-large");
    }

    private static Dictionary<string, object?> WithRevision(object body, int revision)
    {
        var json = System.Text.Json.JsonSerializer.SerializeToElement(body, IdentityKit.Json);
        var dict = json.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
        dict["revision"] = revision;
        return dict;
    }
}
