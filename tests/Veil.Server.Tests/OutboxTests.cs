using System.Net;
using System.Net.Http.Json;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests;

public sealed class OutboxTests
{
    [Fact]
    public async Task Send_WritesAParseableMessageAndLogsOnlyTheFileName()
    {
        await using var server = await VeilTestServer.StartAsync(o => o.MapEndpoints = TestEndpoints.Map);

        using var response = await server.Client.PostAsJsonAsync("/test/notify", new NotifyRequest("alice@example.org", "Your sign-in link – ünïcode", "Open https://x/t/abc"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var mail = Assert.Single(server.ReadOutbox());
        Assert.Equal("alice@example.org", mail.Headers["To"]);
        Assert.StartsWith("=?utf-8?B?", mail.Headers["Subject"], StringComparison.Ordinal);
        Assert.Equal("Wed, 02 Jan 2030 03:04:05 +0000", mail.Headers["Date"]); // the server's injected clock
        Assert.Equal("Open https://x/t/abc", mail.TextBody);
        Assert.Equal("<p>Open https://x/t/abc</p>", mail.HtmlBody);
        var line = Assert.Single(server.Logs.Entries, e => e.Contains("[1500]", StringComparison.Ordinal));
        Assert.Contains(mail.FileName, line, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", server.Logs.AllText, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("sign-in", server.Logs.AllText, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(Directory.GetFiles(Path.Combine(server.DataDirectory, "outbox"), "*.tmp"));
    }

    [Fact]
    public async Task Send_HeaderInjection_IsRefusedAndWritesNothing()
    {
        await using var server = await VeilTestServer.StartAsync(o => o.MapEndpoints = TestEndpoints.Map);

        using var response = await server.Client.PostAsJsonAsync("/test/notify", new NotifyRequest("a@example.org\r\nBcc: evil@example.org", "hi", "b"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Empty(server.ReadOutbox());
    }
}
