using System.Text;
using Veil.Mail.Forwarding;
using Veil.Mail.Queue;
using Veil.Mail.Tests.Dkim;

namespace Veil.Mail.Tests.Forwarding;

public sealed class BounceParserTests
{
    // DSNs shaped as Postfix 3.7 and Exim 4.96 write them (files in Forwarding/dsn): expected recipient, kind,
    // status, start of the diagnostic, original Message-ID.
    [Theory]
    [InlineData("postfix-hard.eml", "bob@example.net", BounceKind.Hard, "5.1.1", "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown", "<orig-1@example.com>")]
    [InlineData("postfix-delayed.eml", "dana@example.org", BounceKind.Soft, "4.4.1", "connect to mx.example.org[198.51.100.30]:25: Connection timed out", "<orig-2@example.com>")]
    [InlineData("exim-hard.eml", "carol@example.org", BounceKind.Hard, "5.0.0", "550 5.7.1 Mailbox disabled", "<orig-3@example.com>")]
    [InlineData("exim-delayed.eml", "erin@example.org", BounceKind.Soft, "4.0.0", "452 4.2.2 Mailbox full", "<orig-4@example.com>")]
    public void Parse_MtaDsn_ReadsRecipientKindAndStatus(string file, string recipient, BounceKind kind, string status, string diagnostic, string messageId)
    {
        var report = BounceParser.Parse(Sample(file));

        Assert.NotNull(report);
        var bounced = Assert.Single(report.Recipients);
        Assert.Equal(recipient, bounced.Recipient);
        Assert.Equal(kind, bounced.Kind);
        Assert.Equal(status, bounced.Status);
        Assert.StartsWith(diagnostic, bounced.Diagnostic, StringComparison.Ordinal);
        Assert.Equal(messageId, report.OriginalMessageId);
    }

    [Theory]
    [InlineData("not-dsn-ordinary.eml")]
    [InlineData("not-dsn-mdn.eml")]
    [InlineData("not-dsn-forwarded-bounce.eml")]
    public void Parse_NotADsn_ReturnsNull(string file)
    {
        Assert.Null(BounceParser.Parse(Sample(file)));
    }

    [Fact]
    public void Parse_VeilQueueDsn_HardAndGaveUpRecipients()
    {
        var dsn = VeilDsn(
            new DeliveryStatusNotification.FailedRecipient("bob@example.net", "550 5.1.1 No such user", GaveUp: false),
            new DeliveryStatusNotification.FailedRecipient("slow@example.org", "451 4.3.0 Try again later", GaveUp: true),
            new DeliveryStatusNotification.FailedRecipient("josé@exämple.de", "554 Transaction failed", GaveUp: false));

        var report = BounceParser.Parse(dsn);

        Assert.NotNull(report);
        Assert.Equal(
            [
                new BouncedRecipient("bob@example.net", BounceKind.Hard, "5.1.1", "550 5.1.1 No such user"),
                new BouncedRecipient("slow@example.org", BounceKind.Soft, "4.3.0", "451 4.3.0 Try again later"),
                new BouncedRecipient("josé@exämple.de", BounceKind.Hard, "5.0.0", "554 Transaction failed"),
            ],
            report.Recipients);
        Assert.Equal("<orig-5@example.com>", report.OriginalMessageId);
    }

    [Fact]
    public void Parse_MissingStatus_DerivedFromDiagnosticCode()
    {
        var dsn = Sample("postfix-hard.eml");
        var text = Encoding.ASCII.GetString(dsn).Replace("Status: 5.1.1\n", "", StringComparison.Ordinal)
            .Replace("Diagnostic-Code: smtp; 550 5.1.1", "Diagnostic-Code: smtp; 550 5.2.2", StringComparison.Ordinal);

        var bounced = Assert.Single(BounceParser.Parse(Encoding.ASCII.GetBytes(text))!.Recipients);

        Assert.Equal("5.2.2", bounced.Status);
        Assert.Equal(BounceKind.Hard, bounced.Kind);
    }

    [Fact]
    public void Parse_DeliveredOnly_ReportWithoutRecipients()
    {
        var text = Encoding.ASCII.GetString(Sample("postfix-hard.eml"))
            .Replace("Action: failed", "Action: delivered", StringComparison.Ordinal)
            .Replace("Status: 5.1.1", "Status: 2.0.0", StringComparison.Ordinal);

        var report = BounceParser.Parse(Encoding.ASCII.GetBytes(text));

        Assert.NotNull(report);
        Assert.Empty(report.Recipients);
    }

    [Fact]
    public void Parse_TruncatedOrMutated_NeverThrows()
    {
        var samples = new[] { Sample("postfix-hard.eml"), Sample("exim-hard.eml"), VeilDsn(new DeliveryStatusNotification.FailedRecipient("a@b.example", "550 5.1.1 x", false)) };
        var random = new Random(3464);
        var parsed = 0;
        foreach (var sample in samples)
        {
            for (var cut = 0; cut <= sample.Length; cut += 7)
            {
                parsed += BounceParser.Parse(sample.AsSpan(0, cut)) is null ? 0 : 1;
            }

            for (var n = 0; n < 300; n++)
            {
                var mutated = (byte[])sample.Clone();
                for (var k = 0; k < 8; k++)
                {
                    mutated[random.Next(mutated.Length)] = (byte)"\n\r:; <>@.-5\\x{}"[random.Next(15)];
                }

                if (BounceParser.Parse(mutated) is { } report)
                {
                    parsed++;
                    Assert.All(report.Recipients, r => Assert.Contains("@", r.Recipient, StringComparison.Ordinal));
                }
            }
        }

        Assert.True(parsed > 0);
    }

    private static byte[] Sample(string file) => File.ReadAllBytes(TestFiles.Project("Forwarding", "dsn", file));

    private static byte[] VeilDsn(params DeliveryStatusNotification.FailedRecipient[] recipients)
    {
        var original = TestFiles.Crlf("From: rev.k3jd@alias.example\nTo: bob@example.net\nSubject: Hello\nMessage-ID: <orig-5@example.com>\n\nbody\n");
        var now = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
        return DeliveryStatusNotification.Build(new DeliveryStatusNotification.Report(
            "mx.alias.example", "SRS0=k3Jd=XY=example.com=jane@alias.example", now.AddHours(-1), now, recipients, DeliveryStatusNotification.HeaderBlock(original)));
    }
}
