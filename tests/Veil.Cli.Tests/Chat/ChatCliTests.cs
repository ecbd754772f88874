using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Tests.Kit;
using static Veil.Cli.Tests.CliAccounts;

namespace Veil.Cli.Tests.Chat;

/// <summary>
/// Issue 18, point 5: two people chat from two machines (each a `veil` with its own config directory) through the
/// real relay, the second device of one of them included; the local stores are 0600 and hold no plaintext.
/// </summary>
[Collection(AccountVerbsTestGroup.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes
public sealed class ChatCliTests : IAsyncLifetime
{
    private const string Alice = "alice@example.org";
    private const string Bob = "bob@example.org";
    private readonly List<string> _directories = [];
    private VeilTestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await VeilTestServer.StartAsync(o => o.Settings["Veil:RateLimits:ip:PermitLimit"] = "100000");

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _directories.ForEach(d => Directory.Delete(d, recursive: true));
    }

    [Fact]
    public async Task TwoPeopleOnTwoMachines_ChatBothWays_SecondDeviceToo_HistoryOnEverySide_StoresSealedAnd0600()
    {
        var alice = await SignedUpAsync(Alice);
        var bob = await SignedUpAsync(Bob);
        Assert.Equal(1, Ok(await Chat(alice, "device", "link")).Event("device-linked").GetProperty("deviceId").GetInt32());
        Assert.Equal(1, Ok(await Chat(bob, "device", "link")).Event("device-linked").GetProperty("deviceId").GetInt32());
        var m1 = Canary("m1");
        var m2 = Canary("m2");
        var r1 = Canary("r1");

        // Bob listens before Alice writes: the message is pushed to his open socket and printed.
        var bobListens = Chat(bob, "listen", "--count", "1", "--timeout", "60s");
        Assert.Equal(1, Ok(await Chat(alice, "send", Bob, m1)).Event("sent").GetProperty("devices").GetInt32());
        var first = Message(Ok(await bobListens));
        Assert.Equal((m1, "in", Alice), (first.GetProperty("text").GetString(), first.GetProperty("direction").GetString(), first.GetProperty("peerEmail").GetString()));

        // Bob links a second machine; Alice's next send is told the device is missing (409) and reaches both.
        var bob2 = await SignedInAsync(Bob);
        Assert.Equal(2, Ok(await Chat(bob2, "device", "link")).Event("device-linked").GetProperty("deviceId").GetInt32());
        Assert.Equal(2, Ok(await Chat(alice, "send", Bob, m2)).Event("sent").GetProperty("devices").GetInt32());
        Assert.Equal(m2, Message(Ok(await Chat(bob2, "listen", "--count", "1", "--timeout", "60s"))).GetProperty("text").GetString());
        Assert.Equal(m2, Message(Ok(await Chat(bob, "listen", "--count", "1", "--timeout", "60s"))).GetProperty("text").GetString());

        // Bob replies from his first machine: Alice gets it, and his second machine gets a copy of what he sent.
        var reply = Ok(await Chat(bob, "send", Alice, r1)).Event("sent");
        Assert.Equal((1, 1), (reply.GetProperty("devices").GetInt32(), reply.GetProperty("ownDevices").GetInt32()));
        var received = Message(Ok(await Chat(alice, "listen", "--count", "1", "--timeout", "60s")));
        Assert.Equal((r1, "in", Bob), (received.GetProperty("text").GetString(), received.GetProperty("direction").GetString(), received.GetProperty("peerEmail").GetString()));
        var copy = Message(Ok(await Chat(bob2, "listen", "--count", "1", "--timeout", "60s")));
        Assert.Equal((r1, "out", Alice), (copy.GetProperty("text").GetString(), copy.GetProperty("direction").GetString(), copy.GetProperty("peerEmail").GetString()));

        Assert.Equal([("out", m1), ("out", m2), ("in", r1)], await HistoryAsync(alice, Bob));
        Assert.Equal([("in", m1), ("in", m2), ("out", r1)], await HistoryAsync(bob, Alice));
        Assert.Equal([("in", m2), ("out", r1)], await HistoryAsync(bob2, Alice));

        foreach (var cli in new[] { alice, bob, bob2 })
        {
            var store = Assert.Single(Directory.GetFiles(cli.ConfigDirectory, "chat-*.store"));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store));
            var bytes = await File.ReadAllBytesAsync(store);
            foreach (var canary in new[] { m1, m2, r1 })
            {
                Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(canary)));
                Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(canary))[..16])));
            }

            Assert.DoesNotContain(Bob, Encoding.UTF8.GetString(bytes), StringComparison.Ordinal); // peers are not listed in the clear
        }

        // Bob's second machine removes itself: its store goes, and Alice's next send is told the device is extra (409).
        Ok(await Chat(bob2, "device", "remove", "2"));
        Assert.Empty(Directory.GetFiles(bob2.ConfigDirectory, "chat-*.store"));
        var m3 = Canary("m3");
        Assert.Equal(1, Ok(await Chat(alice, "send", Bob, m3)).Event("sent").GetProperty("devices").GetInt32());
        Assert.Equal(m3, Message(Ok(await Chat(bob, "listen", "--count", "1", "--timeout", "60s"))).GetProperty("text").GetString());
    }

    [Fact]
    public async Task Desync_ReceiverLostItsSession_SendsARetryRequest_AndTheSenderResendsOnAFreshSession()
    {
        var alice = await SignedUpAsync(Alice);
        var bob = await SignedUpAsync(Bob);
        Ok(await Chat(alice, "device", "link"));
        Ok(await Chat(bob, "device", "link"));
        var bobStore = Assert.Single(Directory.GetFiles(bob.ConfigDirectory, "chat-*.store"));
        var bobBefore = await File.ReadAllBytesAsync(bobStore);
        Ok(await Chat(alice, "send", Bob, Canary("m1")));
        Ok(await Chat(bob, "listen", "--count", "1", "--timeout", "60s"));
        Ok(await Chat(bob, "send", Alice, Canary("r1")));
        Ok(await Chat(alice, "listen", "--count", "1", "--timeout", "60s")); // Alice's session is now answered: no more prekey messages

        // Bob's machine goes back to a copy from before the conversation: it has no session with Alice any more.
        await File.WriteAllBytesAsync(bobStore, bobBefore);
        var m2 = Canary("m2");
        var sent = Ok(await Chat(alice, "send", Bob, m2)).Event("sent").GetProperty("id").GetString();

        var unreadable = Ok(await Chat(bob, "listen", "--count", "1", "--timeout", "60s")).Event("unreadable");
        var resent = Ok(await Chat(alice, "listen", "--count", "1", "--timeout", "60s")).Event("resent");
        var again = Message(Ok(await Chat(bob, "listen", "--count", "1", "--timeout", "60s")));

        Assert.Equal("NoSession", unreadable.GetProperty("problem").GetString());
        Assert.Equal((sent, 1), (resent.GetProperty("id").GetString(), resent.GetProperty("device").GetInt32()));
        Assert.Equal((sent, m2), (again.GetProperty("id").GetString(), again.GetProperty("text").GetString()));
        Assert.Equal([("in", m2)], await HistoryAsync(bob, Alice));
    }

    [Fact]
    public async Task Send_ToAnUnknownUser_FromAnUnlinkedMachine_OrSignedOut_FailsWithOneClearLine()
    {
        var alice = await SignedUpAsync(Alice);
        var bob = await SignedUpAsync(Bob);
        Ok(await Chat(alice, "device", "link"));

        var unknown = await Chat(alice, "send", "nobody@example.org", "hello");
        var unlinkedRecipient = await Chat(alice, "send", Bob, "hello");
        var unlinkedSender = await Chat(bob, "send", Alice, "hello");
        var signedOut = await new VeilCli(_server.BaseAddress, NewDirectory()).RunAsync(["chat", "send", Alice, "hello", "--password-stdin"], StrongPassword + "\n");

        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("veil: no chat user nobody@example.org on this server (unknown address, or they have not linked a chat device yet)", unknown.Stderr.Trim());
        Assert.Equal(1, unlinkedRecipient.ExitCode);
        Assert.Contains("no chat user bob@example.org", unlinkedRecipient.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, unlinkedSender.ExitCode);
        Assert.Equal("veil: this machine is not a chat device of bob@example.org yet: run 'veil chat device link'", unlinkedSender.Stderr.Trim());
        Assert.Equal(1, signedOut.ExitCode);
        Assert.Contains("Not logged in", signedOut.Stderr, StringComparison.Ordinal);
        foreach (var failed in new[] { unknown, unlinkedRecipient, unlinkedSender, signedOut })
        {
            Assert.Single(failed.Stderr.Trim().Split('\n'));
        }
    }

    [Fact]
    public async Task AfterTheFirstExchange_SendsGoSealed_TheRelayStoresAndLogsNoSender_AndListenNamesTheSender()
    {
        var alice = await SignedUpAsync(Alice);
        var bob = await SignedUpAsync(Bob);
        Ok(await Chat(alice, "device", "link"));
        Ok(await Chat(bob, "device", "link"));
        var first = Ok(await Chat(alice, "send", Bob, Canary("m1"))).Event("sent");
        Ok(await Chat(bob, "listen", "--count", "1", "--timeout", "60s"));
        var logsBefore = _server.Logs.Entries.Count;

        // Bob learnt Alice's access key inside her message: his reply goes sealed on the anonymous socket.
        var r1 = Canary("r1");
        var reply = Ok(await Chat(bob, "send", Alice, r1)).Event("sent");
        var rows = await MailboxRowsAsync();
        var logged = string.Join("\n", _server.Logs.Entries.Skip(logsBefore));
        var received = Message(Ok(await Chat(alice, "listen", "--count", "1", "--timeout", "60s")));

        Assert.Equal((false, "no-access-key"), (first.GetProperty("sealed").GetBoolean(), first.GetProperty("fallback").GetString()));
        Assert.Equal((true, JsonValueKind.Null), (reply.GetProperty("sealed").GetBoolean(), reply.GetProperty("fallback").ValueKind));
        var row = Assert.Single(rows);
        Assert.Equal((true, null, null), (row.Sealed, row.SenderAccountId, row.SenderDeviceId));
        var bobAccount = await AccountIdAsync(bob);
        Assert.DoesNotContain(bobAccount.ToString("D"), logged, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(bobAccount.ToString("N"), logged, StringComparison.OrdinalIgnoreCase);
        Assert.Equal((r1, "in", Bob, true), (received.GetProperty("text").GetString(), received.GetProperty("direction").GetString(),
            received.GetProperty("peerEmail").GetString(), received.GetProperty("sealed").GetBoolean()));
    }

    [Fact]
    public async Task ADeviceTheRelayForged_IsRefused_AndChatAlarmsListsItWithExitCode1_UntilCleared()
    {
        var alice = await SignedUpAsync(Alice);
        var bob = await SignedUpAsync(Bob);
        Ok(await Chat(alice, "device", "link"));
        Ok(await Chat(bob, "device", "link"));
        Ok(await Chat(alice, "send", Bob, Canary("m1")));
        Ok(await Chat(bob, "listen", "--count", "1", "--timeout", "60s"));
        Assert.Equal(0, (await Chat(bob, "alarms")).ExitCode);

        // Alice's second machine links for real; then the relay swaps its certificate for one her account key never made.
        var alice2 = await SignedInAsync(Alice);
        Ok(await Chat(alice2, "device", "link"));
        var aliceAccount = await AccountIdAsync(alice);
        await using (var scope = _server.Services.CreateAsyncScope())
        {
            var type = typeof(Veil.Server.VeilServer).Assembly.GetType("Veil.Server.Platform.Persistence.VeilDbContext", throwOnError: true)!;
            var db = (DbContext)scope.ServiceProvider.GetRequiredService(type);
            await db.Database.ExecuteSqlAsync($"""UPDATE "ChatDevices" SET "Certificate" = {new byte[64]} WHERE "AccountId" = {aliceAccount} AND "DeviceId" = {2}""");
        }

        var forged = Canary("forged");
        Ok(await Chat(alice2, "send", Bob, forged));
        var listened = await Chat(bob, "listen", "--count", "1", "--timeout", "5s");
        var alarms = await Chat(bob, "alarms");
        var cleared = await Chat(bob, "alarms", "--clear");
        var after = await Chat(bob, "alarms");

        Assert.Contains("forged-device", listened.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(forged, listened.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, alarms.ExitCode);
        var alarm = Assert.Single(alarms.Json.Single().GetProperty("alarms").EnumerateArray());
        Assert.Equal((aliceAccount, 2), (alarm.GetProperty("account").GetGuid(), alarm.GetProperty("device").GetInt32()));
        Assert.Equal(0, cleared.ExitCode);
        Assert.Equal((0, 0), (after.ExitCode, after.Json.Single().GetProperty("alarms").GetArrayLength()));
    }

    private static async Task<Guid> AccountIdAsync(VeilCli cli) =>
        Ok(await cli.RunAsync(["account", "whoami", "--json"])).Json.Single().GetProperty("accountId").GetGuid();

    // The relay's waiting rows, read with SQL through the server's own DbContext (an internal type of Veil.Server).
    private async Task<List<SealedRow>> MailboxRowsAsync()
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var type = typeof(Veil.Server.VeilServer).Assembly.GetType("Veil.Server.Platform.Persistence.VeilDbContext", throwOnError: true)!;
        var db = (DbContext)scope.ServiceProvider.GetRequiredService(type);
        return await db.Database.SqlQuery<SealedRow>($"""SELECT "SenderAccountId", "SenderDeviceId", "Sealed" FROM "ChatMailbox" """).ToListAsync();
    }

    private static Task<CliResult> Chat(VeilCli cli, params string[] args) =>
        cli.RunAsync(["chat", .. args, "--json", "--password-stdin"], StrongPassword + "\n");

    private static JsonElement Message(CliResult result) => result.Event("message");

    private static async Task<List<(string, string)>> HistoryAsync(VeilCli cli, string peer) =>
        [.. Ok(await Chat(cli, "history", peer)).Json.Single().GetProperty("messages").EnumerateArray()
            .Select(m => (m.GetProperty("direction").GetString()!, m.GetProperty("text").GetString()!))];

    private async Task<VeilCli> SignedUpAsync(string email)
    {
        var cli = new VeilCli(_server.BaseAddress, NewDirectory());
        await cli.SignUpAsync(_server, email);
        return cli;
    }

    private async Task<VeilCli> SignedInAsync(string email)
    {
        var cli = new VeilCli(_server.BaseAddress, NewDirectory());
        Ok(await cli.RunAsync(["account", "login", "--email", email, "--password-stdin"], StrongPassword + "\n"));
        return cli;
    }

    private string NewDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("veil-chat-cli-").FullName;
        _directories.Add(directory);
        return directory;
    }

    private static string Canary(string label) => $"CANARY-{label}-{Guid.NewGuid():N}";
}

/// <summary>What the relay stored about a waiting row's sender.</summary>
internal sealed class SealedRow
{
    public Guid? SenderAccountId { get; set; }

    public int? SenderDeviceId { get; set; }

    public bool Sealed { get; set; }
}
