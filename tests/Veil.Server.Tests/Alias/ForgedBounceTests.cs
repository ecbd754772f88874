// Issue 14, point 2: a user must not be able to stop mail to another user's mailbox with forged bounces.
// The attack as the outside test ran it: user B mails their own alias, learns a valid SRS address from the
// forwarded copy, and sends bounces to it naming user A's real mailbox. Real peers: swaks sends, aiosmtpd receives.
using System.Text.RegularExpressions;
using Veil.Server.Tests.Kit;

#pragma warning disable CA1716 // "Alias" is a Visual Basic keyword; the folder and module are named Alias on purpose.
namespace Veil.Server.Tests.Alias;
#pragma warning restore CA1716

public sealed class ForgedBounceTests
{
    private static readonly Regex Reverse = new("ra\\.[a-z2-7]{22}@alias\\.test", RegexOptions.CultureInvariant);
    private static readonly Regex BounceHandled = new("recipient #0: (bounced|ignored) \\((hard-bounce|soft-bounce|unbound-bounce)\\)", RegexOptions.CultureInvariant);

    [Fact]
    public async Task ForgedBounces_ToOwnSrsAddressNamingAnotherUsersMailbox_NeverPauseItAndItsMailKeepsFlowing()
    {
        await using var h = await AliasHarness.StartAsync();
        var (userA, _) = await h.UserWithRecipientAsync("a@mailbox.test");
        var aliasA = await h.CreateAliasAsync(userA);
        var addressA = aliasA.GetProperty("address").GetString()!;
        var (userB, _) = await h.UserWithRecipientAsync("b@mailbox.test");
        var aliasB = await h.CreateAliasAsync(userB);
        var addressB = aliasB.GetProperty("address").GetString()!;

        Assert.Equal(0, (await h.SwaksAsync("jane@sender.test", addressA, AliasForwardingTests.Message(addressA, "for A"))).ExitCode);
        var toA = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("a@mailbox.test"));
        var reverseA = Reverse.Match(toA.Header("From")!).Value;
        Assert.Equal(0, (await h.SwaksAsync("mallory@sender.test", addressB, AliasForwardingTests.Message(addressB, "B to own alias", from: "mallory@sender.test"))).ExitCode);
        var toB = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("b@mailbox.test"));
        var srsB = toB.MailFrom;
        var reverseB = Reverse.Match(toB.Header("From")!).Value;

        // Three forged hard bounces each: returned headers naming no alias, B's own alias, and A's alias.
        string[] named = ["jane@sender.test", reverseB, reverseA];
        foreach (var reverse in named)
        {
            for (var i = 0; i < 3; i++)
            {
                var (exit, output) = await h.SwaksAsync("", srsB, AliasForwardingTests.Dsn(srsB, "a@mailbox.test", reverse));
                Assert.True(exit == 0, output);
            }
        }

        await WaitForLogAsync(h, () => h.Server.Logs.Entries.Count(BounceHandled.IsMatch) >= 9);
        var recipients = await h.GetAsync(userA, "/api/v1/alias/recipients");
        Assert.False(recipients.GetProperty("recipients")[0].GetProperty("paused").GetBoolean());
        var countersA = (await h.GetAsync(userA, $"/api/v1/alias/aliases/{aliasA.GetProperty("id")}")).GetProperty("counters");
        Assert.Equal(0, countersA.GetProperty("bounced").GetInt64());
        Assert.DoesNotContain((await h.GetAsync(userA, "/api/v1/alias/log")).GetProperty("entries").EnumerateArray(),
            e => e.GetProperty("event").GetString() == "bounced");

        Assert.Equal(0, (await h.SwaksAsync("jane@sender.test", addressA, AliasForwardingTests.Message(addressA, "still for A"))).ExitCode);
        await h.Sink.WaitForAsync(m => m.RcptTos.Contains("a@mailbox.test") && m.Text.Contains("still for A", StringComparison.Ordinal));
        Assert.DoesNotContain(h.Server.ReadOutbox(), m => m.Headers["To"].Contains(userA.Email, StringComparison.OrdinalIgnoreCase)
            && m.Headers["Subject"].Contains("paused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bounce_NamingAReverseAddressOfAnotherAlias_DoesNotCountForEither()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var first = await h.CreateAliasAsync(user);
        var second = await h.CreateAliasAsync(user);
        var firstAddress = first.GetProperty("address").GetString()!;
        var secondAddress = second.GetProperty("address").GetString()!;
        Assert.Equal(0, (await h.SwaksAsync("jane@sender.test", firstAddress, AliasForwardingTests.Message(firstAddress, "one"))).ExitCode);
        var viaFirst = await h.Sink.WaitForAsync(m => m.Text.Contains("Subject: one", StringComparison.Ordinal));
        Assert.Equal(0, (await h.SwaksAsync("jane@sender.test", secondAddress, AliasForwardingTests.Message(secondAddress, "two"))).ExitCode);
        var viaSecond = await h.Sink.WaitForAsync(m => m.Text.Contains("Subject: two", StringComparison.Ordinal));

        // The SRS address of the first alias, with the second alias's reverse address in the returned headers.
        var (exit, output) = await h.SwaksAsync("", viaFirst.MailFrom, AliasForwardingTests.Dsn(viaFirst.MailFrom, "me@mailbox.test", Reverse.Match(viaSecond.Header("From")!).Value));
        Assert.True(exit == 0, output);

        await WaitForLogAsync(h, () => h.Server.Logs.Entries.Any(BounceHandled.IsMatch));
        foreach (var alias in new[] { first, second })
        {
            var counters = (await h.GetAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}")).GetProperty("counters");
            Assert.Equal(0, counters.GetProperty("bounced").GetInt64());
        }
    }

    private static async Task WaitForLogAsync(AliasHarness h, Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "the bounces were never handled:\n" + h.Server.Logs.AllText);
            await Task.Delay(50);
        }
    }
}
