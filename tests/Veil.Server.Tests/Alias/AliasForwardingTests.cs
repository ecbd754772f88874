// End to end with real peers: swaks → Veil SMTP → spool → Alias → outbound queue → aiosmtpd, dkimpy
// verifying what arrives. One harness per test: each test owns its server, sink and database.
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

#pragma warning disable CA1716 // "Alias" is a Visual Basic keyword; the folder and module are named Alias on purpose.
namespace Veil.Server.Tests.Alias;
#pragma warning restore CA1716

public sealed class AliasForwardingTests
{
    private const string PlainPart = "Hello from Jane,\r\nthis line ends with two spaces  \r\n\ttabbed line, caf\u00e9 in UTF-8\r\n.dot at start\r\n";

    internal static string Message(string to, string subject, string from = "\"Jane Doe\" <jane@sender.test>", string? messageId = null) =>
        $"From: {from}\r\n" +
        $"To: {to}\r\n" +
        $"Subject: {subject}\r\n" +
        "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n" +
        $"Message-ID: {messageId ?? $"<{Guid.NewGuid():N}@sender.test>"}\r\n" +
        "Reply-To: Jane Desk <desk@sender.test>\r\n" +
        "List-Unsubscribe: <https://sender.test/unsub/1>\r\n" +
        "DKIM-Signature: v=1; a=rsa-sha256; d=sender.test; s=s1; h=from; bh=AAAA; b=BBBB\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
        "\r\n" +
        "--b1\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Transfer-Encoding: 8bit\r\n" +
        "\r\n" +
        PlainPart +
        "--b1\r\n" +
        "Content-Type: text/html; charset=utf-8\r\n" +
        "\r\n" +
        "<html><body><p>Hello</p><img src=\"https://list-manage.com/track/open.php?u=1\" width=\"1\" height=\"1\"></body></html>\r\n" +
        "--b1--\r\n";

    [Fact]
    public async Task Forward_SwaksToAlias_ArrivesRewrittenSrsSignedTrackerFreeWithTextPartIntact()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;
        var messageId = $"<{Guid.NewGuid():N}@sender.test>";

        var (exit, output) = await h.SwaksAsync("bounces@sender.test", address, Message(address, "Quarterly numbers", messageId: messageId));

        Assert.True(exit == 0, output);
        var mail = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("me@mailbox.test"));
        Assert.Matches("^SRS0=[^=]+=[^=]+=sender\\.test=bounces@alias\\.test$", mail.MailFrom);
        Assert.Matches("ra\\.[a-z2-7]{22}@alias\\.test", mail.Header("From")!);
        Assert.DoesNotContain("jane@sender.test", mail.Header("From")!, StringComparison.Ordinal);
        Assert.Matches("ra\\.[a-z2-7]{22}@alias\\.test", mail.Header("Reply-To")!);
        Assert.Equal(messageId, mail.Header("Message-ID"));
        Assert.Equal("<https://sender.test/unsub/1>", mail.Header("List-Unsubscribe"));
        Assert.StartsWith("1", mail.Header("X-Veil-Trackers-Removed")!, StringComparison.Ordinal);
        Assert.DoesNotContain("list-manage.com/track", mail.Text, StringComparison.Ordinal);
        Assert.Contains(PlainPart, Encoding.UTF8.GetString(mail.Raw), StringComparison.Ordinal);
        Assert.Contains("d=alias.test", mail.Header("DKIM-Signature")!, StringComparison.Ordinal);
        Assert.DoesNotContain("d=sender.test", mail.HeaderBlock, StringComparison.Ordinal);
        Assert.True(await h.DkimpyVerifiesAsync(mail.Raw), "dkimpy did not verify the forwarded copy");

        var after = await h.WaitForAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}", a => a.GetProperty("counters").GetProperty("forwarded").GetInt64() == 1);
        Assert.Equal(1, after.GetProperty("counters").GetProperty("received").GetInt64());
        var contacts = await h.GetAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}/contacts");
        Assert.Equal(["desk@sender.test", "jane@sender.test"], contacts.GetProperty("contacts").EnumerateArray().Select(c => c.GetProperty("address").GetString()).Order(StringComparer.Ordinal));
        var log = await h.GetAsync(user, "/api/v1/alias/log");
        Assert.Equal("forwarded", log.GetProperty("entries")[0].GetProperty("event").GetString());
    }

    [Fact]
    public async Task Reply_FromRecipientMailboxToReverseAddress_ReachesSenderFromTheAliasWithoutTheRealAddress()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;
        Assert.Equal(0, (await h.SwaksAsync("jane@sender.test", address, Message(address, "Question"))).ExitCode);
        var forwarded = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("me@mailbox.test"));
        await ForwardedAsync(h, user, alias, 1); // the contact is committed with the counters, just after the enqueue
        var reverse = System.Text.RegularExpressions.Regex.Match(forwarded.Header("From")!, "ra\\.[a-z2-7]{22}@alias\\.test").Value;
        var reply =
            "From: Me Myself <me@mailbox.test>\r\n" +
            $"To: \"Jane Doe - jane at sender.test\" <{reverse}>\r\n" +
            "Cc: me@mailbox.test\r\n" +
            "Subject: Re: Question (sent from me@mailbox.test)\r\n" +
            "Sender: me@mailbox.test\r\n" +
            "Disposition-Notification-To: me@mailbox.test\r\n" +
            "Received: from laptop (me@mailbox.test) by mx.mailbox.test\r\n" +
            $"In-Reply-To: {forwarded.Header("Message-ID")}\r\n" +
            "Message-ID: <reply-1@mailbox.test>\r\n" +
            "\r\n" +
            "Yes, that works.\r\n";

        var (exit, output) = await h.SwaksAsync("me@mailbox.test", reverse, reply);

        Assert.True(exit == 0, output);
        var sent = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("jane@sender.test"));
        Assert.Equal(address, sent.MailFrom);
        Assert.Contains(address, sent.Header("From")!, StringComparison.Ordinal);
        Assert.Contains("jane@sender.test", sent.Header("To")!, StringComparison.Ordinal);
        Assert.DoesNotContain("me@mailbox.test", sent.HeaderBlock, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("mailbox.test", sent.HeaderBlock.Replace("<reply-1@mailbox.test>", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\n\r\nYes, that works.\r\n", sent.Text, StringComparison.Ordinal);
        Assert.True(await h.DkimpyVerifiesAsync(sent.Raw), "dkimpy did not verify the reply");
        var counters = (await h.WaitForAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}", a => a.GetProperty("counters").GetProperty("replied").GetInt64() == 1)).GetProperty("counters");
        Assert.Equal(1, counters.GetProperty("forwarded").GetInt64());
    }

    [Fact]
    public async Task Unsubscribe_MailtoInListUnsubscribe_BecomesAReverseAliasAndUnsubscribingLeavesFromTheAlias()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;
        var newsletter = Message(address, "Weekly").Replace(
            "List-Unsubscribe: <https://sender.test/unsub/1>\r\n",
            "List-Unsubscribe: <mailto:Leave%2B7@List.Sender.test?subject=stop>,\r\n <https://sender.test/unsub/1>\r\n", StringComparison.Ordinal);
        Assert.Equal(0, (await h.SwaksAsync("news@sender.test", address, newsletter)).ExitCode);

        var forwarded = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("me@mailbox.test"));
        var unsubscribe = forwarded.Header("List-Unsubscribe")!;
        var reverse = System.Text.RegularExpressions.Regex.Match(unsubscribe, "<mailto:(ra\\.[a-z2-7]{22}@alias\\.test)\\?subject=stop>").Groups[1].Value;
        Assert.NotEmpty(reverse);
        Assert.Contains("<https://sender.test/unsub/1>", unsubscribe, StringComparison.Ordinal);
        Assert.DoesNotContain("leave", unsubscribe, StringComparison.OrdinalIgnoreCase);
        Assert.True(await h.DkimpyVerifiesAsync(forwarded.Raw), "dkimpy did not verify the forwarded copy");
        await ForwardedAsync(h, user, alias, 1);

        // The mail client unsubscribes by writing to that address from the real mailbox.
        var (exit, output) = await h.SwaksAsync("me@mailbox.test", reverse,
            $"From: me@mailbox.test\r\nTo: {reverse}\r\nSubject: stop\r\nMessage-ID: <unsub-1@mailbox.test>\r\n\r\nstop\r\n");

        Assert.True(exit == 0, output);
        var sent = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("leave+7@list.sender.test"));
        Assert.Equal(address, sent.MailFrom);
        Assert.DoesNotContain("me@mailbox.test", sent.HeaderBlock, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Rcpt_UnknownAliasStrangerToReverseAndDisabledReject_AreRefused()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;
        var contact = await CreateContactAsync(h, user, alias, "jane@sender.test");
        var reverse = contact.GetProperty("reverseAddress").GetString()!;

        var unknown = await h.SwaksAsync("jane@sender.test", "nobody.here42@alias.test", Message("nobody.here42@alias.test", "x"));
        var stranger = await h.SwaksAsync("stranger@evil.test", reverse, Message(reverse, "spam through you"));
        var otherDomain = await h.SwaksAsync("jane@sender.test", "victim@elsewhere.test", Message("victim@elsewhere.test", "relay?"));
        await PatchAsync(h, user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}", new { enabled = false, disabledAction = "reject" });
        var disabled = await h.SwaksAsync("jane@sender.test", address, Message(address, "x"));

        Assert.Contains("<** 550 5.1.1", unknown.Output, StringComparison.Ordinal);
        Assert.Contains("<** 550 5.7.1", stranger.Output, StringComparison.Ordinal);
        Assert.Contains("<** 550 5.7.1", otherDomain.Output, StringComparison.Ordinal);
        Assert.Contains("<** 550 5.1.1", disabled.Output, StringComparison.Ordinal);
        Assert.Empty(h.Sink.All());
        var log = await h.GetAsync(user, "/api/v1/alias/log");
        Assert.Equal("rejected", Assert.Single(log.GetProperty("entries").EnumerateArray()).GetProperty("event").GetString());
    }

    [Fact]
    public async Task CatchAll_MailToANewAddress_CreatesTheAliasAndForwards_DeletedOneIsRefused()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        // The catch-all owner is an account id, known only now: set it on the bound options (as a restart with the setting would).
        h.Server.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Veil.Server.Alias.AliasOptions>>().Value.CatchAll
            .Add(new Veil.Server.Alias.AliasCatchAllOptions { Domain = AliasHarness.Domain, Account = user.AccountId.ToString() });

        var (exit, output) = await h.SwaksAsync("jane@sender.test", "newsletter@alias.test", Message("newsletter@alias.test", "first mail"));

        Assert.True(exit == 0, output);
        await h.Sink.WaitForAsync(m => m.RcptTos.Contains("me@mailbox.test"));
        var aliases = await h.GetAsync(user, "/api/v1/alias/aliases");
        var alias = Assert.Single(aliases.GetProperty("aliases").EnumerateArray());
        Assert.Equal("newsletter@alias.test", alias.GetProperty("address").GetString());
        using (var deleted = await h.Server.SendAsync(HttpMethod.Delete, $"/api/v1/alias/aliases/{alias.GetProperty("id")}", bearer: user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var again = await h.SwaksAsync("jane@sender.test", "newsletter@alias.test", Message("newsletter@alias.test", "after delete"));
        Assert.Contains("<** 550 5.1.1", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DailyForwardLimit_Reached_NextRcptIsTryLater451()
    {
        await using var h = await AliasHarness.StartAsync(o => o.Settings["Veil:Alias:DailyForwardLimit"] = "1");
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;
        Assert.Equal(0, (await h.SwaksAsync("jane@sender.test", address, Message(address, "first"))).ExitCode);
        await h.WaitForAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}", a => a.GetProperty("counters").GetProperty("forwarded").GetInt64() == 1);
        h.Server.Time.Advance(Veil.Server.Alias.AliasRoutingCache.QuotaLifetime); // RCPT's quota answer is cached that long

        var second = await h.SwaksAsync("jane@sender.test", address, Message(address, "second"));

        Assert.Contains("<** 451 4.3.0", second.Output, StringComparison.Ordinal);
        Assert.Single(h.Sink.All());
    }

    [Fact]
    public async Task DisabledDiscardAndBlockedContact_AreAcceptedCountedAndDropped()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var id = alias.GetProperty("id").GetGuid();
        var address = alias.GetProperty("address").GetString()!;
        var contact = await CreateContactAsync(h, user, alias, "jane@sender.test");
        await PatchAsync(h, user, $"/api/v1/alias/contacts/{contact.GetProperty("id")}", new { blocked = true });

        var blocked = await h.SwaksAsync("jane@sender.test", address, Message(address, "blocked one"));
        await h.WaitForAsync(user, $"/api/v1/alias/aliases/{id}", a => a.GetProperty("counters").GetProperty("blocked").GetInt64() == 1);
        await PatchAsync(h, user, $"/api/v1/alias/aliases/{id}", new { enabled = false, disabledAction = "discard" });
        h.Server.Time.Advance(TimeSpan.FromSeconds(1)); // log entries are ordered by time
        var discarded = await h.SwaksAsync("other@sender.test", address, Message(address, "discarded one", from: "other@sender.test"));
        var after = await h.WaitForAsync(user, $"/api/v1/alias/aliases/{id}", a => a.GetProperty("counters").GetProperty("blocked").GetInt64() == 2);

        Assert.Equal(0, blocked.ExitCode);
        Assert.Equal(0, discarded.ExitCode);
        Assert.Equal(2, after.GetProperty("counters").GetProperty("received").GetInt64());
        Assert.Equal(0, after.GetProperty("counters").GetProperty("forwarded").GetInt64());
        var contacts = await h.GetAsync(user, $"/api/v1/alias/aliases/{id}/contacts");
        Assert.Equal(1, contacts.GetProperty("contacts").EnumerateArray().Single(c => c.GetProperty("address").GetString() == "jane@sender.test").GetProperty("blockedCount").GetInt64());
        var events = (await h.GetAsync(user, "/api/v1/alias/log")).GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("event").GetString() + "/" + e.GetProperty("reason").GetString()).ToList();
        Assert.Equal(["discarded/alias-disabled", "blocked/contact-blocked"], events);
        Assert.Empty(h.Sink.All());
    }

    [Fact]
    public async Task HardBounces_ThreeToTheSrsAddress_PauseTheRecipientNotifyTheUserAndStopForwarding()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, recipientId) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;
        Assert.Equal(0, (await h.SwaksAsync("jane@sender.test", address, Message(address, "will bounce"))).ExitCode);
        var forwarded = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("me@mailbox.test"));
        await ForwardedAsync(h, user, alias, 1);
        var reverse = System.Text.RegularExpressions.Regex.Match(forwarded.Header("From")!, "ra\\.[a-z2-7]{22}@alias\\.test").Value;

        for (var i = 0; i < 3; i++)
        {
            var (exit, output) = await h.SwaksAsync("", forwarded.MailFrom, Dsn(forwarded.MailFrom, "me@mailbox.test", reverse));
            Assert.True(exit == 0, output);
        }

        var recipients = await h.WaitForAsync(user, "/api/v1/alias/recipients", r => r.GetProperty("recipients")[0].GetProperty("paused").GetBoolean());
        Assert.Equal("hard-bounces", recipients.GetProperty("recipients")[0].GetProperty("pausedReason").GetString());
        Assert.Equal(recipientId, recipients.GetProperty("recipients")[0].GetProperty("id").GetGuid());
        Assert.Contains(h.Server.ReadOutbox(), m => m.Headers["To"].Contains(user.Email, StringComparison.OrdinalIgnoreCase)
            && m.Headers["Subject"].Contains("paused", StringComparison.Ordinal));
        var counters = (await h.GetAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}")).GetProperty("counters");
        Assert.Equal(3, counters.GetProperty("bounced").GetInt64());

        h.Server.Time.Advance(TimeSpan.FromSeconds(1)); // log entries are ordered by time
        Assert.Equal(0, (await h.SwaksAsync("jane@sender.test", address, Message(address, "after the pause"))).ExitCode);
        var log = await h.WaitForAsync(user, "/api/v1/alias/log", l => l.GetProperty("entries")[0].GetProperty("event").GetString() == "failed");
        Assert.Equal("recipient-paused", log.GetProperty("entries")[0].GetProperty("reason").GetString());
        Assert.Single(h.Sink.All());

        using var resume = await h.Server.PostAsync($"/api/v1/alias/recipients/{recipientId}/resume", null, user.AccessToken);
        Assert.False((await resume.JsonAsync()).GetProperty("paused").GetBoolean());
    }

    [Fact]
    public async Task Redelivery_SameSpooledMessageTwice_IsCountedAndForwardedOnce()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;
        var sink = h.Server.Services.GetRequiredService<IMessageSink>();
        var spooled = new SpooledMessage(SpoolId.New(), new SmtpEnvelope("jane@sender.test", [address], true, false, h.Server.Time.GetUtcNow()), 0);
        var bytes = Encoding.UTF8.GetBytes(Message(address, "twice"));

        // The dispatcher offers a message again after a crash that came after processing but before the spool was emptied.
        Assert.Equal(SinkResult.Done, await sink.ProcessAsync(spooled with { Size = bytes.Length }, new MemoryStream(bytes), CancellationToken.None));
        Assert.Equal(SinkResult.Done, await sink.ProcessAsync(spooled with { Size = bytes.Length }, new MemoryStream(bytes), CancellationToken.None));

        await h.Sink.WaitForAsync(m => m.RcptTos.Contains("me@mailbox.test"));
        var counters = (await h.GetAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}")).GetProperty("counters");
        Assert.Equal(1, counters.GetProperty("forwarded").GetInt64());
        Assert.Equal(1, counters.GetProperty("received").GetInt64());
        Assert.Single(h.Sink.All());
    }

    [Fact]
    public async Task ConcurrentMessages_ToOneAliasFromOneNewSender_AreEachForwardedOnceAndEveryCountKept()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;
        var sink = h.Server.Services.GetRequiredService<IMessageSink>();
        const int count = 12;

        // The dispatcher hands several messages to the sink at once: the first contact is created once and no
        // concurrent increment of the alias, contact or daily counters is lost.
        var results = await Task.WhenAll(Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            var bytes = Encoding.UTF8.GetBytes(Message(address, $"parallel {i}"));
            var spooled = new SpooledMessage(SpoolId.New(), new SmtpEnvelope("jane@sender.test", [address], true, false, h.Server.Time.GetUtcNow()), bytes.Length);
            return await sink.ProcessAsync(spooled, new MemoryStream(bytes), CancellationToken.None);
        })));

        Assert.All(results, r => Assert.Equal(SinkResult.Done, r));
        var counters = (await h.GetAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}")).GetProperty("counters");
        Assert.Equal(count, counters.GetProperty("forwarded").GetInt64());
        Assert.Equal(count, counters.GetProperty("received").GetInt64());
        var contacts = (await h.GetAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}/contacts")).GetProperty("contacts").EnumerateArray().ToList();
        Assert.Equal(1, contacts.Count(c => c.GetProperty("address").GetString() == "jane@sender.test"));
        Assert.Equal(count, contacts.Single(c => c.GetProperty("address").GetString() == "jane@sender.test").GetProperty("forwarded").GetInt64());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (h.Sink.All().Count < count && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(count, h.Sink.All().Count);
    }

    [Fact]
    public async Task CanaryAudit_AfterEveryFlow_NoAddressMappingOrSubjectInDatabaseLogsOrSpool()
    {
        await using var h = await AliasHarness.StartAsync();
        var mailbox = $"canary-box-{Guid.NewGuid():N}@mailbox.test";
        var sender = $"canary-sender-{Guid.NewGuid():N}@sender.test";
        var subject = $"Canary subject {Guid.NewGuid():N}";
        var note = $"canary note {Guid.NewGuid():N}";
        var (user, _) = await h.UserWithRecipientAsync(mailbox);
        var alias = await h.CreateAliasAsync(user, new { prefix = "canary", note, label = "canarylabel" });
        var address = alias.GetProperty("address").GetString()!;
        var sent = await h.SwaksAsync(sender, address, Message(address, subject, from: sender));
        Assert.True(sent.ExitCode == 0, sent.Output);
        var forwarded = await h.Sink.WaitForAsync(m => m.RcptTos.Contains(mailbox));
        await ForwardedAsync(h, user, alias, 1);
        var reverse = System.Text.RegularExpressions.Regex.Match(forwarded.Header("From")!, "ra\\.[a-z2-7]{22}@alias\\.test").Value;
        var replied = await h.SwaksAsync(mailbox, reverse, $"From: {mailbox}\r\nTo: {reverse}\r\nSubject: Re: {subject}\r\n\r\nreply\r\n");
        Assert.True(replied.ExitCode == 0, replied.Output);
        await h.Sink.WaitForAsync(m => m.RcptTos.Contains(sender));
        var bounced = await h.SwaksAsync("", forwarded.MailFrom, Dsn(forwarded.MailFrom, mailbox, reverse));
        Assert.True(bounced.ExitCode == 0, forwarded.MailFrom + "\n" + bounced.Output);
        await h.WaitForAsync(user, "/api/v1/alias/log", l => l.GetProperty("entries").GetArrayLength() == 3);
        await WaitForEmptySpoolAsync(h);

        var stored = await StoredData.ReadAsync(h.Server);
        var spool = FilesText(Path.Combine(h.Server.DataDirectory, "spool")) + FilesText(Path.Combine(h.Server.DataDirectory, "queue"));
        var logs = h.Server.Logs.AllText;
        foreach (var canary in new[] { mailbox, sender, subject, note, "canarylabel", address, address.Split('@')[0], reverse, reverse.Split('@')[0] })
        {
            Assert.False(stored.Contains(canary, StringComparison.OrdinalIgnoreCase), $"the database holds '{canary}'");
            Assert.False(logs.Contains(canary, StringComparison.OrdinalIgnoreCase), $"the logs hold '{canary}'");
            Assert.False(spool.Contains(canary, StringComparison.OrdinalIgnoreCase), $"the spool or queue holds '{canary}'");
        }
    }

    internal static string Dsn(string to, string failedRecipient, string reverse) =>
        "From: Mail Delivery System <MAILER-DAEMON@mx.mailbox.test>\r\n" +
        $"To: {to}\r\n" +
        "Subject: Undelivered Mail Returned to Sender\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r1\"\r\n" +
        "\r\n" +
        "--r1\r\n" +
        "Content-Type: text/plain\r\n" +
        "\r\n" +
        "The mailbox does not exist.\r\n" +
        "--r1\r\n" +
        "Content-Type: message/delivery-status\r\n" +
        "\r\n" +
        "Reporting-MTA: dns; mx.mailbox.test\r\n" +
        "\r\n" +
        $"Final-Recipient: rfc822; {failedRecipient}\r\n" +
        "Action: failed\r\n" +
        "Status: 5.1.1\r\n" +
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n" +
        "--r1\r\n" +
        "Content-Type: text/rfc822-headers\r\n" +
        "\r\n" +
        $"From: \"Jane\" <{reverse}>\r\n" +
        "Subject: something\r\n" +
        "--r1--\r\n";

    private static Task<JsonElement> ForwardedAsync(AliasHarness h, TestUser user, JsonElement alias, long count) =>
        h.WaitForAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}", a => a.GetProperty("counters").GetProperty("forwarded").GetInt64() == count);

    internal static async Task<JsonElement> CreateContactAsync(AliasHarness h, TestUser user, JsonElement alias, string address)
    {
        using var response = await h.Server.PostAsync($"/api/v1/alias/aliases/{alias.GetProperty("id")}/contacts", new { address }, user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.JsonAsync();
    }

    internal static async Task<JsonElement> PatchAsync(AliasHarness h, TestUser user, string path, object body)
    {
        using var response = await h.Server.SendAsync(HttpMethod.Patch, path, body, user.AccessToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private static async Task WaitForEmptySpoolAsync(AliasHarness h)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // A handled message's bytes become zeros in its segment, which stays while it is the current one.
        while (Veil.Mail.Spool.FileSpool.CountPending(h.Server.DataDirectory) > 0)
        {
            await Task.Delay(50, deadline.Token);
        }
    }

    private static string FilesText(string directory) =>
        !Directory.Exists(directory) ? "" : string.Concat(Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => Encoding.Latin1.GetString(File.ReadAllBytes(f))));
}
