using System.Text.Json;
using Veil.Crypto.Otp;

namespace Veil.Cli.Tests;

/// <summary>Magic-link sign-in, the primary-email change and the recovery email, through the CLI.</summary>
public sealed partial class AccountTests
{
    private const string NewEmail = "alice.new@example.org";
    private const string RecoveryEmail = "alice.recovery@example.org";

    [Fact]
    public async Task MagicLink_RequestThenLink_SignsInWithoutThePassword()
    {
        await RegisterAsync();

        var requested = Ok(await _cli.RunAsync(["account", "login", "--magic-link", Email, "--json"])).Event("magic-link-requested");
        var login = Ok(await _cli.RunAsync(["account", "login", "--link", LinkFromOutbox("magic-link", Email), "--json"])).Event("logged-in");
        var whoami = Ok(await _cli.RunAsync(["account", "whoami", "--json"])).Json.Single();

        Assert.Equal(Email, requested.GetProperty("email").GetString());
        Assert.Equal("magic-link", login.GetProperty("method").GetString());
        Assert.Equal(Email, login.GetProperty("email").GetString());
        Assert.False(login.GetProperty("keysUnlocked").GetBoolean());
        Assert.Equal(Email, whoami.GetProperty("email").GetString());
        await AssertSessionFileHoldsNoSecretAsync(Password);
        Assert.Equal(Email, ReadStoredSession().GetProperty("email").GetString());
    }

    [Fact]
    public async Task MagicLink_HumanOutput_SaysTheResponseDoesNotRevealTheAccountAndTheKeysStayLocked()
    {
        await RegisterAsync();

        var requested = Ok(await _cli.RunAsync(["account", "login", "--magic-link", Email]));
        var login = Ok(await _cli.RunAsync(["account", "login", "--link", LinkFromOutbox("magic-link", Email)]));

        Assert.Contains("If an account exists for that address", requested.Stdout.Replace(Email, "that address", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("will ask for your password", login.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MagicLink_UsedTwice_SecondUseFailsWithInvalidTokenOnOneLine()
    {
        await RegisterAsync();
        Ok(await _cli.RunAsync(["account", "login", "--magic-link", Email, "--json"]));
        var link = LinkFromOutbox("magic-link", Email);
        Ok(await _cli.RunAsync(["account", "login", "--link", link, "--json"]));

        var again = await new VeilCli(_server.BaseAddress, Path.Combine(_config, "other")).RunAsync(["account", "login", "--link", link, "--json"]);

        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("veil: invalid-token:", Assert.Single(again.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.Empty(again.Stdout);
    }

    [Fact]
    public async Task MagicLink_UnknownAddress_AnswersLikeAKnownOne_AndMailsNoLink()
    {
        var result = Ok(await _cli.RunAsync(["account", "login", "--magic-link", "nobody@example.org", "--json"]));

        Assert.Equal("nobody@example.org", result.Event("magic-link-requested").GetProperty("email").GetString());
        Assert.DoesNotContain(_server.ReadOutbox(), m => m.TextBody.Contains("/magic-link#", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MagicLink_With2fa_AsksForTheCodeLikeThePasswordLogin()
    {
        await RegisterAndLoginAsync();
        var secret = SecretOf(Ok(await _cli.RunAsync(["account", "2fa", "enable", "--json"], string.Empty)).Event("totp-enrolment").GetProperty("otpauthUri").GetString()!);
        Ok(await _cli.RunAsync(["account", "2fa", "enable", "--code", Totp.Generate(secret, _server.Time.GetUtcNow()), "--json"]));
        Ok(await _cli.RunAsync(["account", "logout", "--json"]));
        Ok(await _cli.RunAsync(["account", "login", "--magic-link", Email, "--json"]));
        _server.Time.Advance(TimeSpan.FromSeconds(30)); // a TOTP step is accepted once

        var login = Ok(await _cli.RunAsync(["account", "login", "--link", LinkFromOutbox("magic-link", Email), "--code", Totp.Generate(secret, _server.Time.GetUtcNow()), "--json"]));

        Assert.True(login.Event("logged-in").GetProperty("twoFactor").GetBoolean());
        Ok(await _cli.RunAsync(["account", "whoami", "--json"]));
    }

    [Fact]
    public async Task EmailChange_AfterStepUpAndConfirmation_OnlyTheNewAddressSignsIn()
    {
        await RegisterAndLoginAsync();
        _server.Time.Advance(TimeSpan.FromMinutes(6)); // past the step-up window: the CLI confirms with the same password

        var change = Ok(await _cli.RunAsync(["account", "email", "change", NewEmail, "--password-stdin", "--json"], Password + "\n"));
        var verified = Ok(await _cli.RunAsync(["account", "verify", LinkFromOutbox("verify-email", NewEmail), "--json"])).Event("verified");
        var whoami = Ok(await _cli.RunAsync(["account", "whoami", "--json"])).Json.Single();
        var oldLogin = await new VeilCli(_server.BaseAddress, Path.Combine(_config, "old")).RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], Password + "\n");
        var newLogin = await new VeilCli(_server.BaseAddress, Path.Combine(_config, "new")).RunAsync(["account", "login", "--email", NewEmail, "--password-stdin", "--json"], Password + "\n");

        change.Event("stepped-up");
        Assert.Equal(NewEmail, change.Event("email-change-requested").GetProperty("newEmail").GetString());
        Assert.Equal("email-change", verified.GetProperty("purpose").GetString());
        Assert.Equal(NewEmail, verified.GetProperty("email").GetString());
        Assert.Equal(NewEmail, whoami.GetProperty("email").GetString());
        Assert.Equal(NewEmail, ReadStoredSession().GetProperty("email").GetString());
        Assert.Equal(1, oldLogin.ExitCode);
        Assert.StartsWith("veil: invalid-credentials:", oldLogin.Stderr, StringComparison.Ordinal);
        Ok(newLogin);
    }

    [Fact]
    public async Task EmailChange_WrongPassword_FailsBeforeAnythingIsSent()
    {
        await RegisterAndLoginAsync();
        var mailsBefore = _server.ReadOutbox().Count;

        var result = await _cli.RunAsync(["account", "email", "change", NewEmail, "--password-stdin", "--json"], "not the password\n");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("veil: wrong-password:", Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.Equal(mailsBefore, _server.ReadOutbox().Count);
    }

    [Fact]
    public async Task RecoveryEmail_SetAndConfirmed_ReceivesASignInLinkThatSignsIn()
    {
        await RegisterAndLoginAsync();

        var set = Ok(await _cli.RunAsync(["account", "recovery-email", "set", RecoveryEmail, "--json"])).Event("recovery-email-requested");
        var verified = Ok(await _cli.RunAsync(["account", "verify", LinkFromOutbox("verify-email", RecoveryEmail), "--json"])).Event("verified");
        var whoami = Ok(await _cli.RunAsync(["account", "whoami", "--json"])).Json.Single();
        Ok(await _cli.RunAsync(["account", "logout", "--json"]));
        Ok(await _cli.RunAsync(["account", "login", "--magic-link", RecoveryEmail, "--json"]));
        var login = Ok(await _cli.RunAsync(["account", "login", "--link", LinkFromOutbox("magic-link", RecoveryEmail), "--json"])).Event("logged-in");

        Assert.Equal(RecoveryEmail, set.GetProperty("recoveryEmail").GetString());
        Assert.Equal("recovery-email", verified.GetProperty("purpose").GetString());
        Assert.Equal(RecoveryEmail, whoami.GetProperty("recoveryEmail").GetString());
        Assert.True(whoami.GetProperty("recoveryEmailVerified").GetBoolean());
        Assert.Equal(Email, login.GetProperty("email").GetString()); // the account's primary address
        Assert.Equal(Email, ReadStoredSession().GetProperty("email").GetString());
    }

    [Fact]
    public async Task RecoveryEmail_Remove_ClearsIt()
    {
        await RegisterAndLoginAsync();
        Ok(await _cli.RunAsync(["account", "recovery-email", "set", RecoveryEmail, "--json"]));

        Ok(await _cli.RunAsync(["account", "recovery-email", "remove", "--json"])).Event("recovery-email-removed");

        var whoami = Ok(await _cli.RunAsync(["account", "whoami", "--json"])).Json.Single();
        Assert.Equal(JsonValueKind.Null, whoami.GetProperty("recoveryEmail").ValueKind);
    }

    private async Task RegisterAsync()
    {
        Ok(await _cli.RunAsync(["account", "register", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
        Ok(await _cli.RunAsync(["account", "verify", LinkFromOutbox("verify-email"), "--json"]));
    }

    private JsonElement ReadStoredSession()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(_cli.SessionFile));
        return json.RootElement.Clone();
    }
}
