using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text.Json;
using System.Text.RegularExpressions;
using Veil.Crypto.Client;
using Veil.Crypto.Otp;
using Veil.Server.Tests.Kit;

namespace Veil.Cli.Tests;

/// <summary>The account and apikey verbs as processes against the real server on loopback.</summary>
[UnsupportedOSPlatform("windows")] // file modes
[Collection(AccountVerbsTestGroup.Name)]
public sealed partial class AccountTests : IAsyncLifetime
{
    private const string Email = "alice@example.org";
    private const string Password = "correct horse battery staple";
    private const string NewPassword = "a new and longer passphrase";

    private readonly string _config = Directory.CreateTempSubdirectory("veil-cli-config-").FullName;
    private VeilTestServer _server = null!;
    private VeilCli _cli = null!;

    public async Task InitializeAsync()
    {
        _server = await VeilTestServer.StartAsync();
        _cli = new VeilCli(_server.BaseAddress, Path.Combine(_config, "veil"));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_config, recursive: true);
    }

    [Fact]
    public async Task Journey_RegisterVerifyLogin2faSessionsApiKeysPasswdExportDelete_AllThroughTheCli()
    {
        // register -> the verification link arrives in the outbox -> verify
        Ok(await _cli.RunAsync(["account", "register", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
        var verify = Ok(await _cli.RunAsync(["account", "verify", LinkFromOutbox("verify-email"), "--json"]));
        Assert.Equal("registration", verify.Event("verified").GetProperty("purpose").GetString());

        // login -> the session file holds the refresh token only
        Ok(await _cli.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
        await AssertSessionFileHoldsNoSecretAsync(Password);
        var whoami = Ok(await _cli.RunAsync(["account", "whoami", "--json"])).Json.Single();
        Assert.Equal(Email, whoami.GetProperty("email").GetString());
        Assert.False(whoami.GetProperty("twoFactorEnabled").GetBoolean());

        // 2fa enable: start (URI printed, stdin empty -> pending), then confirm with a code
        var enrolment = Ok(await _cli.RunAsync(["account", "2fa", "enable", "--json"], string.Empty)).Event("totp-enrolment");
        var secret = SecretOf(enrolment.GetProperty("otpauthUri").GetString()!);
        var enabled = Ok(await _cli.RunAsync(["account", "2fa", "enable", "--code", Totp.Generate(secret, _server.Time.GetUtcNow()), "--json"]));
        Assert.Equal(8, enabled.Event("backup-codes").GetProperty("codes").GetArrayLength());

        // logout, then login with password + TOTP (a later time step: a code is accepted once)
        Ok(await _cli.RunAsync(["account", "logout", "--json"]));
        Assert.False(File.Exists(_cli.SessionFile));
        _server.Time.Advance(TimeSpan.FromSeconds(30));
        var login = Ok(await _cli.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], $"{Password}\n{Totp.Generate(secret, _server.Time.GetUtcNow())}\n"));
        Assert.True(login.Event("logged-in").GetProperty("twoFactor").GetBoolean());

        // sessions: the current one is listed and marked
        var sessions = Ok(await _cli.RunAsync(["account", "sessions", "--json"])).Json.Single();
        Assert.Contains(sessions.EnumerateArray(), s => s.GetProperty("current").GetBoolean());

        // apikey create / list / use / revoke
        var created = Ok(await _cli.RunAsync(["apikey", "create", "backup script", "--json"])).Event("apikey-created");
        var key = created.GetProperty("key").GetString()!;
        Assert.Matches("^ak_[0-9a-f]{32}$", key);
        var listed = Ok(await _cli.RunAsync(["apikey", "list", "--json"])).Json.Single();
        Assert.Equal("backup script", Assert.Single(listed.EnumerateArray()).GetProperty("name").GetString());
        Assert.DoesNotContain(key, listed.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(200, await WhoAmIStatusWithApiKeyAsync(key));
        Ok(await _cli.RunAsync(["apikey", "revoke", created.GetProperty("id").GetString()!, "--json"]));
        Assert.Equal(401, await WhoAmIStatusWithApiKeyAsync(key));

        // passwd: the old password stops working, the new one (with TOTP) works
        Ok(await _cli.RunAsync(["account", "passwd", "--password-stdin", "--json"], $"{Password}\n{NewPassword}\n"));
        var oldLogin = await _cli.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], Password + "\n");
        Assert.Equal(1, oldLogin.ExitCode);
        Assert.StartsWith("veil: invalid-credentials:", oldLogin.Stderr, StringComparison.Ordinal);
        _server.Time.Advance(TimeSpan.FromSeconds(30));
        Ok(await _cli.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], $"{NewPassword}\n{Totp.Generate(secret, _server.Time.GetUtcNow())}\n"));
        await AssertSessionFileHoldsNoSecretAsync(NewPassword);

        // export
        var export = Ok(await _cli.RunAsync(["account", "export", "--json"])).Json.Single();
        Assert.Equal("veil-account-export/v1", export.GetProperty("format").GetString());
        Assert.Equal(Email, export.GetProperty("account").GetProperty("email").GetString());

        // delete, after the step-up window has passed: the CLI re-authenticates (password + TOTP from stdin)
        _server.Time.Advance(TimeSpan.FromMinutes(6));
        var deleted = Ok(await _cli.RunAsync(["account", "delete", "--yes", "--password-stdin", "--json"], $"{NewPassword}\n{Totp.Generate(secret, _server.Time.GetUtcNow())}\n"));
        deleted.Event("stepped-up");
        Assert.Equal(Email, deleted.Event("account-deleted").GetProperty("email").GetString());
        Assert.False(File.Exists(_cli.SessionFile));
        var afterDelete = await _cli.RunAsync(["account", "login", "--email", Email, "--password-stdin"], NewPassword + "\n");
        Assert.Equal(1, afterDelete.ExitCode);
    }

    [Fact]
    public async Task Refresh_EveryRunRotatesTheStoredToken_AndAReplayedOneEndsTheSession()
    {
        await RegisterAndLoginAsync();
        var first = await File.ReadAllTextAsync(_cli.SessionFile);

        Ok(await _cli.RunAsync(["account", "whoami", "--json"]));
        var second = await File.ReadAllTextAsync(_cli.SessionFile);
        Assert.NotEqual(first, second);

        await File.WriteAllTextAsync(_cli.SessionFile, first); // a stolen, already-rotated token
        _server.Time.Advance(TimeSpan.FromSeconds(6)); // past the race window, where a rotated token is a reuse
        var replay = await _cli.RunAsync(["account", "whoami", "--json"]);
        Assert.Equal(1, replay.ExitCode);
        Assert.StartsWith("veil: refresh-token-reused:", replay.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.SessionFile));

        await File.WriteAllTextAsync(_cli.SessionFile, second); // the family is revoked: the newer one is dead too
        Assert.Equal(1, (await _cli.RunAsync(["account", "whoami", "--json"])).ExitCode);
    }

    [Fact]
    public async Task Refresh_ParallelRuns_TakeTurnsInsteadOfLookingLikeAReplay()
    {
        await RegisterAndLoginAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => _cli.RunAsync(["account", "whoami", "--json"])));

        Assert.All(results, r => Ok(r));
        Assert.True(File.Exists(_cli.SessionFile));
    }

    [Fact]
    public async Task Sessions_RevokeOthers_EndsTheOtherDevicesSession()
    {
        await RegisterAndLoginAsync();
        var other = new VeilCli(_server.BaseAddress, Path.Combine(_config, "other"));
        Ok(await other.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], Password + "\n"));

        var revoked = Ok(await _cli.RunAsync(["account", "sessions", "--others", "--json"])).Event("sessions-revoked");

        Assert.Equal(1, revoked.GetProperty("revoked").GetInt32());
        var otherWhoami = await other.RunAsync(["account", "whoami", "--json"]);
        Assert.Equal(1, otherWhoami.ExitCode);
        Assert.Contains("invalid-refresh-token", otherWhoami.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sessions_RevokeId_RemovesThatSessionFromTheList()
    {
        await RegisterAndLoginAsync();
        var other = new VeilCli(_server.BaseAddress, Path.Combine(_config, "other"));
        var otherId = Ok(await other.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], Password + "\n"))
            .Event("logged-in").GetProperty("sessionId").GetString()!;

        Ok(await _cli.RunAsync(["account", "sessions", "revoke", otherId, "--json"]));

        var sessions = Ok(await _cli.RunAsync(["account", "sessions", "--json"])).Json.Single();
        Assert.DoesNotContain(sessions.EnumerateArray(), s => s.GetProperty("id").GetString() == otherId);
    }

    [Fact]
    public async Task TwoFactor_BackupCodeLogsIn_NewBackupCodes_ThenDisable()
    {
        await RegisterAndLoginAsync();
        var enrolment = Ok(await _cli.RunAsync(["account", "2fa", "enable", "--json"], string.Empty)).Event("totp-enrolment");
        var secret = SecretOf(enrolment.GetProperty("otpauthUri").GetString()!);
        var backup = Ok(await _cli.RunAsync(["account", "2fa", "enable", "--code", Totp.Generate(secret, _server.Time.GetUtcNow()), "--json"]))
            .Event("backup-codes").GetProperty("codes")[0].GetString()!;

        var login = Ok(await _cli.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--code", backup, "--json"], Password + "\n"));
        var renewed = Ok(await _cli.RunAsync(["account", "2fa", "backup-codes", "--json"])).Event("backup-codes");
        Ok(await _cli.RunAsync(["account", "2fa", "disable", "--json"]));
        var whoami = Ok(await _cli.RunAsync(["account", "whoami", "--json"])).Json.Single();

        Assert.True(login.Event("logged-in").GetProperty("twoFactor").GetBoolean());
        Assert.Equal(8, renewed.GetProperty("codes").GetArrayLength());
        Assert.DoesNotContain(backup, renewed.GetRawText(), StringComparison.Ordinal);
        Assert.False(whoami.GetProperty("twoFactorEnabled").GetBoolean());
    }

    [Fact]
    public async Task Verify_UsedLink_FailsWithInvalidToken()
    {
        Ok(await _cli.RunAsync(["account", "register", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
        var link = LinkFromOutbox("verify-email");
        Ok(await _cli.RunAsync(["account", "verify", link, "--json"]));

        var again = await _cli.RunAsync(["account", "verify", link, "--json"]);

        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("veil: invalid-token:", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecoveryCodes_Regenerate_PrintsTenCodes()
    {
        await RegisterAndLoginAsync();

        var codes = Ok(await _cli.RunAsync(["account", "recovery-codes", "--json"])).Event("recovery-codes");

        Assert.Equal(10, codes.GetProperty("codes").GetArrayLength());
    }

    [Fact]
    public async Task Login_WrongPassword_FailsWithTheProblemCodeOnOneStderrLine()
    {
        await RegisterAndLoginAsync();

        var result = await _cli.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], "wrong\n");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("veil: invalid-credentials", Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))[..25]);
        Assert.Empty(result.Stdout);
    }

    private CliResult Ok(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result + (result.Stderr.Contains("internal-error", StringComparison.Ordinal) ? "\nserver log:\n" + _server.Logs.AllText : string.Empty));
        return result;
    }

    private async Task RegisterAndLoginAsync()
    {
        Ok(await _cli.RunAsync(["account", "register", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
        Ok(await _cli.RunAsync(["account", "verify", LinkFromOutbox("verify-email"), "--json"]));
        Ok(await _cli.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
    }

    /// <summary>The newest link of the given kind in the server's file outbox (to <paramref name="to"/>, when given).</summary>
    private string LinkFromOutbox(string path, string? to = null)
    {
        var mail = _server.ReadOutbox().Last(m => m.TextBody.Contains("/" + path + "#", StringComparison.Ordinal)
            && (to is null || m.Headers.GetValueOrDefault("To", string.Empty).Contains(to, StringComparison.OrdinalIgnoreCase)));
        return LinkPattern().Matches(mail.TextBody).Select(m => m.Value).Last(l => l.Contains("/" + path + "#", StringComparison.Ordinal));
    }

    /// <summary>The session file: mode 0600, a refresh token, and none of password, auth token or enc key.</summary>
    private async Task AssertSessionFileHoldsNoSecretAsync(string password)
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_cli.SessionFile));
        var text = await File.ReadAllTextAsync(_cli.SessionFile);
        using var json = JsonDocument.Parse(text);
        Assert.Equal(43, json.RootElement.GetProperty("refreshToken").GetString()!.Length);
        Assert.DoesNotContain(password, text, StringComparison.Ordinal);

        using var prelogin = await _server.Client.PostAsJsonAsync("/api/v1/auth/prelogin", new { email = Email });
        var salt = Base64Url.DecodeFromChars((await prelogin.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("salt").GetString());
        using var keys = ClientKeyDerivation.Derive(password, Email, salt);
        foreach (var secret in new[] { keys.EncryptionKey, keys.AuthenticationToken })
        {
            using var lease = secret.Acquire();
            Assert.DoesNotContain(Base64Url.EncodeToString(lease.Span), text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(lease.Span), text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(lease.Span), text, StringComparison.OrdinalIgnoreCase);
        }
    }

    private async Task<int> WhoAmIStatusWithApiKeyAsync(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/account");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _server.Client.SendAsync(request);
        return (int)response.StatusCode;
    }

    private static byte[] SecretOf(string otpauthUri)
    {
        var secret = Regex.Match(otpauthUri, "[?&]secret=([A-Z2-7]+)").Groups[1].Value;
        return Base32.Decode(secret)!;
    }

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();
}

/// <summary>
/// The account tests run Argon2id (64 MiB, 4 lanes) in several processes; alone, so that they do not
/// starve the timing-sensitive serve tests of this assembly on a small machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AccountVerbsTestGroup
{
    public const string Name = "Account verbs (not parallel)";
}
