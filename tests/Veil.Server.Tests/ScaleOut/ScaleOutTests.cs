// Issue 22: three Veil nodes on one PostgreSQL database and one S3 bucket (s3rver), behind a real nginx on loopback
// that balances round robin, streams bodies and passes WebSocket upgrades through. One set of servers for the class:
// starting three nodes is the expensive part, and each test uses its own users and drops.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Tests.Chat;
using Veil.Server.Tests.Drop;
using Veil.Server.Tests.Identity;
using Veil.Server.Platform.RateLimiting;
using Veil.Server.Tests.Kit;
using Veil.Server.Tests.Vault;
using Xunit.Abstractions;

namespace Veil.Server.Tests.ScaleOut;

public sealed class ScaleOutFixture : IAsyncLifetime
{
    public const string SignInTargetPolicy = "identity-signin-target";
    public const string PreloginPolicy = "identity-prelogin";
    public const int SignInTargetLimit = 6;
    public const int PreloginLimit = 10;

    private readonly List<VeilTestServer> _nodes = [];

    public S3rver? S3 { get; private set; }

    public Nginx? Balancer { get; private set; }

    public IReadOnlyList<VeilTestServer> Nodes => _nodes;

    /// <summary>A client of the balancer (what users reach).</summary>
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (TestDatabase.ChosenProvider != "postgres")
        {
            return; // the tests are skipped on SQLite (one node); start nothing
        }

        S3 = await S3rver.StartAsync();
        if (!S3.Available)
        {
            return;
        }

        for (var i = 0; i < 3; i++)
        {
            _nodes.Add(await ChatKit.StartChatServerAsync(nodeOf: i == 0 ? null : _nodes[0], configure: o =>
            {
                o.Settings["Veil:Drop:PartSizeBytes"] = "16384";
                o.Settings["Veil:TrustedProxies:0"] = "127.0.0.1/32"; // nginx (and the tests that play a proxy)
                o.Settings[$"Veil:RateLimits:{SignInTargetPolicy}:PermitLimit"] = SignInTargetLimit.ToString(CultureInfo.InvariantCulture);
                o.Settings[$"Veil:RateLimits:{PreloginPolicy}:PermitLimit"] = PreloginLimit.ToString(CultureInfo.InvariantCulture);
                foreach (var (key, value) in S3.Settings)
                {
                    o.Settings[key] = value;
                }
            }));
        }

        Balancer = await Nginx.StartAsync(_nodes.Select(n => n.BaseAddress));
        Client = new HttpClient { BaseAddress = Balancer.Address };
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (Balancer is not null)
        {
            await Balancer.DisposeAsync();
        }

        // The first node owns the database and data directory: it goes last.
        for (var i = _nodes.Count - 1; i >= 0; i--)
        {
            await _nodes[i].DisposeAsync();
        }

        if (S3 is not null)
        {
            await S3.DisposeAsync();
        }
    }
}

public sealed class ScaleOutTests(ScaleOutFixture fixture, ITestOutputHelper output) : IClassFixture<ScaleOutFixture>
{
    private static byte[] Plaintext(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 3 + 1))];

    private bool Ready => fixture.Balancer is not null;

    [PostgresFact]
    public async Task Drop_UploadedThroughNode1_DownloadsThroughNode3_AndThroughTheBalancer()
    {
        if (!Ready) return;
        var (drop, ciphertext) = await new DropApi(fixture.Nodes[0].Client).ShareAsync(Plaintext(50_000));

        using (var third = await new DropApi(fixture.Nodes[2].Client).ContentAsync(drop.Id))
        {
            Assert.Equal(HttpStatusCode.OK, third.StatusCode);
            Assert.Equal(ciphertext.Content, await third.Content.ReadAsByteArrayAsync());
        }

        // Through nginx, the parts of a second drop land on every node in turn; any node serves the whole.
        var balanced = new DropApi(fixture.Client);
        var (spread, spreadCiphertext) = await balanced.ShareAsync(Plaintext(80_000));
        Assert.True(spread.PartCount >= 3);
        using var whole = await balanced.ContentAsync(spread.Id);
        Assert.Equal(spreadCiphertext.Content, await whole.Content.ReadAsByteArrayAsync());
    }

    [PostgresFact]
    public async Task VaultFile_UploadedThroughNode1_DownloadsThroughNode3()
    {
        if (!Ready) return;
        var (first, third) = (fixture.Nodes[0], fixture.Nodes[2]);
        var owner = await first.RegisterOwnerAsync();
        var vault = await first.CreateVaultAsync(owner);
        var itemId = await first.PutItemAsync(owner, vault, "t", "n");
        var fileId = VaultKit.NewId();
        var content = RandomNumberGenerator.GetBytes(100_000);
        using (var put = await first.PutFileAsync(owner, vault, itemId, fileId, content))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        using var get = await third.SendAsync(HttpMethod.Get, $"{VaultKit.Base}/{vault.Id}/items/{itemId}/files/{fileId}", bearer: owner.AccessToken);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [PostgresFact]
    public async Task DownloadLimitOfOne_TwoNodesRacing_OnlyOneDownloadSucceeds()
    {
        if (!Ready) return;
        var (drop, ciphertext) = await new DropApi(fixture.Nodes[0].Client).ShareAsync(Plaintext(5000), maxDownloads: 1);
        var racers = new[] { new DropApi(fixture.Nodes[1].Client), new DropApi(fixture.Nodes[2].Client) };

        var attempts = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var response = await racers[i % 2].ContentAsync(drop.Id);
            return (response.StatusCode, Body: await response.Content.ReadAsByteArrayAsync());
        }));

        var winner = Assert.Single(attempts, a => a.StatusCode == HttpStatusCode.OK);
        Assert.Equal(ciphertext.Content, winner.Body);
        Assert.All(attempts.Where(a => a.StatusCode != HttpStatusCode.OK), a => Assert.Equal(HttpStatusCode.Gone, a.StatusCode));
    }

    [PostgresFact]
    public async Task SessionRevokedOnNode2_ItsAccessTokenFailsOnNodes1And3_WithinOneSecond()
    {
        if (!Ready) return;
        var user = await fixture.Nodes[0].RegisterUserAsync();
        var other = await fixture.Nodes[1].LoginAsync(user.Email, user.AuthToken, "second device");
        foreach (var node in fixture.Nodes)
        {
            using var before = await node.SendAsync(HttpMethod.Get, "/api/v1/account/sessions", bearer: user.AccessToken);
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (var revoke = await fixture.Nodes[1].SendAsync(HttpMethod.Delete, $"/api/v1/account/sessions/{user.SessionId}", bearer: other.AccessToken))
        {
            Assert.True(revoke.IsSuccessStatusCode, $"revoke: {(int)revoke.StatusCode}");
        }

        // Every node checks the session row on each request (no per-node cache): the very next request fails.
        var clock = Stopwatch.StartNew();
        foreach (var node in new[] { fixture.Nodes[0], fixture.Nodes[2] })
        {
            using var after = await node.SendAsync(HttpMethod.Get, "/api/v1/account/sessions", bearer: user.AccessToken);
            Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"{clock.Elapsed.TotalMilliseconds:F0} ms");
        using var kept = await fixture.Nodes[2].SendAsync(HttpMethod.Get, "/api/v1/account/sessions", bearer: other.AccessToken);
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
    }

    [PostgresFact]
    public async Task ChatSockets_ThroughTheBalancer_LandOnDifferentNodes_AndAMessageCrosses()
    {
        if (!Ready) return;
        var (_, bob, aliceDevice, bobDevice) = await fixture.Nodes[0].PairAsync();

        // Round robin: consecutive upgrades go to consecutive nodes, so the two sockets are on different nodes.
        await using var alice = await ChatKit.ConnectAsync(fixture.Balancer!.Address, aliceDevice);
        await using var bobSocket = await ChatKit.ConnectAsync(fixture.Balancer.Address, bobDevice);
        var answer = await alice.SendAndAnswerAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [bobDevice], "through nginx"));

        Assert.Equal("sent", answer.GetProperty("type").GetString());
        Assert.Equal("through nginx@1", ChatKit.BodyText(await bobSocket.ReceiveAsync()));
    }

    [PostgresFact]
    public async Task LoginFloodOnOneAddress_SpreadOverTheNodes_HitsOneSharedLimit()
    {
        if (!Ready) return;
        var user = await fixture.Nodes[0].RegisterUserAsync(); // its sign-in took one permit

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            var node = fixture.Nodes[i % 3];
            using var response = await node.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = user.AuthToken, clientLabel = "flood", tokenTransport = "body" });
            answers.Add(response.StatusCode);
        }

        // Per node, each would have allowed its own 6 (node 1 five): all 12 would pass. Shared: 5 in all.
        Assert.Equal(ScaleOutFixture.SignInTargetLimit - 1, answers.Count(a => a == HttpStatusCode.OK));
        Assert.All(answers.Where(a => a != HttpStatusCode.OK), a => Assert.Equal(HttpStatusCode.TooManyRequests, a));
    }

    [PostgresFact]
    public async Task IpFloodSpreadOverTheNodes_HitsOneSharedLimit_AndAnotherAddressIsUntouched()
    {
        if (!Ready) return;
        // The test plays the trusted proxy (loopback) and names the client, as nginx does.
        var flooder = "198.51.100." + RandomNumberGenerator.GetInt32(1, 255).ToString(CultureInfo.InvariantCulture);
        async Task<HttpStatusCode> PreloginAsync(VeilTestServer node, string client)
        {
            using var response = await node.SendAsync(HttpMethod.Post, "/api/v1/auth/prelogin", new { email = IdentityKit.NewEmail() },
                configure: r => r.Headers.Add("X-Forwarded-For", client));
            return response.StatusCode;
        }

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 15; i++)
        {
            answers.Add(await PreloginAsync(fixture.Nodes[i % 3], flooder));
        }

        Assert.Equal(ScaleOutFixture.PreloginLimit, answers.Count(a => a == HttpStatusCode.OK));
        Assert.All(answers.Skip(ScaleOutFixture.PreloginLimit), a => Assert.Equal(HttpStatusCode.TooManyRequests, a));
        Assert.Equal(HttpStatusCode.OK, await PreloginAsync(fixture.Nodes[1], "2001:db8::" + RandomNumberGenerator.GetInt32(1, 65535).ToString("x", CultureInfo.InvariantCulture)));
    }

    [PostgresFact]
    public async Task SharedCounter_CostsOneDatabaseRoundTripPerRequest()
    {
        if (!Ready) return;
        var counter = fixture.Nodes[0].Services.GetRequiredService<SharedRateLimitCounter>();
        var options = new RateLimitPolicyOptions { Key = RateLimitKey.Target, PermitLimit = 1_000_000, Window = TimeSpan.FromMinutes(1) };
        for (var i = 0; i < 20; i++)
        {
            await counter.TakeAsync("measure", "warm", options, default);
        }

        const int Takes = 300;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Takes; i++)
        {
            Assert.Null(await counter.TakeAsync("measure", "p" + (i % 50).ToString(CultureInfo.InvariantCulture), options, default));
        }

        var each = clock.Elapsed.TotalMilliseconds / Takes;
        output.WriteLine($"shared rate-limit take on PostgreSQL: {each:F2} ms each, sequential ({Takes} takes over 50 partitions)");
        Assert.True(each < 50, $"{each:F2} ms per take");
    }
}
