using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Veil.Cli.Tests.Drop;

namespace Veil.Cli.Tests.Admin;

using CliResult = Veil.Cli.Tests.Drop.CliResult;

/// <summary>
/// `veil admin reports …` run as a process over the data directory (and database) of a real server in
/// process, against reports filed over HTTP as a stranger would.
/// </summary>
[Collection(DropCliTestGroup.Name)]
public sealed partial class AdminReportsTests : IAsyncLifetime
{
    private DropCli _cli = null!;

    public async Task InitializeAsync() => _cli = await DropCli.StartAsync();

    public async Task DisposeAsync() => await _cli.DisposeAsync();

    /// <summary>A drop sent with `veil drop send`, reported over HTTP with its key; returns the drop id, key and tracking token.</summary>
    private async Task<(string DropId, string Key, string TrackingToken)> SendAndReportAsync()
    {
        string file = _cli.WriteRandomFile("evidence.bin", 40_000);
        string link = await _cli.SendAsync(file);
        Match match = LinkPattern().Match(link);
        Assert.True(match.Success, link);
        string id = match.Groups[1].Value, key = match.Groups[2].Value;

        using HttpResponseMessage response = await _cli.Server.Client.PostAsJsonAsync(
            new Uri($"/api/v1/drops/{id}/reports", UriKind.Relative), new { reason = "malware", comment = "it is a trojan", key });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        string token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("trackingToken").GetString()!;
        return (id, key, token);
    }

    private Task<CliResult> AdminAsync(params string[] args) => AdminVerbAsync(["reports", .. args]);

    private Task<CliResult> AdminVerbAsync(string[] args)
    {
        List<string> all = ["admin", .. args, "--data", _cli.Server.DataDirectory];
        if (_cli.Server.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Postgres"] is { Length: > 0 } postgres)
        {
            all.AddRange(["--postgres", postgres]);
        }

        return _cli.RunAsync(all);
    }

    private static IReadOnlyList<JsonElement> JsonLines(CliResult result)
    {
        // Every stdout line must be JSON: a log line (the development-keyring warning) would break a script.
        Assert.All(result.StdoutLines, line => Assert.StartsWith("{", line, StringComparison.Ordinal));
        return [.. result.StdoutLines.Select(line => JsonDocument.Parse(line).RootElement.Clone())];
    }

    private async Task<string> OnlyReportIdAsync()
    {
        CliResult list = await AdminAsync("list", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        return Assert.Single(JsonLines(list)).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task List_AReportMadeOverHttp_ShowsInTextAndInJson_WithNothingButJsonOnStdout()
    {
        var (dropId, _, _) = await SendAndReportAsync();

        CliResult text = await AdminAsync("list");
        CliResult json = await AdminAsync("list", "--json");

        Assert.True(text.ExitCode == 0, text.ToString());
        string line = Assert.Single(text.StdoutLines);
        Assert.Contains($"drop {dropId}", line, StringComparison.Ordinal);
        Assert.Contains("open", line, StringComparison.Ordinal);
        Assert.Contains("malware", line, StringComparison.Ordinal);
        Assert.Contains("(key shared)", line, StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.ToString());
        JsonElement report = Assert.Single(JsonLines(json));
        Assert.Equal(dropId, report.GetProperty("dropId").GetString());
        Assert.Equal("open", report.GetProperty("status").GetString());
        Assert.Equal("malware", report.GetProperty("reason").GetString());
        Assert.True(report.GetProperty("hasKey").GetBoolean());
        Assert.True(Guid.TryParse(report.GetProperty("id").GetString(), out _));
    }

    [Fact]
    public async Task Show_RevealsTheReporterSuppliedKeyLinkAndComment()
    {
        var (dropId, key, _) = await SendAndReportAsync();
        string reportId = await OnlyReportIdAsync();

        CliResult json = await AdminAsync("show", reportId, "--json");
        CliResult text = await AdminAsync("show", reportId);

        Assert.True(json.ExitCode == 0, json.ToString());
        JsonElement detail = Assert.Single(JsonLines(json));
        Assert.Equal(key, detail.GetProperty("dropKey").GetString());
        Assert.EndsWith($"/d/{dropId}#{key}", detail.GetProperty("link").GetString(), StringComparison.Ordinal);
        Assert.Equal("it is a trojan", detail.GetProperty("comment").GetString());
        Assert.Equal("available", detail.GetProperty("dropState").GetString());
        Assert.Equal(0, detail.GetProperty("ownerStrikes").GetInt32());
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains($"Link (opens the drop): /d/{dropId}#{key}", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("Comment: it is a trojan", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Takedown_DeletesTheBlob_StrikesTheOwner_AndTheDropAnswersTakenDown()
    {
        var (dropId, _, token) = await SendAndReportAsync();
        string reportId = await OnlyReportIdAsync();
        Assert.NotEmpty(_cli.BlobFiles(dropId));

        CliResult takedown = await AdminAsync("takedown", reportId, "--json");

        Assert.True(takedown.ExitCode == 0, takedown.ToString());
        Assert.Equal("taken down", Assert.Single(JsonLines(takedown)).GetProperty("result").GetString());
        Assert.Empty(_cli.BlobFiles(dropId));
        using HttpResponseMessage info = await _cli.Server.Client.GetAsync(new Uri($"/api/v1/drops/{dropId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Gone, info.StatusCode);
        Assert.Equal("taken-down", (await info.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        JsonElement detail = Assert.Single(JsonLines(await AdminAsync("show", reportId, "--json")));
        Assert.Equal(1, detail.GetProperty("ownerStrikes").GetInt32());
        Assert.Equal("taken-down", detail.GetProperty("report").GetProperty("status").GetString());
        using var status = new HttpRequestMessage(HttpMethod.Get, "/api/v1/drop-reports/status");
        status.Headers.Add("X-Report-Token", token);
        using HttpResponseMessage tracked = await _cli.Server.Client.SendAsync(status);
        Assert.Equal("taken-down", (await tracked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        // The audit log: the takedown and the view, by the login that ran the verbs, the report id only as a keyed hash.
        CliResult audit = await AdminVerbAsync(["audit", "--target", reportId, "--json"]);
        Assert.True(audit.ExitCode == 0, audit.ToString());
        var rows = Assert.Single(JsonLines(audit)).GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["report-view", "report-takedown"], rows.Select(r => r.GetProperty("action").GetString()));
        Assert.All(rows, r => Assert.Equal("cli:" + Environment.UserName, r.GetProperty("actor").GetString()));
        Assert.All(rows, r => Assert.DoesNotContain(reportId, r.GetProperty("target").GetString()!, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), rows[0].GetProperty("day").GetString());
    }

    [Fact]
    public async Task Dismiss_ClosesTheReport_TheDropStays_AndASecondActionIsRefused()
    {
        var (dropId, _, _) = await SendAndReportAsync();
        string reportId = await OnlyReportIdAsync();

        CliResult dismissed = await AdminAsync("dismiss", reportId);
        CliResult open = await AdminAsync("list", "--status", "open");
        CliResult again = await AdminAsync("takedown", reportId);

        Assert.True(dismissed.ExitCode == 0, dismissed.ToString());
        Assert.Contains("dismissed", dismissed.Stdout, StringComparison.Ordinal);
        Assert.Equal("No reports.", Assert.Single(open.StdoutLines));
        using HttpResponseMessage info = await _cli.Server.Client.GetAsync(new Uri($"/api/v1/drops/{dropId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        Assert.NotEmpty(_cli.BlobFiles(dropId));
        Assert.Equal(1, again.ExitCode);
        Assert.Equal("veil: the report is already resolved", again.Stderr.Trim());
        // One row for the dismissal; the refused takedown changed nothing and recorded nothing.
        CliResult audit = await AdminVerbAsync(["audit", "--target", reportId, "--json"]);
        Assert.Equal("report-dismiss", Assert.Single(Assert.Single(JsonLines(audit)).GetProperty("rows").EnumerateArray()).GetProperty("action").GetString());
    }

    [Theory]
    [InlineData("show")]
    [InlineData("takedown")]
    [InlineData("dismiss")]
    public async Task UnknownReportId_IsAOneLineErrorAndExit1(string verb)
    {
        CliResult result = await AdminAsync(verb, Guid.NewGuid().ToString(), "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("veil: no such report", result.Stderr.Trim());
        Assert.Empty(result.Stdout.Trim());
    }

    [Theory]
    [InlineData("show")]
    [InlineData("show", "not-a-report-id")]
    [InlineData("takedown", "12345")]
    [InlineData("list", "--status", "closed")]
    [InlineData("frobnicate")]
    public async Task UsageError_Exits2(params string[] args)
    {
        CliResult result = await AdminAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.NotEmpty(result.Stderr.Trim());
    }

    [GeneratedRegex(@"/d/([A-Za-z0-9_-]{22})#([A-Za-z0-9_-]{43})$")]
    private static partial Regex LinkPattern();
}
