using System.Text;
using Veil.Mail.Srs;
using Veil.Mail.Tests.Dkim;

namespace Veil.Mail.Tests.Srs;

public sealed class SrsRewriterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Secret = Encoding.ASCII.GetBytes("veil-srs-secret-0123456789abcdef");
    private static readonly byte[] OldSecret = Encoding.ASCII.GetBytes("veil-srs-old-secret-0123456789ab");

    private static SrsRewriter Rewriter(FixedTimeProvider clock, params byte[][] secrets)
        => new(new SrsOptions { Secrets = [.. secrets.Select(s => (ReadOnlyMemory<byte>)s)] }, clock);

    [Fact]
    public void Forward_ThenReverse_RestoresTheSender()
    {
        var srs = Rewriter(new FixedTimeProvider(Now), Secret);

        var forwarded = srs.Forward("alice@example.net", "veil.example");
        var restored = srs.Reverse(forwarded.Address!);

        Assert.Equal(SrsStatus.Rewritten, forwarded.Status);
        Assert.Matches("^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=example.net=alice@veil.example$", forwarded.Address);
        Assert.Equal(new SrsResult(SrsStatus.Rewritten, "alice@example.net"), restored);
    }

    [Fact]
    public void Forward_DefaultAlgorithm_IsHmacSha256NotSha1()
    {
        var clock = new FixedTimeProvider(Now);
        var sha256 = Rewriter(clock, Secret).Forward("alice@example.net", "veil.example").Address;
        var sha1 = new SrsRewriter(new SrsOptions { Secrets = [Secret], Algorithm = SrsHashAlgorithm.HmacSha1 }, clock).Forward("alice@example.net", "veil.example").Address;

        Assert.NotEqual(sha1, sha256);
    }

    [Fact]
    public void Forward_SrsZeroAddress_BecomesGuardedSrsOneThatReversesToIt()
    {
        var clock = new FixedTimeProvider(Now);
        var first = Rewriter(clock, OldSecret).Forward("alice@example.net", "first.example").Address!;
        var srs = Rewriter(clock, Secret);

        var second = srs.Forward(first, "veil.example");
        var third = srs.Forward(second.Address!, "next.example");

        Assert.StartsWith("SRS1=", second.Address, StringComparison.Ordinal);
        Assert.EndsWith("=first.example==" + first[5..first.IndexOf('@', StringComparison.Ordinal)] + "@veil.example", second.Address, StringComparison.Ordinal);
        Assert.Equal(new SrsResult(SrsStatus.Rewritten, first), srs.Reverse(second.Address!));
        Assert.Equal(new SrsResult(SrsStatus.Rewritten, first), srs.Reverse(third.Address!));
    }

    [Fact]
    public void Reverse_AddressInOtherCase_StillVerifies()
    {
        var srs = Rewriter(new FixedTimeProvider(Now), Secret);
        var forwarded = srs.Forward("Alice@Example.NET", "veil.example").Address!;

        var restored = srs.Reverse(forwarded.ToLowerInvariant());

        Assert.Equal(new SrsResult(SrsStatus.Rewritten, "alice@example.net"), restored);
    }

    [Fact]
    public void Reverse_AfterRotation_OldSecretStillVerifiesAndNewSecretSigns()
    {
        var clock = new FixedTimeProvider(Now);
        var old = Rewriter(clock, OldSecret).Forward("alice@example.net", "veil.example").Address!;
        var rotated = Rewriter(clock, Secret, OldSecret);

        var fresh = rotated.Forward("alice@example.net", "veil.example").Address!;

        Assert.Equal(SrsStatus.Rewritten, rotated.Reverse(old).Status);
        Assert.Equal(SrsStatus.Rewritten, Rewriter(clock, Secret).Reverse(fresh).Status);
        Assert.Equal(SrsStatus.BadHash, Rewriter(clock, Secret).Reverse(old).Status);
    }

    [Theory]
    [InlineData(3, SrsStatus.Rewritten)]
    [InlineData(4, SrsStatus.Expired)]
    [InlineData(400, SrsStatus.Expired)]
    [InlineData(-3, SrsStatus.Rewritten)]
    [InlineData(-4, SrsStatus.FutureTimestamp)]
    public void Reverse_ClockMovedByDays_AppliesTheThreeDayWindow(int days, SrsStatus expected)
    {
        var clock = new FixedTimeProvider(Now);
        var srs = Rewriter(clock, Secret);
        var forwarded = srs.Forward("alice@example.net", "veil.example").Address!;

        clock.Now = Now.AddDays(days);

        Assert.Equal(expected, srs.Reverse(forwarded).Status);
    }

    [Fact]
    public void Reverse_ConfiguredWindow_IsHonoured()
    {
        var clock = new FixedTimeProvider(Now);
        var srs = new SrsRewriter(new SrsOptions { Secrets = [Secret], MaxAge = TimeSpan.FromDays(7) }, clock);
        var forwarded = srs.Forward("alice@example.net", "veil.example").Address!;

        clock.Now = Now.AddDays(7);

        Assert.Equal(SrsStatus.Rewritten, srs.Reverse(forwarded).Status);
    }

    [Fact]
    public void Reverse_TamperedOriginalAddress_IsBadHash()
    {
        var srs = Rewriter(new FixedTimeProvider(Now), Secret);
        var forwarded = srs.Forward("alice@example.net", "veil.example").Address!;

        var result = srs.Reverse(forwarded.Replace("=alice@", "=mallory@", StringComparison.Ordinal));

        Assert.Equal(new SrsResult(SrsStatus.BadHash, null), result);
    }

    [Fact]
    public void Forward_SenderInForwarderDomain_IsUnchanged()
    {
        var srs = Rewriter(new FixedTimeProvider(Now), Secret);

        Assert.Equal(new SrsResult(SrsStatus.Unchanged, "bob@Veil.Example"), srs.Forward("bob@Veil.Example", "veil.example"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("no-at-sign")]
    [InlineData("@example.net")]
    [InlineData("alice@")]
    public void Forward_MalformedSender_IsMalformed(string sender)
    {
        var srs = Rewriter(new FixedTimeProvider(Now), Secret);

        Assert.Equal(new SrsResult(SrsStatus.Malformed, null), srs.Forward(sender, "veil.example"));
    }

    [Theory]
    [InlineData("alice@veil.example", SrsStatus.NotSrs)]
    [InlineData("SRS0@veil.example", SrsStatus.NotSrs)]
    [InlineData("SRS0=abcd@veil.example", SrsStatus.Malformed)]
    [InlineData("SRS0=abcd=AA=example.net@veil.example", SrsStatus.Malformed)]
    [InlineData("SRS0=abcd=A1=example.net=alice@veil.example", SrsStatus.Malformed)]
    [InlineData("SRS0=abcd=AAA=example.net=alice@veil.example", SrsStatus.Malformed)]
    [InlineData("SRS0===AA=example.net=alice@veil.example", SrsStatus.Malformed)]
    [InlineData("SRS1=abcd=example.net@veil.example", SrsStatus.Malformed)]
    [InlineData("", SrsStatus.Malformed)]
    public void Reverse_HostileAddress_ReturnsTypedResult(string address, SrsStatus expected)
    {
        var srs = Rewriter(new FixedTimeProvider(Now), Secret);

        Assert.Equal(expected, srs.Reverse(address).Status);
    }

    [Fact]
    public void Reverse_OverlongAddress_IsMalformed()
    {
        var srs = Rewriter(new FixedTimeProvider(Now), Secret);

        Assert.Equal(SrsStatus.Malformed, srs.Reverse("SRS0=abcd=AA=example.net=" + new string('a', 600) + "@veil.example").Status);
    }

    [Fact]
    public void Reverse_RandomInput_NeverThrowsAndNeverVerifies()
    {
        var srs = Rewriter(new FixedTimeProvider(Now), Secret);
        var random = new Random(5);
        const string alphabet = "SRS01=+-@.abcAB27";
        for (int i = 0; i < 2000; i++)
        {
            var chars = new char[random.Next(0, 40)];
            for (int c = 0; c < chars.Length; c++)
            {
                chars[c] = alphabet[random.Next(alphabet.Length)];
            }

            var result = srs.Reverse(new string(chars));

            Assert.NotEqual(SrsStatus.Rewritten, result.Status);
        }
    }

    [Fact]
    public void Constructor_NoSecret_Throws()
    {
        Assert.Throws<ArgumentException>(() => new SrsRewriter(new SrsOptions { Secrets = [] }, TimeProvider.System));
    }
}
