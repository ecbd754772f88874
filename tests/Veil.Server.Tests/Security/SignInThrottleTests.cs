// Issue 14, finding 4: after ten wrong passwords an existing address answered 429 account-locked while an unknown
// one kept answering 401 (an oracle for which addresses have accounts), and anyone could lock anyone out.
// Issue 15, point 7: a magic link opened on an account with 2FA was used up before the code was asked for.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Veil.Crypto.Otp;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Security;

public sealed class SignInThrottleTests
{
    private static Task<VeilTestServer> StartAsync(int maxFailures = 10) =>
        IdentityKit.StartIdentityServerAsync(o => o.Settings["Veil:Identity:Lockout:MaxFailedAttempts"] = maxFailures.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<(HttpStatusCode Status, string Body, string? RetryAfter)> LoginAsync(HttpClient client, string email, string authToken)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { email, authToken, tokenTransport = "body" });
        return (response.StatusCode, WithoutTraceId(await response.Content.ReadAsStringAsync()), response.Headers.RetryAfter?.ToString());
    }

    // Problem details carry a per-request trace id; everything else must be equal.
    private static string WithoutTraceId(string body) =>
        string.Join(",", JsonDocument.Parse(body).RootElement.EnumerateObject().Where(p => p.Name != "traceId").Select(p => p.Name + "=" + p.Value.GetRawText()));

    [Fact]
    public async Task RepeatedWrongPasswords_ExistingAndUnknownAddress_GetTheSameAnswerAtEveryStep()
    {
        await using var server = await StartAsync();
        var user = await server.RegisterUserAsync();
        var unknown = IdentityKit.NewEmail("nobody");

        for (var i = 0; i < 13; i++)
        {
            var known = await LoginAsync(server.Client, user.Email, IdentityKit.NewAuthToken());
            var other = await LoginAsync(server.Client, unknown, IdentityKit.NewAuthToken());
            Assert.Equal(known.Status, other.Status);
            Assert.Equal(known.Body, other.Body);
            Assert.Equal(known.RetryAfter, other.RetryAfter);
            Assert.Equal(i < 10 ? HttpStatusCode.Unauthorized : HttpStatusCode.TooManyRequests, known.Status);
        }

        // Even the right password is refused from the throttled source, exactly as any password for the unknown address.
        var right = await LoginAsync(server.Client, user.Email, user.AuthToken);
        Assert.Equal(HttpStatusCode.TooManyRequests, right.Status);
        Assert.Contains("code=\"sign-in-throttled\"", right.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("account-locked", right.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AttackerThrottled_OwnerStillSignsInFromElsewhereAndByMagicLink_AndIsToldByMail()
    {
        await using var server = await StartAsync();
        var user = await server.RegisterUserAsync();
        using var attacker = SourceAddress.Client(server, "127.0.0.2");
        var mailsBefore = server.MailCount(user.Email);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(attacker, user.Email, IdentityKit.NewAuthToken())).Status);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await LoginAsync(attacker, user.Email, user.AuthToken)).Status);

        // The owner's own address is not throttled.
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(server.Client, user.Email, user.AuthToken)).Status);

        // The owner was told, once.
        var notices = server.ReadOutbox().Where(m => m.Headers["To"].Contains(user.Email, StringComparison.OrdinalIgnoreCase) && m.Headers["Subject"].Contains("Failed sign-ins", StringComparison.Ordinal)).ToList();
        Assert.Single(notices);
        Assert.Equal(mailsBefore + 1, server.MailCount(user.Email));

        // And a magic link works even from the throttled source, and ends the throttling there.
        using (await attacker.PostAsJsonAsync("/api/v1/auth/magic-link", new { email = user.Email }))
        {
        }

        using (var consume = await attacker.PostAsJsonAsync("/api/v1/auth/magic-link/consume", new { token = server.LatestLinkToken(user.Email), tokenTransport = "body" }))
        {
            Assert.Equal(HttpStatusCode.OK, consume.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(attacker, user.Email, user.AuthToken)).Status);
    }

    [Fact]
    public async Task Throttle_EachFurtherLockoutOfTheSamePairLastsTwiceAsLong()
    {
        await using var server = await StartAsync(maxFailures: 3);
        var email = IdentityKit.NewEmail("nobody");

        for (var i = 0; i < 3; i++)
        {
            await LoginAsync(server.Client, email, IdentityKit.NewAuthToken());
        }

        var first = await LoginAsync(server.Client, email, IdentityKit.NewAuthToken());
        Assert.Equal(HttpStatusCode.TooManyRequests, first.Status);
        Assert.Equal("900", first.RetryAfter);

        server.Time.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server.Client, email, IdentityKit.NewAuthToken())).Status);
        }

        var second = await LoginAsync(server.Client, email, IdentityKit.NewAuthToken());
        Assert.Equal(HttpStatusCode.TooManyRequests, second.Status);
        Assert.Equal("1800", second.RetryAfter);
    }

    [Fact]
    public async Task MagicLink_AccountWithTwoFactor_LinkStaysGoodUntilTheSecondFactorCompletes()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        var (secret, _) = await server.EnableTotpAsync(user);
        using (await server.PostAsync("/api/v1/auth/magic-link", new { email = user.Email }))
        {
        }

        var link = server.LatestLinkToken(user.Email);

        // Opened once (a client that has no code yet gives up here) and again: the same challenge both times.
        string first, second;
        using (var opened = await server.PostAsync("/api/v1/auth/magic-link/consume", new { token = link, tokenTransport = "body" }))
        {
            Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
            first = (await opened.JsonAsync()).GetProperty("challengeToken").GetString()!;
        }

        using (var again = await server.PostAsync("/api/v1/auth/magic-link/consume", new { token = link, tokenTransport = "body" }))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            second = (await again.JsonAsync()).GetProperty("challengeToken").GetString()!;
        }

        Assert.Equal(first, second);
        server.Time.Advance(TimeSpan.FromSeconds(30)); // the enrolment used this time step's code
        using (var code = await server.PostAsync("/api/v1/auth/login/2fa", new { challengeToken = second, method = "totp", code = Totp.Generate(secret, server.Time.GetUtcNow()) }))
        {
            Assert.Equal(HttpStatusCode.OK, code.StatusCode);
            Assert.False(string.IsNullOrEmpty((await code.JsonAsync()).GetProperty("accessToken").GetString()));
        }

        // Used up now that the sign-in completed.
        using var late = await server.PostAsync("/api/v1/auth/magic-link/consume", new { token = link, tokenTransport = "body" });
        await late.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-token");
    }

    [Fact]
    public async Task MagicLink_TwoFactorAttemptsRunOut_ReopeningTheLinkGivesNoMore()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var user = await server.RegisterUserAsync();
        await server.EnableTotpAsync(user);
        using (await server.PostAsync("/api/v1/auth/magic-link", new { email = user.Email }))
        {
        }

        var link = server.LatestLinkToken(user.Email);
        for (var i = 0; i < 5; i++)
        {
            using var opened = await server.PostAsync("/api/v1/auth/magic-link/consume", new { token = link, tokenTransport = "body" });
            Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
            var challenge = (await opened.JsonAsync()).GetProperty("challengeToken").GetString();
            using var wrong = await server.PostAsync("/api/v1/auth/login/2fa", new { challengeToken = challenge, method = "totp", code = "000000" });
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using var reopened = await server.PostAsync("/api/v1/auth/magic-link/consume", new { token = link, tokenTransport = "body" });
        await reopened.ExpectProblemAsync(HttpStatusCode.BadRequest, "invalid-token");
    }
}
