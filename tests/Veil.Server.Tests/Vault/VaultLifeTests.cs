// The whole life of a vault with an injected clock and explicit scheduler runs: check-ins reset the
// deadline, reminders go out at the deadline, half-way through grace and 24 h before release, the
// vault is released, and a recipient with the link and the mailed code reads exactly what the owner stored.
using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Vault;

public sealed class VaultLifeTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromDays(2);
    private static readonly TimeSpan Grace = TimeSpan.FromDays(3);

    [Fact]
    public async Task WholeLife_CheckInsRemindersRelease_RecipientReadsExactlyWhatTheOwnerStored()
    {
        await using var server = await VaultKit.StartVaultServerAsync();
        var owner = await server.RegisterOwnerAsync();
        var vault = await server.CreateVaultAsync(owner, "Family");
        var itemId = await server.PutItemAsync(owner, vault, "Bank", "PIN is under the plant", ("IBAN", "DE00 1234"), ("password", "correct horse"));
        var fileId = VaultKit.NewId();
        var fileContent = RandomNumberGenerator.GetBytes(70_000);
        using (var upload = await server.PutFileAsync(owner, vault, itemId, fileId, fileContent))
        {
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }

        var alice = IdentityKit.NewEmail("alice");
        var (aliceId, _) = await server.AddRecipientAsync(owner, vault, alice);
        var start = server.Time.GetUtcNow();
        var armed = await server.ArmAsync(owner, vault, Interval, Grace);
        Assert.Equal("armed", armed.GetProperty("state").GetString());
        Assert.Equal(start + Interval, armed.GetProperty("deadline").GetDateTimeOffset());
        Assert.Equal(start + Interval + Grace, armed.GetProperty("releaseAt").GetDateTimeOffset());

        // A check-in a day later moves the deadline; the scheduler has nothing to do.
        server.Time.Advance(TimeSpan.FromDays(1));
        using (var checkin = await server.PostAsync($"{VaultKit.Base}/{vault.Id}/switch/checkin", null, owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, checkin.StatusCode);
            Assert.Equal(server.Time.GetUtcNow() + Interval, (await checkin.JsonAsync()).GetProperty("deadline").GetDateTimeOffset());
        }

        await server.RunSchedulerAsync();
        Assert.Empty(server.MailTo(owner.Email, "check in"));

        // Just before the deadline: nothing. At the deadline: the first reminder with a check-in link.
        server.Time.Advance(Interval - TimeSpan.FromSeconds(1));
        await server.RunSchedulerAsync();
        Assert.Empty(server.MailTo(owner.Email, "check in"));
        server.Time.Advance(TimeSpan.FromSeconds(1));
        await server.RunSchedulerAsync();
        var first = Assert.Single(server.MailTo(owner.Email, "check in"));
        Assert.Contains("deadline has passed", first.TextBody, StringComparison.Ordinal);
        var status = await server.SwitchAsync(owner, vault);
        Assert.Equal("grace", status.GetProperty("state").GetString());
        Assert.Equal("deadline passed", status.GetProperty("stage").GetString());

        // The link: a GET shows a button and changes nothing (scanners prefetch), the POST checks in.
        var link = VaultKit.CheckInToken(first);
        using (var page = await server.Client.GetAsync(new Uri($"/vault/checkin/{link}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<button", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal("grace", (await server.SwitchAsync(owner, vault)).GetProperty("state").GetString());
        using (var press = await server.Client.PostAsync(new Uri($"/vault/checkin/{link}", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, press.StatusCode);
            Assert.Contains("Checked in", await press.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        status = await server.SwitchAsync(owner, vault);
        Assert.Equal("armed", status.GetProperty("state").GetString());
        Assert.Equal(server.Time.GetUtcNow() + Interval, status.GetProperty("deadline").GetDateTimeOffset());

        // The same link again: out of date (a new generation started with the check-in).
        using (var again = await server.Client.PostAsync(new Uri($"/vault/checkin/{link}", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Gone, again.StatusCode);
        }

        // Silence from now on: reminders at the deadline, half-way through grace, 24 h before release.
        var deadline = server.Time.GetUtcNow() + Interval;
        server.Time.Advance(Interval);
        await server.RunSchedulerAsync();
        Assert.Equal(2, server.MailTo(owner.Email, "check in").Count);
        server.Time.Advance(Grace / 2 - TimeSpan.FromSeconds(1));
        await server.RunSchedulerAsync();
        Assert.Equal(2, server.MailTo(owner.Email, "check in").Count);
        server.Time.Advance(TimeSpan.FromSeconds(1));
        await server.RunSchedulerAsync();
        Assert.Equal(3, server.MailTo(owner.Email, "check in").Count);
        Assert.Equal("half-way through grace", (await server.SwitchAsync(owner, vault)).GetProperty("stage").GetString());
        server.Time.Advance(deadline + Grace - TimeSpan.FromHours(24) - server.Time.GetUtcNow());
        await server.RunSchedulerAsync();
        var reminders = server.MailTo(owner.Email, "check in");
        Assert.Equal(4, reminders.Count);
        Assert.Contains(reminders, m => m.TextBody.Contains("within 24 hours", StringComparison.Ordinal));
        Assert.Empty(server.MailTo(alice));

        // Release: the recipient gets a link, the owner a notice.
        server.Time.Advance(TimeSpan.FromHours(24));
        await server.RunSchedulerAsync();
        Assert.Equal("released", (await server.SwitchAsync(owner, vault)).GetProperty("state").GetString());
        Assert.Single(server.MailTo(owner.Email, "was released"));
        var token = VaultKit.ClaimToken(Assert.Single(server.MailTo(alice, "left to you")));

        // The claim with the emailed code returns the escrow, the delivery key and the ciphertexts.
        var code = await server.RequestCodeAsync(token, alice);
        using var claim = await server.ClaimAsync(token, code);
        var text = await claim.Content.ReadAsStringAsync();
        Assert.True(claim.StatusCode == HttpStatusCode.OK, text);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.False(body.GetProperty("rehearsal").GetBoolean());
        Assert.Equal(aliceId, body.GetProperty("recipientId").GetString());
        var deliveryKey = Base64Url.DecodeFromChars(body.GetProperty("deliveryKey").GetString());
        var vaultKey = VaultKit.Open(deliveryKey, body.GetProperty("escrow").GetString()!, $"veil/v1/vault-escrow|{vault.Id}|{aliceId}");
        Assert.Equal(vault.VaultKey, vaultKey);
        var claimed = body.GetProperty("vault");
        Assert.Equal("Family", VaultKit.OpenField(vaultKey!, vault.Id, "", "name", claimed.GetProperty("name").GetString()!));
        var item = Assert.Single(claimed.GetProperty("items").EnumerateArray().ToList());
        Assert.Equal("Bank", VaultKit.OpenField(vaultKey!, vault.Id, itemId, "title", item.GetProperty("title").GetString()!));
        Assert.Equal("PIN is under the plant", VaultKit.OpenField(vaultKey!, vault.Id, itemId, "notes", item.GetProperty("notes").GetString()!));
        var fields = item.GetProperty("fields").EnumerateArray().ToList();
        Assert.Equal("correct horse", VaultKit.OpenField(vaultKey!, vault.Id, itemId, "fields/1/value", fields[1].GetProperty("value").GetString()!));
        var file = Assert.Single(item.GetProperty("files").EnumerateArray().ToList());
        Assert.Equal("photo.jpg", VaultKit.OpenField(vaultKey!, vault.Id, itemId, $"files/{fileId}/name", file.GetProperty("name").GetString()!));

        // Files with the download token: the exact ciphertext the owner uploaded.
        using (var download = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/v1/vault/claim/files/{fileId}", UriKind.Relative)))
        {
            download.Headers.Authorization = new("Bearer", body.GetProperty("downloadToken").GetString());
            using var response = await server.Client.SendAsync(download);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(fileContent, await response.Content.ReadAsByteArrayAsync());
        }

        // Single use, owner told, recipient marked claimed.
        using (var second = await server.ClaimAsync(token, code))
        {
            await second.ExpectProblemAsync(HttpStatusCode.Gone, "link-used");
        }

        Assert.Single(server.MailTo(owner.Email, "opened your vault"));
        using var recipients = await server.SendAsync(HttpMethod.Get, $"{VaultKit.Base}/{vault.Id}/recipients", bearer: owner.AccessToken);
        Assert.Equal("claimed", (await recipients.JsonAsync()).GetProperty("recipients")[0].GetProperty("state").GetString());
    }

    [Fact]
    public async Task Scheduler_AfterDowntime_SendsOnlyTheLatestDueReminder()
    {
        await using var server = await VaultKit.StartVaultServerAsync();
        var owner = await server.RegisterOwnerAsync();
        var vault = await server.CreateVaultAsync(owner);
        await server.ArmAsync(owner, vault, Interval, Grace);

        // The server was down across the deadline and half-way through grace: one reminder, not two.
        server.Time.Advance(Interval + Grace / 2 + TimeSpan.FromMinutes(1));
        await server.RunSchedulerAsync();
        await server.RunSchedulerAsync();
        var mail = Assert.Single(server.MailTo(owner.Email, "check in"));
        Assert.Contains("half-way", mail.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PausedSwitch_NeverReleases_AndResumeRearmsFromNow()
    {
        await using var server = await VaultKit.StartVaultServerAsync();
        var owner = await server.RegisterOwnerAsync();
        var vault = await server.CreateVaultAsync(owner);
        var alice = IdentityKit.NewEmail("alice");
        await server.AddRecipientAsync(owner, vault, alice);
        await server.ArmAsync(owner, vault, Interval, Grace);
        using (var pause = await server.PostAsync($"{VaultKit.Base}/{vault.Id}/switch/pause", null, owner.AccessToken))
        {
            var paused = await pause.JsonAsync();
            Assert.Equal("paused", paused.GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.Null, paused.GetProperty("deadline").ValueKind);
        }

        server.Time.Advance(TimeSpan.FromDays(30));
        await server.RunSchedulerAsync();
        Assert.Empty(server.MailTo(alice));
        Assert.Empty(server.MailTo(owner.Email, "check in"));
        using (var checkin = await server.PostAsync($"{VaultKit.Base}/{vault.Id}/switch/checkin", null, owner.AccessToken))
        {
            await checkin.ExpectProblemAsync(HttpStatusCode.Conflict, "switch-paused");
        }

        using var resume = await server.PostAsync($"{VaultKit.Base}/{vault.Id}/switch/resume", null, owner.AccessToken);
        var resumed = await resume.JsonAsync();
        Assert.Equal("armed", resumed.GetProperty("state").GetString());
        Assert.Equal(server.Time.GetUtcNow() + Interval, resumed.GetProperty("deadline").GetDateTimeOffset());
    }

    [Fact]
    public async Task CancelledSwitch_IsGone_AndNothingIsReleased()
    {
        await using var server = await VaultKit.StartVaultServerAsync();
        var owner = await server.RegisterOwnerAsync();
        var vault = await server.CreateVaultAsync(owner);
        var alice = IdentityKit.NewEmail("alice");
        await server.AddRecipientAsync(owner, vault, alice);
        await server.ArmAsync(owner, vault, Interval, Grace);
        using (var cancel = await server.SendAsync(HttpMethod.Delete, $"{VaultKit.Base}/{vault.Id}/switch", bearer: owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);
        }

        server.Time.Advance(TimeSpan.FromDays(10));
        await server.RunSchedulerAsync();
        Assert.Empty(server.MailTo(alice));
        using var get = await server.SendAsync(HttpMethod.Get, $"{VaultKit.Base}/{vault.Id}/switch", bearer: owner.AccessToken);
        await get.ExpectProblemAsync(HttpStatusCode.NotFound, "switch-not-found");
    }

    [Fact]
    public async Task CheckInLink_ForgedOrForAnotherGeneration_DoesNotCheckIn_AndAfterReleaseIsGone()
    {
        await using var server = await VaultKit.StartVaultServerAsync();
        var owner = await server.RegisterOwnerAsync();
        var vault = await server.CreateVaultAsync(owner);
        await server.ArmAsync(owner, vault, Interval, TimeSpan.FromHours(2));
        server.Time.Advance(Interval);
        await server.RunSchedulerAsync();
        var link = VaultKit.CheckInToken(Assert.Single(server.MailTo(owner.Email, "check in")));
        var bytes = Base64Url.DecodeFromChars(link);
        bytes[^1] ^= 1;
        foreach (var forged in new[] { Base64Url.EncodeToString(bytes), link[..74], "x", new string('A', 75) })
        {
            using var post = await server.Client.PostAsync(new Uri($"/vault/checkin/{forged}", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        }

        Assert.Equal("grace", (await server.SwitchAsync(owner, vault)).GetProperty("state").GetString());
        server.Time.Advance(TimeSpan.FromHours(2));
        await server.RunSchedulerAsync();
        using var late = await server.Client.PostAsync(new Uri($"/vault/checkin/{link}", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
        Assert.Contains("already released", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("released", (await server.SwitchAsync(owner, vault)).GetProperty("state").GetString());
    }
}
