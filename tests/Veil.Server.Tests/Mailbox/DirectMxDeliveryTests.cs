// Direct MX delivery (Veil.Mail/Delivery) through the real SMTP client, against a DNS server on loopback (dnsmasq)
// and aiosmtpd as the recipients' MX host. 127.0.0.2 is on loopback too, with nothing listening on the sink's port:
// an MX host that refuses connections.
using System.Net;
using System.Text;
using Veil.Mail.Delivery;
using Veil.Mail.Dns;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Server.Tests.Alias;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mailbox;

public sealed class DirectMxDeliveryTests
{
    private static readonly IPAddress Dead = IPAddress.Parse("127.0.0.2");

    private static byte[] Message(string to) => Encoding.ASCII.GetBytes($"From: a@veil.test\r\nTo: {to}\r\nSubject: direct\r\n\r\nHello\r\n");

    private static SmtpEnvelope Envelope(params string[] to) => new("a@veil.test", to, false, false, DateTimeOffset.UnixEpoch);

    private static DirectMxTransport Transport(LoopbackDns dns, MailSink sink) =>
        new(new MailDns([dns.EndPoint], TimeSpan.FromSeconds(1)), new SmtpClientOptions { HeloName = "mx.veil.test", ReplyTimeout = TimeSpan.FromSeconds(30) }, sink.Port);

    [Fact]
    public async Task Deliver_PreferredMxRefusesConnections_TheNextMxGetsTheMessage()
    {
        await using var dns = await LoopbackDns.StartAsync("dest.test");
        using var sink = new MailSink();
        dns.Mx("dest.test", "mx1.dest.test", 5).Address("mx1.dest.test", Dead)
            .Mx("dest.test", "mx2.dest.test", 20).Address("mx2.dest.test", IPAddress.Loopback);
        await dns.ApplyAsync();

        using var content = new MemoryStream(Message("bob@dest.test"));
        var result = await Transport(dns, sink).DeliverAsync(Envelope("bob@dest.test"), content, CancellationToken.None);

        Assert.True(result.Success, result.Reply);
        var mail = Assert.Single(sink.All());
        Assert.Equal(["bob@dest.test"], mail.RcptTos);
        Assert.Contains("Subject: direct", mail.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deliver_DomainWithoutMx_UsesItsAddressRecord()
    {
        await using var dns = await LoopbackDns.StartAsync("dest.test");
        using var sink = new MailSink();
        dns.Address("plain.dest.test", IPAddress.Loopback);
        await dns.ApplyAsync();

        using var content = new MemoryStream(Message("carol@plain.dest.test"));
        var result = await Transport(dns, sink).DeliverAsync(Envelope("carol@plain.dest.test"), content, CancellationToken.None);

        Assert.True(result.Success, result.Reply);
        Assert.Equal(["carol@plain.dest.test"], Assert.Single(sink.All()).RcptTos);
    }

    [Fact]
    public async Task Deliver_DomainThatDoesNotExist_FailsPermanently()
    {
        await using var dns = await LoopbackDns.StartAsync("dest.test");
        using var sink = new MailSink();

        using var content = new MemoryStream(Message("dave@gone.dest.test"));
        var result = await Transport(dns, sink).DeliverAsync(Envelope("dave@gone.dest.test"), content, CancellationToken.None);

        Assert.False(result.Success);
        Assert.True(result.Permanent, result.Reply);
        Assert.StartsWith("550 5.1.2", result.Reply, StringComparison.Ordinal);
        Assert.Empty(sink.All());
    }

    [Fact]
    public async Task Deliver_TwoDomainsOneUnreachable_DeliversTheOtherAndLeavesTheFirstForRetry()
    {
        await using var dns = await LoopbackDns.StartAsync("dest.test");
        using var sink = new MailSink();
        dns.Mx("up.dest.test", "mx.up.dest.test").Address("mx.up.dest.test", IPAddress.Loopback)
            .Mx("down.dest.test", "mx.down.dest.test").Address("mx.down.dest.test", Dead);
        await dns.ApplyAsync();

        using var content = new MemoryStream(Message("erin@up.dest.test, frank@down.dest.test"));
        var result = await Transport(dns, sink).DeliverAsync(Envelope("frank@down.dest.test", "erin@up.dest.test"), content, CancellationToken.None);

        Assert.False(result.Success);
        Assert.True(result.DataAccepted);
        var (address, reply) = Assert.Single(result.RejectedRecipients);
        Assert.Equal("frank@down.dest.test", address);
        Assert.StartsWith("4", reply, StringComparison.Ordinal); // the queue keeps it pending and retries only it
        Assert.Equal(["erin@up.dest.test"], Assert.Single(sink.All()).RcptTos);
    }

    [Fact]
    public async Task Server_DirectDeliveryEnabled_SendsItsOwnMailToTheRecipientsMx()
    {
        await using var dns = await LoopbackDns.StartAsync("dest.test");
        using var sink = new MailSink();
        dns.Mx("dest.test", "mx.dest.test").Address("mx.dest.test", IPAddress.Loopback);
        await dns.ApplyAsync();
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Dns:Servers"] = dns.Servers;
            o.Settings["Veil:Mail:DirectDelivery"] = "true";
            o.Settings["Veil:Mail:DirectDeliveryPort"] = sink.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });

        // Registration mails a verification link: it leaves through the queue and the recipient's MX, not a smarthost.
        using var register = await server.PostAsync("/api/v1/accounts", new { email = "gina@dest.test", authToken = IdentityKit.NewAuthToken(), kdf = IdentityKit.DefaultKdf(), protectedUserKey = "v1.test-wrapped-key" });
        Assert.Equal(HttpStatusCode.Accepted, register.StatusCode);

        var mail = await sink.WaitForAsync(m => m.RcptTos.Contains("gina@dest.test"));
        Assert.Contains("/verify-email#", mail.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ProductionAliasDomainWithDirectDelivery_DoesNotAskForASmarthost()
    {
        var refused = await Assert.ThrowsAsync<VeilStartupException>(() => VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Production"] = "true";
            o.Settings["Veil:Alias:Domains:0"] = "alias.test";
            o.Settings["Veil:Mail:DirectDelivery"] = "true";
        }));

        Assert.DoesNotContain(refused.Problems, p => p.Contains("Smarthost", StringComparison.Ordinal));
    }
}
