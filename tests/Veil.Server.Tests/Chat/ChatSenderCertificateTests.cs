// GET /api/v1/chat/sender-certificate and /trust-root through the real Kestrel listener: a certificate for the caller's
// own device only, chaining to the published trust root, valid 24 hours by the server's (injected) clock; and a rotation
// of the `chat` server key changes the signing key but not the trust root clients pinned.
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Veil.Crypto.Chat;
using Veil.Crypto.Primitives;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Chat;

public sealed class ChatSenderCertificateTests
{
    [Fact]
    public async Task SenderCertificate_ForTheCallersDevice_ChainsToTheTrustRoot_AndLasts24Hours()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var alice = await server.NewChatUserAsync();
        await server.AddDeviceAsync(alice, 1);
        var trustRoot = await TrustRootAsync(server, alice);
        var identity = await IdentityKeyAsync(server, alice, 1);

        var certificate = await CertificateAsync(server, alice, 1);

        Assert.NotNull(certificate);
        Assert.Equal((alice.Id.ToString("D"), 1u), (certificate.SenderId, certificate.DeviceId));
        Assert.Equal(identity, ChatPublicKey.Serialize(certificate.IdentityKey));
        Assert.Equal(server.Time.GetUtcNow() + ChatSenderCertificate.Lifetime, certificate.Expires);
        Assert.True(certificate.Validate(trustRoot, server.Time.GetUtcNow() + ChatSenderCertificate.Lifetime - TimeSpan.FromSeconds(1)));
        Assert.False(certificate.Validate(trustRoot, server.Time.GetUtcNow() + ChatSenderCertificate.Lifetime));
        using var other = Ed25519PrivateKey.Generate();
        Assert.False(certificate.Validate(other.PublicKey, server.Time.GetUtcNow()));
    }

    [Fact]
    public async Task SenderCertificate_ForAnotherAccountsDevice_OrWithoutADevice_IsRefused()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        var (alice, _, _, _) = await server.PairAsync();

        using var notMine = await server.SendAsync(HttpMethod.Get, "/api/v1/chat/sender-certificate?deviceId=2", bearer: alice.Token);
        using var noDevice = await server.SendAsync(HttpMethod.Get, "/api/v1/chat/sender-certificate", bearer: alice.Token);

        Assert.Equal(HttpStatusCode.NotFound, notMine.StatusCode);
        Assert.Equal("chat-device-not-found", (await notMine.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, noDevice.StatusCode);
    }

    [Fact]
    public async Task ChatKeyRotated_CertificatesAreSignedByANewServerKey_UnderTheSameTrustRoot()
    {
        var v1 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var v2 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        ChatSenderCertificate before, after;
        Ed25519PublicKey rootBefore, rootAfter;
        await using (var server = await ChatKit.StartChatServerAsync(configure: o => o.Settings["Veil:Keys:chat"] = v1))
        {
            var alice = await server.NewChatUserAsync();
            await server.AddDeviceAsync(alice, 1);
            rootBefore = await TrustRootAsync(server, alice);
            before = (await CertificateAsync(server, alice, 1))!;
        }

        await using (var server = await ChatKit.StartChatServerAsync(configure: o =>
        {
            o.Settings["Veil:Keys:chat"] = "v2:" + v2;
            o.Settings["Veil:RetiredKeys:chat:1"] = v1;
        }))
        {
            var alice = await server.NewChatUserAsync();
            await server.AddDeviceAsync(alice, 1);
            rootAfter = await TrustRootAsync(server, alice);
            after = (await CertificateAsync(server, alice, 1))!;
        }

        Assert.Equal(rootBefore, rootAfter);
        Assert.Equal((1u, 2u), (before.ServerCertificateId, after.ServerCertificateId));
        Assert.NotEqual(before.ServerKey, after.ServerKey);
        Assert.True(after.Validate(rootBefore, after.Expires - TimeSpan.FromHours(1)));
    }

    private static async Task<Ed25519PublicKey> TrustRootAsync(VeilTestServer server, ChatUser user)
    {
        using var response = await server.SendAsync(HttpMethod.Get, "/api/v1/chat/trust-root", bearer: user.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Ed25519PublicKey.Import((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("trustRoot").GetBytesFromBase64());
    }

    private static async Task<ChatSenderCertificate?> CertificateAsync(VeilTestServer server, ChatUser user, int device)
    {
        using var response = await server.SendAsync(HttpMethod.Get, $"/api/v1/chat/sender-certificate?deviceId={device}", bearer: user.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return ChatSenderCertificate.TryParse((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("certificate").GetBytesFromBase64());
    }

    private static async Task<byte[]> IdentityKeyAsync(VeilTestServer server, ChatUser user, int device)
    {
        using var response = await server.SendAsync(HttpMethod.Get, $"/api/v1/chat/accounts/{user.Id}/devices", bearer: user.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var devices = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("devices");
        return devices.EnumerateArray().Single(d => d.GetProperty("deviceId").GetInt32() == device).GetProperty("identityKey").GetBytesFromBase64();
    }
}
