// `veil admin notify --subject S --body-file F [--dry-run] [--rate N]`: a breach notice to every account, mailed to
// each primary and verified recovery address once, paced at --rate (default Veil:Notify:MessagesPerSecond), progress
// on stderr, a summary on stdout (--json: one JSON object). Killed or interrupted, it is finished by `veil admin notify
// resume [ID]` or by running the same command again: only the addresses not yet handed to the outbox get it.
// `veil admin notify list` and `status ID` show how far each notice came and how many accounts have read it.
using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Veil.Server.Notices;

namespace Veil.Cli.Admin;

internal static class AdminNotifyCommand
{
    public static Command Create(Option<bool> json, Option<string?> data, Option<string?> postgres, Option<bool> production)
    {
        var subject = new Option<string?>("--subject") { Description = "The notice's subject: one line", HelpName = "TEXT" };
        var bodyFile = new Option<FileInfo?>("--body-file") { Description = "A UTF-8 text file with the notice's body ('-' reads standard input)", HelpName = "FILE" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Count the accounts and addresses; write and mail nothing" };
        var rate = new Option<double?>("--rate") { Description = "Messages a second handed to the outbox (default Veil:Notify:MessagesPerSecond; 0: no pace)", HelpName = "N", Recursive = true };
        var notify = new Command("notify", "Mail a notice (a breach notification) to every account and show it in the apps until read") { subject, bodyFile, dryRun, rate };
        notify.SetAction((parse, ct) =>
        {
            if (parse.GetValue(subject) is not { } subjectText || parse.GetValue(bodyFile) is not { } file)
            {
                Console.Error.WriteLine("veil: --subject and --body-file are both required (or: veil admin notify resume|list|status)");
                return Task.FromResult(VeilCommand.BadArguments);
            }

            string body;
            try
            {
                body = file.Name == "-" ? Console.In.ReadToEnd() : File.ReadAllText(file.FullName);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"veil: cannot read {file.Name}: {e.Message}");
                return Task.FromResult(VeilCommand.BadArguments);
            }

            if (NoticeAdmin.Validate(subjectText, body) is { } problem)
            {
                Console.Error.WriteLine("veil: " + problem);
                return Task.FromResult(VeilCommand.BadArguments);
            }

            return AdminCommand.RunServiceAsync<NoticeAdmin>(parse, json, data, postgres, production, async (admin, output) =>
            {
                var pace = Pace(parse.GetValue(rate), admin);
                if (parse.GetValue(dryRun))
                {
                    var audience = await admin.AudienceAsync(ct);
                    output.Event(
                        string.Create(CultureInfo.InvariantCulture, $"Dry run: {audience.Addresses} addresses of {audience.Accounts} accounts would get the notice, at {pace}/s about {Estimate(audience.Addresses, pace)}. Nothing was written or mailed."),
                        new { @event = "notice-dry-run", accounts = audience.Accounts, addresses = audience.Addresses, messagesPerSecond = pace });
                    return VeilCommand.Ok;
                }

                var created = await admin.CreateAsync(subjectText, body, ct);
                Console.Error.WriteLine(created.Resumed
                    ? $"Notice {created.Notice.Id} with this text is not finished: resuming it ({created.Notice.Recipients - created.Notice.Sent} of {created.Notice.Recipients} addresses left)."
                    : $"Notice {created.Notice.Id}: {created.Notice.Recipients} addresses of {created.Accounts} accounts. If this stops, run: veil admin notify resume {created.Notice.Id}");
                return await SendAsync(admin, created.Notice.Id, pace, output, parse.GetValue(json), ct);
            }, ct);
        });

        var resumeId = new Argument<string?>("NOTICE-ID") { Description = "The notice (default: the newest unfinished one)", Arity = ArgumentArity.ZeroOrOne };
        var resume = new Command("resume", "Finish a notice's mailing that was interrupted: only the addresses not yet mailed") { resumeId };
        resume.SetAction((parse, ct) => AdminCommand.RunServiceAsync<NoticeAdmin>(parse, json, data, postgres, production, async (admin, output) =>
        {
            Guid id;
            if (parse.GetValue(resumeId) is { } given)
            {
                if (!Guid.TryParse(given, out id))
                {
                    output.Error("NOTICE-ID must be a notice id (a GUID)");
                    return VeilCommand.BadArguments;
                }
            }
            else if (await admin.LatestUnfinishedAsync(ct) is { } unfinished)
            {
                id = unfinished.Id;
            }
            else
            {
                output.Event("No unfinished notice.", new { @event = "notice-none-unfinished" });
                return VeilCommand.Ok;
            }

            return await SendAsync(admin, id, Pace(parse.GetValue(rate), admin), output, parse.GetValue(json), ct);
        }, ct));

        var list = new Command("list", "Every notice, newest first, with how far its mailing came");
        list.SetAction((parse, ct) => AdminCommand.RunServiceAsync<NoticeAdmin>(parse, json, data, postgres, production, async (admin, output) =>
        {
            var notices = await admin.ListAsync(ct);
            output.Table(["Id", "Written", "Subject", "Mailed", "Read by"],
                notices.Select(n => new[] { n.Id.ToString(), Time(n.CreatedAt), n.Subject, $"{n.Sent} of {n.Recipients}", $"{n.Acknowledged} accounts" }),
                "No notices.",
                new { notices });
            return VeilCommand.Ok;
        }, ct));

        var statusId = new Argument<string>("NOTICE-ID") { Description = "The notice id shown by 'veil admin notify list'" };
        var status = new Command("status", "One notice: addresses mailed, claimed by an interrupted run, waiting; accounts that read it") { statusId };
        status.SetAction((parse, ct) => AdminCommand.RunServiceAsync<NoticeAdmin>(parse, json, data, postgres, production, async (admin, output) =>
        {
            if (!Guid.TryParse(parse.GetValue(statusId), out var id) || await admin.StatusAsync(id, ct) is not { } n)
            {
                output.Error("no such notice");
                return VeilCommand.Failed;
            }

            output.Event(string.Join(Environment.NewLine,
                $"Notice {n.Id}, written {Time(n.CreatedAt)}: {n.Subject}",
                $"Mailed: {n.Sent} of {n.Recipients} addresses ({n.Claimed} claimed by an interrupted run, {n.Pending} waiting){(n.Finished ? "" : $"; finish with: veil admin notify resume {n.Id}")}",
                $"Read by: {n.Acknowledged} accounts"), new { @event = "notice-status", notice = n, finished = n.Finished });
            return VeilCommand.Ok;
        }, ct));

        notify.Subcommands.Add(resume);
        notify.Subcommands.Add(list);
        notify.Subcommands.Add(status);
        return notify;
    }

    private static double Pace(double? given, NoticeAdmin admin) => given is { } rate and >= 0 ? rate : admin.DefaultMessagesPerSecond;

    private static string Time(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);

    private static string Estimate(int addresses, double pace) =>
        pace <= 0 ? "as fast as the outbox takes them" : TimeSpan.FromSeconds(Math.Ceiling(addresses / pace)).ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture);

    private static async Task<int> SendAsync(NoticeAdmin admin, Guid id, double pace, CliOutput output, bool json, CancellationToken ct)
    {
        var report = await WithProgressAsync(json, progress => admin.SendAsync(id, pace, progress, ct));
        if (report is null)
        {
            output.Error("no such notice");
            return VeilCommand.Failed;
        }

        var n = report.Notice;
        var perSecond = report.Elapsed.TotalSeconds > 0 ? report.SentNow / report.Elapsed.TotalSeconds : 0;
        output.Event(
            string.Create(CultureInfo.InvariantCulture, $"Notice {n.Id}: {n.Sent} of {n.Recipients} addresses mailed ({report.SentNow} now, {report.ResentClaims} handed over again after an interruption) in {report.Elapsed.TotalSeconds:0.0} s, {perSecond:0} a second."),
            new { @event = "notice-sent", id = n.Id, recipients = n.Recipients, sent = n.Sent, sentNow = report.SentNow, resent = report.ResentClaims, seconds = report.Elapsed.TotalSeconds, messagesPerSecond = perSecond, finished = n.Finished });
        return n.Finished ? VeilCommand.Ok : VeilCommand.Failed;
    }

    /// <summary>A bar on a terminal's stderr; otherwise a line on stderr every 10 % (stdout stays the result).</summary>
    private static async Task<T> WithProgressAsync<T>(bool json, Func<IProgress<NoticeProgress>, Task<T>> work)
    {
        if (!json && !Console.IsErrorRedirected)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            T result = default!;
            await console.Progress().AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("Mailing the notice");
                    result = await work(new Reporter(p =>
                    {
                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Sent;
                    }));
                });
            return result;
        }

        var lastDecile = -1;
        return await work(new Reporter(p =>
        {
            var decile = p.Total <= 0 ? 10 : p.Sent * 10 / p.Total;
            if (decile > lastDecile)
            {
                lastDecile = decile;
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"notify: {decile * 10}% ({p.Sent} of {p.Total} addresses)"));
            }
        }));
    }

    /// <summary>Reports synchronously, in order.</summary>
    private sealed class Reporter(Action<NoticeProgress> report) : IProgress<NoticeProgress>
    {
        public void Report(NoticeProgress value) => report(value);
    }
}
