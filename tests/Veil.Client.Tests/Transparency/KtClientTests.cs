// The SDK's key transparency checks against the real server (loopback, SQLite or PostgreSQL): a mail key is used only
// when the log proves it, the policy is pinned on first use and the checkpoint stored; a key swapped by the server and
// a replayed older answer are refused. The sequencer runs when the test says (its timer is set beyond the test).
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Client.Mailbox;
using Veil.Client.Transparency;
using Veil.Crypto.Transparency;
using Veil.Server.Mailbox;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Kit;
using Veil.Server.Transparency;

namespace Veil.Client.Tests.Transparency;

public sealed partial class KtClientTests : IAsyncLifetime
{
    private const string Domain = "mail.example";
    private static readonly ReadOnlyMemory<char> Password = "correct horse battery staple".AsMemory();
    private readonly string _state = Path.Combine(Path.GetTempPath(), "veil-kt-client-" + Guid.NewGuid().ToString("N")[..12]);
    private VeilTestServer _server = null!;

    public async Task InitializeAsync() => _server = await VeilTestServer.StartAsync(o =>
    {
        o.Settings["Veil:Mail:Domains:0"] = Domain;
        o.Settings["Veil:KeyTransparency:SequencerInterval"] = "00:10:00";
    });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    [Fact]
    public async Task VerifiedLookup_PinsThePolicy_StoresTheCheckpoint_AndFollowsTheLogForward()
    {
        using var owner = await SignedInAsync("erin@example.org");
        using var mailbox = MailboxClient.ForSignedIn(owner);
        await mailbox.AddAddressAsync("erin@" + Domain);
        await SequenceAsync();
        var kt = new KtClient(owner, KtTrustStore.For(_state, _server.BaseAddress));

        var (first, proof) = await mailbox.LookupVerifiedKeyAsync("erin@" + Domain, kt);
        await mailbox.AddAddressAsync("erin.two@" + Domain);
        await SequenceAsync();
        var (_, later) = await mailbox.LookupVerifiedKeyAsync("erin@" + Domain, kt);

        Assert.Contains(first.Fingerprint.ToUpperInvariant(), proof.MailFingerprints());
        Assert.Contains("quorum none", kt.Store.Policy, StringComparison.Ordinal);
        Assert.Equal(2, later.Checkpoint!.Size);
        Assert.Equal(2, kt.LastSeen!.Size);
    }

    [Fact]
    public async Task MailKeySwappedByTheServer_SendRefusesToEncryptToIt()
    {
        using var sender = await SignedInAsync("frank@example.org");
        using var senderMail = MailboxClient.ForSignedIn(sender);
        await senderMail.AddAddressAsync("frank@" + Domain);
        await senderMail.AddAddressAsync("grace@" + Domain);
        await SequenceAsync();
        senderMail.KeyTransparency = new KtClient(sender, KtTrustStore.For(_state, _server.BaseAddress));
        await senderMail.SendAsync(new MailSendRequest(["grace@" + Domain], "before", "the logged key"));

        // The operator serves frank's key for grace (a key it can read), behind the log's back.
        await using (var scope = _server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
            var rows = await db.Set<MailAddress>().ToListAsync();
            rows.Single(r => r.Address == "grace@" + Domain).PublicKey = rows.Single(r => r.Address == "frank@" + Domain).PublicKey;
            await db.SaveChangesAsync();
        }

        var refused = await Assert.ThrowsAsync<MailboxKeyException>(() => senderMail.SendAsync(new MailSendRequest(["grace@" + Domain], "after", "to a swapped key")));

        Assert.Equal($"refusing to encrypt to grace@{Domain}: the key the server gave for grace@{Domain} is not the one its key transparency log shows", refused.Message);
    }

    [Fact]
    public async Task ReplayedOlderLookup_IsRefusedAsARollback_AndNotStored()
    {
        using var owner = await SignedInAsync("heidi@example.org");
        using var mailbox = MailboxClient.ForSignedIn(owner);
        await mailbox.AddAddressAsync("heidi@" + Domain);
        await SequenceAsync();
        var old = await mailbox.LookupKeyAsync("heidi@" + Domain);
        await mailbox.AddAddressAsync("heidi.two@" + Domain);
        await SequenceAsync();
        var kt = new KtClient(owner, KtTrustStore.For(_state, _server.BaseAddress));
        await mailbox.LookupVerifiedKeyAsync("heidi@" + Domain, kt);

        var refused = await Assert.ThrowsAsync<KtRefusedException>(() => kt.VerifyAsync(KeyEvent.MailSubject("heidi@" + Domain), old.Transparency));

        Assert.Contains("rollback", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, kt.LastSeen!.Size);
    }

    [Fact]
    public async Task APinnedPolicyWithWitnesses_RefusesTheServersUncosignedCheckpoint()
    {
        using var owner = await SignedInAsync("ivan@example.org");
        using var mailbox = MailboxClient.ForSignedIn(owner);
        await mailbox.AddAddressAsync("ivan@" + Domain);
        await SequenceAsync();
        var store = KtTrustStore.For(_state, _server.BaseAddress);
        var logKey = (await _server.Client.GetStringAsync(new Uri("/kt/vkey", UriKind.Relative))).Trim();
        using var witnessKey = Veil.Crypto.Primitives.Ed25519PrivateKey.Generate();
        var witness = new CosignatureV1Signer("witness.example/w1", witnessKey, TimeProvider.System).VerifierKey;
        store.SavePolicy($"log {logKey}\nwitness w1 {witness}\nquorum w1\n"); // what the client was told out of band

        var refused = await Assert.ThrowsAsync<KtRefusedException>(() => mailbox.LookupVerifiedKeyAsync("ivan@" + Domain, new KtClient(owner, store)));

        Assert.Contains("not cosigned by a quorum", refused.Message, StringComparison.Ordinal);
        Assert.Null(store.Checkpoint);
    }

    private async Task SequenceAsync()
        => Assert.True(await _server.Services.GetRequiredService<PeriodicJobRunner>().RunNowAsync(KtSequencer.JobName, CancellationToken.None));

    private VeilClient NewClient() => new(_server.BaseAddress, new VeilClientOptions { TimeProvider = _server.Time, ClientLabel = "kt-sdk-tests" });

    private async Task<VeilClient> SignedInAsync(string email)
    {
        using (var registering = NewClient())
        {
            await registering.Identity.RegisterAsync(email, Password);
            var mail = _server.ReadOutbox().Last(m => m.TextBody.Contains("/verify-email#", StringComparison.Ordinal) && m.Headers.TryGetValue("To", out var to) && to.Contains(email, StringComparison.OrdinalIgnoreCase));
            await registering.Identity.VerifyEmailAsync(LinkPattern().Matches(mail.TextBody).Select(m => m.Value).Last(l => l.Contains("/verify-email#", StringComparison.Ordinal)));
        }

        var client = NewClient();
        await client.Identity.LoginAsync(email, Password);
        return client;
    }

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();
}
