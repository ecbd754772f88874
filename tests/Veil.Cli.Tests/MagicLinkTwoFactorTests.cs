using Veil.Crypto.Otp;

namespace Veil.Cli.Tests;

/// <summary>
/// Issue 15, point 7: a magic link used without <c>--code</c> on an account with 2FA was used up before the code was
/// asked for, so the retry with the code failed invalid-token. The link now stays good until the second factor completes.
/// </summary>
public sealed partial class AccountTests
{
    [Fact]
    public async Task MagicLink_TwoFactorAccount_WithoutCodeStopsAtTheCode_ThenTheSameLinkWithCodeSignsIn()
    {
        var secret = await RegisterWithTotpAsync();
        Ok(await _cli.RunAsync(["account", "login", "--magic-link", Email, "--json"]));
        var link = LinkFromOutbox("magic-link", Email);

        // No --code and no terminal: the CLI cannot ask, and says so.
        var withoutCode = await _cli.RunAsync(["account", "login", "--link", link, "--json"], string.Empty);
        Assert.NotEqual(0, withoutCode.ExitCode);
        Assert.Contains("--code", withoutCode.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("invalid-token", withoutCode.Stderr, StringComparison.Ordinal);

        var login = Ok(await _cli.RunAsync(["account", "login", "--link", link, "--code", Totp.Generate(secret, _server.Time.GetUtcNow()), "--json"])).Event("logged-in");
        Assert.Equal("magic-link", login.GetProperty("method").GetString());
        Assert.True(login.GetProperty("twoFactor").GetBoolean());

        // Used up once the sign-in completed.
        var again = await _cli.RunAsync(["account", "login", "--link", link, "--code", "000000", "--json"]);
        Assert.StartsWith("veil: invalid-token:", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MagicLink_TwoFactorAccount_WithCode_SignsInAtTheFirstUse()
    {
        var secret = await RegisterWithTotpAsync();
        Ok(await _cli.RunAsync(["account", "login", "--magic-link", Email, "--json"]));

        var login = Ok(await _cli.RunAsync(["account", "login", "--link", LinkFromOutbox("magic-link", Email), "--code", Totp.Generate(secret, _server.Time.GetUtcNow()), "--json"])).Event("logged-in");

        Assert.True(login.GetProperty("twoFactor").GetBoolean());
        Assert.Equal(Email, Ok(await _cli.RunAsync(["account", "whoami", "--json"])).Json.Single().GetProperty("email").GetString());
    }

    /// <summary>Registers, turns TOTP on, logs out and moves to the next time step (each code is accepted once).</summary>
    private async Task<byte[]> RegisterWithTotpAsync()
    {
        await RegisterAndLoginAsync();
        var enrolment = Ok(await _cli.RunAsync(["account", "2fa", "enable", "--json"], string.Empty)).Event("totp-enrolment");
        var secret = SecretOf(enrolment.GetProperty("otpauthUri").GetString()!);
        Ok(await _cli.RunAsync(["account", "2fa", "enable", "--code", Totp.Generate(secret, _server.Time.GetUtcNow()), "--json"]));
        Ok(await _cli.RunAsync(["account", "logout", "--json"]));
        _server.Time.Advance(TimeSpan.FromSeconds(30));
        return secret;
    }
}
