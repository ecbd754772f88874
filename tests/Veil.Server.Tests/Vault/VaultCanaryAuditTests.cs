// The zero-knowledge audit for Vault: run every flow with canary values, then scan the SQLite file
// and its WAL (or a pg_dump) and every captured log line. Item plaintexts, titles, vault names, file
// names and recipient addresses must appear nowhere; tokens and keys neither.
using System.Net;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Vault;

public sealed class VaultCanaryAuditTests
{
    [Fact]
    public async Task AfterEveryFlow_StorageAndLogs_HoldNoPlaintextAddressTokenOrKey()
    {
        await using var server = await VaultKit.StartVaultServerAsync();
        var canary = "canary" + Guid.NewGuid().ToString("N")[..12];
        var text = new List<string>();
        string C(string what)
        {
            var value = $"{canary}-{what}";
            text.Add(value);
            return value;
        }

        var owner = await server.RegisterOwnerAsync();
        var vault = await server.CreateVaultAsync(owner, C("vault-name"));
        var itemId = await server.PutItemAsync(owner, vault, C("title"), C("notes"), (C("label"), C("value")));
        using (await server.PutFileAsync(owner, vault, itemId, VaultKit.NewId(), [1, 2, 3], name: VaultKit.Field(vault, itemId, "files/x/name", C("file-name"))))
        {
        }

        var recipient = C("recipient") + "@example.org";
        var (_, deliveryKey) = await server.AddRecipientAsync(owner, vault, recipient);
        using (await server.PostAsync($"{VaultKit.Base}/{vault.Id}/rehearse", null, owner.AccessToken))
        {
        }

        var rehearsal = VaultKit.ClaimToken(Assert.Single(server.MailTo(owner.Email, "rehearsal of your vault")));
        var rehearsalCode = await server.RequestCodeAsync(rehearsal, owner.Email);
        using (await server.ClaimAsync(rehearsal, rehearsalCode))
        {
        }

        await server.ArmAsync(owner, vault, TimeSpan.FromDays(1), TimeSpan.FromDays(2));
        server.Time.Advance(TimeSpan.FromDays(1));
        await server.RunSchedulerAsync();
        var checkIn = VaultKit.CheckInToken(Assert.Single(server.MailTo(owner.Email, "check in")));
        using (await server.Client.PostAsync(new Uri($"/vault/checkin/{checkIn}", UriKind.Relative), null))
        {
        }

        server.Time.Advance(TimeSpan.FromDays(3));
        await server.RunSchedulerAsync();
        var token = VaultKit.ClaimToken(Assert.Single(server.MailTo(recipient, "left to you")));
        var code = await server.RequestCodeAsync(token, recipient);
        using (await server.ClaimAsync(token, code == "000000" ? "000001" : "000000"))
        {
        }

        using var claim = await server.ClaimAsync(token, code);
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
        var download = (await claim.JsonAsync()).GetProperty("downloadToken").GetString()!;

        var stored = await StoredData.ReadAsync(server);
        var logs = server.Logs.AllText;
        Assert.Contains("released", logs, StringComparison.Ordinal);
        var all = text.Concat([token, rehearsal, checkIn, download, owner.Email])
            .Concat(new[] { deliveryKey, vault.VaultKey }.SelectMany(VaultBreachTests.Forms)).ToList();
        foreach (var value in all)
        {
            var index = all.IndexOf(value);
            Assert.False(logs.Contains(value, StringComparison.OrdinalIgnoreCase), $"logs contain canary {index}");
            if (value != owner.Email)
            {
                Assert.False(stored.Contains(value, StringComparison.OrdinalIgnoreCase), $"stored data contains canary {index}");
            }
        }

        Assert.DoesNotContain(canary, stored, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(canary, logs, StringComparison.OrdinalIgnoreCase);
    }
}
