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

    [Theory]
    [InlineData("missing.pem", "cannot read PEM certificates")]
    [InlineData("empty.pem", "holds no PEM certificate")]
    public void SmarthostCaFile_Unusable_FailsAtBuildNamingTheSetting(string file, string reason)
    {
        var data = Directory.CreateTempSubdirectory("veil-outbox-ca-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(data, "empty.pem"), "not a certificate\n");
            var setup = new VeilServerSetup();
            setup.Settings["Veil:DataDirectory"] = Path.Combine(data, "d");
            setup.Settings["Veil:Mail:Smarthost"] = "127.0.0.1:25";
            setup.Settings["Veil:Mail:SmarthostCaFile"] = Path.Combine(data, file);
            setup.Settings["urls"] = "http://127.0.0.1:0";

            var error = Assert.ThrowsAny<Exception>(() => VeilServer.Build(setup));

            var message = error is VeilStartupException startup ? string.Join(" ", startup.Problems) : error.Message;
            Assert.Contains("Veil:Mail:SmarthostCaFile", message, StringComparison.Ordinal);
            Assert.Contains(reason, message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Theory]
    [InlineData("Veil:Mail:QueueFirstRetryDelay", "five minutes", "positive duration")]
    [InlineData("Veil:Mail:QueueMaxAge", "-1.00:00:00", "positive duration")]
    [InlineData("Veil:Mail:QueueMaxRetryDelay", "00:01:00", "at least Veil:Mail:QueueFirstRetryDelay")]
    public void QueueRetrySettings_Malformed_FailAtBuildNamingTheSetting(string key, string value, string reason)
    {
        var data = Directory.CreateTempSubdirectory("veil-outbox-retry-").FullName;
        try
        {
            var setup = new VeilServerSetup();
            setup.Settings["Veil:DataDirectory"] = Path.Combine(data, "d");
            setup.Settings["Veil:Mail:Smarthost"] = "127.0.0.1:25";
            setup.Settings[key] = value;
            setup.Settings["urls"] = "http://127.0.0.1:0";

            var error = Assert.ThrowsAny<Exception>(() => VeilServer.Build(setup));

            var message = error is VeilStartupException startup ? string.Join(" ", startup.Problems) : error.Message;
            Assert.Contains(key, message, StringComparison.Ordinal);
            Assert.Contains(reason, message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
