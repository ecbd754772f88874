using System.Net;
using System.Net.Http.Json;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mailbox;

/// <summary>The public password-mail endpoints (spec/mailbox-api.md "Password mail to outsiders") are rate-limited per IP.</summary>
public sealed class OutsiderMailRateLimitTests
{
    [Fact]
    public async Task PublicFetch_ThirdRequestInTheWindow_Gets429_AndRepliesHaveTheirOwnLimit()
    {
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Mail:Domains:0"] = "mail.example";
            o.Settings["Veil:RateLimits:mail-outsider-fetch:PermitLimit"] = "2";
            o.Settings["Veil:RateLimits:mail-outsider-fetch:Window"] = "00:10:00";
            o.Settings["Veil:RateLimits:mail-outsider-reply:PermitLimit"] = "1";
            o.Settings["Veil:RateLimits:mail-outsider-reply:Window"] = "00:10:00";
        });
        var link = new Uri("/api/v1/mail/outsider/AAAAAAAAAAAAAAAAAAAAAA", UriKind.Relative);

        using var first = await server.Client.GetAsync(link);
        using var second = await server.Client.GetAsync(new Uri(link + "/info", UriKind.Relative));
        using var third = await server.Client.GetAsync(link);
        using var reply = await server.Client.PostAsJsonAsync(new Uri(link + "/replies", UriKind.Relative), new { reply = "AQ==" });
        using var secondReply = await server.Client.PostAsJsonAsync(new Uri(link + "/replies", UriKind.Relative), new { reply = "AQ==" });

        await ProblemDetailsTests.AssertProblemAsync(first, HttpStatusCode.NotFound, "message-not-found");
        await ProblemDetailsTests.AssertProblemAsync(second, HttpStatusCode.NotFound, "message-not-found");
        await ProblemDetailsTests.AssertProblemAsync(third, HttpStatusCode.TooManyRequests, "rate-limited");
        await ProblemDetailsTests.AssertProblemAsync(reply, HttpStatusCode.BadRequest, "invalid-message");
        await ProblemDetailsTests.AssertProblemAsync(secondReply, HttpStatusCode.TooManyRequests, "rate-limited");
    }
}
