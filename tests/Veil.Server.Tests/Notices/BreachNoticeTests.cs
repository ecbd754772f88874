// Breach notices on a real server (SQLite or PostgreSQL by VEIL_TEST_DATABASE): a notice to 1,000 accounts reaches
// every primary and verified recovery address exactly once (read back from the development outbox); a run that died
// between handing mail to the outbox and recording it (rows left Claimed) resumes without a second mail; the
// account's notices over HTTP: listed until acknowledged, another account's acknowledgement refused with 404.
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Notices;
using Veil.Server.Platform.Audit;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Notices;

public sealed class BreachNoticeTests
{
    private const string Subject = "Security incident at this Veil server";
    private const string Body = "On 1 December an attacker read the database.\n\nYour vault stays encrypted. Change your password.";

    [Fact]
    public async Task Notify_ThousandAccounts_EveryPrimaryAndVerifiedRecoveryAddressGetsExactlyOneMail()
    {
        await using var server = await VeilTestServer.StartAsync();
        var expected = await NoticeAccounts.CreateAsync(server, 1000, "n");

        NoticeCreated created;
        NoticeSendReport? report;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<AdminActor>().Name = "cli:ops";
            var admin = scope.ServiceProvider.GetRequiredService<NoticeAdmin>();
            created = await admin.CreateAsync(Subject, Body, CancellationToken.None);
            report = await admin.SendAsync(created.Notice.Id, 0, null, CancellationToken.None);
        }

        var mails = NoticeMails(server);
        Assert.Equal(1000, created.Accounts);
        Assert.Equal(expected.Count, created.Notice.Recipients);
        Assert.NotNull(report);
        Assert.True(report.Notice.Finished);
        Assert.Equal(expected.Count, report.SentNow);
        Assert.Equal(expected.Count, mails.Count);
        Assert.Equal(expected.Order(StringComparer.Ordinal), mails.Select(m => m.Headers["To"].ToLowerInvariant()).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(mails, m => m.Headers["To"].Contains("unverified", StringComparison.Ordinal));
        Assert.All(mails, m => Assert.Equal(Subject, m.Headers["Subject"]));
        Assert.All(mails, m => Assert.Contains("Change your password.", m.TextBody, StringComparison.Ordinal));
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var audit = await scope.ServiceProvider.GetRequiredService<AdminAudit>().ReadAsync(1, created.Notice.Id.ToString(), 10, CancellationToken.None);
            Assert.Equal(["notify-send", "notify-create"], audit.Select(r => r.Action));
            Assert.All(audit, r => Assert.Equal("cli:ops", r.Actor));
        }
    }

    [Fact]
    public async Task Resume_AfterARunDiedBetweenHandOverAndRecord_MailsNobodyTwiceAndFinishesTheRest()
    {
        await using var server = await VeilTestServer.StartAsync();
        var expected = await NoticeAccounts.CreateAsync(server, 300, "r");
        Guid id;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var admin = scope.ServiceProvider.GetRequiredService<NoticeAdmin>();
            id = (await admin.CreateAsync(Subject, Body, CancellationToken.None)).Notice.Id;
            await admin.SendAsync(id, 0, null, CancellationToken.None);
        }

        // What a kill leaves: the last batch handed to the outbox but still Claimed, the rest never claimed (their
        // mail never written). Put the rows back in that state.
        var handedButUnrecorded = await SetStatesAsync(server, id, from: 100, claimed: NoticeAdmin.BatchSize);
        foreach (var file in NoticeMails(server).Where(m => Seq(m) >= 100 + NoticeAdmin.BatchSize))
        {
            File.Delete(Path.Combine(server.DataDirectory, "outbox", file.FileName));
        }

        NoticeSendReport? resumed;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            resumed = await scope.ServiceProvider.GetRequiredService<NoticeAdmin>().SendAsync(id, 0, null, CancellationToken.None);
        }

        var mails = NoticeMails(server);
        Assert.Equal(NoticeAdmin.BatchSize, handedButUnrecorded);
        Assert.NotNull(resumed);
        Assert.Equal(NoticeAdmin.BatchSize, resumed.ResentClaims);
        Assert.Equal(expected.Count - 100, resumed.SentNow);
        Assert.True(resumed.Notice.Finished);
        Assert.Equal(expected.Count, mails.Count);
        Assert.Equal(expected.Order(StringComparer.Ordinal), mails.Select(m => m.Headers["To"].ToLowerInvariant()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Create_SameTextWhileUnfinished_ResumesTheSameNotice()
    {
        await using var server = await VeilTestServer.StartAsync();
        await NoticeAccounts.CreateAsync(server, 20, "s");
        await using var scope = server.Services.CreateAsyncScope();
        var admin = scope.ServiceProvider.GetRequiredService<NoticeAdmin>();

        var first = await admin.CreateAsync(Subject, Body, CancellationToken.None);
        var again = await admin.CreateAsync(Subject, Body, CancellationToken.None);
        await admin.SendAsync(first.Notice.Id, 0, null, CancellationToken.None);
        var afterFinished = await admin.CreateAsync(Subject, Body, CancellationToken.None);

        Assert.False(first.Resumed);
        Assert.True(again.Resumed);
        Assert.Equal(first.Notice.Id, again.Notice.Id);
        Assert.False(afterFinished.Resumed);
        Assert.NotEqual(first.Notice.Id, afterFinished.Notice.Id);
    }

    [Fact]
    public async Task AccountNotices_ListedUntilAcknowledged_AnotherAccountsAckIsNotFound()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var alice = await server.RegisterUserAsync();
        var bob = await server.RegisterUserAsync();
        Guid id;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            id = (await scope.ServiceProvider.GetRequiredService<NoticeAdmin>().CreateAsync(Subject, Body, CancellationToken.None)).Notice.Id;
        }

        server.Time.Advance(TimeSpan.FromMinutes(1));
        var carol = await server.RegisterUserAsync(); // after the notice: not concerned

        var listed = await (await server.SendAsync(HttpMethod.Get, "/api/v1/account/notices", bearer: alice.AccessToken)).JsonAsync();
        var notice = Assert.Single(listed.GetProperty("notices").EnumerateArray());
        Assert.Equal(id, notice.GetProperty("id").GetGuid());
        Assert.Equal(Subject, notice.GetProperty("subject").GetString());
        Assert.Equal(Body, notice.GetProperty("body").GetString());
        Assert.Empty((await (await server.SendAsync(HttpMethod.Get, "/api/v1/account/notices", bearer: carol.AccessToken)).JsonAsync()).GetProperty("notices").EnumerateArray());

        var ack = await server.PostAsync($"/api/v1/account/notices/{id}/ack", null, alice.AccessToken);
        Assert.Equal(HttpStatusCode.NoContent, ack.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.PostAsync($"/api/v1/account/notices/{id}/ack", null, alice.AccessToken)).StatusCode);
        Assert.Empty((await (await server.SendAsync(HttpMethod.Get, "/api/v1/account/notices", bearer: alice.AccessToken)).JsonAsync()).GetProperty("notices").EnumerateArray());

        // Bob still sees it: Alice's acknowledgement is hers alone. Carol cannot acknowledge a notice that is not hers,
        // nor anyone an id that does not exist.
        Assert.Single((await (await server.SendAsync(HttpMethod.Get, "/api/v1/account/notices", bearer: bob.AccessToken)).JsonAsync()).GetProperty("notices").EnumerateArray());
        await (await server.PostAsync($"/api/v1/account/notices/{id}/ack", null, carol.AccessToken)).ExpectProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await server.PostAsync($"/api/v1/account/notices/{Guid.NewGuid()}/ack", null, bob.AccessToken)).ExpectProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.SendAsync(HttpMethod.Get, "/api/v1/account/notices")).StatusCode);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            Assert.Equal(1, (await scope.ServiceProvider.GetRequiredService<NoticeAdmin>().StatusAsync(id, CancellationToken.None))!.Acknowledged);
        }
    }

    private static List<Kit.OutboxMail> NoticeMails(VeilTestServer server) =>
        [.. server.ReadOutbox().Where(m => m.FileName.Contains("-notice-", StringComparison.Ordinal))];

    private static int Seq(Kit.OutboxMail mail) =>
        int.Parse(mail.FileName[(mail.FileName.LastIndexOf('-') + 1)..^".eml".Length], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Rows [from, from+claimed) back to Claimed, rows from from+claimed on back to Pending; returns the claimed count.</summary>
    private static async Task<int> SetStatesAsync(VeilTestServer server, Guid id, int from, int claimed)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var rows = scope.ServiceProvider.GetRequiredService<VeilDbContext>().Set<NoticeRecipient>().Where(r => r.NoticeId == id);
        var n = await rows.Where(r => r.Seq >= from && r.Seq < from + claimed).ExecuteUpdateAsync(s => s.SetProperty(r => r.State, NoticeRecipientState.Claimed));
        await rows.Where(r => r.Seq >= from + claimed).ExecuteUpdateAsync(s => s.SetProperty(r => r.State, NoticeRecipientState.Pending));
        return n;
    }
}
