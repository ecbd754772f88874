// Issue 15, point 4: the embedded default delivers. In development with no smarthost, mail sent to an alias over SMTP
// is forwarded into the development outbox (<data>/outbox, .eml), signed with the DKIM key Veil created for the alias
// domain at start, and dkimpy verifies it against that key's DNS record. Before, the Alias sink had no outbound queue
// to hand the copy to: every batch answered "retry later", the mail sat in the spool, and the alias said Received: 0.
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Veil.Mail.Mime;
using Veil.Server.Mail;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

#pragma warning disable CA1716 // "Alias" is a Visual Basic keyword; the folder and module are named Alias on purpose.
namespace Veil.Server.Tests.Alias;
#pragma warning restore CA1716

public sealed class DevelopmentOutboxDeliveryTests
{
    [Fact]
    public async Task Forward_NoSmarthostInDevelopment_LandsInOutboxSignedWithStartKeyAndDkimpyVerifies()
    {
        await using var h = await AliasHarness.StartAsync(o =>
        {
            o.Settings.Remove("Veil:Mail:Smarthost");
            o.Settings.Remove("Veil:Mail:SmarthostTls");
        });
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;
        var outbox = Path.Combine(h.Server.DataDirectory, "outbox");
        var before = Directory.GetFiles(outbox, "*.eml").Length;

        var (exit, output) = await h.SwaksAsync("bounces@sender.test", address, AliasForwardingTests.Message(address, "Hello outbox"));

        Assert.True(exit == 0, output);
        var forwarded = await WaitForFileAsync(outbox, "Delivered-To: me@mailbox.test\r\n");
        var text = Encoding.UTF8.GetString(forwarded);
        Assert.Contains("Subject: Hello outbox", text, StringComparison.Ordinal);
        Assert.Contains("d=alias.test", text, StringComparison.Ordinal);
        Assert.True(LineEndings.IsCanonical(forwarded));
        var record = Assert.Single(h.Server.Services.GetRequiredService<AliasDkimKeys>().Records);
        Assert.Equal("alias.test", record.Domain);
        Assert.Equal(h.DkimRecord, record.RecordValue);
        Assert.Contains($"s={record.Selector};", text.Replace("\r\n\t", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.True(await AliasHarness.DkimpyVerifiesAsync(forwarded, record.RecordValue, h.Server.Time.GetUtcNow()), "dkimpy did not verify the forwarded copy in the outbox");
        Assert.True(Directory.GetFiles(outbox, "*.eml").Length > before);

        var after = await h.WaitForAsync(user, $"/api/v1/alias/aliases/{alias.GetProperty("id")}", a => a.GetProperty("counters").GetProperty("forwarded").GetInt64() == 1);
        Assert.Equal(1, after.GetProperty("counters").GetProperty("received").GetInt64());
    }

    [Fact]
    public async Task Start_AliasDomainWithoutKey_CreatesOneRsaKeyOnce()
    {
        await using var server = await VeilTestServer.StartAsync(o => o.Settings["Veil:Alias:Domains:0"] = "first.test");
        await using var scope = server.Services.CreateAsyncScope();
        var admin = scope.ServiceProvider.GetRequiredService<DkimKeyAdmin>();

        var keys = await admin.ShowAsync("first.test", CancellationToken.None);
        var again = await AliasDkimKeys.EnsureAsync(server.Services, CancellationToken.None);

        var key = Assert.Single(keys);
        Assert.Equal("rsa-sha256", key.Algorithm);
        Assert.StartsWith("v=DKIM1; k=rsa; p=", key.RecordValue, StringComparison.Ordinal);
        Assert.Equal(key, Assert.Single(again));
        Assert.Single(await admin.ShowAsync("first.test", CancellationToken.None));
    }

    [Fact]
    public async Task Start_ProductionAliasDomainWithoutSmarthost_RefusesNamingTheSetting()
    {
        var refused = await Assert.ThrowsAsync<VeilStartupException>(() => VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Production"] = "true";
            o.Settings["Veil:Alias:Domains:0"] = "alias.test";
        }));

        Assert.Contains(refused.Problems, p => p.StartsWith("Veil:Mail:Smarthost (env Veil__Mail__Smarthost) is not set", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_ProductionWithoutAliasDomains_DoesNotAskForSmarthost()
    {
        var refused = await Assert.ThrowsAsync<VeilStartupException>(() => VeilTestServer.StartAsync(o => o.Settings["Veil:Production"] = "true"));

        Assert.DoesNotContain(refused.Problems, p => p.Contains("Smarthost", StringComparison.Ordinal));
    }

    /// <summary>Waits (bounded, polling: delivery runs on the server's own tasks) for an outbox file holding <paramref name="marker"/>.</summary>
    private static async Task<byte[]> WaitForFileAsync(string directory, string marker)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            foreach (var path in Directory.Exists(directory) ? Directory.GetFiles(directory, "*.eml") : [])
            {
                var bytes = await File.ReadAllBytesAsync(path, deadline.Token);
                if (Encoding.UTF8.GetString(bytes).Contains(marker, StringComparison.Ordinal))
                {
                    return bytes;
                }
            }

            await Task.Delay(50, deadline.Token);
        }
    }
}
