// Issue 15, point 10: development outbox mail reads as text (8bit UTF-8, not base64) and every mail Veil sends gives
// durations in human units ("expires in 24 hours", not "1440 minutes").
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Veil.Server.Platform.Outbox;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests;

public sealed class ReadableOutboxTests
{
    [Fact]
    public async Task Send_DevelopmentOutbox_PartsAre8bitTextReadableInTheFile()
    {
        await using var server = await VeilTestServer.StartAsync(o => o.MapEndpoints = TestEndpoints.Map);

        using var response = await server.Client.PostAsJsonAsync("/test/notify", new NotifyRequest("alice@example.org", "Grüße", "Grüße: open https://x/t/abc"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var raw = File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(server.DataDirectory, "outbox"), "*.eml")), Encoding.UTF8);
        Assert.DoesNotContain("base64", raw, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Content-Transfer-Encoding: 8bit\r\n\r\nGrüße: open https://x/t/abc\r\n", raw, StringComparison.Ordinal);
        Assert.Contains("<p>Grüße: open https://x/t/abc</p>", raw, StringComparison.Ordinal);
        Assert.Equal("Grüße: open https://x/t/abc", Assert.Single(server.ReadOutbox()).TextBody);
    }

    [Fact]
    public void Write_LineOver998Octets_IsQuotedPrintableWithNoLongLine()
    {
        var body = "start " + new string('é', 600) + " end";

        var raw = MessageWriter.Write(new OutboxMessage("a@example.org", "s", body), "Veil <veil@localhost>", DateTimeOffset.UnixEpoch, "id1");

        Assert.Contains("Content-Transfer-Encoding: quoted-printable", raw, StringComparison.Ordinal);
        Assert.All(raw.Split("\r\n"), line => Assert.True(line.Length <= 998));
        Assert.Equal(body, OutboxMail.Parse("x.eml", raw).TextBody);
    }

    [Fact]
    public async Task Register_VerificationMail_SaysExpiresIn24Hours()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();

        var user = await server.RegisterUserAsync();

        var mail = server.ReadOutbox().First(m => m.Headers["To"].Contains(user.Email, StringComparison.OrdinalIgnoreCase));
        Assert.Contains("expires in 24 hours.", mail.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("minutes", mail.TextBody, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10, "10 minutes")]
    [InlineData(1, "1 minute")]
    [InlineData(60, "1 hour")]
    [InlineData(90, "1 hour and 30 minutes")]
    [InlineData(1440, "24 hours")]
    [InlineData(36 * 60, "36 hours")]
    [InlineData(7 * 1440, "7 days")]
    [InlineData((3 * 1440) + (12 * 60) + 5, "3 days and 12 hours")]
    public void Format_Minutes_HumanUnits(int minutes, string expected)
    {
        Assert.Equal(expected, HumanDuration.Format(TimeSpan.FromMinutes(minutes)));
    }

    [Fact]
    public void Format_Seconds_RoundedUpToAMinute()
    {
        Assert.Equal("1 minute", HumanDuration.Format(TimeSpan.FromSeconds(20)));
    }
}
