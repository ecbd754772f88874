using System.Text.RegularExpressions;
using Veil.Client.Mailbox;
using Veil.Server.Tests.Kit;

namespace Veil.Client.Tests.Mailbox;

/// <summary>The mailbox SDK's search index and large attachments against the real server on loopback.</summary>
public sealed partial class MailboxSearchClientTests : IAsyncLifetime
{
    private const string Domain = "mail.example";
    private static readonly ReadOnlyMemory<char> Password = "correct horse battery staple".AsMemory();

    private VeilTestServer _server = null!;

    public async Task InitializeAsync() => _server = await VeilTestServer.StartAsync(o => o.Settings["Veil:Mail:Domains:0"] = Domain);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task TwoDevicesUpdatingAtOnce_BothSucceed_AndTheIndexCoversEveryMessage()
    {
        using var first = await SignedInAsync("dana@example.org");
        using var second = NewClient();
        await second.Identity.LoginAsync("dana@example.org", Password);
        using var phone = MailboxClient.ForSignedIn(first);
        using var laptop = MailboxClient.ForSignedIn(second);
        var address = "dana@" + Domain;
        await phone.AddAddressAsync(address);
        for (var i = 0; i < 3; i++)
        {
            await phone.SendAsync(new MailSendRequest([address], "note " + i, "word" + i + " of the day"));
        }

        // Both start from no index: one creates it, the other gets 412, merges and writes again (or finds nothing left to add).
        var counts = await Task.WhenAll(phone.UpdateSearchIndexAsync(), laptop.UpdateSearchIndexAsync());

        Assert.All(counts, c => Assert.Equal(6, c)); // three Inbox copies and three Sent copies
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(2, (await laptop.SearchAsync("word" + i)).Count);
        }
    }

    [Fact]
    public async Task IndexSealedByAnotherAccount_DoesNotOpen()
    {
        using var erin = await SignedInAsync("erin@example.org");
        using var frank = await SignedInAsync("frank@example.org");
        using var erinMail = MailboxClient.ForSignedIn(erin);
        using var frankMail = MailboxClient.ForSignedIn(frank);

        var sealedIndex = erinMail.SealSearchIndex("{\"v\":1}"u8);

        Assert.Equal(MailboxClient.SearchIndexFormatV1, sealedIndex[0]);
        Assert.NotNull(erinMail.OpenSearchIndex(sealedIndex));
        Assert.Null(frankMail.OpenSearchIndex(sealedIndex));
        sealedIndex[^1] ^= 1;
        Assert.Null(erinMail.OpenSearchIndex(sealedIndex));
    }

    private VeilClient NewClient() => new(_server.BaseAddress, new VeilClientOptions { TimeProvider = _server.Time, ClientLabel = "mail-sdk-tests" });

    private async Task<VeilClient> SignedInAsync(string email)
    {
        using (var registering = NewClient())
        {
            await registering.Identity.RegisterAsync(email, Password);
            var mail = _server.ReadOutbox().Last(m => m.TextBody.Contains("/verify-email#", StringComparison.Ordinal) && m.Headers.TryGetValue("To", out var to) && to.Contains(email, StringComparison.OrdinalIgnoreCase));
            await registering.Identity.VerifyEmailAsync(LinkPattern().Matches(mail.TextBody).Select(m => m.Value).Last(l => l.Contains("/verify-email#", StringComparison.Ordinal)));
        }

        var client = NewClient();
        await client.Identity.LoginAsync(email, Password);
        return client;
    }

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();
}
