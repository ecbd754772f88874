// The claim link's defences: five wrong codes lock it for good, a used or expired link is refused,
// a forged link (of any shape) is link-invalid through the same HMAC-and-lookup path as a genuine one,
// and a rehearsal hands the owner a code and nothing else.
using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Vault;

public sealed class VaultClaimFixture : IAsyncLifetime
{
    public VeilTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await VaultKit.StartVaultServerAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>A released vault with one recipient: the recipient's address and claim token.</summary>
    public async Task<(TestUser Owner, TestVault Vault, string Email, string Token)> ReleasedAsync()
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        await Server.PutItemAsync(owner, vault, "secret title", "secret notes");
        var email = IdentityKit.NewEmail("recipient");
        await Server.AddRecipientAsync(owner, vault, email);
        await Server.ArmAsync(owner, vault, TimeSpan.FromDays(1), TimeSpan.FromHours(1));
        Server.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1));
        await Server.RunSchedulerAsync();
        return (owner, vault, email, VaultKit.ClaimToken(Assert.Single(Server.MailTo(email, "left to you"))));
    }
}

public sealed class VaultClaimTests(VaultClaimFixture fixture) : IClassFixture<VaultClaimFixture>
{
    private VeilTestServer Server => fixture.Server;

    [Fact]
    public async Task FiveWrongCodes_LockTheLinkForGood_EvenForTheRightCode()
    {
        var (_, _, email, token) = await fixture.ReleasedAsync();
        var code = await Server.RequestCodeAsync(token, email);
        var wrong = code == "000000" ? "000001" : "000000";
        for (var left = 4; left >= 1; left--)
        {
            using var attempt = await Server.ClaimAsync(token, wrong);
            await attempt.ExpectProblemAsync(HttpStatusCode.BadRequest, "wrong-code");
            Assert.Equal(left, (await attempt.JsonAsync()).GetProperty("attemptsLeft").GetInt32());
        }

        using (var fifth = await Server.ClaimAsync(token, wrong))
        {
            await fifth.ExpectProblemAsync(HttpStatusCode.Gone, "link-locked");
        }

        using (var right = await Server.ClaimAsync(token, code))
        {
            await right.ExpectProblemAsync(HttpStatusCode.Gone, "link-locked");
        }

        using var newCode = await Server.PostAsync("/api/v1/vault/claim/code", new { token });
        await newCode.ExpectProblemAsync(HttpStatusCode.Gone, "link-locked");
    }

    [Fact]
    public async Task ParallelWrongCodes_NeverGetMoreThanFiveAttempts()
    {
        var (_, _, email, token) = await fixture.ReleasedAsync();
        var code = await Server.RequestCodeAsync(token, email);
        var guesses = Enumerable.Range(0, 12).Select(i => (code == $"{i:D6}" ? 999_999 - i : i).ToString("D6", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var responses = await Task.WhenAll(guesses.Select(g => Server.ClaimAsync(token, g)));
        Assert.Equal(4, responses.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        Assert.Equal(8, responses.Count(r => r.StatusCode == HttpStatusCode.Gone));
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }

    [Fact]
    public async Task ExpiredLink_IsRefused()
    {
        var (_, _, email, token) = await fixture.ReleasedAsync();
        var code = await Server.RequestCodeAsync(token, email);
        Server.Time.Advance(TimeSpan.FromHours(72));
        using var claim = await Server.ClaimAsync(token, code);
        await claim.ExpectProblemAsync(HttpStatusCode.Gone, "link-expired");
        using var again = await Server.PostAsync("/api/v1/vault/claim/code", new { token });
        await again.ExpectProblemAsync(HttpStatusCode.Gone, "link-expired");
    }

    [Fact]
    public async Task ExpiredCode_IsRefused_WithoutCostingAnAttempt()
    {
        var (_, _, email, token) = await fixture.ReleasedAsync();
        using (var noCode = await Server.ClaimAsync(token, "123456"))
        {
            await noCode.ExpectProblemAsync(HttpStatusCode.BadRequest, "code-expired");
        }

        var code = await Server.RequestCodeAsync(token, email);
        Server.Time.Advance(TimeSpan.FromMinutes(15));
        using (var late = await Server.ClaimAsync(token, code))
        {
            await late.ExpectProblemAsync(HttpStatusCode.BadRequest, "code-expired");
        }

        var fresh = await Server.RequestCodeAsync(token, email);
        using var claim = await Server.ClaimAsync(token, fresh);
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
    }

    public static TheoryData<string> ForgeryKinds => new() { "flipped-mac", "other-nonce", "other-recipient", "truncated", "padded", "not-base64", "empty", "zeros" };

    [Theory]
    [MemberData(nameof(ForgeryKinds))]
    public async Task ForgedLink_IsLinkInvalid_ForCodeAndClaim(string kind)
    {
        var (_, _, email, token) = await fixture.ReleasedAsync();
        var bytes = Base64Url.DecodeFromChars(token);
        string forged = kind switch
        {
            "flipped-mac" => Flip(bytes, 63),
            "other-nonce" => Flip(bytes, 20),
            "other-recipient" => Flip(bytes, 3),
            "truncated" => token[..85],
            "padded" => token + "A",
            "not-base64" => token[..85] + "!",
            "empty" => "",
            _ => Base64Url.EncodeToString(new byte[64]),
        };
        using (var code = await Server.PostAsync("/api/v1/vault/claim/code", new { token = forged }))
        {
            await code.ExpectProblemAsync(HttpStatusCode.NotFound, "link-invalid");
        }

        using (var claim = await Server.ClaimAsync(forged, "123456"))
        {
            await claim.ExpectProblemAsync(HttpStatusCode.NotFound, "link-invalid");
        }

        Assert.Empty(Server.MailTo(email, "code"));

        // The genuine link is unharmed by the forgeries.
        var real = await Server.RequestCodeAsync(token, email);
        using var ok = await Server.ClaimAsync(token, real);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task GenuineMacForUnknownLink_IsLinkInvalid()
    {
        // A token the server itself signed but never stored (as after the owner deleted the vault).
        var secrets = (Veil.Server.Vault.VaultSecrets)Server.Services.GetService(typeof(Veil.Server.Vault.VaultSecrets))!;
        var (token, _) = secrets.NewLinkToken(VaultKit.NewId());
        using var claim = await Server.ClaimAsync(token, "123456");
        await claim.ExpectProblemAsync(HttpStatusCode.NotFound, "link-invalid");
    }

    [Fact]
    public async Task RemovedRecipient_LinkIsInvalid_OtherRecipientUnaffected()
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        var (bob, carol) = (IdentityKit.NewEmail("bob"), IdentityKit.NewEmail("carol"));
        var (bobId, _) = await Server.AddRecipientAsync(owner, vault, bob);
        await Server.AddRecipientAsync(owner, vault, carol);
        await Server.ArmAsync(owner, vault, TimeSpan.FromDays(1), TimeSpan.FromHours(1));
        Server.Time.Advance(TimeSpan.FromDays(2));
        await Server.RunSchedulerAsync();
        var bobToken = VaultKit.ClaimToken(Assert.Single(Server.MailTo(bob, "left to you")));
        var carolToken = VaultKit.ClaimToken(Assert.Single(Server.MailTo(carol, "left to you")));
        using (var remove = await Server.SendAsync(HttpMethod.Delete, $"{VaultKit.Base}/{vault.Id}/recipients/{bobId}", bearer: owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        }

        using (var bobCode = await Server.PostAsync("/api/v1/vault/claim/code", new { token = bobToken }))
        {
            await bobCode.ExpectProblemAsync(HttpStatusCode.NotFound, "link-invalid");
        }

        var code = await Server.RequestCodeAsync(carolToken, carol);
        using var claim = await Server.ClaimAsync(carolToken, code);
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
    }

    [Fact]
    public async Task Rehearsal_CodeGoesToTheOwnerOnly_AndTheClaimHoldsNoKeyMaterial()
    {
        var owner = await Server.RegisterOwnerAsync();
        var vault = await Server.CreateVaultAsync(owner);
        await Server.PutItemAsync(owner, vault, "title", "notes");
        var alice = IdentityKit.NewEmail("alice");
        await Server.AddRecipientAsync(owner, vault, alice);
        await Server.ArmAsync(owner, vault, TimeSpan.FromDays(7), TimeSpan.FromDays(1));
        using (var rehearse = await Server.PostAsync($"{VaultKit.Base}/{vault.Id}/rehearse", null, owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, rehearse.StatusCode);
        }

        var token = VaultKit.ClaimToken(Assert.Single(Server.MailTo(owner.Email, "rehearsal of your vault")));
        var code = await Server.RequestCodeAsync(token, owner.Email);
        Assert.Empty(Server.MailTo(alice));
        using var claim = await Server.ClaimAsync(token, code);
        var text = await claim.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(text).RootElement;
        Assert.True(body.GetProperty("rehearsal").GetBoolean());
        Assert.Equal(1, body.GetProperty("recipients").GetInt32());
        foreach (var absent in new[] { "escrow", "deliveryKey", "vault", "items", "downloadToken" })
        {
            Assert.False(body.TryGetProperty(absent, out _), absent);
        }

        // Nothing released: the switch is still armed, the recipient still waiting and unmailed.
        Assert.Equal("armed", (await Server.SwitchAsync(owner, vault)).GetProperty("state").GetString());
        using var recipients = await Server.SendAsync(HttpMethod.Get, $"{VaultKit.Base}/{vault.Id}/recipients", bearer: owner.AccessToken);
        Assert.Equal("waiting", (await recipients.JsonAsync()).GetProperty("recipients")[0].GetProperty("state").GetString());
        Assert.Empty(Server.MailTo(alice));
        using var again = await Server.ClaimAsync(token, code);
        await again.ExpectProblemAsync(HttpStatusCode.Gone, "link-used");
    }

    [Fact]
    public async Task DownloadToken_Expires_AndReachesOnlyItsOwnVault()
    {
        var (owner, vault, email, token) = await fixture.ReleasedAsync();
        var other = await Server.CreateVaultAsync(owner);
        var otherItem = await Server.PutItemAsync(owner, other, "t", "n");
        var otherFile = VaultKit.NewId();
        using (await Server.PutFileAsync(owner, other, otherItem, otherFile, RandomNumberGenerator.GetBytes(100)))
        {
        }

        var code = await Server.RequestCodeAsync(token, email);
        using var claim = await Server.ClaimAsync(token, code);
        var download = (await claim.JsonAsync()).GetProperty("downloadToken").GetString();
        using (var foreign = await GetClaimFileAsync(otherFile, download))
        {
            await foreign.ExpectProblemAsync(HttpStatusCode.NotFound, "file-not-found");
        }

        Server.Time.Advance(TimeSpan.FromHours(1));
        using var late = await GetClaimFileAsync(otherFile, download);
        await late.ExpectProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        _ = vault;
    }

    [Fact]
    public async Task CodeRequests_ArePerLinkLimited_AndOpeningTheLinkPageChangesNothing()
    {
        var (_, _, email, token) = await fixture.ReleasedAsync();
        for (var i = 0; i < 5; i++)
        {
            await Server.RequestCodeAsync(token, email);
        }

        using (var sixth = await Server.PostAsync("/api/v1/vault/claim/code", new { token }))
        {
            await sixth.ExpectProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited");
            Assert.NotNull(sixth.Headers.RetryAfter);
        }

        Assert.Equal(5, Server.MailTo(email, "code").Count);

        // What a browser gets for the link: the web app's page (the claim runs in the page), and the link still works afterwards.
        using var page = await Server.Client.GetAsync(new Uri($"/vault/claim/{token}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<div id=\"app\">", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Server.Time.Advance(TimeSpan.FromHours(1));
        var code = await Server.RequestCodeAsync(token, email);
        using var claim = await Server.ClaimAsync(token, code);
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
    }

    private Task<HttpResponseMessage> GetClaimFileAsync(string fileId, string? bearer) =>
        Server.SendAsync(HttpMethod.Get, $"/api/v1/vault/claim/files/{fileId}", bearer: bearer);

    private static string Flip(byte[] bytes, int index)
    {
        var copy = bytes.ToArray();
        copy[index] ^= 0x01;
        return Base64Url.EncodeToString(copy);
    }
}
