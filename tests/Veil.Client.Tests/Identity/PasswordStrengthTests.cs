using Veil.Client.Identity;

namespace Veil.Client.Tests.Identity;

public sealed class PasswordStrengthTests
{
    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("Tr0ub4dor")] // 9 characters: under the length floor whatever its score
    public void Check_ShorterThan10_IsRefusedAsTooShort(string password)
    {
        var verdict = PasswordStrength.Check(password, "alice@example.org");

        Assert.False(verdict.Acceptable);
        Assert.Contains("too short", verdict.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("password123")]
    [InlineData("qwertyuiop")]
    [InlineData("1234567890")]
    [InlineData("aaaaaaaaaaaa")]
    [InlineData("alice@example.org")] // the account's own address
    [InlineData("alicealice1")]
    public void Check_GuessableButLong_IsRefusedWithScore(string password)
    {
        var verdict = PasswordStrength.Check(password, "alice@example.org");

        Assert.False(verdict.Acceptable);
        Assert.True(verdict.Score < PasswordStrength.MinimumScore, $"score {verdict.Score}");
        Assert.Contains("too easy to guess", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("at least 10 characters", verdict.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("correct horse battery staple")]
    [InlineData("a new and longer passphrase")]
    [InlineData("orbit pickle lantern sofa")]
    [InlineData("pässwörd ☂ é ünïcode sky")]
    public void Check_LongUnusualPassphrase_IsAccepted(string password)
    {
        var verdict = PasswordStrength.Check(password, "alice@example.org");

        Assert.True(verdict.Acceptable, verdict.Reason);
        Assert.Null(verdict.Reason);
    }

    [Fact]
    public void Require_Weak_ThrowsWeakPasswordException_AnArgumentException()
    {
        var thrown = Assert.Throws<WeakPasswordException>(() => PasswordStrength.Require("short", "alice@example.org"));

        Assert.IsAssignableFrom<ArgumentException>(thrown);
    }
}
