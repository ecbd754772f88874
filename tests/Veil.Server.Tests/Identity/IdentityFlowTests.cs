using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.Client;
using Veil.Crypto.Otp;
using Veil.Crypto.Primitives;
using Veil.Server.Platform.Auth;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Identity;

public sealed class IdentityFlowTests
{
    [Fact]
    public async Task Register_WithRealClientKeys_PreloginReturnsSaltAndLoginWorks()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var email = IdentityKit.NewEmail();
        var salt = CryptoRandom.Bytes(16);
        string auth;
        using (var keys = ClientKeyDerivation.Derive("correct horse battery staple", email, salt))
        {
            auth = AuthOf(keys);
        }

        using (var register = await server.PostAsync("/api/v1/accounts", new { email, authToken = auth, kdf = IdentityKit.DefaultKdf(salt), protectedUserKey = "v1.wrapped" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, register.StatusCode);
        }

        // Before the link is opened there is no account.
        using (var early = await server.PostAsync("/api/v1/auth/login", new { email, authToken = auth }))
        {
            await early.ExpectProblemAsync(HttpStatusCode.Unauthorized, "invalid-credentials");
        }

        using (var verify = await server.PostAsync("/api/v1/accounts/verify-email", new { token = server.LatestLinkToken(email) }))
        {
            Assert.Equal("registration", (await verify.JsonAsync()).GetProperty("purpose").GetString());
        }

        using var prelogin = await server.PostAsync("/api/v1/auth/prelogin", new { email = "  " + email.ToUpperInvariant() + " " });
        var kdf = await prelogin.JsonAsync();
        Assert.Equal(CryptoRandom.ToBase64Url(salt), kdf.GetProperty("salt").GetString());

        using (var keys = ClientKeyDerivation.Derive("correct horse battery staple", email, CryptoRandom.FromBase64Url(kdf.GetProperty("salt").GetString()!)!))
        {
            var tokens = await server.LoginAsync(email, AuthOf(keys));
            using var keysResponse = await server.SendAsync(HttpMethod.Get, "/api/v1/account/keys", bearer: tokens.AccessToken);
            Assert.Equal("v1.wrapped", (await keysResponse.JsonAsync()).GetProperty("protectedUserKey").GetString());
        }
    }

    [Fact]
    public async Task Register_KdfBelowDefaults_IsRefused()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        using var response = await server.PostAsync("/api/v1/accounts", new
        {
            email = IdentityKit.NewEmail(), authToken = IdentityKit.NewAuthToken(), protectedUserKey = "v1.k",
            kdf = new { kdf = "argon2id", memoryKiB = 1024, iterations = 1, parallelism = 1, salt = CryptoRandom.ToBase64Url(CryptoRandom.Bytes(16)) },
        });
        await response.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
    }

    [Fact]
    public async Task Register_SomeoneElseRegisteredTheAddressFirst_OwnerLinkCreatesOwnerCredentials()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var email = IdentityKit.NewEmail("victim");
        var attacker = IdentityKit.NewAuthToken();
        using (await server.PostAsync("/api/v1/accounts", new { email, authToken = attacker, kdf = IdentityKit.DefaultKdf(), protectedUserKey = "v1.evil" }))
        {
        }

        // The owner ignores the link they did not ask for and registers themselves.
        _ = server.LatestLinkToken(email);

        var user = await server.RegisterUserAsync(email);

        using var login = await server.PostAsync("/api/v1/auth/login", new { email, authToken = attacker });
        await login.ExpectProblemAsync(HttpStatusCode.Unauthorized, "invalid-credentials");
        Assert.NotEqual(Guid.Empty, user.AccountId);
    }

    [Fact]
    public async Task Register_ExistingAddress_SameResponseAndNoticeInsteadOfLink()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        using var fresh = await server.PostAsync("/api/v1/accounts", new { email = IdentityKit.NewEmail(), authToken = IdentityKit.NewAuthToken(), kdf = IdentityKit.DefaultKdf(), protectedUserKey = "v1.k" });
        using var again = await server.PostAsync("/api/v1/accounts", new { email = user.Email, authToken = IdentityKit.NewAuthToken(), kdf = IdentityKit.DefaultKdf(), protectedUserKey = "v1.k" });
        Assert.Equal(fresh.StatusCode, again.StatusCode);
        Assert.Equal(await fresh.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Contains(server.ReadOutbox(), m => m.TextBody.Contains("already has one", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Prelogin_KnownAndUnknownAddress_SameShapeAndStatus_FakeSaltDeterministic()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var unknown = IdentityKit.NewEmail("nobody");
        using var known = await server.PostAsync("/api/v1/auth/prelogin", new { email = user.Email });
        using var first = await server.PostAsync("/api/v1/auth/prelogin", new { email = unknown });
        using var second = await server.PostAsync("/api/v1/auth/prelogin", new { email = unknown.ToUpperInvariant() });
        Assert.Equal(known.StatusCode, first.StatusCode);
        var a = await known.JsonAsync();
        var b = await first.JsonAsync();
        Assert.Equal(a.EnumerateObject().Select(p => p.Name + ":" + p.Value.ValueKind), b.EnumerateObject().Select(p => p.Name + ":" + p.Value.ValueKind));
        Assert.Equal(16, CryptoRandom.FromBase64Url(b.GetProperty("salt").GetString()!)!.Length);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(known.Content.Headers.ContentType, first.Content.Headers.ContentType);
    }

    [Fact]
    public async Task MagicLink_KnownAndUnknownAddress_ByteIdenticalResponses()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        using var known = await server.PostAsync("/api/v1/auth/magic-link", new { email = user.Email });
        using var unknown = await server.PostAsync("/api/v1/auth/magic-link", new { email = IdentityKit.NewEmail("nobody") });
        Assert.Equal(HttpStatusCode.Accepted, known.StatusCode);
        Assert.Equal(known.StatusCode, unknown.StatusCode);
        Assert.Equal(await known.Content.ReadAsByteArrayAsync(), await unknown.Content.ReadAsByteArrayAsync());
        Assert.Equal(
            known.Headers.Where(h => h.Key != "Date").Select(h => h.Key + "=" + string.Join(",", h.Value)),
            unknown.Headers.Where(h => h.Key != "Date").Select(h => h.Key + "=" + string.Join(",", h.Value)));
    }

    [Fact]
    public async Task MagicLink_UsedTwice_SecondIsRefused()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        using (await server.PostAsync("/api/v1/auth/magic-link", new { email = user.Email }))
        {
        }

        var token = server.LatestLinkToken(user.Email);
        using var first = await server.PostAsync("/api/v1/auth/magic-link/consume", new { token, tokenTransport = "body" });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var second = await server.PostAsync("/api/v1/auth/magic-link/consume", new { token, tokenTransport = "body" });
        await second.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-token");
    }

    [Fact]
    public async Task MagicLink_AfterTenMinutes_IsRefused()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        using (await server.PostAsync("/api/v1/auth/magic-link", new { email = user.Email }))
        {
        }

        server.Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        using var late = await server.PostAsync("/api/v1/auth/magic-link/consume", new { token = server.LatestLinkToken(user.Email) });
        await late.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-token");
    }

    [Fact]
    public async Task MagicLink_PerAddressLimit_Returns429()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:RateLimits:identity-magic-link-target:PermitLimit"] = "2");
        var email = IdentityKit.NewEmail();
        for (var i = 0; i < 2; i++)
        {
            using var ok = await server.PostAsync("/api/v1/auth/magic-link", new { email });
            Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        }

        using var limited = await server.PostAsync("/api/v1/auth/magic-link", new { email });
        await limited.ExpectProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited");
    }

    [Fact]
    public async Task Totp_CodeReused_IsRefused_BackupAndRecoveryCodesWorkOnce()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var (secret, backup) = await server.EnableTotpAsync(user);
        Assert.Equal(8, backup.Length);
        Assert.All(backup, c => Assert.Matches("^[0-9A-Za-z]{5}-[0-9A-Za-z]{11}$", c));
        var recovery = await server.RecoveryCodesAsync(user);
        Assert.Equal(10, recovery.Length);

        // The confirming code's step is used; move to the next step.
        server.Time.Advance(TimeSpan.FromSeconds(30));
        var code = Totp.Generate(secret, server.Time.GetUtcNow());
        using (var ok = await AnswerAsync(server, user, "totp", code))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var reused = await AnswerAsync(server, user, "totp", code))
        {
            await reused.ExpectProblemAsync(HttpStatusCode.Unauthorized, "invalid-code");
        }

        using (var ok = await AnswerAsync(server, user, "backup", backup[0]))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var reused = await AnswerAsync(server, user, "backup", backup[0]))
        {
            await reused.ExpectProblemAsync(HttpStatusCode.Unauthorized, "invalid-code");
        }

        using (var ok = await AnswerAsync(server, user, "recovery", recovery[0].ToLowerInvariant()))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // The recovery code turned TOTP off: sign-in is one step now, and the code is spent.
        var tokens = await server.LoginAsync(user.Email, user.AuthToken);
        using var status = await server.SendAsync(HttpMethod.Get, "/api/v1/account/2fa", bearer: tokens.AccessToken);
        var json = await status.JsonAsync();
        Assert.False(json.GetProperty("totpEnabled").GetBoolean());
        Assert.Equal(9, json.GetProperty("recoveryCodesRemaining").GetInt32());
    }

    [Fact]
    public async Task Totp_EnrolmentWithWrongCode_DoesNotEnable()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        using var start = await server.PostAsync("/api/v1/account/2fa/totp", null, user.AccessToken);
        var json = await start.JsonAsync();
        Assert.StartsWith("otpauth://totp/Veil:", json.GetProperty("otpauthUri").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("data:image/svg+xml;base64,", json.GetProperty("qrCodeSvg").GetString(), StringComparison.Ordinal);
        using var confirm = await server.PostAsync("/api/v1/account/2fa/totp/confirm", new { code = "000000" }, user.AccessToken);
        await confirm.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-code");
        using var login = await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = user.AuthToken, tokenTransport = "body" });
        Assert.False((await login.JsonAsync()).TryGetProperty("twoFactorRequired", out _));
    }

    [Fact]
    public async Task Refresh_RotatedTokenReused_RevokesTheWholeFamily()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var next = await server.RefreshAsync(user.RefreshToken);
        Assert.NotEqual(user.RefreshToken, next.RefreshToken);
        Assert.Equal(user.SessionId, next.SessionId);
        server.Time.Advance(TimeSpan.FromSeconds(6)); // past the race window, where a rotated token is a reuse

        using (var reuse = await server.PostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken }))
        {
            await reuse.ExpectProblemAsync(HttpStatusCode.Unauthorized, "refresh-token-reused");
        }

        using (var successor = await server.PostAsync("/api/v1/auth/refresh", new { refreshToken = next.RefreshToken }))
        {
            await successor.ExpectProblemAsync(HttpStatusCode.Unauthorized, "invalid-refresh-token");
        }

        using var access = await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: next.AccessToken);
        await access.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task CookieTransport_CookieAttributes_AndCsrfOriginRule()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        using var login = await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = user.AuthToken });
        Assert.Equal(JsonValueKind.Null, (await login.JsonAsync()).GetProperty("refreshToken").ValueKind);
        var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("veil_refresh=", cookie, StringComparison.Ordinal);
        foreach (var attribute in new[] { "path=/api/v1/auth", "secure", "samesite=strict", "httponly" })
        {
            Assert.Contains(attribute, cookie, StringComparison.OrdinalIgnoreCase);
        }

        var pair = cookie.Split(';')[0];
        using (var noOrigin = await server.SendAsync(HttpMethod.Post, "/api/v1/auth/refresh", configure: r => r.Headers.Add("Cookie", pair)))
        {
            await noOrigin.ExpectProblemAsync(HttpStatusCode.Forbidden, "csrf-origin-mismatch");
        }

        using (var evil = await server.SendAsync(HttpMethod.Post, "/api/v1/auth/refresh", configure: r => { r.Headers.Add("Cookie", pair); r.Headers.Add("Origin", "https://evil.test"); }))
        {
            await evil.ExpectProblemAsync(HttpStatusCode.Forbidden, "csrf-origin-mismatch");
        }

        using var good = await server.SendAsync(HttpMethod.Post, "/api/v1/auth/refresh", configure: r => { r.Headers.Add("Cookie", pair); r.Headers.Add("Origin", IdentityKit.Origin); });
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.NotEqual(pair, good.Headers.GetValues("Set-Cookie").Single().Split(';')[0]);
    }

    [Fact]
    public async Task StepUp_AfterWindow_Required_ThenFreshAuthAllows()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        server.Time.Advance(TimeSpan.FromMinutes(6));
        var refreshed = await server.RefreshAsync(user.RefreshToken);
        using (var stale = await server.PostAsync("/api/v1/account/api-keys", new { name = "k" }, refreshed.AccessToken))
        {
            await stale.ExpectProblemAsync(HttpStatusCode.Unauthorized, "step-up-required");
        }

        using (var wrong = await server.PostAsync("/api/v1/auth/step-up", new { authToken = IdentityKit.NewAuthToken() }, refreshed.AccessToken))
        {
            await wrong.ExpectProblemAsync(HttpStatusCode.Unauthorized, "invalid-credentials");
        }

        using var stepUp = await server.PostAsync("/api/v1/auth/step-up", new { authToken = user.AuthToken }, refreshed.AccessToken);
        var fresh = (await stepUp.JsonAsync()).GetProperty("accessToken").GetString();
        using var created = await server.PostAsync("/api/v1/account/api-keys", new { name = "k" }, fresh);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task RecoveryEmail_AfterStepUpWindow_IsRefusedUntilStepUp()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        server.Time.Advance(TimeSpan.FromMinutes(6));
        var refreshed = await server.RefreshAsync(user.RefreshToken);
        var outboxBefore = server.ReadOutbox().Count;

        using (var stale = await server.SendAsync(HttpMethod.Put, "/api/v1/account/recovery-email", new { recoveryEmail = "backup@example.org" }, refreshed.AccessToken))
        {
            await stale.ExpectProblemAsync(HttpStatusCode.Unauthorized, "step-up-required");
        }

        Assert.Equal(outboxBefore, server.ReadOutbox().Count);
        using var stepUp = await server.PostAsync("/api/v1/auth/step-up", new { authToken = user.AuthToken }, refreshed.AccessToken);
        var fresh = (await stepUp.JsonAsync()).GetProperty("accessToken").GetString();
        using var set = await server.SendAsync(HttpMethod.Put, "/api/v1/account/recovery-email", new { recoveryEmail = "backup@example.org" }, fresh);
        Assert.Equal(HttpStatusCode.Accepted, set.StatusCode);
    }

    [Fact]
    public async Task ApiKey_Works_CannotManageKeys_RevocationImmediate_InvalidKeyNeverFallsBack()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var key = await server.CreateApiKeyAsync(user);
        Assert.Matches("^ak_[0-9a-f]{32}$", key);
        using (var whoami = await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: key))
        {
            Assert.Equal("api-key", (await whoami.JsonAsync()).GetProperty("credential").GetString());
        }

        using (var create = await server.PostAsync("/api/v1/account/api-keys", new { name = "more" }, key))
        {
            await create.ExpectProblemAsync(HttpStatusCode.Forbidden, "api-key-not-allowed");
        }

        using var list = await server.SendAsync(HttpMethod.Get, "/api/v1/account/api-keys", bearer: user.AccessToken);
        var entry = (await list.JsonAsync()).EnumerateArray().Single();
        Assert.NotEqual(JsonValueKind.Null, entry.GetProperty("lastUsedAt").ValueKind);
        using (var delete = await server.SendAsync(HttpMethod.Delete, $"/api/v1/account/api-keys/{entry.GetProperty("id").GetGuid()}", bearer: key))
        {
            await delete.ExpectProblemAsync(HttpStatusCode.Forbidden, "api-key-not-allowed");
        }

        using (var revoke = await server.SendAsync(HttpMethod.Delete, $"/api/v1/account/api-keys/{entry.GetProperty("id").GetGuid()}", bearer: user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        using var after = await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: key,
            configure: r => r.Headers.Add("Cookie", "veil_refresh=" + user.RefreshToken));
        await after.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Lockout_AfterTenFailures_RefusesEvenTheRightPassword_MagicLinkEndsIt()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        for (var i = 0; i < 10; i++)
        {
            using var wrong = await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = IdentityKit.NewAuthToken() });
            await wrong.ExpectProblemAsync(HttpStatusCode.Unauthorized, "invalid-credentials");
        }

        using (var locked = await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = user.AuthToken }))
        {
            await locked.ExpectProblemAsync(HttpStatusCode.TooManyRequests, "sign-in-throttled");
            Assert.NotNull(locked.Headers.RetryAfter);
        }

        using (await server.PostAsync("/api/v1/auth/magic-link", new { email = user.Email }))
        {
        }

        using (var consume = await server.PostAsync("/api/v1/auth/magic-link/consume", new { token = server.LatestLinkToken(user.Email), tokenTransport = "body" }))
        {
            Assert.Equal(HttpStatusCode.OK, consume.StatusCode);
        }

        await server.LoginAsync(user.Email, user.AuthToken);
    }

    [Fact]
    public async Task Lockout_EndsAfterCoolDown()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:Identity:Lockout:MaxFailedAttempts"] = "3");
        var user = await server.RegisterUserAsync();
        for (var i = 0; i < 3; i++)
        {
            using (await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = IdentityKit.NewAuthToken() }))
            {
            }
        }

        using (var locked = await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = user.AuthToken }))
        {
            await locked.ExpectProblemAsync(HttpStatusCode.TooManyRequests, "sign-in-throttled");
        }

        server.Time.Advance(TimeSpan.FromMinutes(16));
        await server.LoginAsync(user.Email, user.AuthToken);
    }

    [Fact]
    public async Task Hashing_FloodBeyondTheBoundedQueue_ExcessGets503Quickly()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync(o =>
        {
            o.Settings["Veil:Identity:Hashing:MaxConcurrent"] = "1";
            o.Settings["Veil:Identity:Hashing:MaxQueued"] = "1";
            o.Settings["Veil:Identity:Hashing:MaxWait"] = "00:00:05";
        });
        var email = IdentityKit.NewEmail();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ =>
            server.PostAsync("/api/v1/auth/login", new { email, authToken = IdentityKit.NewAuthToken() })));
        var statuses = responses.Select(r => (int)r.StatusCode).ToList();
        foreach (var response in responses)
        {
            response.Dispose();
        }

        Assert.All(statuses, s => Assert.True(s is 401 or 503, $"status {s}"));
        Assert.Contains(503, statuses);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task PasswordChange_RevokesOtherSessions_NewPasswordWorks()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var other = await server.LoginAsync(user.Email, user.AuthToken, "other device");
        var newAuth = IdentityKit.NewAuthToken();
        using (var change = await server.PostAsync("/api/v1/account/password", new
        {
            currentAuthToken = user.AuthToken, newAuthToken = newAuth, newKdf = IdentityKit.DefaultKdf(), newProtectedUserKey = "v1.rewrapped",
        }, user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, change.StatusCode);
        }

        using (var otherCall = await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: other.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, otherCall.StatusCode);
        }

        using (var mine = await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        }

        using (var old = await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = user.AuthToken }))
        {
            await old.ExpectProblemAsync(HttpStatusCode.Unauthorized, "invalid-credentials");
        }

        var tokens = await server.LoginAsync(user.Email, newAuth);
        using var keys = await server.SendAsync(HttpMethod.Get, "/api/v1/account/keys", bearer: tokens.AccessToken);
        Assert.Equal("v1.rewrapped", (await keys.JsonAsync()).GetProperty("protectedUserKey").GetString());
    }

    [Fact]
    public async Task EmailChange_AppliesOnlyWhenTheNewAddressLinkIsOpened()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var newEmail = IdentityKit.NewEmail("moved");
        var newAuth = IdentityKit.NewAuthToken();
        using (var change = await server.PostAsync("/api/v1/account/email", new { newEmail, newAuthToken = newAuth, newKdf = IdentityKit.DefaultKdf(), newProtectedUserKey = "v1.moved" }, user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, change.StatusCode);
        }

        await server.LoginAsync(user.Email, user.AuthToken);
        using (var verify = await server.PostAsync("/api/v1/accounts/verify-email", new { token = server.LatestLinkToken(newEmail) }))
        {
            Assert.Equal("email-change", (await verify.JsonAsync()).GetProperty("purpose").GetString());
        }

        var tokens = await server.LoginAsync(newEmail, newAuth);
        Assert.Equal(user.AccountId, tokens.AccountId);
        using var old = await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = user.AuthToken });
        await old.ExpectProblemAsync(HttpStatusCode.Unauthorized, "invalid-credentials");
    }

    [Fact]
    public async Task RecoveryEmail_VerifiedByLink_ReceivesMagicLinks()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var recovery = IdentityKit.NewEmail("recovery");
        using (var set = await server.SendAsync(HttpMethod.Put, "/api/v1/account/recovery-email", new { recoveryEmail = recovery }, user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, set.StatusCode);
        }

        using (await server.PostAsync("/api/v1/accounts/verify-email", new { token = server.LatestLinkToken(recovery) }))
        {
        }

        using (await server.PostAsync("/api/v1/auth/magic-link", new { email = recovery }))
        {
        }

        using var consume = await server.PostAsync("/api/v1/auth/magic-link/consume", new { token = server.LatestLinkToken(recovery), tokenTransport = "body" });
        Assert.Equal(user.AccountId, IdentityKit.ParseTokens(await consume.JsonAsync()).AccountId);
    }

    [Fact]
    public async Task Sessions_ListWithoutIp_RevokeOne_RevokeOthers()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var second = await server.LoginAsync(user.Email, user.AuthToken, "phone");
        var third = await server.LoginAsync(user.Email, user.AuthToken, "tablet");
        using (var list = await server.SendAsync(HttpMethod.Get, "/api/v1/account/sessions", bearer: user.AccessToken))
        {
            var text = await list.Content.ReadAsStringAsync();
            Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal);
            Assert.Contains("phone", text, StringComparison.Ordinal);
            Assert.Equal(3, JsonDocument.Parse(text).RootElement.GetArrayLength());
        }

        using (var revoke = await server.SendAsync(HttpMethod.Delete, $"/api/v1/account/sessions/{second.SessionId}", bearer: user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        using (var revokedCall = await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: second.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, revokedCall.StatusCode);
        }

        using (var others = await server.PostAsync("/api/v1/account/sessions/revoke-others", null, user.AccessToken))
        {
            Assert.Equal(1, (await others.JsonAsync()).GetProperty("revoked").GetInt32());
        }

        using var thirdCall = await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: third.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, thirdCall.StatusCode);
    }

    [Fact]
    public async Task DeleteAndExport_RunEveryRegisteredModule_AndDeleteEveryRow()
    {
        var module = new RecordingModule();
        await using var server = await IdentityKit.StartIdentityServerAsync(o => o.ConfigureServices = services =>
        {
            services.AddSingleton<IAccountDataDeleter>(module);
            services.AddSingleton<IAccountDataExporter>(module);
        });
        var user = await server.RegisterUserAsync();
        await server.EnableTotpAsync(user);
        await server.RecoveryCodesAsync(user);
        await server.CreateApiKeyAsync(user);

        using (var export = await server.SendAsync(HttpMethod.Get, "/api/v1/account/export", bearer: user.AccessToken))
        {
            var json = await export.JsonAsync();
            Assert.Equal(user.Email, json.GetProperty("account").GetProperty("email").GetString());
            Assert.Equal("hello", json.GetProperty("modules").GetProperty("recording").GetProperty("note").GetString());
        }

        using (var delete = await server.SendAsync(HttpMethod.Delete, "/api/v1/account", bearer: user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        Assert.Equal([user.AccountId], module.Deleted);
        using (var login = await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = user.AuthToken }))
        {
            await login.ExpectProblemAsync(HttpStatusCode.Unauthorized, "invalid-credentials");
        }

        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Veil.Server.Platform.Persistence.VeilDbContext>();
        foreach (var table in IdentityTables)
        {
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
            Assert.Equal(0L, Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
            await connection.CloseAsync();
        }
    }

    private static readonly string[] IdentityTables = ["Accounts", "IdentitySessions", "IdentityRefreshTokens", "IdentityBackupCodes", "IdentityRecoveryCodes", "IdentityApiKeys", "IdentityTwoFactorChallenges"];

    private static string AuthOf(ClientKeys keys)
    {
        using var lease = keys.AuthenticationToken.Acquire();
        return CryptoRandom.ToBase64Url(lease.Span);
    }

    private static async Task<HttpResponseMessage> AnswerAsync(VeilTestServer server, TestUser user, string method, string code)
    {
        using var login = await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = user.AuthToken, tokenTransport = "body" });
        var challenge = await login.JsonAsync();
        Assert.True(challenge.GetProperty("twoFactorRequired").GetBoolean());
        return await server.PostAsync("/api/v1/auth/login/2fa", new { challengeToken = challenge.GetProperty("challengeToken").GetString(), method, code });
    }

    private sealed class RecordingModule : IAccountDataDeleter, IAccountDataExporter
    {
        public List<Guid> Deleted { get; } = [];

        public string Module => "recording";

        public Task DeleteAccountDataAsync(Guid accountId, CancellationToken cancellationToken)
        {
            Deleted.Add(accountId);
            return Task.CompletedTask;
        }

        public Task<object?> ExportAccountDataAsync(Guid accountId, CancellationToken cancellationToken) => Task.FromResult<object?>(new { note = "hello" });
    }
}
