using System.Net;
using System.Text.RegularExpressions;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

#pragma warning disable CA1716 // "Alias" is a Visual Basic keyword; the folder and module are named Alias on purpose.
namespace Veil.Server.Tests.Alias;
#pragma warning restore CA1716

/// <summary>What the authorization matrix needs from Alias: objects user A owns, and a check that nobody else touched them.</summary>
public static class AliasMatrix
{
    public static async Task<(Guid Recipient, Guid Alias, Guid Contact)> CreateOwnedAsync(VeilTestServer server, TestUser owner)
    {
        const string mailbox = "matrix-owner@mailbox.test";
        using var added = await server.PostAsync("/api/v1/alias/recipients", new { email = mailbox }, owner.AccessToken);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var recipient = (await added.JsonAsync()).GetProperty("id").GetGuid();
        var mail = server.ReadOutbox().Last(m => m.Headers["To"].Contains(mailbox, StringComparison.Ordinal));
        var token = Regex.Match(mail.TextBody, "/alias/verify/([A-Za-z0-9_-]{43})").Groups[1].Value;
        using (var verify = await server.PostAsync("/api/v1/alias/recipients/verify", new { token }))
        {
            Assert.Equal(HttpStatusCode.OK, verify.StatusCode);
        }

        using var alias = await server.PostAsync("/api/v1/alias/aliases", new { note = "matrix" }, owner.AccessToken);
        Assert.Equal(HttpStatusCode.Created, alias.StatusCode);
        var aliasId = (await alias.JsonAsync()).GetProperty("id").GetGuid();
        using var contact = await server.PostAsync($"/api/v1/alias/aliases/{aliasId}/contacts", new { address = "friend@example.net" }, owner.AccessToken);
        Assert.Equal(HttpStatusCode.Created, contact.StatusCode);
        return (recipient, aliasId, (await contact.JsonAsync()).GetProperty("id").GetGuid());
    }

    public static async Task AssertUntouchedAsync(VeilTestServer server, TestUser owner, Guid recipientId, Guid aliasId, Guid contactId)
    {
        using var alias = await server.SendAsync(HttpMethod.Get, $"/api/v1/alias/aliases/{aliasId}", bearer: owner.AccessToken);
        Assert.Equal(HttpStatusCode.OK, alias.StatusCode);
        Assert.True((await alias.JsonAsync()).GetProperty("enabled").GetBoolean());
        using var contacts = await server.SendAsync(HttpMethod.Get, $"/api/v1/alias/aliases/{aliasId}/contacts", bearer: owner.AccessToken);
        var contact = (await contacts.JsonAsync()).GetProperty("contacts").EnumerateArray().Single(c => c.GetProperty("id").GetGuid() == contactId);
        Assert.False(contact.GetProperty("blocked").GetBoolean());
        using var recipients = await server.SendAsync(HttpMethod.Get, "/api/v1/alias/recipients", bearer: owner.AccessToken);
        Assert.Contains(recipientId.ToString(), await recipients.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
