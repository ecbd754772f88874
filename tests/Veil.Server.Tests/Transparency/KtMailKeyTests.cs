// Mail address keys in the key transparency log: added and revoked with the address, proven in the key directory.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Veil.Crypto.OpenPgp;
using Veil.Crypto.Transparency;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Transparency;

public sealed class KtMailKeyTests
{
    private const string Domain = "mail.example";

    [Fact]
    public async Task MailKey_AddedAndRevoked_AreLoggedUnderTheAddressHash_AndTheDirectoryProvesThem()
    {
        await using var server = await KtKit.StartKtServerAsync(o => o.Settings["Veil:Mail:Domains:0"] = Domain);
        var owner = await server.RegisterUserAsync();
        var address = "kt-" + Guid.NewGuid().ToString("N")[..8] + "@" + Domain;
        var key = OpenPgpKeys.Generate("<" + address + ">", server.Time.GetUtcNow()).PublicKey;

        using var added = await server.PostAsync("/api/v1/mail/addresses", new { address, publicKey = key.ToArmored(), wrappedToken = "v1.dG9rZW4", wrappedPrivateKey = "v1.a2V5" }, owner.AccessToken);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var id = (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        await server.SequenceAsync();

        var found = await server.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/mail/keys?address={address}", UriKind.Relative));
        var (checkpoint, entries, _) = KtKit.ReadLookup(found.GetProperty("transparency"), await server.LogVerifierAsync());
        var entry = Assert.Single(entries);
        Assert.True(checkpoint.Proves(entry));
        Assert.Equal(KeyEventKinds.MailKeyAdded, entry.Event.Kind);
        Assert.Equal(KeyEvent.MailSubject(address), entry.Event.Subject);
        Assert.Equal(Convert.FromHexString(found.GetProperty("fingerprint").GetString()!), entry.Event.Keys.Single());
        Assert.Equal(Convert.FromHexString(key.Fingerprint), entry.Event.Keys.Single());
        Assert.DoesNotContain(address, System.Text.Encoding.UTF8.GetString(entry.Leaf), StringComparison.OrdinalIgnoreCase); // the public log holds a hash, not the address

        var wkdHash = Veil.Server.Mailbox.MailboxAddresses.WkdHash(address.Split('@')[0]);
        using (var wkd = await server.Client.GetAsync(new Uri($"/.well-known/openpgpkey/{Domain}/hu/{wkdHash}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, wkd.StatusCode);
            Assert.Equal("/kt/checkpoint", wkd.Headers.GetValues("Veil-Key-Transparency").Single());
        }

        using (var removed = await server.SendAsync(HttpMethod.Delete, $"/api/v1/mail/addresses/{id}", bearer: owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        await server.SequenceAsync();
        var after = await server.CheckpointAsync();
        Assert.Equal(2, after.Checkpoint.Size);
        var bundle = TlogTiles.DecodeEntryBundle((await server.TileAsync(new TileId(TileId.EntriesLevel, 0, 2)))!)!;
        var revoked = KeyEvent.TryParse(bundle[1])!;
        Assert.Equal(KeyEventKinds.MailKeyRevoked, revoked.Kind);
        Assert.Equal(KeyEvent.MailSubject(address), revoked.Subject);
        Assert.Equal(entry.Event.Keys.Single(), revoked.Keys.Single());
    }
}
