using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Drop;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Drop;

public sealed class DropAbuseTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReportAsync(HttpClient client, string id, object body)
    {
        using var response = await client.PostAsJsonAsync($"/api/v1/drops/{id}/reports", body);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static async Task<string?> StatusAsync(HttpClient client, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/drop-reports/status");
        request.Headers.Add("X-Report-Token", token);
        using var response = await client.SendAsync(request);
        return response.StatusCode == HttpStatusCode.OK ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString() : null;
    }

    private static async Task<T> AdminAsync<T>(VeilTestServer server, Func<DropReportAdmin, Task<T>> action)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<DropReportAdmin>());
    }

    [Fact]
    public async Task Report_IsTracked_Deduplicated_AndTheSharedKeyOpensOnlyForTheOperator()
    {
        await using var server = await VeilTestServer.StartAsync();
        var api = new DropApi(server.Client);
        var (drop, _) = await api.ShareAsync(new byte[300]);
        var key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

        var (status, body) = await ReportAsync(server.Client, drop.Id, new { reason = "malware", comment = "contains a trojan", key });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var token = body.GetProperty("trackingToken").GetString()!;
        Assert.Equal("open", await StatusAsync(server.Client, token));

        var (again, problem) = await ReportAsync(server.Client, drop.Id, new { reason = "spam" });
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Equal("already-reported", problem.GetProperty("code").GetString());
        var (invalid, _) = await ReportAsync(server.Client, drop.Id, new { reason = "because" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid);

        var list = await AdminAsync(server, a => a.ListAsync("open", 100, CancellationToken.None));
        var report = Assert.Single(list);
        var detail = await AdminAsync(server, a => a.ShowAsync(report.Id, CancellationToken.None));
        Assert.Equal(key, detail!.DropKey);
        Assert.Equal("contains a trojan", detail.Comment);
        Assert.EndsWith($"/d/{drop.Id}#{key}", detail.Link, StringComparison.Ordinal);

        Assert.Equal(DropReportActionResult.Done, await AdminAsync(server, a => a.DismissAsync(report.Id, CancellationToken.None)));
        Assert.Equal("dismissed", await StatusAsync(server.Client, token));
        using var info = await api.InfoAsync(drop.Id);
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
    }

    [Fact]
    public async Task Takedown_DeletesTheBlobs_AndThreeStrikesBanTheOwnerFromUploading()
    {
        await using var server = await VeilTestServer.StartAsync();
        var api = new DropApi(server.Client);
        for (var strike = 1; strike <= 3; strike++)
        {
            var (drop, _) = await api.ShareAsync(new byte[300]);
            var (_, body) = await ReportAsync(server.Client, drop.Id, new { reason = "phishing" });
            var token = body.GetProperty("trackingToken").GetString()!;
            var report = (await AdminAsync(server, a => a.ListAsync("open", 10, CancellationToken.None))).Single();

            Assert.Equal(DropReportActionResult.Done, await AdminAsync(server, a => a.TakedownAsync(report.Id, CancellationToken.None)));
            Assert.Equal(DropReportActionResult.AlreadyResolved, await AdminAsync(server, a => a.TakedownAsync(report.Id, CancellationToken.None)));

            Assert.False(Directory.Exists(Path.Combine(server.DataDirectory, "blobs", "drops", drop.Id)));
            using var info = await api.InfoAsync(drop.Id);
            Assert.Equal("taken-down", await DropApi.ProblemCodeAsync(info));
            Assert.Equal("taken-down", await StatusAsync(server.Client, token));
            var detail = await AdminAsync(server, a => a.ShowAsync(report.Id, CancellationToken.None));
            Assert.Equal(strike, detail!.OwnerStrikes);
            Assert.Equal(strike >= 3, detail.OwnerUploadBanned);
        }

        using var banned = await api.CreateRawAsync(new { contentSize = 100, expiresInSeconds = 3600 });
        Assert.Equal(HttpStatusCode.Forbidden, banned.StatusCode);
        Assert.Equal("upload-banned", await DropApi.ProblemCodeAsync(banned));
    }

    [Fact]
    public async Task Report_OfAnUnknownDrop_IsNotFound()
    {
        await using var server = await VeilTestServer.StartAsync();
        var (status, body) = await ReportAsync(server.Client, "AAAAAAAAAAAAAAAAAAAAAA", new { reason = "other" });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("not-found", body.GetProperty("code").GetString());
    }
}
