// `veil admin audit [--days N] [--target VALUE] [--limit N]`: the admin audit log, newest first. A target is
// stored as a keyed hash; --target finds the rows of one account id, report id or domain by hashing it the same way.
using System.CommandLine;
using System.Globalization;
using Veil.Server.Platform.Audit;

namespace Veil.Cli.Admin;

internal static class AdminAuditCommand
{
    public static Command Create(Option<bool> json, Option<string?> data, Option<string?> postgres, Option<bool> production)
    {
        var days = new Option<int>("--days") { Description = "Rows of the last N days (default 90, the retention)", DefaultValueFactory = _ => 90 };
        var target = new Option<string?>("--target") { Description = "Only the rows about this account id, report id or domain", HelpName = "VALUE" };
        var limit = new Option<int>("--limit") { Description = "At most this many rows", DefaultValueFactory = _ => 1000 };
        var audit = new Command("audit", "The admin audit log: who did what to which target, by day") { days, target, limit };
        audit.SetAction((parse, ct) => AdminCommand.RunServiceAsync<AdminAudit>(parse, json, data, postgres, production, async (log, output) =>
        {
            var rows = await log.ReadAsync(parse.GetValue(days), parse.GetValue(target)?.Trim().ToLowerInvariant(), parse.GetValue(limit), ct);
            output.Table(["Day", "Actor", "Action", "Target (keyed hash)"],
                rows.Select(r => new[] { r.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), r.Actor, r.Action, r.Target ?? "" }),
                "No audit rows.",
                new { rows });
            return VeilCommand.Ok;
        }, ct));
        return audit;
    }
}
