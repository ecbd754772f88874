// Plans: named sets of limits an operator assigns to accounts (`veil admin plan set EMAIL PLAN`).
// Configuration: Veil:Plans:<name>:AliasDailyForwards and Veil:Plans:<name>:AliasDailyCreates
// (env Veil__Plans__pro__AliasDailyForwards=5000). A limit a plan leaves out is the global one
// (Veil:Alias:DailyForwardLimit / DailyCreateLimit). The configuration section is read by hand rather
// than bound, so that a typo (an unknown setting, a non-number) refuses the start instead of silently
// falling back to the globals.
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Veil.Server.Platform.Plans;

/// <summary>The configured plans (section <c>Veil:Plans</c>), by name.</summary>
internal sealed partial class PlansOptions
{
    public const string Section = "Veil:Plans";

    /// <summary>The plan an account without one uses, if configured (else the global limits).</summary>
    public const string DefaultPlan = "default";

    public const int MaxNameLength = 32;

    public Dictionary<string, PlanSettings> Plans { get; } = new(StringComparer.Ordinal);

    /// <summary>Problems found while reading the section (not numbers, unknown settings); reported by the validator.</summary>
    public List<string> ReadProblems { get; } = [];

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Reads <c>Veil:Plans</c> from <paramref name="configuration"/>.</summary>
    public void Read(IConfiguration configuration)
    {
        foreach (var plan in configuration.GetSection(Section).GetChildren())
        {
            var settings = new PlanSettings();
            Plans[plan.Key] = settings;
            if (plan.Value is not null && !plan.GetChildren().Any())
            {
                ReadProblems.Add($"{Section}:{plan.Key} (env {Env(plan.Key)}): must be a section with AliasDailyForwards and/or AliasDailyCreates");
                continue;
            }

            foreach (var setting in plan.GetChildren())
            {
                if (string.Equals(setting.Key, nameof(PlanSettings.AliasDailyForwards), StringComparison.OrdinalIgnoreCase))
                {
                    settings.AliasDailyForwards = ReadLimit(plan.Key, nameof(PlanSettings.AliasDailyForwards), setting.Value);
                }
                else if (string.Equals(setting.Key, nameof(PlanSettings.AliasDailyCreates), StringComparison.OrdinalIgnoreCase))
                {
                    settings.AliasDailyCreates = ReadLimit(plan.Key, nameof(PlanSettings.AliasDailyCreates), setting.Value);
                }
                else
                {
                    ReadProblems.Add($"{Section}:{plan.Key}:{setting.Key} (env {Env(plan.Key, setting.Key)}): unknown setting; a plan has AliasDailyForwards and AliasDailyCreates");
                }
            }
        }
    }

    internal static string Env(string plan, string? setting = null) =>
        "Veil__Plans__" + plan + (setting is null ? "" : "__" + setting);

    private int? ReadLimit(string plan, string setting, string? value)
    {
        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var limit))
        {
            return limit;
        }

        ReadProblems.Add($"{Section}:{plan}:{setting} (env {Env(plan, setting)}): must be a whole number");
        return null;
    }

    [GeneratedRegex("^[a-z0-9-]{1,32}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}

/// <summary>One plan's limits; null: the global limit.</summary>
internal sealed class PlanSettings
{
    public int? AliasDailyForwards { get; set; }

    public int? AliasDailyCreates { get; set; }
}

internal sealed class PlansOptionsValidator : IValidateOptions<PlansOptions>
{
    public ValidateOptionsResult Validate(string? name, PlansOptions options)
    {
        var failures = new List<string>(options.ReadProblems);
        foreach (var (plan, settings) in options.Plans)
        {
            if (!PlansOptions.IsValidName(plan))
            {
                failures.Add($"{PlansOptions.Section}:{plan} (env {PlansOptions.Env(plan)}): a plan name is 1..{PlansOptions.MaxNameLength} of a-z, 0-9 and '-'");
            }

            if (settings.AliasDailyForwards is < 1)
            {
                failures.Add($"{PlansOptions.Section}:{plan}:AliasDailyForwards (env {PlansOptions.Env(plan, "AliasDailyForwards")}): must be at least 1");
            }

            if (settings.AliasDailyCreates is < 1)
            {
                failures.Add($"{PlansOptions.Section}:{plan}:AliasDailyCreates (env {PlansOptions.Env(plan, "AliasDailyCreates")}): must be at least 1");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
