// Mail to an alias on a user's verified custom domain, end to end: swaks → Veil's SMTP → forwarded to the user's
// mailbox (aiosmtpd as smarthost), DKIM-signed with the domain's own key (checked by dkimpy), with the domain's records in a DNS server on loopback (dnsmasq). While the domain
// is unverified its addresses are refused at RCPT, like any domain that is not ours.
using System.Net;
using System.Text.Json;
using Veil.Server.Tests.Alias;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mailbox;

public sealed class CustomDomainAliasMailTests
{
    private const string Domain = "brand.test";

    [Fact]
    public async Task AliasOnCustomDomain_ForwardsWhileVerified_AndIsRefusedAtRcptOnceTheDomainFails()
    {
        await using var dns = await LoopbackDns.StartAsync(Domain);
        await using var h = await AliasHarness.StartAsync(o =>
        {
            o.Settings["Veil:Dns:Servers"] = dns.Servers;
            o.Settings["Veil:Dns:Timeout"] = "00:00:00.3";
        });
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        JsonElement domain;
        using (var added = await h.Server.PostAsync("/api/v1/mail/domains", new { domain = Domain }, user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            domain = await added.JsonAsync();
        }

        var unverified = await h.RcptAsync("jane@sender.test", "anything@" + Domain);
        await dns.PublishAsListed(domain.GetProperty("records")).ApplyAsync();
        var check = $"/api/v1/mail/domains/{domain.GetProperty("id").GetGuid()}/check";
        using (var verified = await h.Server.PostAsync(check, null, user.AccessToken))
        {
            Assert.True((await verified.JsonAsync()).GetProperty("domain").GetProperty("verified").GetBoolean());
        }

        var address = (await h.CreateAliasAsync(user, new { domain = Domain })).GetProperty("address").GetString()!;
        var sent = await h.SwaksAsync("jane@sender.test", address, $"From: jane@sender.test\r\nTo: {address}\r\nSubject: to my brand\r\n\r\nHello\r\n");
        var dkimRecord = domain.GetProperty("records").EnumerateArray().Single(r => r.GetProperty("check").GetString() == "dkim").GetProperty("value").GetString()!;
        var forwarded = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("me@mailbox.test") && m.Text.Contains("to my brand", StringComparison.Ordinal));

        dns.Remove("_veil." + Domain);
        await dns.ApplyAsync();
        using (var failed = await h.Server.PostAsync(check, null, user.AccessToken))
        {
            Assert.False((await failed.JsonAsync()).GetProperty("domain").GetProperty("verified").GetBoolean());
        }

        var refused = await h.RcptAsync("jane@sender.test", address);

        Assert.True(unverified.ExitCode != 0, unverified.Output);
        Assert.True(sent.ExitCode == 0, sent.Output);
        Assert.Contains("Hello", forwarded.Text, StringComparison.Ordinal);
        Assert.Contains("d=" + Domain, forwarded.Header("DKIM-Signature"), StringComparison.Ordinal); // signed with the domain's own key
        Assert.True(await AliasHarness.DkimpyVerifiesAsync(forwarded.Raw, dkimRecord, h.Server.Time.GetUtcNow()), "dkimpy verifies the forwarded copy");
        Assert.True(refused.ExitCode != 0, refused.Output);
        Assert.Contains("<** 5", refused.Output, StringComparison.Ordinal);
    }
}
