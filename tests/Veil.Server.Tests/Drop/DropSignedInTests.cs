// Drop with real Identity users: registered and signed in over HTTP, sending their access token
// (or API key) as Authorization: Bearer, exactly as the CLI and the browser do.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Drop;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Drop;

public sealed class DropSignedInTests
{
    private const string NoOwnerToken = "";

    [Fact]
    public async Task SignedInOwner_UploadsAndManagesTheDrop_WithoutTheOwnerToken()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var owner = new DropApi(server.Client).As((await server.RegisterUserAsync()).AccessToken);
        var drop = await owner.CreateAsync(DropApi.ContentSizeFor(100));
        var ciphertext = DropApi.Encrypt(drop.Id, new byte[100], "a.txt");

        using (var part = await owner.PutPartAsync(drop, 0, ciphertext.Content, ownerToken: NoOwnerToken))
        {
            Assert.Equal(HttpStatusCode.OK, part.StatusCode);
        }

        using (var metadata = await owner.SendOwnerAsync(HttpMethod.Put, drop, "/metadata", new ByteArrayContent(ciphertext.Metadata), NoOwnerToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, metadata.StatusCode);
        }

        using (var finalized = await owner.SendOwnerAsync(HttpMethod.Post, drop, "/finalize", ownerToken: NoOwnerToken))
        {
            Assert.Equal(HttpStatusCode.OK, finalized.StatusCode);
        }

        using (var changed = await owner.SendOwnerAsync(HttpMethod.Patch, drop, "", JsonContent.Create(new { maxDownloads = 7 }), NoOwnerToken))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            Assert.Equal(7, (await changed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("maxDownloads").GetInt32());
        }

        using (var deleted = await owner.SendOwnerAsync(HttpMethod.Delete, drop, "", ownerToken: NoOwnerToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var gone = await owner.InfoAsync(drop.Id);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task OwnedDropList_ShowsTheCallersDropsNewestFirst_NotOthersOrAnonymousOnes_AndNeedsSignIn()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var owner = new DropApi(server.Client).As(user.AccessToken);
        var (first, _) = await owner.ShareAsync(new byte[100], maxDownloads: 5);
        server.Time.Advance(TimeSpan.FromMinutes(1));
        var passwordWrap = new { salt = Veil.Crypto.Primitives.CryptoRandom.ToBase64Url(new byte[32]), wrappedKey = Veil.Crypto.Primitives.CryptoRandom.ToBase64Url(new byte[61]) };
        var second = await owner.CreateAsync(DropApi.ContentSizeFor(200), password: passwordWrap);
        var otherUser = owner.As((await server.RegisterUserAsync()).AccessToken);
        await otherUser.ShareAsync(new byte[50]);
        await new DropApi(server.Client).ShareAsync(new byte[60]);

        using var listed = await server.SendAsync(HttpMethod.Get, "/api/v1/drops", bearer: user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var drops = (await listed.JsonAsync()).GetProperty("drops").EnumerateArray().ToList();

        // Only the caller's, newest first; an unfinished upload is listed as such; nothing in it can name a file.
        Assert.Equal([second.Id, first.Id], drops.Select(d => d.GetProperty("id").GetString()!).ToArray());
        var firstJson = drops[1];
        Assert.Equal(5, firstJson.GetProperty("maxDownloads").GetInt32());
        Assert.Equal(0, firstJson.GetProperty("downloads").GetInt32());
        Assert.Equal("available", firstJson.GetProperty("state").GetString());
        Assert.Equal(DropApi.ContentSizeFor(100), firstJson.GetProperty("contentSize").GetInt64());
        Assert.False(firstJson.GetProperty("passwordProtected").GetBoolean());
        Assert.Equal(server.Time.GetUtcNow() - TimeSpan.FromMinutes(1) + TimeSpan.FromHours(1), firstJson.GetProperty("expiresAt").GetDateTimeOffset());
        Assert.True(drops[0].GetProperty("passwordProtected").GetBoolean());
        Assert.Equal("uploading", drops[0].GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, drops[0].GetProperty("expiresAt").ValueKind);
        // Sent without a name key: neither the key nor the metadata ciphertext is listed.
        Assert.All(drops, d => Assert.Equal(JsonValueKind.Null, d.GetProperty("nameKey").ValueKind));
        Assert.All(drops, d => Assert.Equal(JsonValueKind.Null, d.GetProperty("metadata").ValueKind));

        using var anonymous = await server.SendAsync(HttpMethod.Get, "/api/v1/drops");
        await anonymous.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task AnotherSignedInUser_CannotManageTheDrop_AndLearnsNothingAboutIt()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var owner = new DropApi(server.Client).As((await server.RegisterUserAsync()).AccessToken);
        var (drop, _) = await owner.ShareAsync(new byte[321], maxDownloads: 5);
        var other = owner.As((await server.RegisterUserAsync()).AccessToken);

        (HttpMethod Method, string Suffix, HttpContent? Body)[] attempts =
        [
            (HttpMethod.Get, "/owner", null),
            (HttpMethod.Get, "/parts", null),
            (HttpMethod.Patch, "", JsonContent.Create(new { maxDownloads = 1 })),
            (HttpMethod.Put, "/metadata", new ByteArrayContent([1, 2, 3])),
            (HttpMethod.Post, "/finalize", null),
            (HttpMethod.Delete, "", null),
        ];
        foreach (var (method, suffix, body) in attempts)
        {
            using var response = await other.SendOwnerAsync(method, drop, suffix, body, NoOwnerToken);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal("not-owner", JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
            Assert.DoesNotContain("downloads", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(DropApi.ContentSizeFor(321).ToString(System.Globalization.CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
        }

        var stats = await owner.OwnerStatsAsync(drop);
        Assert.Equal(5, stats.GetProperty("maxDownloads").GetInt32());
        Assert.Equal("available", stats.GetProperty("state").GetString());
    }

    [Fact]
    public async Task OwnedDropList_ReturnsTheOwnersNameKeyAndTheMetadataItOpens_AsStored()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var owner = new DropApi(server.Client).As((await server.RegisterUserAsync()).AccessToken);
        // Opaque to the server: any v1-shaped string is stored and handed back unchanged (the client checks it).
        var nameKey = "v1." + Veil.Crypto.Primitives.CryptoRandom.ToBase64Url(Veil.Crypto.Primitives.CryptoRandom.Bytes(72));
        using var created = await owner.CreateRawAsync(new { contentSize = DropApi.ContentSizeFor(100), expiresInSeconds = 3600, ownerNameKey = nameKey });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var drop = (await created.Content.ReadFromJsonAsync<CreatedDrop>())!;
        var ciphertext = DropApi.Encrypt(drop.Id, new byte[100], "name-key-canary.txt");
        await owner.UploadAllAsync(drop, ciphertext);
        var (plain, _) = await owner.ShareAsync(new byte[10]);

        var drops = await ListAsync(owner);
        var kept = drops.Single(d => d.GetProperty("id").GetString() == drop.Id);
        Assert.Equal(nameKey, kept.GetProperty("nameKey").GetString());
        Assert.Equal(ciphertext.Metadata, System.Buffers.Text.Base64Url.DecodeFromChars(kept.GetProperty("metadata").GetString()));
        var without = drops.Single(d => d.GetProperty("id").GetString() == plain.Id);
        Assert.Equal(JsonValueKind.Null, without.GetProperty("nameKey").ValueKind);

        // Nobody else learns it: the public info and the owner stats carry no name key.
        using var info = await owner.InfoAsync(drop.Id);
        Assert.DoesNotContain(nameKey, await info.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, "v1.AAAA")]
    [InlineData(true, "v1.")]
    [InlineData(true, "1.AAAA")]
    [InlineData(true, "vx.AAAA")]
    [InlineData(true, "v1.AA+A")]
    [InlineData(true, "v1.AA=A")]
    [InlineData(true, "")]
    public async Task Create_WithANameKey_FromAnAnonymousSenderOrMalformed_Is400_AndCreatesNoDrop(bool signedIn, string nameKey)
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var api = new DropApi(server.Client);
        if (signedIn)
        {
            api = api.As((await server.RegisterUserAsync()).AccessToken);
        }

        using var response = await api.CreateRawAsync(new { contentSize = 100, expiresInSeconds = 3600, ownerNameKey = nameKey });
        await response.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-name-key");
        Assert.Equal(0, await CountDropsAsync(server));
    }

    [Fact]
    public async Task Create_WithANameKeyLongerThan256Characters_Is400()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var owner = new DropApi(server.Client).As((await server.RegisterUserAsync()).AccessToken);
        using var response = await owner.CreateRawAsync(new { contentSize = 100, expiresInSeconds = 3600, ownerNameKey = "v1." + new string('A', 254) });
        await response.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-name-key");
        Assert.Equal(0, await CountDropsAsync(server));
    }

    private static async Task<List<JsonElement>> ListAsync(DropApi owner)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/drops");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", owner.Bearer);
        using var listed = await owner.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        return [.. (await listed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("drops").EnumerateArray()];
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("ak_0123456789abcdef0123456789abcdef")]
    public async Task Create_WithAnInvalidBearer_Is401_AndCreatesNoDrop(string credential)
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        using var response = await new DropApi(server.Client).As(credential).CreateRawAsync(new { contentSize = 100, expiresInSeconds = 3600 });
        await response.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(0, await CountDropsAsync(server));
    }

    [Fact]
    public async Task Create_WithARevokedApiKey_Is401_NeverAnAnonymousDrop()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var key = await server.CreateApiKeyAsync(user);
        using (var list = await server.SendAsync(HttpMethod.Get, "/api/v1/account/api-keys", bearer: user.AccessToken))
        {
            var id = (await list.JsonAsync()).EnumerateArray().Single().GetProperty("id").GetGuid();
            using var revoke = await server.SendAsync(HttpMethod.Delete, $"/api/v1/account/api-keys/{id}", bearer: user.AccessToken);
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        using var response = await new DropApi(server.Client).As(key).CreateRawAsync(new { contentSize = 100, expiresInSeconds = 3600 });
        await response.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(0, await CountDropsAsync(server));
    }

    [Fact]
    public async Task ApiKey_CreatesDrops_ThatItsAccountsSessionManages()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var script = new DropApi(server.Client).As(await server.CreateApiKeyAsync(user));
        var (drop, _) = await script.ShareAsync(new byte[50]);

        using var stats = await script.As(user.AccessToken).SendOwnerAsync(HttpMethod.Get, drop, "/owner", ownerToken: NoOwnerToken);
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
    }

    [Fact]
    public async Task ExpiredAccessToken_Is401_OnCreateAndOnTheOwnersEndpoints()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var owner = new DropApi(server.Client).As((await server.RegisterUserAsync()).AccessToken);
        var drop = await owner.CreateAsync(100);

        server.Time.Advance(TimeSpan.FromMinutes(16)); // access tokens live 15 minutes
        using (var create = await owner.CreateRawAsync(new { contentSize = 100, expiresInSeconds = 3600 }))
        {
            await create.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        }

        using var stats = await owner.SendOwnerAsync(HttpMethod.Get, drop, "/owner", ownerToken: NoOwnerToken);
        await stats.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(1, await CountDropsAsync(server));
    }

    [Fact]
    public async Task AnonymousCaller_StillUsesTheOwnerToken_AndPublicEndpointsIgnoreCredentials()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var anonymous = new DropApi(server.Client);
        var (drop, ciphertext) = await anonymous.ShareAsync(new byte[200]);
        Assert.Equal(0, (await anonymous.OwnerStatsAsync(drop)).GetProperty("downloads").GetInt32());

        // Info and content take no credentials at all: a stale header from a browser extension or an
        // old script does not stop a download.
        using var download = await anonymous.As("stale").ContentAsync(drop.Id);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(ciphertext.Content, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AccountDeletion_RemovesTheUsersDropsAndTheirBlobs_AndNobodyElses()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var mine = new DropApi(server.Client).As(user.AccessToken);
        var (finished, _) = await mine.ShareAsync(new byte[300]);
        var uploading = await mine.CreateAsync(DropApi.ContentSizeFor(300));
        using (await mine.PutPartAsync(uploading, 0, new byte[DropApi.ContentSizeFor(300)]))
        {
        }

        var (someoneElses, _) = await new DropApi(server.Client).As((await server.RegisterUserAsync()).AccessToken).ShareAsync(new byte[300]);
        string Folder(CreatedDrop d) => Path.Combine(server.DataDirectory, "blobs", "drops", d.Id);
        Assert.True(Directory.Exists(Folder(finished)));
        Assert.True(Directory.Exists(Folder(uploading)));

        using (var delete = await server.SendAsync(HttpMethod.Delete, "/api/v1/account", bearer: user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        var anonymous = new DropApi(server.Client);
        foreach (var drop in new[] { finished, uploading })
        {
            using var info = await anonymous.InfoAsync(drop.Id);
            Assert.Equal(HttpStatusCode.NotFound, info.StatusCode);
            Assert.False(Directory.Exists(Folder(drop)));
        }

        using var kept = await anonymous.InfoAsync(someoneElses.Id);
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        Assert.True(Directory.Exists(Folder(someoneElses)));
    }

    [Fact]
    public async Task AccountExport_ListsTheUsersDrops_WithSizesExpiryAndDownloads_AndNoSecrets()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var mine = new DropApi(server.Client).As(user.AccessToken);
        var (drop, _) = await mine.ShareAsync(new byte[400], maxDownloads: 3);
        using (await mine.ContentAsync(drop.Id))
        {
        }

        await new DropApi(server.Client).ShareAsync(new byte[10]); // anonymous: not the user's

        using var export = await server.SendAsync(HttpMethod.Get, "/api/v1/account/export", bearer: user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        var text = await export.Content.ReadAsStringAsync();
        var item = Assert.Single(JsonDocument.Parse(text).RootElement.GetProperty("modules").GetProperty("drop").GetProperty("drops").EnumerateArray());
        Assert.Equal(drop.Id, item.GetProperty("id").GetString());
        Assert.Equal(DropApi.ContentSizeFor(400), item.GetProperty("contentSize").GetInt64());
        Assert.Equal(1, item.GetProperty("downloads").GetInt32());
        Assert.Equal(3, item.GetProperty("maxDownloads").GetInt32());
        Assert.Equal(JsonValueKind.String, item.GetProperty("expiresAt").ValueKind);
        Assert.DoesNotContain(drop.OwnerToken, text, StringComparison.Ordinal);
    }

    private static async Task<int> CountDropsAsync(VeilTestServer server)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<VeilDbContext>().Set<DropRecord>().CountAsync();
    }
}
