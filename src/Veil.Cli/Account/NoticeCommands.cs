// `veil account notices` lists what the server's operator told every account (a breach notification) that this
// account has not marked as read; `veil account notices ack ID` marks one as read. Until then every signed-in verb
// prints the notice once, on stderr after its own output (AccountCli.ShowNoticesAsync), so --json stdout stays the
// verb's result.
using System.CommandLine;
using Veil.Client.Notices;

namespace Veil.Cli.Account;

internal static class NoticeCommands
{
    public static Command Notices(AccountOptions options)
    {
        var list = new Command("notices", "Notices from the server's operator (e.g. a breach notification) you have not marked as read");
        AccountCli.Verb(list, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var notices = await new NoticesClient(client).ListAsync(ct);
                cli.NoticesShown = true;
                foreach (var n in notices)
                {
                    cli.Output.Event(Describe(n), new { @event = "notice", notice = n });
                }

                if (notices.Count == 0)
                {
                    cli.Output.Event("No unread notices.", new { @event = "notices", count = 0 });
                }
            }

            return VeilCommand.Ok;
        });

        var id = new Argument<string>("NOTICE-ID") { Description = "The id shown with the notice" };
        var ack = new Command("ack", "Mark a notice as read: it is no longer shown here or in the web app") { id };
        AccountCli.Verb(ack, options, async (cli, ct) =>
        {
            if (!Guid.TryParse(cli.Parse(id), out var noticeId))
            {
                throw new UsageException("NOTICE-ID must be the notice's id (a GUID)");
            }

            var (client, _) = cli.OpenSession();
            using (client)
            {
                await new NoticesClient(client).AcknowledgeAsync(noticeId, ct);
                cli.Output.Event($"Notice {noticeId} marked as read.", new { @event = "notice-acknowledged", id = noticeId });
            }

            return VeilCommand.Ok;
        });
        list.Subcommands.Add(ack);
        return list;
    }

    /// <summary>The notice as a person reads it, with the command that makes it go away.</summary>
    public static string Describe(AccountNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        return string.Join(Environment.NewLine,
            $"*** Notice from your Veil server's operator ({AccountCommand.Time(notice.CreatedAt)}): {notice.Subject}",
            notice.Body.TrimEnd(),
            $"*** Mark it as read: veil account notices ack {notice.Id}");
    }
}
