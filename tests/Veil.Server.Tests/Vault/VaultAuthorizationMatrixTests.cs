// Vault's authorization matrix: every owner route × every kind of caller who is not the owner. A new
// route joins by adding one row. {vault}, {item}, {file}, {recipient} are user A's ids. Without
// credentials (or with bad ones) the answer is 401; with another user's valid credentials it is the
// same 404 a missing vault gives, and the owner's vault is unchanged afterwards.
using System.Net;
using System.Text.Json;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Vault;

public sealed class VaultAuthorizationFixture : IAsyncLifetime
{
    public VeilTestServer Server { get; private set; } = null!;

    public TestUser Owner { get; private set; } = null!;

    public TestVault Vault { get; private set; } = null!;

    public string ItemId { get; private set; } = "";

    public string FileId { get; private set; } = "";

    public string RecipientId { get; private set; } = "";

    public string RevokedApiKey { get; private set; } = "";

    public string ExpiredAccessToken { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = await VaultKit.StartVaultServerAsync();
        var user = await Server.RegisterUserAsync();
        RevokedApiKey = await Server.CreateApiKeyAsync(user, "to revoke");
        using (var list = await Server.SendAsync(HttpMethod.Get, "/api/v1/account/api-keys", bearer: user.AccessToken))
        {
            var id = (await list.JsonAsync()).EnumerateArray().Single().GetProperty("id").GetGuid();
            using var revoke = await Server.SendAsync(HttpMethod.Delete, $"/api/v1/account/api-keys/{id}", bearer: user.AccessToken);
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        Owner = user with { AccessToken = await Server.CreateApiKeyAsync(user, "owner") };
        ExpiredAccessToken = user.AccessToken;
        Server.Time.Advance(TimeSpan.FromMinutes(16));
        Vault = await Server.CreateVaultAsync(Owner);
        ItemId = await Server.PutItemAsync(Owner, Vault, "title", "notes");
        FileId = VaultKit.NewId();
        using (var file = await Server.PutFileAsync(Owner, Vault, ItemId, FileId, [1, 2, 3, 4]))
        {
            Assert.Equal(HttpStatusCode.Created, file.StatusCode);
        }

        RecipientId = (await Server.AddRecipientAsync(Owner, Vault, IdentityKit.NewEmail("recipient"))).Id;
        await Server.ArmAsync(Owner, Vault, TimeSpan.FromDays(30), TimeSpan.FromDays(7));
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class VaultAuthorizationMatrixTests(VaultAuthorizationFixture fixture) : IClassFixture<VaultAuthorizationFixture>
{
    private const string V = "/api/v1/vault/vaults/{vault}";

    /// <summary>Method, path, JSON body (or null). Bodies are valid where it matters, so a 404 cannot come from validation.</summary>
    public static TheoryData<string, string, string?> Routes => new()
    {
        { "GET", "/api/v1/vault/vaults/{vault}", null },
        { "DELETE", V, null },
        { "GET", V + "/items", null },
        { "GET", V + "/items/{item}", null },
        { "PUT", V + "/items/{item}", "{item-body}" },
        { "DELETE", V + "/items/{item}", null },
        { "GET", V + "/items/{item}/files/{file}", null },
        { "PUT", V + "/items/{item}/files/{newfile}", "{file-body}" },
        { "DELETE", V + "/items/{item}/files/{file}", null },
        { "GET", V + "/switch", null },
        { "PUT", V + "/switch", "{\"intervalSeconds\":86400,\"graceSeconds\":3600}" },
        { "POST", V + "/switch/checkin", "{}" },
        { "POST", V + "/switch/pause", "{}" },
        { "POST", V + "/switch/resume", "{}" },
        { "DELETE", V + "/switch", null },
        { "GET", V + "/recipients", null },
        { "POST", V + "/recipients", "{recipient-body}" },
        { "DELETE", V + "/recipients/{recipient}", null },
        { "POST", V + "/rehearse", "{}" },
    };

    /// <summary>Routes with no vault in the path: they need a signed-in caller but act on the caller's own data.</summary>
    public static TheoryData<string, string, string?> CollectionRoutes => new()
    {
        { "GET", "/api/v1/vault/vaults", null },
        { "POST", "/api/v1/vault/vaults", "{}" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    [MemberData(nameof(CollectionRoutes))]
    public async Task Route_WithoutCredentials_Is401(string method, string path, string? body) =>
        await ExpectUnauthorizedAsync(method, path, body, null);

    [Theory]
    [MemberData(nameof(Routes))]
    [MemberData(nameof(CollectionRoutes))]
    public async Task Route_WithRevokedApiKey_Is401(string method, string path, string? body) =>
        await ExpectUnauthorizedAsync(method, path, body, fixture.RevokedApiKey);

    [Theory]
    [MemberData(nameof(Routes))]
    [MemberData(nameof(CollectionRoutes))]
    public async Task Route_WithExpiredAccessToken_Is401(string method, string path, string? body) =>
        await ExpectUnauthorizedAsync(method, path, body, fixture.ExpiredAccessToken);

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Route_WithAnotherUsersCredentials_IsVaultNotFound_AndChangesNothing(string method, string path, string? body)
    {
        var server = fixture.Server;
        var before = await SnapshotAsync();
        var other = await server.RegisterOwnerAsync();
        using var response = await Send(method, path, body, other.AccessToken);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(fixture.Owner.Email, text, StringComparison.OrdinalIgnoreCase);
        await response.ExpectProblemAsync(HttpStatusCode.NotFound, "vault-not-found");
        Assert.Equal(before, await SnapshotAsync());
        Assert.Empty(server.MailTo(other.Email, "rehearsal"));
    }

    [Fact]
    public async Task List_ShowsOnlyTheCallersVaults()
    {
        var other = await fixture.Server.RegisterOwnerAsync();
        var mine = await fixture.Server.CreateVaultAsync(other);
        using var list = await fixture.Server.SendAsync(HttpMethod.Get, VaultKit.Base, bearer: other.AccessToken);
        var ids = (await list.JsonAsync()).GetProperty("vaults").EnumerateArray().Select(v => v.GetProperty("id").GetString()).ToList();
        Assert.Equal([mine.Id], ids);
    }

    // Everything the owner can see of the vault, as one string: any change by the intruder shows up.
    private async Task<string> SnapshotAsync()
    {
        var owner = fixture.Owner.AccessToken;
        var parts = new List<string>();
        foreach (var path in new[] { "", "/items", "/switch", "/recipients", $"/items/{fixture.ItemId}/files/{fixture.FileId}" })
        {
            using var response = await fixture.Server.SendAsync(HttpMethod.Get, $"{VaultKit.Base}/{fixture.Vault.Id}{path}", bearer: owner);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            parts.Add(await response.Content.ReadAsStringAsync());
        }

        return string.Join("\n", parts);
    }

    private async Task ExpectUnauthorizedAsync(string method, string path, string? body, string? bearer)
    {
        using var response = await Send(method, path, body, bearer);
        await response.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    private Task<HttpResponseMessage> Send(string method, string path, string? body, string? bearer)
    {
        var resolved = path.Replace("{vault}", fixture.Vault.Id, StringComparison.Ordinal)
            .Replace("{item}", fixture.ItemId, StringComparison.Ordinal)
            .Replace("{newfile}", VaultKit.NewId(), StringComparison.Ordinal)
            .Replace("{file}", fixture.FileId, StringComparison.Ordinal)
            .Replace("{recipient}", fixture.RecipientId, StringComparison.Ordinal);
        if (body == "{file-body}")
        {
            return fixture.Server.SendAsync(HttpMethod.Put, resolved, null, bearer, request =>
            {
                request.Content = new ByteArrayContent([9, 9, 9]);
                request.Content.Headers.ContentType = new("application/octet-stream");
                request.Headers.Add("Veil-File-Name", VaultKit.Field(fixture.Vault, fixture.ItemId, "files/x/name", "x"));
                request.Headers.Add("Veil-File-Key", VaultKit.Field(fixture.Vault, fixture.ItemId, "files/x/key", "k"));
            });
        }

        object? json = body switch
        {
            "{item-body}" => VaultKit.ItemBody(fixture.Vault, fixture.ItemId, "intruder", "intruder"),
            "{recipient-body}" => new
            {
                id = VaultKit.NewId(), email = "intruder@example.org", escrow = VaultKit.Field(fixture.Vault, "", "x", "x"),
                deliveryKey = VaultKit.B64(new byte[32]),
            },
            _ => body,
        };
        return fixture.Server.SendAsync(new HttpMethod(method), resolved, json, bearer);
    }
}
