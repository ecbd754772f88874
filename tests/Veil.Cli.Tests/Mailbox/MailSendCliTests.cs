using System.Globalization;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Veil.Client.Mailbox;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server;
using Veil.Server.Tests.Kit;
using static Veil.Cli.Tests.CliAccounts;

namespace Veil.Cli.Tests.Mailbox;

/// <summary>
/// Issue 17, points 4 and 6 (confidential half) through the real pieces: the in-process server (manual clock) whose
/// outbound queue delivers to a real SMTP sink on loopback (Veil's own engine accepting everything into a file spool,
/// as in AliasCliTests), and three users, each a `veil` child process with its own config and address. Alice and Bob
/// exchange mail; Carol is the third user who must not read it.
/// </summary>
[Collection(AccountVerbsTestGroup.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class MailSendCliTests : IClassFixture<MailSendCliTests.World>
{
    private const string Domain = "mail.example";
    private readonly World _world;

    public MailSendCliTests(World world)
    {
        _world = world;
    }

    private VeilTestServer Server => _world.Server;

    [Fact]
    public async Task EndToEnd_AliceAndBobExchangeMail_BothReadIt_CarolCannot_AndNoCanaryIsStoredAnywhere()
    {
        var canaries = new Canaries();
        var attachment = Path.Combine(_world.Directory, canaries.FileName);
        await File.WriteAllBytesAsync(attachment, canaries.AttachmentBytes);

        var sent = Ok(await _world.Alice.RunAsync(
            ["mail", "send", "--to", _world.BobAddress, "--subject", canaries.Subject, "--body", "Hello, " + canaries.Body, "--attach", attachment, "--json", "--password-stdin"],
            StrongPassword + "\n")).Event("mail-sent");
        Assert.Equal([_world.BobAddress], sent.GetProperty("veilRecipients").EnumerateArray().Select(e => e.GetString()));
        Assert.Empty(sent.GetProperty("outsiders").EnumerateArray());
        var sentId = sent.GetProperty("sentId").GetString()!;

        // Bob: listed with the decrypted summary, read whole, the signature checked against Alice's published key.
        var inbox = await ListAsync(_world.Bob, sent: false);
        var received = inbox.Single(m => Subject(m) == canaries.Subject);
        Assert.Equal(_world.AliceAddress, received.GetProperty("summary").GetProperty("from").GetString());
        var receivedId = received.GetProperty("id").GetString()!;
        var saveTo = Path.Combine(_world.Directory, "bob-" + Hex(4));
        var read = Ok(await _world.Bob.RunAsync(["mail", "read", receivedId, "--save-attachments", saveTo, "--password-stdin"], StrongPassword + "\n"));
        Assert.Contains(canaries.Subject, read.Stdout, StringComparison.Ordinal);
        Assert.Contains(canaries.Body, read.Stdout, StringComparison.Ordinal);
        Assert.Contains("Signature: valid", read.Stdout, StringComparison.Ordinal);
        Assert.Equal(canaries.AttachmentBytes, await File.ReadAllBytesAsync(Path.Combine(saveTo, canaries.FileName)));

        // Alice: her own copy in Sent, readable with her key.
        var sentList = await ListAsync(_world.Alice, sent: true);
        var own = sentList.Single(m => m.GetProperty("id").GetString() == sentId);
        Assert.Equal(canaries.Subject, Subject(own));
        Assert.Contains(canaries.Body, Ok(await _world.Alice.RunAsync(["mail", "read", sentId, "--password-stdin"], StrongPassword + "\n")).Stdout, StringComparison.Ordinal);

        // Bob answers; Alice reads the answer.
        var reply = "re-" + canaries.Subject;
        Ok(await _world.Bob.RunAsync(["mail", "send", "--to", _world.AliceAddress, "--subject", reply, "--body", "Thanks " + canaries.Body, "--password-stdin"], StrongPassword + "\n"));
        var answer = (await ListAsync(_world.Alice, sent: false)).Single(m => Subject(m) == reply);
        Assert.Contains("Thanks " + canaries.Body,
            Ok(await _world.Alice.RunAsync(["mail", "read", answer.GetProperty("id").GetString()!, "--password-stdin"], StrongPassword + "\n")).Stdout, StringComparison.Ordinal);

        // Carol: the API answers both copies as missing, and her key opens neither stored blob.
        foreach (var id in new[] { receivedId, sentId })
        {
            var refused = await _world.Carol.RunAsync(["mail", "read", id, "--password-stdin"], StrongPassword + "\n");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("message-not-found", refused.Stderr, StringComparison.Ordinal);
            var blob = SealedBlob(id);
            await using var stream = File.OpenRead(blob);
            Assert.Throws<MailboxKeyException>(() => AddressKeys.Decrypt(_world.CarolKeyRing, stream, DateTimeOffset.UtcNow));
        }

        // The audit: nothing the server stored or logged holds the subject, the body or the attachment name.
        var stored = await AllStoredTextAsync();
        foreach (var canary in canaries.All)
        {
            Assert.DoesNotContain(canary, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(canary, Server.Logs.AllText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task MixedRecipients_TheOutsiderGetsSmtpMailAtTheSink_AndTheVeilCopyIsSealed()
    {
        var subject = "mixed-subject-" + Hex(6);
        var body = "mixed-body-" + Hex(6);
        var outsider = "friend." + Hex(3) + "@elsewhere.test";
        var sent = Ok(await _world.Alice.RunAsync(
            ["mail", "send", "--to", _world.BobAddress, "--to", outsider, "--subject", subject, "--body", body, "--json", "--password-stdin"], StrongPassword + "\n")).Event("mail-sent");
        Assert.Equal([outsider], sent.GetProperty("outsiders").EnumerateArray().Select(e => e.GetString()));

        var (envelope, text) = await _world.SunkAsync(outsider);
        Assert.Equal(_world.AliceAddress, envelope.ReversePath);
        Assert.Equal([outsider], envelope.Recipients.Select(r => r.ToString()));
        Assert.Contains("Subject: " + subject, text, StringComparison.Ordinal);
        Assert.Contains(body, text, StringComparison.Ordinal);
        Assert.Contains("From: " + _world.AliceAddress, text, StringComparison.Ordinal);

        // Bob's copy: an OpenPGP message that holds neither subject nor body in clear, and that Bob reads.
        var copy = (await ListAsync(_world.Bob, sent: false)).Single(m => Subject(m) == subject);
        var id = copy.GetProperty("id").GetString()!;
        var sealedText = Encoding.Latin1.GetString(await File.ReadAllBytesAsync(SealedBlob(id)));
        Assert.DoesNotContain(subject, sealedText, StringComparison.Ordinal);
        Assert.DoesNotContain(body, sealedText, StringComparison.Ordinal);
        Assert.Contains(body, Ok(await _world.Bob.RunAsync(["mail", "read", id, "--password-stdin"], StrongPassword + "\n")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownAddressAtAVeilDomain_IsAClearError_AndNothingIsStoredOrSent()
    {
        var subject = "nobody-" + Hex(6);
        var nobody = "nobody." + Hex(4) + "@" + Domain;
        var before = BlobCount();
        var result = await _world.Alice.RunAsync(["mail", "send", "--to", _world.BobAddress, "--to", nobody, "--subject", subject, "--body", "x", "--password-stdin"], StrongPassword + "\n");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(nobody + " is not a Veil address", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, BlobCount());
        Assert.DoesNotContain(await ListAsync(_world.Alice, sent: true), m => Subject(m) == subject);
        Assert.DoesNotContain(await ListAsync(_world.Bob, sent: false), m => Subject(m) == subject);
    }

    [Fact]
    public async Task Confidential_ToAnOutsider_IsRefusedBeforeAnythingIsSent()
    {
        var result = await _world.Alice.RunAsync(
            ["mail", "send", "--to", "someone@elsewhere.test", "--subject", "c", "--body", "c", "--expires", "1d", "--password-stdin"], StrongPassword + "\n");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("only between Veil users", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confidential_MaxViews_TheCopyIsReadableTwice_ThenGoneForGood_AndATombstoneIsListed()
    {
        var subject = "views-" + Hex(6);
        Ok(await _world.Alice.RunAsync(["mail", "send", "--to", _world.BobAddress, "--subject", subject, "--body", "twice only", "--max-views", "2", "--password-stdin"], StrongPassword + "\n"));
        var copy = (await ListAsync(_world.Bob, sent: false)).Single(m => Subject(m) == subject);
        var id = copy.GetProperty("id").GetString()!;
        Assert.Equal(2, copy.GetProperty("maxViews").GetInt32());

        Assert.Contains("twice only", Ok(await _world.Bob.RunAsync(["mail", "read", id, "--password-stdin"], StrongPassword + "\n")).Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(SealedBlob(id)));
        Assert.Contains("twice only", Ok(await _world.Bob.RunAsync(["mail", "read", id, "--password-stdin"], StrongPassword + "\n")).Stdout, StringComparison.Ordinal);
        Assert.Null(FindBlob(id)); // the second view was the last: destroyed as it was answered

        var third = await _world.Bob.RunAsync(["mail", "read", id, "--password-stdin"], StrongPassword + "\n");
        Assert.Equal(1, third.ExitCode);
        Assert.Contains("view limit reached", third.Stderr, StringComparison.OrdinalIgnoreCase);
        var tombstone = (await ListAsync(_world.Bob, sent: false)).Single(m => m.GetProperty("id").GetString() == id);
        Assert.Equal("view-limit-reached", tombstone.GetProperty("gone").GetString());
        Assert.Equal(JsonValueKind.Null, tombstone.GetProperty("summary").ValueKind);
        Assert.Equal(_world.AliceAddress, tombstone.GetProperty("envelopeFrom").GetString()); // the envelope stays
        Assert.Contains("(view limit reached)", Ok(await _world.Bob.RunAsync(["mail", "list", "--password-stdin"], StrongPassword + "\n")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confidential_Expires_TheJobDestroysEveryCopyOnTheInjectedClock_AndReadingSaysExpired()
    {
        var subject = "expires-" + Hex(6);
        var sentId = Ok(await _world.Alice.RunAsync(
            ["mail", "send", "--to", _world.BobAddress, "--subject", subject, "--body", "for a day", "--expires", "1d", "--json", "--password-stdin"], StrongPassword + "\n"))
            .Event("mail-sent").GetProperty("sentId").GetString()!;
        var id = (await ListAsync(_world.Bob, sent: false)).Single(m => Subject(m) == subject).GetProperty("id").GetString()!;

        await RunJobAsync();
        Assert.True(File.Exists(SealedBlob(id)), "not due yet: the job must leave it");

        Server.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        await RunJobAsync();
        Assert.Null(FindBlob(id));
        Assert.Null(FindBlob(sentId));
        await RunJobAsync(); // idempotent: a second run finds nothing to do and changes nothing

        var read = await _world.Bob.RunAsync(["mail", "read", id, "--password-stdin"], StrongPassword + "\n");
        Assert.Equal(1, read.ExitCode);
        Assert.Contains("expired", read.Stderr, StringComparison.Ordinal);
        Assert.Equal("expired", (await ListAsync(_world.Bob, sent: false)).Single(m => m.GetProperty("id").GetString() == id).GetProperty("gone").GetString());
        Assert.Equal("expired", (await ListAsync(_world.Alice, sent: true)).Single(m => m.GetProperty("id").GetString() == sentId).GetProperty("gone").GetString());
        Assert.Contains("(expired)", Ok(await _world.Bob.RunAsync(["mail", "list", "--password-stdin"], StrongPassword + "\n")).Stdout, StringComparison.Ordinal);
    }

    private static string? Subject(JsonElement message) =>
        message.GetProperty("summary") is { ValueKind: JsonValueKind.Object } summary ? summary.GetProperty("subject").GetString() : null;

    private static async Task<IReadOnlyList<JsonElement>> ListAsync(VeilCli cli, bool sent)
    {
        string[] args = sent ? ["mail", "list", "--sent", "--json", "--password-stdin"] : ["mail", "list", "--json", "--password-stdin"];
        return [.. Ok(await cli.RunAsync(args, StrongPassword + "\n")).Json.Single().GetProperty("messages").EnumerateArray()];
    }

    private async Task RunJobAsync()
    {
        // The job runner is internal to the server; the kit reaches it the way an operator command would (as VaultCliTests does).
        var runnerType = typeof(VeilServer).Assembly.GetType("Veil.Server.Platform.Jobs.PeriodicJobRunner", throwOnError: true)!;
        var runner = Server.Services.GetService(runnerType)!;
        var ran = (Task<bool>)runnerType.GetMethod("RunNowAsync", BindingFlags.Public | BindingFlags.Instance)!.Invoke(runner, ["mail-confidential", CancellationToken.None])!;
        Assert.True(await ran);
    }

    private string? FindBlob(string id)
    {
        var root = Path.Combine(Server.DataDirectory, "blobs", "mail");
        var folder = Guid.Parse(id).ToString("N");
        return Directory.Exists(root)
            ? Directory.GetFiles(root, "sealed", SearchOption.AllDirectories).SingleOrDefault(f => f.Contains(folder, StringComparison.Ordinal))
            : null;
    }

    private string SealedBlob(string id) => FindBlob(id) ?? throw new InvalidOperationException("no stored blob for " + id);

    private int BlobCount()
    {
        var root = Path.Combine(Server.DataDirectory, "blobs", "mail");
        return Directory.Exists(root) ? Directory.GetFiles(root, "*", SearchOption.AllDirectories).Length : 0;
    }

    /// <summary>Every file under the data directory (Latin-1 text), plus the PostgreSQL dump when the server uses it.</summary>
    private async Task<string> AllStoredTextAsync()
    {
        var text = new StringBuilder();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(Server.DataDirectory, "*", SearchOption.AllDirectories))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            text.Append(Encoding.Latin1.GetString(copy.ToArray())).Append('\n');
        }

        if (Server.Database == "postgres")
        {
            text.Append(await StoredData.ReadAsync(Server));
        }

        return text.ToString();
    }

    private static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();

    /// <summary>A subject, a body and an attachment name, each a unique canary.</summary>
    private sealed class Canaries
    {
        public string Subject { get; } = "canary-subject-" + Hex(6);

        public string Body { get; } = "canary-body-" + Hex(6);

        public string FileName { get; } = "canary-file-" + Hex(6) + ".pdf";

        public byte[] AttachmentBytes { get; } = Encoding.ASCII.GetBytes("%PDF-1.4 canary-attachment-" + Hex(6));

        public IEnumerable<string> All => [Subject, Body, FileName];
    }

    /// <summary>One server, its SMTP sink, and three signed-up users with one address each (made once for the class).</summary>
    public sealed class World : IAsyncLifetime
    {
        private FileSpool _sink = null!;
        private SmtpListener _listener = null!;

        public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("veil-mail-send-").FullName;

        public VeilTestServer Server { get; private set; } = null!;

        internal VeilCli Alice { get; private set; } = null!;

        internal VeilCli Bob { get; private set; } = null!;

        internal VeilCli Carol { get; private set; } = null!;

        public string AliceAddress { get; } = "alice." + Hex(3) + "@" + Domain;

        public string BobAddress { get; } = "bob." + Hex(3) + "@" + Domain;

        public byte[] CarolKeyRing { get; private set; } = [];

        public async Task InitializeAsync()
        {
            _sink = new FileSpool(Path.Combine(Directory, "sink"));
            _listener = new SmtpServer(new SmtpServerOptions(), new AcceptAll(), _sink, TimeProvider.System).Listen(new IPEndPoint(IPAddress.Loopback, 0));
            Server = await VeilTestServer.StartAsync(o =>
            {
                o.Settings["Veil:Mail:Domains:0"] = Domain;
                o.Settings["Veil:Mail:Smarthost"] = "127.0.0.1:" + _listener.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture);
                o.Settings["Veil:Mail:SmarthostTls"] = "None";
            });
            Alice = await UserAsync("alice", AliceAddress);
            Bob = await UserAsync("bob", BobAddress);
            var carolAddress = "carol." + Hex(3) + "@" + Domain;
            Carol = await UserAsync("carol", carolAddress);
            var keyFile = Path.Combine(Directory, "carol.asc");
            Ok(await Carol.RunAsync(["mail", "key", "export", carolAddress, "-o", keyFile, "--password-stdin"], StrongPassword + "\n"));
            CarolKeyRing = AddressKeys.Import(await File.ReadAllBytesAsync(keyFile), null);
        }

        public async Task DisposeAsync()
        {
            await Server.DisposeAsync();
            await _listener.DisposeAsync();
            System.IO.Directory.Delete(Directory, recursive: true);
        }

        /// <summary>The message the sink received for <paramref name="to"/> (polling with a deadline: the queue delivers on its own task).</summary>
        public async Task<(SmtpEnvelope Envelope, string Text)> SunkAsync(string to)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (true)
            {
                foreach (var message in await _sink.PendingAsync(deadline.Token))
                {
                    if (message.Envelope.Recipients.Any(r => r.ToString().Equals(to, StringComparison.OrdinalIgnoreCase)))
                    {
                        using var reader = new StreamReader(_sink.OpenContent(message.Id), Encoding.UTF8);
                        return (message.Envelope, await reader.ReadToEndAsync());
                    }
                }

                await Task.Delay(100, deadline.Token);
            }
        }

        private async Task<VeilCli> UserAsync(string name, string address)
        {
            var cli = new VeilCli(Server.BaseAddress, Path.Combine(Directory, name));
            var email = name + "." + Hex(3) + "@example.org";
            Ok(await cli.RunAsync(["account", "register", "--email", email, "--password-stdin"], StrongPassword + "\n"));
            Ok(await cli.RunAsync(["account", "verify", await LinkAsync(email)]));
            Ok(await cli.RunAsync(["account", "login", "--email", email, "--password-stdin"], StrongPassword + "\n"));
            Ok(await cli.RunAsync(["mail", "address", "add", address, "--password-stdin"], StrongPassword + "\n"));
            return cli;
        }

        private async Task<string> LinkAsync(string to)
        {
            var (_, raw) = await SunkAsync(to);
            var mail = OutboxMail.Parse("sink", raw);
            var text = mail.TextBody + "\n" + raw.Replace("=\r\n", "", StringComparison.Ordinal);
            return LinkPattern().Matches(text).Select(m => m.Value).Last(l => l.Contains("/verify-email#", StringComparison.Ordinal));
        }
    }

    private sealed class AcceptAll : IRecipientResolver
    {
        public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken) => ValueTask.FromResult(RecipientDecision.Accept);
    }
}
