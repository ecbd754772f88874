// `veil admin reports list|show|takedown|dismiss`: operator actions on Drop abuse reports.
// The verbs build the server's own services over the same data directory and database as
// `veil serve` (--data, --postgres, configuration and keys from the environment) and call them
// directly: there is no admin HTTP API, hence no admin credential to issue, leak or rotate. Whoever
// can run this command can read the server's configuration and keyring anyway.
using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server;
using Veil.Server.Drop;
using Veil.Server.Platform.Persistence;

namespace Veil.Cli.Admin;

internal static class AdminCommand
{
    public static Command Create(Option<bool> json)
    {
        var data = new Option<string?>("--data") { Description = "Data directory (default ./.data)", HelpName = "DIR", Recursive = true };
        var postgres = new Option<string?>("--postgres") { Description = "PostgreSQL connection string (default: SQLite in the data directory)", HelpName = "CONNSTR", Recursive = true };
        var production = new Option<bool>("--production") { Description = "Production mode: keys come from configuration only", Recursive = true };

        var status = new Option<string?>("--status") { Description = "open, dismissed or taken-down (default: all)", HelpName = "STATUS" };
        status.AcceptOnlyFromAmong("open", "dismissed", "taken-down");
        var limit = new Option<int>("--limit") { Description = "At most this many, newest first", DefaultValueFactory = _ => 100 };
        var list = new Command("list", "List abuse reports, newest first") { status, limit };
        list.SetAction((parse, ct) => RunAsync(parse, json, data, postgres, production, async (admin, output) =>
        {
            var reports = await admin.ListAsync(parse.GetValue(status), parse.GetValue(limit), ct);
            foreach (var r in reports)
            {
                output.Event(
                    string.Create(CultureInfo.InvariantCulture, $"{r.Id}  {r.Status,-10}  {r.Reason,-9}  drop {r.DropId}  {r.CreatedAt:yyyy-MM-dd HH:mm}Z{(r.HasKey ? "  (key shared)" : "")}"),
                    r);
            }

            if (reports.Count == 0)
            {
                output.Event("No reports.", new { count = 0 });
            }

            return VeilCommand.Ok;
        }, ct));

        var reports = new Command("reports", "Drop abuse reports") { list, Verb("show", "Show one report (with the shared key and link, if any)", json, data, postgres, production, ShowAsync),
            Verb("takedown", "Take the drop down (delete its blobs) and give its owner a strike", json, data, postgres, production, (admin, id, output, ct) => ActAsync(admin.TakedownAsync(id, ct), id, "taken down", output)),
            Verb("dismiss", "Dismiss the report; the drop stays", json, data, postgres, production, (admin, id, output, ct) => ActAsync(admin.DismissAsync(id, ct), id, "dismissed", output)) };
        return new Command("admin", "Operator commands (run on the server host)")
        {
            data, postgres, production, reports, AdminDkimCommand.Create(json, data, postgres, production), AdminPlanCommand.Create(json, data, postgres, production),
            AdminDoctorCommand.Create(json, data, postgres, production), AdminAuditCommand.Create(json, data, postgres, production),
            AdminNotifyCommand.Create(json, data, postgres, production), AdminBackupCommand.Create(json, data, postgres, production),
        };
    }

    private static Command Verb(string name, string description, Option<bool> json, Option<string?> data, Option<string?> postgres, Option<bool> production,
        Func<DropReportAdmin, Guid, CliOutput, CancellationToken, Task<int>> action)
    {
        var id = new Argument<string>("REPORT-ID") { Description = "The report id shown by 'veil admin reports list'" };
        var command = new Command(name, description) { id };
        command.SetAction((parse, ct) =>
        {
            if (!Guid.TryParse(parse.GetValue(id), out var reportId))
            {
                Console.Error.WriteLine("veil: REPORT-ID must be a report id (a GUID)");
                return Task.FromResult(VeilCommand.BadArguments);
            }

            return RunAsync(parse, json, data, postgres, production, (admin, output) => action(admin, reportId, output, ct), ct);
        });
        return command;
    }

    private static async Task<int> ShowAsync(DropReportAdmin admin, Guid id, CliOutput output, CancellationToken ct)
    {
        var detail = await admin.ShowAsync(id, ct);
        if (detail is null)
        {
            output.Error("no such report");
            return VeilCommand.Failed;
        }

        var r = detail.Report;
        output.Event(string.Join(Environment.NewLine,
            $"Report {r.Id}: {r.Status} ({r.Reason}), filed {r.CreatedAt:u}{(r.ResolvedAt is { } at ? $", resolved {at:u}" : "")}",
            $"Drop {r.DropId}: {detail.DropState}{(detail.ContentSize is { } size ? $", {size} ciphertext bytes" : "")}",
            $"Owner: {detail.OwnerStrikes} strike(s){(detail.OwnerUploadBanned ? ", upload banned" : "")}",
            $"Comment: {detail.Comment ?? "(none)"}",
            detail.Link is null ? "Key: not shared by the reporter" : $"Link (opens the drop): {detail.Link}"), detail);
        return VeilCommand.Ok;
    }

    private static async Task<int> ActAsync(Task<DropReportActionResult> action, Guid id, string done, CliOutput output)
    {
        switch (await action)
        {
            case DropReportActionResult.Done:
                output.Event($"Report {id}: {done}.", new { id, result = done });
                return VeilCommand.Ok;
            case DropReportActionResult.AlreadyResolved:
                output.Error("the report is already resolved");
                return VeilCommand.Failed;
            default:
                output.Error("no such report");
                return VeilCommand.Failed;
        }
    }

    private static Task<int> RunAsync(ParseResult parse, Option<bool> json, Option<string?> data, Option<string?> postgres, Option<bool> production,
        Func<DropReportAdmin, CliOutput, Task<int>> action, CancellationToken ct) => RunServiceAsync(parse, json, data, postgres, production, action, ct);

    /// <summary>
    /// Builds the server over the same data directory and database as `veil serve`, migrates, and runs <paramref name="action"/> with one of its admin services.
    /// <paramref name="beforeMigrate"/>, when given, runs first (a restore fills the empty database before migrations run); a non-null result ends the verb with that exit code.
    /// </summary>
    internal static async Task<int> RunServiceAsync<TService>(ParseResult parse, Option<bool> json, Option<string?> data, Option<string?> postgres, Option<bool> production,
        Func<TService, CliOutput, Task<int>> action, CancellationToken ct, Func<IServiceProvider, CliOutput, Task<int?>>? beforeMigrate = null)
        where TService : notnull
    {
        var output = new CliOutput(parse.GetValue(json), Console.Out, Console.Error);
        // stdout is the verb's result (parsed by scripts with --json) and stderr its one-line error: the
        // server's own log lines (the development-keyring warning on every run) would pollute both. Only
        // errors are logged, and to stderr; the verb reports what it did itself.
        var setup = new VeilServerSetup
        {
            ConfigureLogging = logging =>
            {
                logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
                logging.SetMinimumLevel(LogLevel.Error);
                logging.AddFilter("Veil", LogLevel.Error);
                logging.AddFilter("Microsoft", LogLevel.Error);
            },
        };
        if (parse.GetValue(data) is { } dataDirectory)
        {
            setup.Settings["Veil:DataDirectory"] = dataDirectory;
        }

        if (parse.GetValue(postgres) is { } connection)
        {
            setup.Settings["ConnectionStrings:Postgres"] = connection;
        }

        if (parse.GetValue(production))
        {
            setup.Settings["Veil:Production"] = "true";
        }

        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            app = VeilServer.Build(setup);
        }
        catch (VeilStartupException e)
        {
            foreach (var problem in e.Problems)
            {
                output.Error(problem);
            }

            return VeilCommand.Failed;
        }

        await using (app)
        {
            try
            {
                if (beforeMigrate is not null && await beforeMigrate(app.Services, output) is { } early)
                {
                    return early;
                }

                await app.Services.MigrateVeilDatabaseAsync(ct);
                await using var scope = app.Services.CreateAsyncScope();
                // The audit log names who acted: the login that runs this command on the server host.
                scope.ServiceProvider.GetRequiredService<Veil.Server.Platform.Audit.AdminActor>().Name = "cli:" + Environment.UserName;
                return await action(scope.ServiceProvider.GetRequiredService<TService>(), output);
            }
            catch (OptionsValidationException e)
            {
                foreach (var failure in e.Failures)
                {
                    output.Error(failure);
                }

                return VeilCommand.Failed;
            }
            catch (DatabaseUnavailableException e)
            {
                output.Error(e.Message);
                return VeilCommand.Failed;
            }
        }
    }
}
