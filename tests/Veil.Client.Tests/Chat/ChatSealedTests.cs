// Sealed sender, device checks and signed-prekey rotation through the SDK against the real relay (Kestrel on loopback,
// SQLite or PostgreSQL), with the server's manual clock shared by the clients so certificate expiry and the 7-day
// rotation are reached by moving time, not by waiting. The relay's rows are read with SQL to see what it stored.
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Client.Chat;
using Veil.Crypto.Chat;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;
using Veil.Server.Tests.Kit;

namespace Veil.Client.Tests.Chat;

public sealed partial class ChatSealedTests : IAsyncLifetime
{
    private static readonly ReadOnlyMemory<char> Password = "correct horse battery staple".AsMemory();
    private readonly List<IDisposable> _owned = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("veil-chat-sealed-").FullName;
    private VeilTestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await VeilTestServer.StartAsync(o => o.Settings["Veil:RateLimits:ip:PermitLimit"] = "100000");

    public async Task DisposeAsync()
    {
        _owned.ForEach(o => o.Dispose());
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task AfterTheFirstExchange_SendsAreSealed_TheRelayStoresNoSender_AndListenNamesTheRightSender()
    {
        var alice = await LinkedAsync("alice@example.org");
        var bob = await LinkedAsync("bob@example.org");

        var first = await alice.Chat.SendAsync(bob.Email, "hello bob");
        await ListenOneAsync(bob);
        var reply = await bob.Chat.SendAsync(alice.Email, "hello alice");
        var replyRows = await ChatMailboxRowsAsync(alice.AccountId);
        var received = await ListenOneAsync(alice);
        var second = await alice.Chat.SendAsync(bob.Email, "sealed now");
        var secondRows = await ChatMailboxRowsAsync(bob.AccountId);
        var receivedByBob = await ListenOneAsync(bob);

        Assert.Equal((false, "no-access-key"), (first.Sealed, first.Fallback)); // Bob's access key is not known before he writes
        Assert.Equal((true, null), (reply.Sealed, reply.Fallback));
        Assert.Equal((true, null), (second.Sealed, second.Fallback));
        Assert.All(replyRows.Concat(secondRows), row => Assert.Equal((true, null, null), (row.Sealed, row.SenderAccountId, row.SenderDeviceId)));
        Assert.Equal(2, replyRows.Count + secondRows.Count);
        Assert.Equal((true, bob.AccountId, 1, "hello alice", "bob@example.org"), (received.Sealed, received.From, received.FromDevice, received.Message?.Text, received.Message?.PeerEmail));
        Assert.Equal((true, alice.AccountId, 1, "sealed now", "alice@example.org"), (receivedByBob.Sealed, receivedByBob.From, receivedByBob.FromDevice, receivedByBob.Message?.Text, receivedByBob.Message?.PeerEmail));
    }

    [Fact]
    public async Task SealedMessage_WhoseCertificateExpired_IsRefused()
    {
        var (alice, bob) = await ExchangedAsync();
        var sent = await bob.Chat.SendAsync(alice.Email, "late");

        _server.Time.Advance(ChatSenderCertificate.Lifetime + TimeSpan.FromMinutes(1));
        await alice.Client.Identity.RefreshAsync();
        var delivery = await ListenOneAsync(alice);

        Assert.True(sent.Sealed);
        Assert.Equal(("sealed-certificate-expired", true, null), (delivery.Problem, delivery.Sealed, delivery.Message));
    }

    [Fact]
    public async Task SealedMessage_CertifiedUnderAnotherTrustRoot_IsRefused()
    {
        var (alice, bob) = await ExchangedAsync();
        using (var other = Ed25519PrivateKey.Generate())
        {
            // Alice's machine pinned another relay's trust root: certificates from this relay do not chain to it.
            EditStore(alice, store =>
            {
                var relay = store.ReadJson<StoredRelay>("relay")!;
                relay.TrustRoot = other.PublicKey.ToArray();
                store.WriteJson("relay", relay);
            });
        }

        Assert.True((await bob.Chat.SendAsync(alice.Email, "forged root?")).Sealed);
        var delivery = await ListenOneAsync(alice);

        Assert.Equal(("sealed-certificate-untrusted", true, null), (delivery.Problem, delivery.Sealed, delivery.Message));
    }

    [Fact]
    public async Task WrongAccessKey_RelayAnswers401_TheSendFallsBackToTheAuthenticatedSocket()
    {
        var (alice, bob) = await ExchangedAsync();
        EditStore(alice, store =>
        {
            var peer = store.ReadJson<StoredPeer>($"peer/{bob.AccountId:D}")!;
            peer.AccessKey = new byte[16]; // not Bob's
            store.WriteJson($"peer/{bob.AccountId:D}", peer);
        });

        var sent = await alice.Chat.SendAsync(bob.Email, "fallback");
        var rows = await ChatMailboxRowsAsync(bob.AccountId);
        var delivery = await ListenOneAsync(bob);

        Assert.Equal((false, "access-key-refused"), (sent.Sealed, sent.Fallback));
        Assert.Equal((false, alice.AccountId, 1), (Assert.Single(rows).Sealed, rows[0].SenderAccountId, rows[0].SenderDeviceId));
        Assert.Equal(("fallback", false, alice.AccountId), (delivery.Message?.Text, delivery.Sealed, delivery.From));
    }

    [Fact]
    public async Task ForgedDevice_InsertedByTheRelay_ItsFirstMessageIsRefused_AndAnAlarmIsStored()
    {
        var (alice, bob) = await ExchangedAsync();

        // A second machine of Alice's links for real; then the relay swaps its certificate for one the account key never made.
        var forged = await SecondDeviceAsync(alice);
        await ExecuteSqlAsync(db => db.Database.ExecuteSqlAsync(
            $"""UPDATE "ChatDevices" SET "Certificate" = {new byte[64]} WHERE "AccountId" = {alice.AccountId} AND "DeviceId" = {2}"""));
        await forged.Chat.SendAsync(bob.Email, "from a forged device");

        var delivery = await ListenOneAsync(bob);
        var alarm = Assert.Single(await bob.Chat.AlarmsAsync());

        Assert.Equal(("forged-device", alice.AccountId, 2, null), (delivery.Problem, delivery.From, delivery.FromDevice, delivery.Message));
        Assert.Equal((alice.AccountId, 2), (alarm.Account, alarm.Device));
        Assert.DoesNotContain((await bob.Chat.HistoryAsync(alice.Email)), m => m.Text == "from a forged device");
    }

    [Fact]
    public async Task GenuineNewDevice_ItsFirstMessageIsCheckedAndAccepted()
    {
        var (alice, bob) = await ExchangedAsync();
        var second = await SecondDeviceAsync(alice);

        await second.Chat.SendAsync(bob.Email, "from my new phone");
        var delivery = await ListenOneAsync(bob);

        Assert.Equal((null, alice.AccountId, 2, "from my new phone"), (delivery.Problem, delivery.From, delivery.FromDevice, delivery.Message?.Text));
        Assert.Empty(await bob.Chat.AlarmsAsync());
    }

    [Fact]
    public async Task SignedPreKey_After8Days_IsRotated_OldSessionsAndFirstMessagesStillDecrypt_AndANewSessionUsesTheNewKey()
    {
        var (alice, bob) = await ExchangedAsync();
        var carol = await LinkedAsync("carol@example.org");
        await carol.Chat.SendAsync(bob.Email, "made before the rotation"); // a first message on Bob's first signed prekey, not yet read
        var before = await SignedPreKeyIdAsync(bob);

        _server.Time.Advance(TimeSpan.FromDays(8));
        foreach (var user in new[] { alice, bob, carol })
        {
            await user.Client.Identity.RefreshAsync();
        }

        await alice.Chat.SendAsync(bob.Email, "old session");
        var waiting = await ListenAsync(bob, 2); // listen rotates first, then decrypts
        var after = await SignedPreKeyIdAsync(bob);
        var dave = await LinkedAsync("dave@example.org");
        await dave.Chat.SendAsync(bob.Email, "new session");
        var onNewSession = await ListenOneAsync(bob);

        Assert.Equal((1, 2), (before, after));
        Assert.Equal(["made before the rotation", "old session"], waiting.Select(d => d.Message?.Text).Order());
        Assert.Equal(("new session", dave.AccountId), (onNewSession.Message?.Text, onNewSession.From));
    }

    private sealed record User(string Email, Guid AccountId, VeilClient Client, ChatClient Chat, SecretBytes UserKey, string StoreDirectory);

    private async Task<(User Alice, User Bob)> ExchangedAsync()
    {
        var alice = await LinkedAsync("alice@example.org");
        var bob = await LinkedAsync("bob@example.org");
        await alice.Chat.SendAsync(bob.Email, "hi");
        await ListenOneAsync(bob);
        await bob.Chat.SendAsync(alice.Email, "hi back");
        await ListenOneAsync(alice);
        return (alice, bob);
    }

    private async Task<User> LinkedAsync(string email)
    {
        using (var registering = NewClient())
        {
            await registering.Identity.RegisterAsync(email, Password);
            await registering.Identity.VerifyEmailAsync(LinkTo(email));
        }

        return await SignedInDeviceAsync(email);
    }

    private Task<User> SecondDeviceAsync(User user) => SignedInDeviceAsync(user.Email);

    private async Task<User> SignedInDeviceAsync(string email)
    {
        var client = NewClient();
        _owned.Add(client);
        Assert.NotNull((await client.Identity.LoginAsync(email, Password)).Session);
        var userKey = client.Identity.UserKey!;
        var directory = Directory.CreateTempSubdirectory("machine-").FullName;
        var chat = new ChatClient(client, userKey, directory);
        _owned.Add(chat);
        await chat.LinkAsync();
        var account = (await client.Identity.WhoAmIAsync()).AccountId;
        return new User(email, account, client, chat, userKey, directory);
    }

    private static async Task<ChatDelivery> ListenOneAsync(User user) => Assert.Single(await ListenAsync(user, 1));

    private static async Task<List<ChatDelivery>> ListenAsync(User user, int count)
    {
        var got = new List<ChatDelivery>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await user.Chat.ListenAsync(d =>
        {
            got.Add(d);
            return Task.CompletedTask;
        }, stopAfter: count, timeout.Token);
        Assert.True(got.Count == count, $"{got.Count} of {count} deliveries arrived within 60 s");
        return got;
    }

    private static void EditStore(User user, Action<ChatStore> edit)
    {
        using var store = ChatStore.Open(ChatStore.PathFor(user.StoreDirectory, user.AccountId), user.AccountId, user.UserKey);
        edit(store);
        store.Save();
    }

    private static int SignedPreKeyIdFrom(ChatStore store) => store.ReadJson<StoredDevice>("device")!.SignedPreKeyId;

    /// <summary>The signed prekey id the relay hands out for the user's device 1 (what a new initiator gets).</summary>
    private async Task<int> SignedPreKeyIdAsync(User user)
    {
        int stored;
        using (var store = ChatStore.Open(ChatStore.PathFor(user.StoreDirectory, user.AccountId), user.AccountId, user.UserKey))
        {
            stored = SignedPreKeyIdFrom(store);
        }

        var published = await ExecuteSqlAsync(db => db.Database
            .SqlQuery<int>($"""SELECT "SignedPreKeyId" AS "Value" FROM "ChatDevices" WHERE "AccountId" = {user.AccountId} AND "DeviceId" = {1}""").SingleAsync());
        Assert.Equal(stored, published);
        return published;
    }

    private Task<List<ChatMailboxRow>> ChatMailboxRowsAsync(Guid account) =>
        ExecuteSqlAsync(db => db.Database
            .SqlQuery<ChatMailboxRow>($"""SELECT "SenderAccountId", "SenderDeviceId", "Sealed" FROM "ChatMailbox" WHERE "AccountId" = {account}""").ToListAsync());

    // The server's own DbContext (an internal type of Veil.Server), so raw SQL gets the provider's parameter types.
    private async Task<T> ExecuteSqlAsync<T>(Func<DbContext, Task<T>> query)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var type = typeof(Veil.Server.VeilServer).Assembly.GetType("Veil.Server.Platform.Persistence.VeilDbContext", throwOnError: true)!;
        return await query((DbContext)scope.ServiceProvider.GetRequiredService(type));
    }

    private VeilClient NewClient() => new(_server.BaseAddress, new VeilClientOptions { TimeProvider = _server.Time, ClientLabel = "chat-sealed-tests" });

    private string LinkTo(string email)
    {
        var mail = _server.ReadOutbox().Last(m => m.Headers.TryGetValue("To", out var to) && to.Contains(email, StringComparison.OrdinalIgnoreCase)
            && m.TextBody.Contains("/verify-email#", StringComparison.Ordinal));
        return LinkPattern().Matches(mail.TextBody).Select(m => m.Value).Last(l => l.Contains("/verify-email#", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();
}

/// <summary>What the relay stored about a mailbox row's sender.</summary>
internal sealed class ChatMailboxRow
{
    public Guid? SenderAccountId { get; set; }

    public int? SenderDeviceId { get; set; }

    public bool Sealed { get; set; }
}
