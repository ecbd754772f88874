// Veil's own notification mail leaves DKIM-signed when the operator created a key for the outbox's From
// domain; dkimpy verifies what the smarthost (aiosmtpd) received.
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Veil.Mail.Dkim;
using Veil.Server.Mail;
using Veil.Server.Tests.Kit;

#pragma warning disable CA1716 // "Alias" is a Visual Basic keyword; the folder and module are named Alias on purpose.
namespace Veil.Server.Tests.Alias;
#pragma warning restore CA1716

public sealed class OutgoingDkimTests
{
    [Fact]
    public async Task Outbox_KeyForFromDomain_MailArrivesSignedAndDkimpyVerifiesIt()
    {
        using var sink = new MailSink();
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.MapEndpoints = TestEndpoints.Map;
            o.Settings["Veil:Mail:Smarthost"] = $"127.0.0.1:{sink.Port}";
            o.Settings["Veil:Mail:SmarthostTls"] = "None";
            o.Settings["Veil:Outbox:From"] = "Veil <veil@notify.test>";
        });
        string record;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var created = await scope.ServiceProvider.GetRequiredService<DkimKeyAdmin>().CreateAsync("notify.test", "n1", DkimAlgorithm.RsaSha256, CancellationToken.None);
            record = created.Key!.RecordValue;
        }

        using var response = await server.Client.PostAsJsonAsync("/test/notify", new NotifyRequest("bob@example.org", "Signed notice", "Signed body"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var mail = await sink.WaitForAsync(m => m.RcptTos.Contains("bob@example.org"));
        Assert.Contains("d=notify.test", mail.Header("DKIM-Signature")!, StringComparison.Ordinal);
        Assert.Contains("s=n1", mail.Header("DKIM-Signature")!, StringComparison.Ordinal);
        Assert.True(await AliasHarness.DkimpyVerifiesAsync(mail.Raw, record, server.Time.GetUtcNow()), "dkimpy did not verify the notification");
    }

    [Fact]
    public async Task Outbox_NoKeyForFromDomain_MailArrivesUnsigned()
    {
        using var sink = new MailSink();
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.MapEndpoints = TestEndpoints.Map;
            o.Settings["Veil:Mail:Smarthost"] = $"127.0.0.1:{sink.Port}";
            o.Settings["Veil:Mail:SmarthostTls"] = "None";
            o.Settings["Veil:Outbox:From"] = "Veil <veil@unsigned.test>";
        });

        using var response = await server.Client.PostAsJsonAsync("/test/notify", new NotifyRequest("bob@example.org", "Plain notice", "Plain body"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var mail = await sink.WaitForAsync(m => m.RcptTos.Contains("bob@example.org"));
        Assert.Null(mail.Header("DKIM-Signature"));
        Assert.Contains("Plain body", mail.Text, StringComparison.Ordinal);
    }
}
