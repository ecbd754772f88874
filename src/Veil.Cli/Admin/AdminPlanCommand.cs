// `veil admin plan set|clear|show|list`: which limits an account gets (Veil:Plans:<name>, Platform/Plans).
// Like the other admin verbs these run the server's own service over its database and configuration, so
// the plans they know are the ones configured for this process (the same environment as `veil serve`).
// A running server caches each account's plan for up to 60 seconds: a change made here shows there
// within a minute.
using System.CommandLine;
using System.Globalization;
using Veil.Server.Platform.Plans;

namespace Veil.Cli.Admin;

internal static class AdminPlanCommand
{
    public static Command Create(Option<bool> json, Option<string?> data, Option<string?> postgres, Option<bool> production)
    {
        var setEmail = EmailArgument();
        var plan = new Argument<string>("PLAN") { Description = "A plan configured under Veil:Plans, or 'default'" };
        var set = new Command("set", "Give the account with EMAIL the plan PLAN") { setEmail, plan };
        set.SetAction((parse, ct) => AdminCommand.RunServiceAsync<PlanAdmin>(parse, json, data, postgres, production,
            (admin, output) => SetAsync(admin, output, parse.GetValue(setEmail)!, parse.GetValue(plan)!, ct), ct));

        var clearEmail = EmailArgument();
        var clear = new Command("clear", "Remove the account's plan: it gets the default plan") { clearEmail };
        clear.SetAction((parse, ct) => AdminCommand.RunServiceAsync<PlanAdmin>(parse, json, data, postgres, production,
            (admin, output) => SetAsync(admin, output, parse.GetValue(clearEmail)!, null, ct), ct));

        var showEmail = EmailArgument();
        var show = new Command("show", "Show the account's plan and the limits in force") { showEmail };
        show.SetAction((parse, ct) => AdminCommand.RunServiceAsync<PlanAdmin>(parse, json, data, postgres, production, async (admin, output) =>
        {
            var view = await admin.ShowAsync(parse.GetValue(showEmail)!, ct);
            if (view is null)
            {
                output.Error("no account with this email");
                return VeilCommand.Failed;
            }

            var stored = view.Plan is null ? "none (default)" : view.PlanConfigured ? view.Plan : $"{view.Plan} (not configured: the default plan applies)";
            output.Event(string.Join(Environment.NewLine,
                $"Account {view.AccountId}: plan {stored}",
                Limits(view.Effective)), new
            {
                accountId = view.AccountId,
                plan = view.Plan,
                planConfigured = view.PlanConfigured,
                effectivePlan = view.Effective.Plan,
                aliasDailyForwards = view.Effective.AliasDailyForwards,
                aliasDailyCreates = view.Effective.AliasDailyCreates,
            });
            return VeilCommand.Ok;
        }, ct));

        var list = new Command("list", "List the configured plans and their limits ('default' first)");
        list.SetAction((parse, ct) => AdminCommand.RunServiceAsync<PlanAdmin>(parse, json, data, postgres, production, (admin, output) =>
        {
            foreach (var p in admin.List())
            {
                var configured = p.Plan != "default" || admin.DefaultConfigured;
                output.Event($"{p.Plan,-32}  {Limits(p)}{(configured ? "" : "  (not configured: the Veil:Alias limits)")}", new
                {
                    plan = p.Plan,
                    configured,
                    aliasDailyForwards = p.AliasDailyForwards,
                    aliasDailyCreates = p.AliasDailyCreates,
                });
            }

            return Task.FromResult(VeilCommand.Ok);
        }, ct));

        return new Command("plan", "Account plans: per-account daily limits (Veil:Plans:<name>)") { set, clear, show, list };
    }

    private static Argument<string> EmailArgument() => new("EMAIL") { Description = "The account's email address" };

    private static string Limits(PlanLimits p) =>
        string.Create(CultureInfo.InvariantCulture, $"alias forwards {p.AliasDailyForwards}/day, alias creations {p.AliasDailyCreates}/day");

    private static async Task<int> SetAsync(PlanAdmin admin, CliOutput output, string email, string? plan, CancellationToken ct)
    {
        switch (await admin.SetAsync(email, plan, ct))
        {
            case PlanSetStatus.Done:
                var view = await admin.ShowAsync(email, ct);
                var effective = view!.Effective;
                output.Event($"Account {view.AccountId}: plan {view.Plan ?? "none (default)"}; {Limits(effective)}. A running server applies it within 60 seconds.", new
                {
                    accountId = view.AccountId,
                    plan = view.Plan,
                    effectivePlan = effective.Plan,
                    aliasDailyForwards = effective.AliasDailyForwards,
                    aliasDailyCreates = effective.AliasDailyCreates,
                });
                return VeilCommand.Ok;
            case PlanSetStatus.UnknownPlan:
                output.Error($"unknown plan '{plan}'; configured plans: {string.Join(", ", admin.List().Select(p => p.Plan))} (Veil:Plans:<name>)");
                return VeilCommand.Failed;
            default:
                output.Error("no account with this email");
                return VeilCommand.Failed;
        }
    }
}
