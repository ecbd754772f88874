// The zero-knowledge audit for Identity: run every flow with canary values, then scan the SQLite
// file and its WAL (or a pg_dump) and every captured log line. Addresses, tokens, the TOTP secret,
// backup and recovery codes and API keys must not appear in any form the server stores or logs.
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Veil.Crypto.Otp;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Identity;

public sealed class IdentityCanaryAuditTests
{
    [Fact]
    public async Task AfterEveryFlow_StorageAndLogs_HoldNoEmailTokenSecretOrCode()
    {
        await using var server = await IdentityKit.StartIdentityServerAsync();
        var canaries = new List<string>();
        var user = await server.RegisterUserAsync(IdentityKit.NewEmail("canary"));
        canaries.AddRange([user.Email, user.AuthToken, user.RefreshToken]);

        var (secret, backup) = await server.EnableTotpAsync(user);
        canaries.Add(Base32.Encode(secret));
        canaries.AddRange(backup);
        var recovery = await server.RecoveryCodesAsync(user);
        canaries.AddRange(recovery);
        var apiKey = await server.CreateApiKeyAsync(user);
        canaries.Add(apiKey);
        using (await server.SendAsync(HttpMethod.Get, "/api/v1/account", bearer: apiKey))
        {
        }

        var recoveryEmail = IdentityKit.NewEmail("canary-recovery");
        canaries.Add(recoveryEmail);
        using (await server.SendAsync(HttpMethod.Put, "/api/v1/account/recovery-email", new { recoveryEmail }, user.AccessToken))
        {
        }

        var recoveryLink = server.LatestLinkToken(recoveryEmail);
        canaries.Add(recoveryLink);
        using (await server.PostAsync("/api/v1/accounts/verify-email", new { token = recoveryLink }))
        {
        }

        // Sign-in with 2FA, magic link, a failed password, a refresh, an unknown address.
        server.Time.Advance(TimeSpan.FromSeconds(30));
        using (var login = await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = user.AuthToken, tokenTransport = "body" }))
        {
            var challenge = (await login.JsonAsync()).GetProperty("challengeToken").GetString()!;
            canaries.Add(challenge);
            var code = Totp.Generate(secret, server.Time.GetUtcNow());
            using var answer = await server.PostAsync("/api/v1/auth/login/2fa", new { challengeToken = challenge, method = "totp", code });
            var tokens = IdentityKit.ParseTokens(await answer.JsonAsync());
            canaries.Add(tokens.RefreshToken!);
            var next = await server.RefreshAsync(tokens.RefreshToken!);
            canaries.Add(next.RefreshToken!);
        }

        using (await server.PostAsync("/api/v1/auth/magic-link", new { email = user.Email }))
        {
        }

        var magic = server.LatestLinkToken(user.Email);
        canaries.Add(magic);
        using (await server.PostAsync("/api/v1/auth/magic-link/consume", new { token = magic }))
        {
        }

        var wrong = IdentityKit.NewAuthToken();
        canaries.Add(wrong);
        using (await server.PostAsync("/api/v1/auth/login", new { email = user.Email, authToken = wrong }))
        {
        }

        var unknown = IdentityKit.NewEmail("canary-unknown");
        canaries.Add(unknown);
        using (await server.PostAsync("/api/v1/auth/prelogin", new { email = unknown }))
        {
        }

        using (await server.PostAsync("/api/v1/auth/magic-link", new { email = unknown }))
        {
        }

        var second = await server.RegisterUserAsync(IdentityKit.NewEmail("canary-second"));
        canaries.AddRange([second.Email, second.AuthToken, second.RefreshToken]);
        var newEmail = IdentityKit.NewEmail("canary-moved");
        canaries.Add(newEmail);
        using (await server.PostAsync("/api/v1/account/email", new { newEmail, newAuthToken = IdentityKit.NewAuthToken(), newKdf = IdentityKit.DefaultKdf(), newProtectedUserKey = "v1.k" }, second.AccessToken))
        {
        }

        var stored = await StoredData.ReadAsync(server);
        var logs = server.Logs.AllText;
        foreach (var canary in canaries)
        {
            foreach (var form in Forms(canary))
            {
                Assert.False(stored.Contains(form, StringComparison.OrdinalIgnoreCase), $"stored data contains a canary ({canaries.IndexOf(canary)})");
                Assert.False(logs.Contains(form, StringComparison.OrdinalIgnoreCase), $"logs contain a canary ({canaries.IndexOf(canary)})");
            }
        }

        Assert.Contains("Sign-in failed", logs, StringComparison.Ordinal);
    }

    // The canary as text, and the decoded bytes of a base64url token as hex (a column might hold raw bytes).
    private static IEnumerable<string> Forms(string canary)
    {
        yield return canary;
        if (canary.Length == 43 && Veil.Crypto.Primitives.CryptoRandom.FromBase64Url(canary) is { } raw)
        {
            yield return Encoding.Latin1.GetString(raw);
            yield return Convert.ToHexString(raw);
        }
    }
}
