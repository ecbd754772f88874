// The admin audit log on a real server: a DKIM key created by an operator is one row (actor, action, day, the domain
// as a keyed hash that --target finds and nothing else matches); the retention job keeps day 90 and deletes day 91
// (injected time); the server's own actions are "server".
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Mail.Dkim;
using Veil.Server.Mail;
using Veil.Server.Platform.Audit;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Audit;

public sealed class AdminAuditTests
{
    [Fact]
    public async Task DkimCreate_IsOneRow_FoundByItsTarget_ExpiredAfterTheRetention()
    {
        await using var server = await VeilTestServer.StartAsync();
        await using (var scope = server.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<AdminActor>().Name = "cli:alice";
            var created = await scope.ServiceProvider.GetRequiredService<DkimKeyAdmin>().CreateAsync("Audit.Example", "s1", DkimAlgorithm.Ed25519Sha256, CancellationToken.None);
            Assert.Equal(DkimCreateStatus.Created, created.Status);
            await scope.ServiceProvider.GetRequiredService<DkimKeyAdmin>().CreateAsync("audit.example", "s2", DkimAlgorithm.Ed25519Sha256, CancellationToken.None);
        }

        await using (var scope = server.Services.CreateAsyncScope())
        {
            var audit = scope.ServiceProvider.GetRequiredService<AdminAudit>();
            var rows = await audit.ReadAsync(90, "audit.example", 100, CancellationToken.None);
            Assert.Equal(2, rows.Count);
            Assert.All(rows, r => Assert.Equal(("cli:alice", "dkim-create"), (r.Actor, r.Action)));
            Assert.Equal(DateOnly.FromDateTime(server.Time.GetUtcNow().UtcDateTime), rows[0].Day);
            Assert.Empty(await audit.ReadAsync(90, "other.example", 100, CancellationToken.None));
            var stored = await scope.ServiceProvider.GetRequiredService<VeilDbContext>().Set<AdminAuditEntry>().AsNoTracking().ToListAsync();
            Assert.All(stored, e => Assert.Equal(Veil.Crypto.Keys.BlindIndex.Length, e.Target!.Length)); // a keyed hash, not the name
        }

        await RunRetentionAsync(server, TimeSpan.FromDays(90));
        Assert.Equal(2, await CountAsync(server));
        await RunRetentionAsync(server, TimeSpan.FromDays(1));
        Assert.Equal(0, await CountAsync(server));
    }

    [Fact]
    public async Task WithoutAnOperator_TheActorIsTheServer()
    {
        await using var server = await VeilTestServer.StartAsync();
        await using var scope = server.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AdminAudit>().AppendAsync("report-view", "x", CancellationToken.None);

        Assert.Equal(AdminActor.Server, Assert.Single(await scope.ServiceProvider.GetRequiredService<AdminAudit>().ReadAsync(1, "x", 10, CancellationToken.None)).Actor);
    }

    private static async Task RunRetentionAsync(VeilTestServer server, TimeSpan advance)
    {
        server.Time.Advance(advance);
        await using var scope = server.Services.CreateAsyncScope();
        var job = new AdminAuditRetentionJob(scope.ServiceProvider.GetRequiredService<AdminAuditOptions>(), server.Time);
        await job.RunAsync(scope.ServiceProvider, CancellationToken.None);
    }

    private static async Task<int> CountAsync(VeilTestServer server)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<VeilDbContext>().Set<AdminAuditEntry>().CountAsync();
    }
}
