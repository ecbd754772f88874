// Inbound SPF, DKIM and DMARC (Veil.Mail/Authentication) against a real DNS server on loopback (dnsmasq) and mail
// signed by dkimpy, an independent DKIM implementation.
using System.Net;
using System.Text;
using Veil.Mail.Authentication;
using Veil.Mail.Dkim;
using Veil.Mail.Dns;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mailbox;

public sealed class InboundAuthenticationTests
{
    private const string Zone = "sender.test";
    private static readonly IPAddress Client = IPAddress.Loopback;

    private const string Message =
        "From: Sender <news@sender.test>\r\nTo: me@veil.test\r\nSubject: Hello\r\nMessage-ID: <1@sender.test>\r\n\r\nBody line\r\n";

    private static InboundAuthenticator Authenticator(LoopbackDns dns) => new(new MailDns([dns.EndPoint], TimeSpan.FromSeconds(1)), TimeProvider.System);

    [Fact]
    public async Task Evaluate_SignedByDkimpyFromAnAuthorizedIp_PassesSpfDkimAndDmarc()
    {
        await using var dns = await LoopbackDns.StartAsync(Zone);
        var (signed, record) = await Dkimpy.SignAsync(Message, Zone);
        dns.Txt("sel._domainkey.sender.test", record)
            .Txt("sender.test", "v=spf1 include:_spf.sender.test -all")
            .Txt("_spf.sender.test", "v=spf1 mx:sender.test ip4:192.0.2.0/24 -all") // inside an include, a bare "mx" would mean _spf.sender.test
            .Mx("sender.test", "mail.sender.test")
            .Address("mail.sender.test", Client)
            .Txt("_dmarc.sender.test", "v=DMARC1; p=reject; aspf=s");
        await dns.ApplyAsync();

        var result = await Authenticator(dns).EvaluateAsync(signed, Client, "bounces@sender.test", "mail.sender.test", CancellationToken.None);

        Assert.Equal(SpfResult.Pass, result.Spf);
        Assert.Equal([new DkimSignatureVerdict("sender.test", DkimVerificationStatus.Pass)], result.Dkim);
        Assert.Equal(DmarcResult.Pass, result.Dmarc);
        Assert.Equal("reject", result.DmarcPolicy);
        Assert.Equal("veil.test; spf=pass smtp.mailfrom=sender.test; dkim=pass header.d=sender.test; dmarc=pass header.from=sender.test",
            result.ToAuthenticationResults("veil.test"));
    }

    [Fact]
    public async Task Evaluate_TamperedBodyFromAnUnlistedIp_FailsSpfDkimAndDmarc()
    {
        await using var dns = await LoopbackDns.StartAsync(Zone);
        var (signed, record) = await Dkimpy.SignAsync(Message, Zone);
        var tampered = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(signed).Replace("Body line", "Body lime", StringComparison.Ordinal));
        dns.Txt("sel._domainkey.sender.test", record)
            .Txt("sender.test", "v=spf1 ip4:192.0.2.1 ip6:2001:db8::/32 -all")
            .Txt("_dmarc.sender.test", "v=DMARC1; p=quarantine");
        await dns.ApplyAsync();

        var result = await Authenticator(dns).EvaluateAsync(tampered, Client, "news@sender.test", "x.example", CancellationToken.None);

        Assert.Equal(SpfResult.Fail, result.Spf);
        Assert.Equal(DkimVerificationStatus.Fail, Assert.Single(result.Dkim).Status);
        Assert.Equal(DmarcResult.Fail, result.Dmarc);
        Assert.Equal("quarantine", result.DmarcPolicy);
    }

    [Fact]
    public async Task Evaluate_DkimPassForAnotherDomain_IsNotAlignedAndDmarcFails()
    {
        await using var dns = await LoopbackDns.StartAsync(Zone, "other.test");
        var (signed, record) = await Dkimpy.SignAsync(Message, "other.test");
        dns.Txt("sel._domainkey.other.test", record)
            .Txt("other.test", "v=spf1 ip4:127.0.0.0/8 -all")
            .Txt("_dmarc.sender.test", "v=DMARC1; p=reject");
        await dns.ApplyAsync();

        // SPF passes for other.test and DKIM passes for other.test, but the From domain is sender.test.
        var result = await Authenticator(dns).EvaluateAsync(signed, Client, "x@other.test", "mail.other.test", CancellationToken.None);

        Assert.Equal(SpfResult.Pass, result.Spf);
        Assert.Equal(DkimVerificationStatus.Pass, Assert.Single(result.Dkim).Status);
        Assert.Equal(DmarcResult.Fail, result.Dmarc);
    }

    [Theory]
    [InlineData("v=spf1 include:sender.test -all", SpfResult.PermError)] // an include loop exhausts the 10 lookups
    [InlineData("v=spf1 a:%{i}.sender.test -all", SpfResult.PermError)] // macros are not supported: never a pass
    [InlineData("v=spf1 ~all", SpfResult.SoftFail)]
    [InlineData("v=spf1 ip4:127.0.0.1", SpfResult.Pass)]
    [InlineData("v=spf1 a:nowhere.sender.test ?all", SpfResult.Neutral)]
    public async Task Spf_Records_EvaluateAsRfc7208Says(string spf, SpfResult expected)
    {
        await using var dns = await LoopbackDns.StartAsync(Zone);
        dns.Txt("sender.test", spf);
        await dns.ApplyAsync();

        var result = await new SpfEvaluator(new MailDns([dns.EndPoint], TimeSpan.FromSeconds(1))).CheckHostAsync(Client, "sender.test", CancellationToken.None);

        Assert.Equal(expected, result);
    }

    [Fact]
    public async Task Evaluate_DnsServerDown_IsTempErrorNotFail()
    {
        await using var dns = await LoopbackDns.StartAsync(Zone); // disposed half-way by the test, and again at the end
        var authenticator = Authenticator(dns);
        await dns.DisposeAsync();

        var result = await authenticator.EvaluateAsync(Encoding.ASCII.GetBytes(Message), Client, "news@sender.test", "x", CancellationToken.None);

        Assert.Equal(SpfResult.TempError, result.Spf);
        Assert.Equal(DmarcResult.TempError, result.Dmarc);
    }
}
