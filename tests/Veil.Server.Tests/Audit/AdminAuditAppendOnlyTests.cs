// The admin audit log is append-only in the database itself (triggers from the BreachNotices migration), on SQLite and
// PostgreSQL alike: an UPDATE is refused, a DELETE outside the retention job is refused even for an old row, the
// retention job still deletes the rows past the retention (day 91, injected time) and keeps the rest.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Platform.Audit;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Audit;

public sealed class AdminAuditAppendOnlyTests
{
    [Fact]
    public async Task Update_IsRefusedByTheDatabase_AndTheRowIsUnchanged()
    {
        await using var server = await VeilTestServer.StartAsync();
        await AppendAsync(server, "plan-set", "a");

        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        var refused = await Record.ExceptionAsync(() => db.Set<AdminAuditEntry>().ExecuteUpdateAsync(s => s.SetProperty(e => e.Action, "nothing-happened")));

        Assert.NotNull(refused);
        Assert.Contains(AdminAuditTriggers.UpdateRefused, refused.ToString(), StringComparison.Ordinal);
        Assert.Equal("plan-set", (await db.Set<AdminAuditEntry>().AsNoTracking().SingleAsync()).Action);
    }

    [Fact]
    public async Task Delete_OutsideTheRetentionJob_IsRefusedEvenForARowPastTheRetention()
    {
        await using var server = await VeilTestServer.StartAsync();
        await AppendAsync(server, "report-view", "b");
        server.Time.Advance(TimeSpan.FromDays(91));

        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        var refused = await Record.ExceptionAsync(() => db.Set<AdminAuditEntry>().ExecuteDeleteAsync());

        Assert.NotNull(refused);
        Assert.Contains(AdminAuditTriggers.DeleteRefused, refused.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, await db.Set<AdminAuditEntry>().CountAsync());
    }

    [Fact]
    public async Task RetentionJob_DeletesDay91_KeepsDay90_AndLeavesNoCutoffBehind()
    {
        await using var server = await VeilTestServer.StartAsync();
        await AppendAsync(server, "dkim-create", "old");
        server.Time.Advance(TimeSpan.FromDays(1));
        await AppendAsync(server, "dkim-create", "newer");
        server.Time.Advance(TimeSpan.FromDays(90)); // "old" is 91 days old, "newer" 90

        await using var scope = server.Services.CreateAsyncScope();
        await new AdminAuditRetentionJob(scope.ServiceProvider.GetRequiredService<AdminAuditOptions>(), server.Time).RunAsync(scope.ServiceProvider, CancellationToken.None);
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        var audit = scope.ServiceProvider.GetRequiredService<AdminAudit>();

        Assert.Equal(1, await db.Set<AdminAuditEntry>().CountAsync());
        Assert.Empty(await audit.ReadAsync(365, "old", 10, CancellationToken.None));
        Assert.Single(await audit.ReadAsync(365, "newer", 10, CancellationToken.None));
        Assert.Equal(0, await db.Set<AdminAuditPurge>().CountAsync());
        Assert.NotNull(await Record.ExceptionAsync(() => db.Set<AdminAuditEntry>().ExecuteDeleteAsync()));
    }

    private static async Task AppendAsync(VeilTestServer server, string action, string target)
    {
        await using var scope = server.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AdminAudit>().AppendAsync(action, target, CancellationToken.None);
    }
}
