// Issue 22: three Veil nodes on one PostgreSQL database and one S3 bucket (s3rver), behind a real nginx on loopback
// that balances round robin, streams bodies and passes WebSocket upgrades through. One set of servers for the class:
// starting three nodes is the expensive part, and each test uses its own users and drops.
using System.Diagnostics;
using System.Net;
using Veil.Server.Tests.Chat;
using Veil.Server.Tests.Drop;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.ScaleOut;

public sealed class ScaleOutFixture : IAsyncLifetime
{
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
                o.Settings["Veil:TrustedProxies:0"] = "127.0.0.1/32"; // nginx
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

public sealed class ScaleOutTests(ScaleOutFixture fixture) : IClassFixture<ScaleOutFixture>
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
}
