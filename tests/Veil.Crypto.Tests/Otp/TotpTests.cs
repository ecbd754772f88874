using System.Text;
using Veil.Crypto.Otp;

namespace Veil.Crypto.Tests.Otp;

public sealed class TotpTests
{
    private static readonly byte[] Secret = Encoding.ASCII.GetBytes("12345678901234567890");

    // RFC 6238 Appendix B, SHA-1, time 1111111109 is step 37037036; its 6-digit code is the last six of 07081804.
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1111111109);
    private const long NowStep = 37037036;

    [Fact]
    public void Generate_Defaults_AreSixDigitSha1ThirtySeconds()
    {
        Assert.Equal("081804", Totp.Generate(Secret, Now));
        Assert.Equal(NowStep, Totp.TimeStep(Now));
    }

    [Fact]
    public void Verify_CurrentCode_ReturnsCurrentStep()
    {
        Assert.Equal(NowStep, Totp.Verify(Secret, "081804", Now, lastUsedStep: null));
    }

    [Fact]
    public void Verify_SameCodeTwice_SecondIsRefused()
    {
        var first = Totp.Verify(Secret, "081804", Now, lastUsedStep: null);

        var second = Totp.Verify(Secret, "081804", Now.AddSeconds(5), lastUsedStep: first);

        Assert.Equal(NowStep, first);
        Assert.Null(second);
    }

    [Fact]
    public void Verify_OlderUnusedCodeAfterNewerWasUsed_IsRefused()
    {
        var previous = Totp.Generate(Secret, Now.AddSeconds(-30));

        Assert.Null(Totp.Verify(Secret, previous, Now, lastUsedStep: NowStep));
        Assert.Equal(NowStep - 1, Totp.Verify(Secret, previous, Now, lastUsedStep: NowStep - 2));
    }

    [Fact]
    public void Verify_NextCodeAfterCurrentWasUsed_IsAccepted()
    {
        var next = Totp.Generate(Secret, Now.AddSeconds(30));

        Assert.Equal(NowStep + 1, Totp.Verify(Secret, next, Now, lastUsedStep: NowStep));
    }

    [Theory]
    [InlineData(-30, 1, true)]
    [InlineData(30, 1, true)]
    [InlineData(-60, 1, false)]
    [InlineData(60, 1, false)]
    [InlineData(-30, 0, false)]
    [InlineData(60, 2, true)]
    public void Verify_ClockDrift_AcceptedOnlyWithinWindow(int offsetSeconds, int window, bool accepted)
    {
        var code = Totp.Generate(Secret, Now.AddSeconds(offsetSeconds));

        var step = Totp.Verify(Secret, code, Now, lastUsedStep: null, window);

        Assert.Equal(accepted ? NowStep + (offsetSeconds / 30) : null, step);
    }

    [Theory]
    [InlineData("081 804")]
    [InlineData(" 081804 ")]
    [InlineData("0 8 1 8 0 4")]
    public void Verify_AsciiSpaces_AreIgnored(string typed)
    {
        Assert.Equal(NowStep, Totp.Verify(Secret, typed, Now, lastUsedStep: null));
    }

    [Theory]
    [InlineData("")]
    [InlineData("81804")] // too short
    [InlineData("0081804")] // too long
    [InlineData("081-804")]
    [InlineData("081\t804")]
    [InlineData("+81804")]
    [InlineData("０８１８０４")] // full-width digits
    [InlineData("٠٨١٨٠٤")] // Arabic-Indic digits
    [InlineData("081804\n")]
    [InlineData("081805")] // wrong
    public void Verify_MalformedOrWrongCode_ReturnsNull(string typed)
    {
        Assert.Null(Totp.Verify(Secret, typed, Now, lastUsedStep: null));
    }

    [Fact]
    public void Verify_EightDigitSha256_UsesTheParameters()
    {
        var secret = Encoding.ASCII.GetBytes("12345678901234567890123456789012");
        var parameters = new TotpParameters(OtpAlgorithm.Sha256, 8, 30);

        Assert.Equal(NowStep, Totp.Verify(secret, "68084774", Now, lastUsedStep: null, parameters: parameters));
        Assert.Null(Totp.Verify(secret, "68084774", Now, lastUsedStep: null));
    }

    [Fact]
    public void GenerateSecret_Default_IsTwentyRandomBytes()
    {
        var a = Totp.GenerateSecret();
        var b = Totp.GenerateSecret();

        Assert.Equal(20, a.Length);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Misuse_ShortSecretOrBadParameters_Throws()
    {
        Assert.Throws<ArgumentException>(() => Totp.Generate(new byte[15], Now));
        Assert.Throws<ArgumentException>(() => Totp.GenerateSecret(8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TotpParameters(OtpAlgorithm.Sha1, 5, 30));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TotpParameters(OtpAlgorithm.Sha1, 9, 30));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TotpParameters((OtpAlgorithm)7, 6, 30));
        Assert.Throws<ArgumentOutOfRangeException>(() => Totp.Generate(Secret, Now, default(TotpParameters)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Totp.Verify(Secret, "081804", Now, null, window: 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => Totp.TimeStep(DateTimeOffset.UnixEpoch.AddSeconds(-1)));
    }

    [Fact]
    public void OtpAuthUri_Default_HasTheKeyUriFormat()
    {
        var uri = OtpAuthUri.ForTotp("Veil", "alice@example.org", Secret);

        Assert.Equal("otpauth://totp/Veil:alice%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Veil&algorithm=SHA1&digits=6&period=30", uri);
    }

    [Fact]
    public void OtpAuthUri_ReservedAndNonAsciiCharacters_ArePercentEncoded()
    {
        var parameters = new TotpParameters(OtpAlgorithm.Sha512, 8, 60);

        var uri = OtpAuthUri.ForTotp("Veil & Co/ë", "zoë+tag@x.org?#=", Secret, parameters);

        Assert.Equal(
            "otpauth://totp/Veil%20%26%20Co%2F%C3%AB:zo%C3%AB%2Btag%40x.org%3F%23%3D?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Veil%20%26%20Co%2F%C3%AB&algorithm=SHA512&digits=8&period=60",
            uri);
    }

    [Theory]
    [InlineData("", "alice")]
    [InlineData("Veil", "")]
    [InlineData("Ve:il", "alice")]
    [InlineData("Veil", "ali:ce")]
    public void OtpAuthUri_EmptyOrColonInLabel_Throws(string issuer, string account)
    {
        Assert.Throws<ArgumentException>(() => OtpAuthUri.ForTotp(issuer, account, Secret));
    }
}
