// `veil admin notify` as an operator runs it: a child process over the data directory (and database) of a real server
// in process. A notice to 1,000 accounts is killed (SIGKILL) when about half the addresses have their mail in the
// development outbox, then `veil admin notify resume` finishes it: every primary and verified recovery address has
// exactly one mail. The account side: every signed-in verb prints the notice on stderr (never on --json stdout) until
// `veil account notices ack ID`.
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Notices;
using Veil.Server.Tests.Kit;

namespace Veil.Cli.Tests.Admin;

[Collection(AccountVerbsTestGroup.Name)]
public sealed class AdminNotifyTests : IAsyncLifetime
{
    private const string Subject = "Security incident at this Veil server";
    private const string Body = "An attacker read the database on 1 December.\n\nChange your password.";

    private readonly string _config = Directory.CreateTempSubdirectory("veil-notify-cli-").FullName;
    private VeilTestServer _server = null!;
    private VeilCli _cli = null!;

    public async Task InitializeAsync()
    {
        _server = await VeilTestServer.StartAsync();
        _cli = new VeilCli(_server.BaseAddress, Path.Combine(_config, "veil"));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_config, recursive: true);
    }

    [Fact]
    public async Task Notify_KilledHalfway_ResumeMailsEveryAddressExactlyOnce()
    {
        var expected = await NoticeAccounts.CreateAsync(_server, 1000, "k");
        var bodyFile = Path.Combine(_config, "notice.txt");
        await File.WriteAllTextAsync(bodyFile, Body);

        // 400 a second: about five seconds for the ~1,500 addresses, time enough to kill it in the middle.
        using (var run = VeilProcess.Start(["admin", "notify", "--subject", Subject, "--body-file", bodyFile, "--rate", "400", .. Target()]))
        {
            var clock = Stopwatch.StartNew();
            while (NoticeFiles().Length < expected.Count / 2)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"the notice did not get halfway. stderr: {run.Stderr}");
                Assert.False(run.Stdout.Contains("notice-sent", StringComparison.Ordinal) || run.Stdout.Contains("addresses mailed", StringComparison.Ordinal), "the run finished before the kill");
                await Task.Delay(10);
            }
        } // Dispose kills the process (SIGKILL), wherever it is: between claim, hand-over and record.

        var atKill = NoticeFiles().Length;
        var listed = JsonDocument.Parse((await Admin("list", "--json")).Stdout).RootElement.GetProperty("notices")[0];
        var resumed = await Admin("resume", "--rate", "0", "--json");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var summary = resumed.Event("notice-sent");
        var mails = _server.ReadOutbox().Where(m => m.FileName.Contains("-notice-", StringComparison.Ordinal)).ToList();
        Assert.InRange(atKill, expected.Count / 2, expected.Count - 1);
        Assert.True(listed.GetProperty("sent").GetInt32() < expected.Count);
        Assert.True(summary.GetProperty("finished").GetBoolean());
        Assert.Equal(expected.Count, summary.GetProperty("sent").GetInt32());
        Assert.Equal(expected.Count, mails.Count);
        Assert.Equal(expected.Order(StringComparer.Ordinal), mails.Select(m => m.Headers["To"].ToLowerInvariant()).Order(StringComparer.Ordinal));
        Assert.Contains("notify: 100%", resumed.Stderr, StringComparison.Ordinal);
        Assert.Empty((await Admin("resume")).Stderr.Trim());
    }

    [Fact]
    public async Task Notify_DryRunWritesNothing_AndBadArgumentsExitTwoWithOneLine()
    {
        await NoticeAccounts.CreateAsync(_server, 10, "d");
        var bodyFile = Path.Combine(_config, "notice.txt");
        await File.WriteAllTextAsync(bodyFile, Body);

        var dry = await Admin("--subject", Subject, "--body-file", bodyFile, "--dry-run", "--json");
        var noSubject = await _cli.RunAsync(["admin", "notify", "--body-file", bodyFile, .. Target()]);
        var twoLines = await _cli.RunAsync(["admin", "notify", "--subject", "a\nb", "--body-file", bodyFile, .. Target()]);

        Assert.True(dry.ExitCode == 0, dry.ToString());
        var json = dry.Event("notice-dry-run");
        Assert.Equal(10, json.GetProperty("accounts").GetInt32());
        Assert.Equal(14, json.GetProperty("addresses").GetInt32()); // 10 primaries, 4 verified recovery addresses (one shared by two)
        Assert.DoesNotContain(_server.ReadOutbox(), m => m.FileName.Contains("-notice-", StringComparison.Ordinal));
        Assert.Contains("No notices.", (await Admin("list")).Stdout, StringComparison.Ordinal);
        Assert.Equal(2, noSubject.ExitCode);
        Assert.StartsWith("veil: --subject and --body-file are both required", noSubject.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, twoLines.ExitCode);
        Assert.Equal("veil: the subject must be one line of 1 to 200 characters", twoLines.Stderr.Trim());
    }

    [Fact]
    public async Task SignedInVerbs_PrintTheNoticeOnStderrUntilAcknowledged()
    {
        await _cli.SignUpAsync(_server, "notice-reader@example.org");
        Guid id;
        await using (var scope = _server.Services.CreateAsyncScope())
        {
            var admin = scope.ServiceProvider.GetRequiredService<NoticeAdmin>();
            id = (await admin.CreateAsync(Subject, Body, CancellationToken.None)).Notice.Id;
            await admin.SendAsync(id, 0, null, CancellationToken.None);
        }

        var text = CliAccounts.Ok(await _cli.RunAsync(["account", "whoami"]));
        var json = CliAccounts.Ok(await _cli.RunAsync(["account", "whoami", "--json"]));
        var listed = CliAccounts.Ok(await _cli.RunAsync(["account", "notices", "--json"]));
        var acked = CliAccounts.Ok(await _cli.RunAsync(["account", "notices", "ack", id.ToString()]));
        var after = CliAccounts.Ok(await _cli.RunAsync(["account", "whoami"]));
        var again = await _cli.RunAsync(["account", "notices", "ack", Guid.NewGuid().ToString()]);

        Assert.Contains(Subject, text.Stderr, StringComparison.Ordinal);
        Assert.Contains("Change your password.", text.Stderr, StringComparison.Ordinal);
        Assert.Contains($"veil account notices ack {id}", text.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, CountOf(text.Stderr, Subject)); // once per command
        Assert.DoesNotContain(Subject, text.Stdout, StringComparison.Ordinal);
        Assert.Contains(Subject, json.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Subject, json.Stdout, StringComparison.Ordinal);
        Assert.All(json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => JsonDocument.Parse(line));
        Assert.Equal(id, listed.Event("notice").GetProperty("notice").GetProperty("id").GetGuid());
        Assert.DoesNotContain(Subject, listed.Stderr, StringComparison.Ordinal); // listed on stdout, not printed twice
        Assert.Contains("marked as read", acked.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Subject, after.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("not-found", again.Stderr, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string value) => (text.Length - text.Replace(value, "", StringComparison.Ordinal).Length) / value.Length;

    private string[] NoticeFiles() =>
        Directory.Exists(Path.Combine(_server.DataDirectory, "outbox"))
            ? Directory.GetFiles(Path.Combine(_server.DataDirectory, "outbox"), "*-notice-*.eml")
            : [];

    private Task<CliResult> Admin(params string[] args) => _cli.RunAsync(["admin", "notify", .. args, .. Target()]);

    private string[] Target() =>
        ["--data", _server.DataDirectory, .. _server.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Postgres"] is { Length: > 0 } postgres ? new[] { "--postgres", postgres } : []];
}
