using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Tests.Kit;

namespace Veil.Cli.Tests.Admin;

/// <summary>
/// `veil admin plan …` as a process over the data directory (and database) of a real server in process,
/// configured with the same plans through the environment as an operator would; `veil alias usage` as the
/// account holder sees the result over HTTP.
/// </summary>
[Collection(AccountVerbsTestGroup.Name)]
public sealed partial class AdminPlanTests : IAsyncLifetime
{
    private const string Email = "alice@example.org";
    private const string Password = "correct horse battery staple";

    // The server and the admin process read the same plans (the server from settings, the CLI from its environment).
    private static readonly Dictionary<string, string> Plans = new(StringComparer.Ordinal)
    {
        ["Veil:Plans:basic:AliasDailyForwards"] = "2",
        ["Veil:Plans:pro:AliasDailyForwards"] = "5000",
        ["Veil:Plans:pro:AliasDailyCreates"] = "200",
    };

    private readonly string _config = Directory.CreateTempSubdirectory("veil-plan-cli-").FullName;
    private VeilTestServer _server = null!;
    private VeilCli _cli = null!;

    public async Task InitializeAsync()
    {
        _server = await VeilTestServer.StartAsync(o =>
        {
            foreach (var (key, value) in Plans)
            {
                o.Settings[key] = value;
            }
        });
        _cli = new VeilCli(_server.BaseAddress, Path.Combine(_config, "veil"));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_config, recursive: true);
    }

    [Fact]
    public async Task SetShowClear_TheRunningServerAppliesTheChangeWithinAMinute_AndAliasUsageShowsIt()
    {
        await RegisterAndLoginAsync();
        var before = Ok(await _cli.RunAsync(["alias", "usage", "--json"])).Event("alias-usage").GetProperty("usage");

        var set = Ok(await AdminAsync("set", Email, "pro", "--json"));
        var shown = Ok(await AdminAsync("show", "ALICE@example.org", "--json"));
        var cachedStill = Ok(await _cli.RunAsync(["alias", "usage", "--json"])).Event("alias-usage").GetProperty("usage");
        _server.Time.Advance(TimeSpan.FromSeconds(61));
        var after = Ok(await _cli.RunAsync(["alias", "usage"]));

        Assert.Equal("default", before.GetProperty("plan").GetString());
        Assert.Equal(1000, before.GetProperty("forwardsLimit").GetInt32());
        Assert.Equal(50, before.GetProperty("createsLimit").GetInt32());
        Assert.Equal(0, before.GetProperty("forwardsToday").GetInt32());
        Assert.Equal("2030-01-02", before.GetProperty("day").GetString());
        var setJson = Assert.Single(JsonLines(set));
        Assert.Equal("pro", setJson.GetProperty("plan").GetString());
        Assert.Equal(5000, setJson.GetProperty("aliasDailyForwards").GetInt32());
        var showJson = Assert.Single(JsonLines(shown));
        Assert.Equal("pro", showJson.GetProperty("plan").GetString());
        Assert.True(showJson.GetProperty("planConfigured").GetBoolean());
        Assert.Equal("pro", showJson.GetProperty("effectivePlan").GetString());
        Assert.Equal(5000, showJson.GetProperty("aliasDailyForwards").GetInt32());
        Assert.Equal(200, showJson.GetProperty("aliasDailyCreates").GetInt32());
        Assert.Equal(setJson.GetProperty("accountId").GetString(), showJson.GetProperty("accountId").GetString());
        Assert.Equal("default", cachedStill.GetProperty("plan").GetString());
        Assert.Contains("Plan: pro", after.Stdout, StringComparison.Ordinal);
        Assert.Contains("Forwarded today (2030-01-02 UTC): 0 of 5000", after.Stdout, StringComparison.Ordinal);
        Assert.Contains("Aliases created today: 0 of 200", after.Stdout, StringComparison.Ordinal);

        var cleared = Ok(await AdminAsync("clear", Email));
        var showCleared = Assert.Single(JsonLines(Ok(await AdminAsync("show", Email, "--json"))));

        Assert.Contains("plan none (default)", cleared.Stdout, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, showCleared.GetProperty("plan").ValueKind);
        Assert.Equal("default", showCleared.GetProperty("effectivePlan").GetString());
        Assert.Equal(1000, showCleared.GetProperty("aliasDailyForwards").GetInt32());
    }

    [Fact]
    public async Task List_ShowsDefaultFirstThenTheConfiguredPlans_InTextAndJson()
    {
        var json = Ok(await AdminAsync("list", "--json"));
        var text = Ok(await AdminAsync("list"));

        var plans = JsonLines(json);
        Assert.Equal(["default", "basic", "pro"], plans.Select(p => p.GetProperty("plan").GetString()));
        Assert.False(plans[0].GetProperty("configured").GetBoolean());
        Assert.Equal(1000, plans[0].GetProperty("aliasDailyForwards").GetInt32());
        Assert.Equal(2, plans[1].GetProperty("aliasDailyForwards").GetInt32());
        Assert.Equal(50, plans[1].GetProperty("aliasDailyCreates").GetInt32()); // left out: the global limit
        Assert.Equal(200, plans[2].GetProperty("aliasDailyCreates").GetInt32());
        Assert.Equal(3, Lines(text.Stdout).Length);
        Assert.Matches(@"^basic\s+alias forwards 2/day, alias creations 50/day$", Lines(text.Stdout)[1]);
        Assert.Contains("not configured", Lines(text.Stdout)[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Set_UnknownEmail_ExitsOneWithOneLine()
    {
        var result = await AdminAsync("set", "nobody@example.org", "pro", "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("veil: no account with this email", Assert.Single(Lines(result.Stderr)));
        Assert.Empty(Lines(result.Stdout));
    }

    [Fact]
    public async Task Set_UnknownPlan_ExitsOneNamingTheConfiguredPlans_AndChangesNothing()
    {
        await RegisterAndLoginAsync();
        Ok(await AdminAsync("set", Email, "basic"));

        var result = await AdminAsync("set", Email, "gold");
        var shown = Assert.Single(JsonLines(Ok(await AdminAsync("show", Email, "--json"))));

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(Lines(result.Stderr));
        Assert.StartsWith("veil: unknown plan 'gold'; configured plans: default, basic, pro", line, StringComparison.Ordinal);
        Assert.Equal("basic", shown.GetProperty("plan").GetString());
    }

    [Fact]
    public async Task Show_UnknownEmail_ExitsOne()
    {
        var result = await AdminAsync("show", "nobody@example.org");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("veil: no account with this email", Assert.Single(Lines(result.Stderr)));
    }

    [Fact]
    public async Task Admin_WithAnInvalidPlanInItsEnvironment_RefusesNamingTheKey()
    {
        var result = await _cli.RunAsync(["admin", "plan", "list", "--data", _server.DataDirectory, .. PostgresArgs()],
            environment: new Dictionary<string, string>(Env()) { ["Veil__Plans__pro__AliasDailyForwards"] = "0" });

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("veil: Veil:Plans:pro:AliasDailyForwards (env Veil__Plans__pro__AliasDailyForwards): must be at least 1", result.Stderr, StringComparison.Ordinal);
    }

    private Task<CliResult> AdminAsync(params string[] args) =>
        _cli.RunAsync(["admin", "plan", .. args, "--data", _server.DataDirectory, .. PostgresArgs()], environment: Env());

    private string[] PostgresArgs() =>
        _server.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Postgres"] is { Length: > 0 } postgres ? ["--postgres", postgres] : [];

    private static Dictionary<string, string> Env() => Plans.ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value, StringComparer.Ordinal);

    private static IReadOnlyList<JsonElement> JsonLines(CliResult result)
    {
        // Every stdout line must be JSON: a log line would break a script.
        Assert.All(Lines(result.Stdout), line => Assert.StartsWith("{", line, StringComparison.Ordinal));
        return [.. Lines(result.Stdout).Select(line => JsonDocument.Parse(line).RootElement.Clone())];
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static CliResult Ok(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private async Task RegisterAndLoginAsync()
    {
        Ok(await _cli.RunAsync(["account", "register", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
        var mail = _server.ReadOutbox().Last(m => m.TextBody.Contains("/verify-email#", StringComparison.Ordinal));
        var link = LinkPattern().Matches(mail.TextBody).Select(m => m.Value).Last(l => l.Contains("/verify-email#", StringComparison.Ordinal));
        Ok(await _cli.RunAsync(["account", "verify", link, "--json"]));
        Ok(await _cli.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
    }

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex LinkPattern();
}
