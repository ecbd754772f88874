// Device registration and prekeys through real HTTP on the real server (SQLite or PostgreSQL per VEIL_TEST_DATABASE).
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Veil.Crypto.Chat;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Chat;

public sealed class ChatDeviceTests
{
    [Fact]
    public async Task RegisterDevice_CertifiedByTheAccountKey_IsListed_AndAForgedCertificateIsRefusedWithNothingStored()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var alice = await server.NewChatUserAsync();
        using var mallory = ChatAccountKey.Generate();

        using (var forged = await server.PostAsync("/api/v1/chat/devices", ChatKit.DeviceBody(alice.AccountKey, 1, 7, certifiedBy: mallory), alice.Token))
        {
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
            Assert.Equal("chat-bad-keys", (await forged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        Assert.Empty(await server.DeviceIdsAsync(alice));
        await server.AddDeviceAsync(alice, 1);
        await server.AddDeviceAsync(alice, 2);
        Assert.Equal("1,2", string.Join(',', await server.DeviceIdsAsync(alice)));

        // A device certified by another account key cannot join, even with a valid certificate of its own.
        using var other = await server.PostAsync("/api/v1/chat/devices", ChatKit.DeviceBody(mallory, 3, 7), alice.Token);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Equal("1,2", string.Join(',', await server.DeviceIdsAsync(alice)));
    }

    [Fact]
    public async Task RegisterDevice_SeventhDevice_IsRefusedWith409_AndRemovingOneMakesRoom()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var alice = await server.NewChatUserAsync();
        for (var id = 1; id <= 6; id++)
        {
            await server.AddDeviceAsync(alice, id);
        }

        using (var seventh = await server.PostAsync("/api/v1/chat/devices", ChatKit.DeviceBody(alice.AccountKey, 7, 7), alice.Token))
        {
            Assert.Equal(HttpStatusCode.Conflict, seventh.StatusCode);
            Assert.Equal("chat-device-limit", (await seventh.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        using (var removed = await server.SendAsync(HttpMethod.Delete, "/api/v1/chat/devices/3", bearer: alice.Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        await server.AddDeviceAsync(alice, 7);
        Assert.Equal("1,2,4,5,6,7", string.Join(',', await server.DeviceIdsAsync(alice)));
    }

    [Fact]
    public async Task ClaimBundles_ManyConcurrentClaims_NeverHandOutTheSameOneTimePreKeyTwice()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var bob = await server.NewChatUserAsync();
        await server.AddDeviceAsync(bob, 1, oneTimeKeys: 20);
        var claimers = new List<ChatUser>();
        for (var i = 0; i < 4; i++)
        {
            claimers.Add(await server.NewChatUserAsync());
        }

        var claimed = new ConcurrentBag<long?>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 40), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var response = await server.PostAsync($"/api/v1/chat/accounts/{bob.Id}/bundles", null, claimers[i % claimers.Count].Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var device = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("devices")[0];
            claimed.Add(device.GetProperty("oneTimePreKey") is { ValueKind: JsonValueKind.Object } key ? key.GetProperty("id").GetInt64() : null);
        });

        var ids = claimed.Where(id => id is not null).Select(id => id!.Value).ToList();
        Assert.Equal(20, ids.Count);
        Assert.Equal(20, ids.Distinct().Count());
        Assert.Equal(20, claimed.Count(id => id is null));

        using var count = await server.SendAsync(HttpMethod.Get, "/api/v1/chat/devices/1/prekeys", bearer: bob.Token);
        Assert.Equal(0, (await count.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("oneTimePreKeys").GetInt32());
    }

    [Fact]
    public async Task UploadPreKeys_BadSignedPreKeySignature_IsRefused_AndTopUpIsCounted()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var bob = await server.NewChatUserAsync();
        await server.AddDeviceAsync(bob, 1, oneTimeKeys: 2);
        using var stranger = ChatDeviceKeys.Generate();
        using var signed = stranger.CreateSignedPreKey(2);
        var badSigned = new { id = 2, publicKey = ChatPublicKey.Serialize(signed.Key.PublicKey), signature = signed.Signature };

        using (var bad = await server.SendAsync(HttpMethod.Put, "/api/v1/chat/devices/1/prekeys", new { signedPreKey = badSigned }, bob.Token))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        using var topUp = await server.SendAsync(HttpMethod.Put, "/api/v1/chat/devices/1/prekeys", new { oneTimePreKeys = ChatKit.OneTimeKeys(3, firstKeyId: 100) }, bob.Token);
        Assert.Equal(HttpStatusCode.OK, topUp.StatusCode);
        Assert.Equal(5, (await topUp.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("oneTimePreKeys").GetInt32());
    }
}
