// The MTA-STS policy format and MX matching (RFC 8461 §3.2, §4.1).
using Veil.Mail.Delivery;

namespace Veil.Mail.Tests.Delivery;

public sealed class MtaStsPolicyTests
{
    [Fact]
    public void Parse_EnforcePolicyWithLfLinesAndUnknownKeys_ReadsModeMxAndMaxAge()
    {
        var policy = MtaStsPolicy.Parse("version: STSv1\nmode: enforce\nmx: MX1.Example.com.\nmx: *.example.net\nfuture_key: x\nmax_age: 604800\n");

        Assert.NotNull(policy);
        Assert.Equal(MtaStsMode.Enforce, policy.Mode);
        Assert.Equal(["mx1.example.com", "*.example.net"], policy.Mx);
        Assert.Equal(TimeSpan.FromDays(7), policy.MaxAge);
    }

    [Theory]
    [InlineData("mode: enforce\r\nmx: a.example\r\nmax_age: 60\r\n")] // no version
    [InlineData("version: STSv2\r\nmode: enforce\r\nmx: a.example\r\nmax_age: 60\r\n")]
    [InlineData("version: STSv1\r\nmode: strict\r\nmx: a.example\r\nmax_age: 60\r\n")]
    [InlineData("version: STSv1\r\nmode: enforce\r\nmax_age: 60\r\n")] // enforce without mx
    [InlineData("version: STSv1\r\nmode: enforce\r\nmx: a.example\r\n")] // no max_age
    [InlineData("version: STSv1\r\nmode: enforce\r\nmx: a.example\r\nmax_age: -1\r\n")]
    [InlineData("version: STSv1\r\nmode: enforce\r\nmx: bad host.example\r\nmax_age: 60\r\n")]
    [InlineData("<html>not a policy</html>")]
    public void Parse_InvalidPolicy_IsNull(string text) => Assert.Null(MtaStsPolicy.Parse(text));

    [Fact]
    public void Parse_MaxAgeAboveOneYear_IsCappedAtOneYear() =>
        Assert.Equal(MtaStsPolicy.LongestMaxAge, MtaStsPolicy.Parse("version: STSv1\nmode: testing\nmx: a.example\nmax_age: 9999999999\n")!.MaxAge);

    [Fact]
    public void Parse_ModeNoneWithoutMx_IsValid() =>
        Assert.Equal(MtaStsMode.None, MtaStsPolicy.Parse("version: STSv1\nmode: none\nmax_age: 86400\n")!.Mode);

    [Theory]
    [InlineData("mail.example.com", true)]
    [InlineData("MAIL.example.com.", true)]
    [InlineData("a.example.net", true)] // one label under the wildcard
    [InlineData("a.b.example.net", false)] // the wildcard covers one label only
    [InlineData("example.net", false)]
    [InlineData("mail.example.com.evil.test", false)]
    [InlineData("other.example.com", false)]
    public void Matches_FollowsRfc8461Section41(string host, bool expected)
    {
        var policy = new MtaStsPolicy(MtaStsMode.Enforce, ["mail.example.com", "*.example.net"], TimeSpan.FromDays(1));

        Assert.Equal(expected, policy.Matches(host));
    }
}
