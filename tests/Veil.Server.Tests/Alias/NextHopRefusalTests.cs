// Issue 15, point 3: no silent loss. A message Veil accepted with 250 and the next hop then refused must show up
// where its owner looks (the alias log, the bounced counter) at the moment of the refusal, and the original
// sender gets a DSN (RFC 5321 §6.1) that does not reveal the real mailbox. Real peers: swaks sends, aiosmtpd is a
// strict smarthost that answers 550 to the end of data for one mailbox.
using Veil.Server.Tests.Kit;

#pragma warning disable CA1716 // "Alias" is a Visual Basic keyword; the folder and module are named Alias on purpose.
namespace Veil.Server.Tests.Alias;
#pragma warning restore CA1716

public sealed class NextHopRefusalTests
{
    [Fact]
    public async Task Forward_SmarthostAnswers550ToData_LogSaysFailedBouncedCountsAndTheSenderGetsADsn()
    {
        await using var h = await AliasHarness.StartAsync(refuseDataTo: "me@mailbox.test");
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;

        var (exit, output) = await h.SwaksAsync("jane@sender.test", address, AliasForwardingTests.Message(address, "refused downstream"));

        Assert.True(exit == 0, output); // Veil accepted it with 250: from here on it must not vanish
        var log = await h.WaitForAsync(user, "/api/v1/alias/log", l => l.GetProperty("entries").GetArrayLength() > 0);
        var entries = log.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("event").GetString() + "/" + e.GetProperty("reason").GetString()).ToList();
        Assert.Equal(["failed/next-hop-550-5.6.0"], entries);
        var counters = (await h.GetAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}")).GetProperty("counters");
        Assert.Equal(1, counters.GetProperty("bounced").GetInt64());
        Assert.Equal(0, counters.GetProperty("forwarded").GetInt64());
        Assert.Equal(1, counters.GetProperty("received").GetInt64());

        var dsn = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("jane@sender.test"));
        Assert.Equal("<>", dsn.MailFrom);
        Assert.Contains("Final-Recipient: rfc822; " + address, dsn.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Status: 5.6.0", dsn.Text, StringComparison.Ordinal);
        Assert.Contains("Subject: refused downstream", dsn.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("mailbox.test", dsn.Text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(h.Sink.All(), m => m.RcptTos.Contains("me@mailbox.test"));
    }

    [Fact]
    public async Task Forward_SmarthostAnswers451ThenAccepts_LogSaysDeferredThenForwardedOnlyOnceAccepted()
    {
        await using var h = await AliasHarness.StartAsync(
            o => o.Settings["Veil:Mail:QueueFirstRetryDelay"] = "00:00:01", refuseDataTo: "me@mailbox.test", refusal: "451 4.3.0", refuseTimes: 1);
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;
        var path = $"/api/v1/alias/aliases/{alias.GetProperty("id")}";

        Assert.Equal(0, (await h.SwaksAsync("jane@sender.test", address, AliasForwardingTests.Message(address, "late but there"))).ExitCode);

        var log = await h.WaitForAsync(user, "/api/v1/alias/log", l => l.GetProperty("entries").GetArrayLength() > 0);
        Assert.Equal("deferred", log.GetProperty("entries")[0].GetProperty("event").GetString());
        Assert.Equal(0, (await h.GetAsync(user, path)).GetProperty("counters").GetProperty("forwarded").GetInt64());

        // Sending at once was answered 451; the queue's first retry is due one second later on the server's clock,
        // which stands still until the test moves it.
        h.Server.Time.Advance(TimeSpan.FromSeconds(2));
        await h.Sink.WaitForAsync(m => m.RcptTos.Contains("me@mailbox.test"));
        var after = await h.WaitForAsync(user, path, a => a.GetProperty("counters").GetProperty("forwarded").GetInt64() == 1);
        Assert.Equal(0, after.GetProperty("counters").GetProperty("bounced").GetInt64());
        var events = (await h.GetAsync(user, "/api/v1/alias/log")).GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("event").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(["deferred", "forwarded"], events);
        Assert.DoesNotContain(h.Sink.All(), m => m.RcptTos.Contains("jane@sender.test"));
    }
}
