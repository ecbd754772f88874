using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Drop;
using Veil.Server.Platform.Jobs;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Drop;

public sealed class DropPolicyTests
{
    [Fact]
    public async Task Create_AnonymousDisabled_IsRefused_ButASignedInUserMayCreate()
    {
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Drop:Anonymous:Enabled"] = "false";
            o.ConfigureServices = TestUser.Register;
        });
        var api = new DropApi(server.Client);
        using var anonymous = await api.CreateRawAsync(new { contentSize = 100, expiresInSeconds = 3600 });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("anonymous-disabled", await DropApi.ProblemCodeAsync(anonymous));

        server.Client.DefaultRequestHeaders.Add(TestUser.Header, "user-1");
        using var signedIn = await api.CreateRawAsync(new { contentSize = 100, expiresInSeconds = 3600 });
        Assert.Equal(HttpStatusCode.Created, signedIn.StatusCode);
    }

    [Fact]
    public async Task Create_AboveTheMaximumSize_IsTooLarge()
    {
        await using var server = await VeilTestServer.StartAsync(o => o.Settings["Veil:Drop:Anonymous:MaxDropBytes"] = "1000");
        using var response = await new DropApi(server.Client).CreateRawAsync(new { contentSize = 1001, expiresInSeconds = 3600 });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("too-large", await DropApi.ProblemCodeAsync(response));
    }

    [Fact]
    public async Task Create_DefaultMaximum_Is5GiBForUsers_And1GiBAnonymous()
    {
        await using var server = await VeilTestServer.StartAsync(o => o.ConfigureServices = TestUser.Register);
        var api = new DropApi(server.Client);
        using (var anonymous = await api.CreateRawAsync(new { contentSize = (1L << 30) + 1, expiresInSeconds = 3600 }))
        {
            Assert.Equal("too-large", await DropApi.ProblemCodeAsync(anonymous));
        }

        server.Client.DefaultRequestHeaders.Add(TestUser.Header, "user-2");
        using (var fits = await api.CreateRawAsync(new { contentSize = 5L << 30, expiresInSeconds = 3600 }))
        {
            Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        }

        using var over = await api.CreateRawAsync(new { contentSize = (5L << 30) + 1, expiresInSeconds = 3600 });
        Assert.Equal("too-large", await DropApi.ProblemCodeAsync(over));
    }

    [Fact]
    public async Task Quotas_PerIpAndPerUser_CountCiphertextBytesOfLiveDrops()
    {
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Drop:Anonymous:IpQuotaBytes"] = "10000";
            o.Settings["Veil:Drop:UserQuotaBytes"] = "5000";
            o.ConfigureServices = TestUser.Register;
        });
        var api = new DropApi(server.Client);
        var first = await api.CreateAsync(6000);
        using (var second = await api.CreateRawAsync(new { contentSize = 4001, expiresInSeconds = 3600 }))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, second.StatusCode);
            Assert.Equal("quota-exceeded", await DropApi.ProblemCodeAsync(second));
        }

        using (await api.SendOwnerAsync(HttpMethod.Delete, first, ""))
        {
        }

        Assert.NotNull(await api.CreateAsync(4001)); // the deleted drop no longer counts

        server.Client.DefaultRequestHeaders.Add(TestUser.Header, "user-3"); // same IP, but a user has its own quota
        Assert.NotNull(await api.CreateAsync(5000));
        using var userOver = await api.CreateRawAsync(new { contentSize = 1, expiresInSeconds = 3600 });
        Assert.Equal("quota-exceeded", await DropApi.ProblemCodeAsync(userOver));
    }

    [Fact]
    public async Task SignedInOwner_ManagesTheDropWithoutTheOwnerToken()
    {
        await using var server = await VeilTestServer.StartAsync(o => o.ConfigureServices = TestUser.Register);
        var api = new DropApi(server.Client);
        server.Client.DefaultRequestHeaders.Add(TestUser.Header, "owner-user");
        var drop = await api.CreateAsync(100);
        using var stats = await api.SendOwnerAsync(HttpMethod.Get, drop, "/owner", ownerToken: "");
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);

        server.Client.DefaultRequestHeaders.Remove(TestUser.Header);
        server.Client.DefaultRequestHeaders.Add(TestUser.Header, "someone-else");
        using var other = await api.SendOwnerAsync(HttpMethod.Get, drop, "/owner", ownerToken: "");
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
    }

    [Fact]
    public async Task PurgeJob_RemovesExpiredAndExhaustedDropsAndAbandonedUploads_WithTheirBlobs()
    {
        await using var server = await VeilTestServer.StartAsync();
        var api = new DropApi(server.Client);
        var (expiring, _) = await api.ShareAsync(new byte[500], expiresInSeconds: 300);
        var (exhausted, _) = await api.ShareAsync(new byte[500], maxDownloads: 1, expiresInSeconds: 7 * 24 * 3600);
        var (kept, _) = await api.ShareAsync(new byte[500], expiresInSeconds: 7 * 24 * 3600);
        var abandoned = await api.CreateAsync(DropApi.ContentSizeFor(500));
        using (await api.PutPartAsync(abandoned, 0, new byte[DropApi.ContentSizeFor(500)]))
        using (await api.ContentAsync(exhausted.Id))
        {
        }

        string Folder(CreatedDrop d) => Path.Combine(server.DataDirectory, "blobs", "drops", d.Id);
        Assert.True(Directory.Exists(Folder(abandoned)));

        server.Time.Advance(TimeSpan.FromHours(25)); // past expiry, the ticket's lifetime and the abandon window
        Assert.True(await server.Services.GetRequiredService<PeriodicJobRunner>().RunNowAsync(DropPurgeJob.JobName, CancellationToken.None));

        Assert.False(Directory.Exists(Folder(expiring)));
        Assert.False(Directory.Exists(Folder(exhausted)));
        Assert.False(Directory.Exists(Folder(abandoned)));
        Assert.True(Directory.Exists(Folder(kept)));
        using (var info = await api.InfoAsync(expiring.Id))
        {
            Assert.Equal("expired", await DropApi.ProblemCodeAsync(info)); // the row remains a while so the link says why
        }

        using var gone = await api.SendOwnerAsync(HttpMethod.Get, abandoned, "/parts");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task PurgeJob_KeepsAnExhaustedDropWhileItsTicketCanStillResume()
    {
        await using var server = await VeilTestServer.StartAsync();
        var api = new DropApi(server.Client);
        var (drop, ciphertext) = await api.ShareAsync(new byte[500], maxDownloads: 1, expiresInSeconds: 7 * 24 * 3600);
        using var first = await api.ContentAsync(drop.Id);
        var ticket = first.Headers.GetValues("X-Download-Ticket").Single();

        await server.Services.GetRequiredService<PeriodicJobRunner>().RunNowAsync(DropPurgeJob.JobName, CancellationToken.None);
        using var resumed = await api.ContentAsync(drop.Id, ticket, new System.Net.Http.Headers.RangeHeaderValue(100, null));
        Assert.Equal(HttpStatusCode.PartialContent, resumed.StatusCode);
        Assert.Equal(ciphertext.Content[100..], await resumed.Content.ReadAsByteArrayAsync());
    }
}

/// <summary>
/// Stands in for Identity until it lands: a test header becomes the signed-in user's <c>sub</c> claim,
/// which is all the Drop module reads.
/// </summary>
internal static class TestUser
{
    public const string Header = "X-Test-Sub";

    public static void Register(IServiceCollection services) => services.AddSingleton<IStartupFilter, Filter>();

    private sealed class Filter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers[Header] is [{ Length: > 0 } sub])
                {
                    context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", sub)], "test"));
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
