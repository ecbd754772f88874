// Backups end to end (issue 24 points 1 and 2, spec/backup.md) on the database VEIL_TEST_DATABASE chooses: a server with
// data in every module is backed up, the backup holds no plaintext canary and no server key, and a restore into a fresh
// installation (new data directory, new empty database, the same server keys from configuration) serves it all again:
// the user signs in, the vault item and file read back, the drop downloads byte-identical, the mailbox message is
// there, the chat device (and its account key) is still registered, the alias forwards through SMTP. A flipped byte or a cut file is refused by verify and restore with one line
// and leaves the target as it was; a target that is not empty is refused by name.
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Veil.Crypto.Backup;
using Veil.Crypto.Chat;
using Veil.Crypto.Keys;
using Veil.Crypto.OpenPgp;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Alias;
using Veil.Server.Platform.Backup;
using Veil.Server.Tests.Alias;
using Veil.Server.Tests.Chat;
using Veil.Server.Tests.Drop;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Veil.Server.Tests.Vault;

namespace Veil.Server.Tests.Backup;

public sealed class BackupRestoreTests : IDisposable
{
    private const string MailDomain = "mail.example";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "veil-backup-test-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, byte[]> _keys = Veil.Server.Platform.Keys.ServerKeys.Names.ToDictionary(n => n, _ => RandomNumberGenerator.GetBytes(32));
    private readonly BackupIdentity _identity = BackupIdentity.Generate();

    public BackupRestoreTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        _identity.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private void Configure(VeilTestServerOptions o)
    {
        foreach (var (name, key) in _keys)
        {
            o.Settings[$"Veil:Keys:{name}"] = Convert.ToBase64String(key);
        }

        o.Settings["Veil:Mail:Domains:0"] = MailDomain;
    }

    private Keyring Keyring()
    {
        var builder = new KeyringBuilder();
        foreach (var (name, key) in _keys)
        {
            builder.Add(name, 1, key);
        }

        return builder.Build();
    }

    [Fact]
    public async Task BackupOfEveryModule_RestoredIntoAFreshInstallation_ServesItAllAgain_AndHoldsNoCanary()
    {
        var file = Path.Combine(_root, "veil.vbk");
        var canaries = new List<string> { "me-canary@mailbox.test" };
        var dropPlaintext = Encoding.UTF8.GetBytes("drop canary plaintext " + Guid.NewGuid());
        canaries.Add(Encoding.UTF8.GetString(dropPlaintext));
        var vaultFile = RandomNumberGenerator.GetBytes(50_000);
        var mailBody = "mailbox canary body " + Guid.NewGuid();
        canaries.Add(mailBody);
        TestUser user;
        string aliasAddress, vaultItemPath, vaultFilePath, messageId;
        JsonElement vaultItem;
        CreatedDrop drop;
        DropCiphertext dropCiphertext;
        byte[] sealedMessage;
        ChatAccountKey chatAccountKey;

        await using (var h = await AliasHarness.StartAsync(Configure))
        {
            var server = h.Server;
            (user, _) = await h.UserWithRecipientAsync("me-canary@mailbox.test");
            canaries.Add(user.Email);
            aliasAddress = (await h.CreateAliasAsync(user)).GetProperty("address").GetString()!;

            var vault = await server.CreateVaultAsync(user, "Family");
            var itemId = await server.PutItemAsync(user, vault, "Bank", "PIN under the plant");
            vaultItemPath = $"{VaultKit.Base}/{vault.Id}/items/{itemId}";
            var fileId = VaultKit.NewId();
            using (var upload = await server.PutFileAsync(user, vault, itemId, fileId, vaultFile))
            {
                Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
            }

            vaultFilePath = $"{vaultItemPath}/files/{fileId}";
            vaultItem = await h.GetAsync(user, vaultItemPath);

            (drop, dropCiphertext) = await new DropApi(server.Client).ShareAsync(dropPlaintext);

            chatAccountKey = ChatAccountKey.Generate();
            await server.AddDeviceAsync(new ChatUser(user, chatAccountKey), 1);

            var box = "box@" + MailDomain;
            using (var added = await server.PostAsync("/api/v1/mail/addresses", new { address = box, publicKey = OpenPgpKeys.Generate("<" + box + ">", DateTimeOffset.UtcNow).PublicKey.ToArmored(), wrappedToken = "v1.dG9rZW4", wrappedPrivateKey = "v1.a2V5" }, user.AccessToken))
            {
                Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            }

            var raw = Encoding.ASCII.GetBytes($"Subject: backup\r\nMessage-ID: <backup@sender.test>\r\n\r\n{mailBody}\r\n");
            var spooled = new SpooledMessage(SpoolId.New(), new SmtpEnvelope("a@sender.test", [box], false, false, server.Time.GetUtcNow()), raw.Length);
            Assert.Equal(SinkResult.Done, await server.Services.GetRequiredService<IMessageSink>().ProcessAsync(spooled, new MemoryStream(raw), CancellationToken.None));
            messageId = (await h.GetAsync(user, "/api/v1/mail/messages"))[0].GetProperty("id").GetString()!;
            sealedMessage = await GetBytesAsync(server, user, $"/api/v1/mail/messages/{messageId}/sealed");

            await using var scope = server.Services.CreateAsyncScope();
            var outcome = await scope.ServiceProvider.GetRequiredService<BackupAdmin>().CreateAsync(file, [_identity.Recipient], null, CancellationToken.None);
            Assert.True(outcome.Error is null, outcome.Error);
            Assert.True(outcome.Summary!.Entries >= 4, $"{outcome.Summary.Entries} entries");
        }

        // The file alone is ciphertext: no canary, no server key in any encoding.
        var text = Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file));
        foreach (var canary in canaries.Concat(_keys.Values.Select(Convert.ToBase64String)).Concat(_keys.Values.Select(k => Encoding.Latin1.GetString(k))))
        {
            Assert.DoesNotContain(canary, text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("SQLite format", text, StringComparison.Ordinal);
        Assert.DoesNotContain("PGDMP", text, StringComparison.Ordinal);

        var verified = await BackupRestore.VerifyAsync(file, _identity, null, CancellationToken.None);
        Assert.True(verified.Error is null, verified.Error);

        // A fresh installation: new data directory, new empty database, the same keys.
        var target = Path.Combine(_root, "restored");
        var database = await TestDatabase.CreateAsync(CancellationToken.None);
        using (var keyring = Keyring())
        {
            Assert.Null(await BackupRestore.TargetProblemAsync(target, database.ConnectionString, CancellationToken.None));
            var restored = await BackupRestore.RestoreAsync(file, _identity, target, database.ConnectionString, keyring, null, null, CancellationToken.None);
            Assert.True(restored.Error is null, restored.Error);
        }

        await using var again = await AliasHarness.StartAsync(o =>
        {
            Configure(o);
            o.DataDirectory = target;
            o.Database = database;
        });
        var fresh = again.Server;

        var tokens = await fresh.LoginAsync(user.Email, user.AuthToken);
        user = user.With(tokens);
        Assert.Equal(vaultItem.GetRawText(), (await again.GetAsync(user, vaultItemPath)).GetRawText());
        Assert.Equal(vaultFile, await GetBytesAsync(fresh, user, vaultFilePath));

        using (var content = await new DropApi(fresh.Client).ContentAsync(drop.Id))
        {
            Assert.Equal(HttpStatusCode.OK, content.StatusCode);
            Assert.Equal(dropCiphertext.Content, await content.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(sealedMessage, await GetBytesAsync(fresh, user, $"/api/v1/mail/messages/{messageId}/sealed"));
        var chatDevices = await fresh.DeviceIdsAsync(new ChatUser(user, chatAccountKey));
        Assert.Equal(1, Assert.Single(chatDevices));

        var (exit, output) = await again.SwaksAsync("bounces@sender.test", aliasAddress, AliasForwardingTests.Message(aliasAddress, "After the restore"));
        Assert.True(exit == 0, output);
        var forwarded = await again.Sink.WaitForAsync(m => m.RcptTos.Contains("me-canary@mailbox.test"));
        Assert.Equal("After the restore", forwarded.Header("Subject"));
    }

    [Fact]
    public async Task TamperedOrTruncatedBackup_IsRefusedByVerifyAndRestore_AndTheTargetStaysEmpty()
    {
        var file = Path.Combine(_root, "whole.vbk");
        await using (var server = await VeilTestServer.StartAsync(Configure))
        {
            var user = await server.RegisterUserAsync();
            var vault = await server.CreateVaultAsync(user);
            var itemId = await server.PutItemAsync(user, vault, "Bank", "notes");
            using (var upload = await server.PutFileAsync(user, vault, itemId, VaultKit.NewId(), RandomNumberGenerator.GetBytes(200_000)))
            {
                Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
            }

            await using var scope = server.Services.CreateAsyncScope();
            var outcome = await scope.ServiceProvider.GetRequiredService<BackupAdmin>().CreateAsync(file, [_identity.Recipient], null, CancellationToken.None);
            Assert.True(outcome.Error is null, outcome.Error);
        }

        var bytes = await File.ReadAllBytesAsync(file);
        var flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x01;
        var damaged = new Dictionary<string, byte[]>
        {
            ["flipped"] = flipped,
            ["truncated"] = bytes[..(bytes.Length - 1000)],
            ["cut-at-a-chunk"] = bytes[..(bytes.Length - (bytes.Length - 200) % 16_400)],
            ["header-flipped"] = FlipAt(bytes, 20),
        };
        using var keyring = Keyring();
        foreach (var (name, content) in damaged)
        {
            var path = Path.Combine(_root, name + ".vbk");
            await File.WriteAllBytesAsync(path, content);

            var verified = await BackupRestore.VerifyAsync(path, _identity, null, CancellationToken.None);
            Assert.True(verified.Error is not null, name);
            Assert.DoesNotContain('\n', verified.Error!);

            var target = Path.Combine(_root, "target-" + name);
            var database = await TestDatabase.CreateAsync(CancellationToken.None);
            await using (database)
            {
                var restored = await BackupRestore.RestoreAsync(path, _identity, target, database.ConnectionString, keyring, null, null, CancellationToken.None);
                Assert.True(restored.Error is not null, name);
                Assert.DoesNotContain('\n', restored.Error!);
                Assert.False(Directory.Exists(target), $"{name}: the target data directory was left behind");
                Assert.Null(await BackupRestore.TargetProblemAsync(target, database.ConnectionString, CancellationToken.None));
            }
        }

        // The whole file still verifies; another identity cannot open it.
        Assert.Null((await BackupRestore.VerifyAsync(file, _identity, null, CancellationToken.None)).Error);
        using var stranger = BackupIdentity.Generate();
        Assert.Contains("not written for this identity", (await BackupRestore.VerifyAsync(file, stranger, null, CancellationToken.None)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_IntoANonEmptyTarget_IsRefusedNamingWhatIsThere_AndWithOtherKeys_ChangesNothing()
    {
        var file = Path.Combine(_root, "b.vbk");
        await using var server = await VeilTestServer.StartAsync(Configure);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            Assert.Null((await scope.ServiceProvider.GetRequiredService<BackupAdmin>().CreateAsync(file, [_identity.Recipient], null, CancellationToken.None)).Error);
        }

        var connection = server.PostgresConnection();
        var problem = await BackupRestore.TargetProblemAsync(server.DataDirectory, connection, CancellationToken.None);
        Assert.NotNull(problem);
        Assert.Contains($"the data directory {server.DataDirectory} is not empty (", problem, StringComparison.Ordinal);

        if (connection is not null)
        {
            var problemInDatabase = await BackupRestore.TargetProblemAsync(Path.Combine(_root, "empty"), connection, CancellationToken.None);
            Assert.Contains("is not empty", problemInDatabase, StringComparison.Ordinal);
            Assert.Contains("(public.", problemInDatabase, StringComparison.Ordinal);
        }

        var other = new KeyringBuilder();
        foreach (var name in _keys.Keys)
        {
            other.Add(name, 1, RandomNumberGenerator.GetBytes(32));
        }

        using var otherKeys = other.Build();
        var target = Path.Combine(_root, "other-keys");
        var database = await TestDatabase.CreateAsync(CancellationToken.None);
        await using (database)
        {
            var restored = await BackupRestore.RestoreAsync(file, _identity, target, database.ConnectionString, otherKeys, null, null, CancellationToken.None);
            Assert.Contains("field v1 different", restored.Error, StringComparison.Ordinal);
            Assert.False(Directory.Exists(target));
            Assert.Null(await BackupRestore.TargetProblemAsync(target, database.ConnectionString, CancellationToken.None));
        }
    }

    private static byte[] FlipAt(byte[] bytes, int index)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] ^= 0x80;
        return copy;
    }

    private static async Task<byte[]> GetBytesAsync(VeilTestServer server, TestUser user, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        using var response = await server.Client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadAsByteArrayAsync();
    }
}
