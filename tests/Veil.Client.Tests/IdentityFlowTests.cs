using System.Text.RegularExpressions;
using Veil.Client.Identity;
using Veil.Crypto.Memory;
using Veil.Crypto.Otp;
using Veil.Server.Tests.Kit;

namespace Veil.Client.Tests;

/// <summary>The SDK's flows against the real server on loopback.</summary>
public sealed partial class IdentityFlowTests : IAsyncLifetime
{
    private const string Email = "bob@example.org";
    private static readonly ReadOnlyMemory<char> Password = "correct horse battery staple".AsMemory();
    private static readonly ReadOnlyMemory<char> NewPassword = "a new and longer passphrase".AsMemory();

    private VeilTestServer _server = null!;

    public async Task InitializeAsync() => _server = await VeilTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ChangePassword_TheNewPasswordOpensTheSameUserKey()
    {
        using var client = await RegisteredAndSignedInAsync();
        var before = Bytes(client.Identity.UserKey!);

        await client.Identity.ChangePasswordAsync(Password, NewPassword);
        using var again = NewClient();
        var result = await again.Identity.LoginAsync(Email, NewPassword);

        Assert.NotNull(result.Session);
        Assert.Equal(before, Bytes(again.Identity.UserKey!));
    }

    [Fact]
    public async Task ChangePassword_WrongCurrentPassword_FailsCleanlyAndChangesNothing()
    {
        using var client = await RegisteredAndSignedInAsync();

        var error = await Assert.ThrowsAsync<VeilApiException>(() => client.Identity.ChangePasswordAsync("not it".AsMemory(), NewPassword));

        Assert.Equal(IdentityErrorCodes.WrongPassword, error.Code);
        using var again = NewClient();
        Assert.NotNull((await again.Identity.LoginAsync(Email, Password)).Session);
    }

    [Fact]
    public async Task Login_WrongPassword_ThrowsTheServersProblem()
    {
        await RegisterAsync();
        using var client = NewClient();

        var error = await Assert.ThrowsAsync<VeilApiException>(() => client.Identity.LoginAsync(Email, "wrong".AsMemory()));

        Assert.Equal(401, error.Status);
        Assert.Equal(IdentityErrorCodes.InvalidCredentials, error.Code);
        Assert.False(string.IsNullOrEmpty(error.Title));
        Assert.Null(client.Identity.UserKey);
    }

    [Fact]
    public async Task Refresh_KeepsTheNewestToken_AndTheRotatedOneIsRefusedAsReused()
    {
        using var client = await RegisteredAndSignedInAsync();
        var seen = new List<string?>();
        client.RefreshTokenChanged += (_, token) => seen.Add(token);
        var first = client.RefreshToken!;

        await client.Identity.RefreshAsync();
        _server.Time.Advance(TimeSpan.FromSeconds(6)); // past the race window, where a rotated token is a reuse
        using var thief = NewClient();
        thief.UseRefreshToken(first);
        var error = await Assert.ThrowsAsync<VeilApiException>(() => thief.Identity.RefreshAsync());

        Assert.NotEqual(first, client.RefreshToken);
        Assert.Equal([client.RefreshToken], seen);
        Assert.Equal(IdentityErrorCodes.RefreshTokenReused, error.Code);
        Assert.Null(thief.RefreshToken);
    }

    [Fact]
    public async Task TwoFactor_LoginNeedsTheCode_ThenOpensTheUserKey()
    {
        using var client = await RegisteredAndSignedInAsync();
        var userKey = Bytes(client.Identity.UserKey!);
        var enrolment = await client.Identity.BeginTotpEnrolmentAsync();
        var secret = Base32.Decode(enrolment.Secret)!;
        var backup = await client.Identity.ConfirmTotpAsync(Totp.Generate(secret, _server.Time.GetUtcNow()));
        _server.Time.Advance(TimeSpan.FromSeconds(30));

        using var again = NewClient();
        var first = await again.Identity.LoginAsync(Email, Password);
        var session = await again.Identity.CompleteTwoFactorAsync(first.Challenge!, TwoFactorMethod.Totp, Totp.Generate(secret, _server.Time.GetUtcNow()));

        Assert.Equal(8, backup.Codes.Count);
        Assert.True(first.TwoFactorRequired);
        Assert.Null(first.Session);
        Assert.NotEqual(Guid.Empty, session.SessionId);
        Assert.Equal(userKey, Bytes(again.Identity.UserKey!));
        Assert.True((await again.Identity.WhoAmIAsync()).TwoFactorEnabled);
    }

    [Fact]
    public async Task StepUp_AfterTheWindow_CreatingAnApiKeyNeedsItAndThenWorks()
    {
        using var client = await RegisteredAndSignedInAsync();
        _server.Time.Advance(TimeSpan.FromMinutes(6));

        var error = await Assert.ThrowsAsync<VeilApiException>(() => client.Identity.CreateApiKeyAsync("ci"));
        await client.Identity.StepUpAsync(Password);
        var key = await client.Identity.CreateApiKeyAsync("ci");

        Assert.Equal(IdentityErrorCodes.StepUpRequired, error.Code);
        Assert.StartsWith("ak_", key.Key, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKey_WorksForWhoAmI_NotForManagingKeys_AndStopsWhenRevoked()
    {
        using var client = await RegisteredAndSignedInAsync();
        var created = await client.Identity.CreateApiKeyAsync("script");
        using var script = NewClient();
        script.UseApiKey(created.Key);

        var me = await script.Identity.WhoAmIAsync();
        var forbidden = await Assert.ThrowsAsync<VeilApiException>(() => script.Identity.ListApiKeysAsync());
        await client.Identity.RevokeApiKeyAsync(created.Id);
        var revoked = await Assert.ThrowsAsync<VeilApiException>(() => script.Identity.WhoAmIAsync());

        Assert.Equal("api-key", me.Credential);
        Assert.Equal(IdentityErrorCodes.ApiKeyNotAllowed, forbidden.Code);
        Assert.Equal(IdentityErrorCodes.Unauthorized, revoked.Code);
    }

    [Fact]
    public async Task MagicLink_SignsInWithoutTheUserKey_UnlockThenOpensIt()
    {
        using var client = await RegisteredAndSignedInAsync();
        var userKey = Bytes(client.Identity.UserKey!);
        using var other = NewClient();

        await other.Identity.RequestMagicLinkAsync(Email);
        var result = await other.Identity.ConsumeMagicLinkAsync(LinkFromOutbox("magic-link"));
        var lockedKey = other.Identity.UserKey;
        await other.Identity.UnlockAsync(Password);

        Assert.NotNull(result.Session);
        Assert.Null(lockedKey);
        Assert.Equal(userKey, Bytes(other.Identity.UserKey!));
    }

    [Fact]
    public async Task Sessions_ListRevokeOthers_AndLogoutEndTheSessions()
    {
        using var client = await RegisteredAndSignedInAsync();
        using var other = NewClient();
        await other.Identity.LoginAsync(Email, Password);

        var listed = await client.Identity.ListSessionsAsync();
        var revoked = await client.Identity.RevokeOtherSessionsAsync();
        var otherError = await Assert.ThrowsAsync<VeilApiException>(() => other.Identity.RefreshAsync());
        await client.Identity.LogoutAsync();

        Assert.Equal(2, listed.Count);
        Assert.Single(listed, s => s.Current);
        Assert.Equal(1, revoked);
        Assert.Equal(IdentityErrorCodes.InvalidRefreshToken, otherError.Code);
        Assert.Null(client.RefreshToken);
        Assert.Null(client.Identity.UserKey);
    }

    [Fact]
    public async Task ExportAndDelete_ExportNamesTheAccount_DeleteRemovesIt()
    {
        using var client = await RegisteredAndSignedInAsync();

        var export = await client.Identity.ExportAsync();
        var codes = await client.Identity.RegenerateRecoveryCodesAsync();
        await client.Identity.DeleteAccountAsync();
        using var again = NewClient();
        var error = await Assert.ThrowsAsync<VeilApiException>(() => again.Identity.LoginAsync(Email, Password));

        Assert.Equal("veil-account-export/v1", export.Format);
        Assert.Equal(Email, export.Document.GetProperty("account").GetProperty("email").GetString());
        Assert.Equal(10, codes.Codes.Count);
        Assert.Equal(IdentityErrorCodes.InvalidCredentials, error.Code);
    }

    [Fact]
    public async Task Network_ServerDown_IsAVeilApiExceptionWithTheNetworkCode()
    {
        using var client = new VeilClient(new Uri("http://127.0.0.1:9/"));

        var error = await Assert.ThrowsAsync<VeilApiException>(() => client.Identity.PreloginAsync(Email));

        Assert.Equal(0, error.Status);
        Assert.Equal(VeilApiException.NetworkCode, error.Code);
    }

    private static byte[] Bytes(SecretBytes secret)
    {
        using var lease = secret.Acquire();
        return lease.Span.ToArray();
    }

    private VeilClient NewClient() => new(_server.BaseAddress, new VeilClientOptions { TimeProvider = _server.Time, ClientLabel = "sdk-tests" });

    private async Task RegisterAsync()
    {
        using var client = NewClient();
        await client.Identity.RegisterAsync(Email, Password);
        var verified = await client.Identity.VerifyEmailAsync(LinkFromOutbox("verify-email"));
        Assert.Equal("registration", verified.Purpose);
    }

    private async Task<VeilClient> RegisteredAndSignedInAsync()
    {
        await RegisterAsync();
        var client = NewClient();
        var result = await client.Identity.LoginAsync(Email, Password);
        Assert.NotNull(result.Session);
        Assert.NotNull(client.Identity.UserKey);
        return client;
    }

    private string LinkFromOutbox(string path)
    {
        var mail = _server.ReadOutbox().Last(m => m.TextBody.Contains("/" + path + "#", StringComparison.Ordinal));
        return LinkPattern().Matches(mail.TextBody).Select(m => m.Value).Last(l => l.Contains("/" + path + "#", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();
}
