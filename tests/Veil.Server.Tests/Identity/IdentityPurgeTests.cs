using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Identity;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Identity;

/// <summary>The hourly identity purge: expired links, challenges and refresh tokens go, and dead sessions with them; live ones stay.</summary>
public sealed class IdentityPurgeTests
{
    private static async Task<(int Links, int RefreshTokens, int Sessions)> CountAsync(VeilTestServer server, Guid accountId)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        var sessions = await db.Set<Session>().Where(s => s.AccountId == accountId).Select(s => s.Id).ToListAsync();
        return (await db.Set<EmailToken>().CountAsync(t => t.AccountId == accountId),
            await db.Set<RefreshToken>().CountAsync(r => sessions.Contains(r.SessionId)),
            sessions.Count);
    }

    [Fact]
    public async Task Purge_AfterTheRefreshLifetime_RemovesExpiredLinksTokensAndDeadSessions_KeepsALiveOne()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        using (var link = await server.PostAsync("/api/v1/auth/magic-link", new { email = user.Email }))
        {
            Assert.Equal(HttpStatusCode.Accepted, link.StatusCode);
        }

        var runner = server.Services.GetRequiredService<PeriodicJobRunner>();
        var before = await CountAsync(server, user.AccountId);
        Assert.True(await runner.RunNowAsync(IdentityPurgeJob.JobName, CancellationToken.None));
        Assert.Equal(before, await CountAsync(server, user.AccountId)); // nothing has expired yet
        Assert.True(before.Links >= 1 && before.RefreshTokens >= 1 && before.Sessions >= 1, before.ToString());

        server.Time.Advance(TimeSpan.FromDays(31) + IdentityPurgeJob.IdleSessionGrace);
        var fresh = await server.LoginAsync(user.Email, user.AuthToken, "fresh");
        Assert.True(await runner.RunNowAsync(IdentityPurgeJob.JobName, CancellationToken.None));

        var after = await CountAsync(server, user.AccountId);
        Assert.Equal((0, 1, 1), after);
        using var refreshed = await server.PostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken });
        Assert.Equal(HttpStatusCode.Unauthorized, refreshed.StatusCode);
        using var whoami = await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: fresh.AccessToken);
        Assert.Equal(HttpStatusCode.OK, whoami.StatusCode);
    }
}
