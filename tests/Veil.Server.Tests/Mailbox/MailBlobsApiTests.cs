using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.OpenPgp;
using Veil.Crypto.Streams;
using Veil.Server.Mailbox;
using Microsoft.EntityFrameworkCore;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mailbox;

/// <summary>
/// The search index and large-attachment blobs at the HTTP contract (spec/mailbox-api.md "Search index", "Large
/// attachments"): versions by compare-and-set, the preconditions and the quota; attachment blobs readable only
/// through a copy that references them, released with the last copy and purged when no send claimed them. The
/// journeys through `veil` (search, 20 MiB attachments, tampering) are MailBlobsCliTests.
/// </summary>
public sealed class MailBlobsApiTests : IAsyncLifetime
{
    private const string Domain = "mail.example";
    private const int IndexQuota = 4096;
    private VeilTestServer _server = null!;

    public async Task InitializeAsync() => _server = await VeilTestServer.StartAsync(o =>
    {
        o.Settings["Veil:Mail:Domains:0"] = Domain;
        o.Settings["Veil:Mail:SearchIndexMaxBytes"] = IndexQuota.ToString(System.Globalization.CultureInfo.InvariantCulture);
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task SearchIndex_CreateThenReplace_VersionsAdvance_AndGetReturnsTheLatestBytes()
    {
        var user = await _server.RegisterUserAsync();
        using (var missing = await SendAsync(user, HttpMethod.Get, "/api/v1/mail/search-index"))
        {
            Assert.Equal((HttpStatusCode.NotFound, "search-index-not-found"), (missing.StatusCode, await CodeAsync(missing)));
        }

        using (var created = await PutIndexAsync(user, SealedLike(100), ifMatch: null))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            Assert.Equal("\"1\"", created.Headers.ETag?.Tag);
        }

        var second = SealedLike(200);
        using (var replaced = await PutIndexAsync(user, second, ifMatch: "\"1\""))
        {
            Assert.Equal("\"2\"", replaced.Headers.ETag?.Tag);
        }

        using var fetched = await SendAsync(user, HttpMethod.Get, "/api/v1/mail/search-index");
        Assert.Equal("\"2\"", fetched.Headers.ETag?.Tag);
        Assert.Equal(second, await fetched.Content.ReadAsByteArrayAsync());
        Assert.Single(Directory.GetFiles(Path.Combine(_server.DataDirectory, "blobs", "mail", user.AccountId.ToString("N"), "search"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task SearchIndex_TwoWritersOnOneVersion_ExactlyOneWins_TheOtherGets412()
    {
        var user = await _server.RegisterUserAsync();
        (await PutIndexAsync(user, SealedLike(64), ifMatch: null)).Dispose();

        var a = SealedLike(300);
        var b = SealedLike(301);
        var answers = await Task.WhenAll(PutIndexAsync(user, a, "\"1\""), PutIndexAsync(user, b, "\"1\""));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed], answers.Select(r => r.StatusCode).Order());
        var loser = answers.Single(r => r.StatusCode == HttpStatusCode.PreconditionFailed);
        Assert.Equal("search-index-changed", await CodeAsync(loser));
        var winner = answers.Single(r => r.StatusCode == HttpStatusCode.OK);
        using var fetched = await SendAsync(user, HttpMethod.Get, "/api/v1/mail/search-index");
        Assert.Equal("\"2\"", fetched.Headers.ETag?.Tag);
        Assert.Equal(winner == answers[0] ? a : b, await fetched.Content.ReadAsByteArrayAsync());
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task SearchIndex_CreateWhenOneExists_Is412_AndAStaleIfMatchIs412()
    {
        var user = await _server.RegisterUserAsync();
        (await PutIndexAsync(user, SealedLike(64), ifMatch: null)).Dispose();

        using var again = await PutIndexAsync(user, SealedLike(64), ifMatch: null);
        using var stale = await PutIndexAsync(user, SealedLike(64), ifMatch: "\"7\"");

        Assert.Equal((HttpStatusCode.PreconditionFailed, "search-index-changed"), (again.StatusCode, await CodeAsync(again)));
        Assert.Equal((HttpStatusCode.PreconditionFailed, "search-index-changed"), (stale.StatusCode, await CodeAsync(stale)));
    }

    [Fact]
    public async Task SearchIndex_WithoutAPrecondition_Is428_AndNothingIsStored()
    {
        var user = await _server.RegisterUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/mail/search-index") { Content = new ByteArrayContent(SealedLike(64)) };

        using var response = await SendAsync(user, request);

        Assert.Equal((HttpStatusCode.PreconditionRequired, "search-index-precondition-required"), (response.StatusCode, await CodeAsync(response)));
        using var missing = await SendAsync(user, HttpMethod.Get, "/api/v1/mail/search-index");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task SearchIndex_AboveTheQuota_Is413_AndThePreviousVersionStays()
    {
        var user = await _server.RegisterUserAsync();
        var kept = SealedLike(IndexQuota);
        (await PutIndexAsync(user, kept, ifMatch: null)).Dispose();

        using var response = await PutIndexAsync(user, SealedLike(IndexQuota + 1), ifMatch: "\"1\"");

        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "search-index-too-large"), (response.StatusCode, await CodeAsync(response)));
        using var fetched = await SendAsync(user, HttpMethod.Get, "/api/v1/mail/search-index");
        Assert.Equal(kept, await fetched.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task SearchIndex_NotASealedBlob_IsRefused_AndAnotherAccountSeesNone()
    {
        var user = await _server.RegisterUserAsync();
        using var plain = await PutIndexAsync(user, Encoding.UTF8.GetBytes("{\"terms\":{\"secret-word\":[]},\"padding\":\"....................\"}"), ifMatch: null);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid-search-index"), (plain.StatusCode, await CodeAsync(plain)));

        (await PutIndexAsync(user, SealedLike(64), ifMatch: null)).Dispose();
        var stranger = await _server.RegisterUserAsync();
        using var other = await SendAsync(stranger, HttpMethod.Get, "/api/v1/mail/search-index");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task Attachment_OnlyAccountsHoldingACopyCanFetchIt_AndItGoesWithTheLastCopy()
    {
        var (alice, aliceAddress, aliceKey) = await UserWithAddressAsync();
        var (bob, _, bobKey) = await UserWithAddressAsync();
        var carol = await _server.RegisterUserAsync();
        var ciphertext = Encrypted(RandomNumberGenerator.GetBytes(100_000));
        var blob = await UploadAsync(alice, ciphertext);

        using (var sent = await SendAsync(alice, HttpMethod.Post, "/api/v1/mail/messages",
            new SendBody(aliceAddress, [new CopyBody(Address(bobKey), Seal(bobKey), Seal(bobKey), 1)], new CopyBody(null, Seal(aliceKey), Seal(aliceKey), 1), null, null, null, [blob])))
        {
            Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
        }

        Assert.Equal(ciphertext, await FetchAsync(bob, blob));
        Assert.Equal(ciphertext, await FetchAsync(alice, blob));
        using (var refused = await SendAsync(carol, HttpMethod.Get, $"/api/v1/mail/attachments/{blob}"))
        {
            Assert.Equal((HttpStatusCode.NotFound, "attachment-not-found"), (refused.StatusCode, await CodeAsync(refused)));
        }

        Assert.Single(AttachmentFiles()); // one blob for both copies

        var bobCopy = (await ListAsync(bob, "inbox")).Single().GetProperty("id").GetString();
        (await SendAsync(bob, HttpMethod.Delete, $"/api/v1/mail/messages/{bobCopy}")).Dispose();
        using (var gone = await SendAsync(bob, HttpMethod.Get, $"/api/v1/mail/attachments/{blob}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Assert.Single(AttachmentFiles()); // Alice's sent copy still holds it
        var aliceCopy = (await ListAsync(alice, "sent")).Single().GetProperty("id").GetString();
        (await SendAsync(alice, HttpMethod.Delete, $"/api/v1/mail/messages/{aliceCopy}")).Dispose();
        Assert.Empty(AttachmentFiles());
    }

    [Fact]
    public async Task AccountDeletion_TakesTheSearchIndexAndUnsentUploads_AndSharedBlobsOnlyWithTheirLastCopy()
    {
        var (alice, aliceAddress, aliceKey) = await UserWithAddressAsync();
        var (bob, _, bobKey) = await UserWithAddressAsync();
        var shared = await UploadAsync(alice, Encrypted(new byte[1000]));
        (await SendAsync(alice, HttpMethod.Post, "/api/v1/mail/messages",
            new SendBody(aliceAddress, [new CopyBody(Address(bobKey), Seal(bobKey), Seal(bobKey), 1)], new CopyBody(null, Seal(aliceKey), Seal(aliceKey), 1), null, null, null, [shared]))).Dispose();
        var unsent = await UploadAsync(bob, Encrypted(new byte[1000]));
        (await PutIndexAsync(bob, SealedLike(64), ifMatch: null)).Dispose();
        Assert.Equal(2, AttachmentFiles().Length);

        await DeleteAccountDataAsync(bob.AccountId);

        Assert.Single(AttachmentFiles()); // the shared blob stays for Alice's Sent copy; Bob's unsent upload is gone
        Assert.False(Directory.Exists(Path.Combine(_server.DataDirectory, "blobs", "mail", bob.AccountId.ToString("N"))));
        Assert.Equal(1000, (await FetchAsync(alice, shared)).Length - Cobblestone256.HeaderSize - Cobblestone256.TagSize);

        await DeleteAccountDataAsync(alice.AccountId);

        Assert.Empty(AttachmentFiles());
        using var scope = _server.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        Assert.False(await db.Set<MailAttachmentBlob>().AnyAsync(b => b.Id == shared || b.Id == unsent));
        Assert.False(await db.Set<MailSearchIndex>().AnyAsync(x => x.AccountId == bob.AccountId));
    }

    [Fact]
    public async Task AddressRemoval_TakesTheLastCopysAttachment()
    {
        var (alice, aliceAddress, aliceKey) = await UserWithAddressAsync();
        var (bob, bobAddress, bobKey) = await UserWithAddressAsync();
        var blob = await UploadAsync(alice, Encrypted(new byte[1000]));
        (await SendAsync(alice, HttpMethod.Post, "/api/v1/mail/messages",
            new SendBody(aliceAddress, [new CopyBody(Address(bobKey), Seal(bobKey), Seal(bobKey), 1)], new CopyBody(null, Seal(aliceKey), Seal(aliceKey), 1), null, null, null, [blob]))).Dispose();
        var aliceCopy = (await ListAsync(alice, "sent")).Single().GetProperty("id").GetString();
        (await SendAsync(alice, HttpMethod.Delete, $"/api/v1/mail/messages/{aliceCopy}")).Dispose();
        Assert.Single(AttachmentFiles());

        using var removed = await SendAsync(bob, HttpMethod.Delete, $"/api/v1/mail/addresses/{bobAddress}");

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Empty(AttachmentFiles());
    }

    private async Task DeleteAccountDataAsync(Guid accountId)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var deleter = scope.ServiceProvider.GetServices<Veil.Server.Platform.Auth.IAccountDataDeleter>().OfType<MailboxAccountDataDeleter>().Single();
        await deleter.DeleteAccountDataAsync(accountId, CancellationToken.None);
    }

    [Fact]
    public async Task Attachment_SentTwice_TheSecondSendIsRefused_AndStoresNothing()
    {
        var (alice, aliceAddress, aliceKey) = await UserWithAddressAsync();
        var blob = await UploadAsync(alice, Encrypted(new byte[10]));
        var body = new SendBody(aliceAddress, [], new CopyBody(null, Seal(aliceKey), Seal(aliceKey), 1), null, null, null, [blob]);
        var bodyWithRecipient = body with { Copies = [new CopyBody(Address(aliceKey), Seal(aliceKey), Seal(aliceKey), 1)] };
        (await SendAsync(alice, HttpMethod.Post, "/api/v1/mail/messages", bodyWithRecipient)).Dispose();
        var before = (await ListAsync(alice, "sent")).Count;

        using var again = await SendAsync(alice, HttpMethod.Post, "/api/v1/mail/messages", bodyWithRecipient);

        Assert.Equal((HttpStatusCode.NotFound, "attachment-not-found"), (again.StatusCode, await CodeAsync(again)));
        Assert.Equal(before, (await ListAsync(alice, "sent")).Count);
    }

    [Fact]
    public async Task Attachment_ThatIsNotACobblestoneLength_IsRefused()
    {
        var user = await _server.RegisterUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/mail/attachments") { Content = new ByteArrayContent(new byte[Cobblestone256.HeaderSize + Cobblestone256.EncryptedChunkSize + 5]) };
        using var response = await SendAsync(user, request);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid-attachment"), (response.StatusCode, await CodeAsync(response)));
        Assert.Empty(AttachmentFiles());
    }

    [Fact]
    public async Task Attachment_UnclaimedUpload_IsPurgedByTheJobAfterTheOrphanTime_NotBefore()
    {
        var user = await _server.RegisterUserAsync();
        var blob = await UploadAsync(user, Encrypted(new byte[5000]));

        await RunAttachmentJobAsync();
        Assert.Single(AttachmentFiles());

        _server.Time.Advance(TimeSpan.FromHours(6) + TimeSpan.FromSeconds(1));
        await RunAttachmentJobAsync();

        Assert.Empty(AttachmentFiles());
        using var scope = _server.Services.CreateScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<VeilDbContext>().Set<MailAttachmentBlob>().AnyAsync(b => b.Id == blob));
    }

    [Fact]
    public async Task Attachment_AboveTheAccountQuota_Is413()
    {
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Mail:Domains:0"] = Domain;
            o.Settings["Veil:Mail:MaxAttachmentSize"] = "100000";
            o.Settings["Veil:Mail:AttachmentQuotaBytes"] = "150000";
        });
        var user = await server.RegisterUserAsync();
        using (var first = await PostAsync(server, user, Encrypted(new byte[90_000])))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using var second = await PostAsync(server, user, Encrypted(new byte[90_000]));
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "attachment-quota-exceeded"), (second.StatusCode, await CodeAsync(second)));
    }

    private static async Task<HttpResponseMessage> PostAsync(VeilTestServer server, TestUser user, byte[] ciphertext)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/mail/attachments") { Content = new ByteArrayContent(ciphertext) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        return await server.Client.SendAsync(request);
    }

    private async Task RunAttachmentJobAsync() =>
        Assert.True(await _server.Services.GetRequiredService<PeriodicJobRunner>().RunNowAsync(MailAttachmentJob.JobName, CancellationToken.None));

    private string[] AttachmentFiles()
    {
        var root = Path.Combine(_server.DataDirectory, "blobs", "mail-attachments");
        return Directory.Exists(root) ? Directory.GetFiles(root, "*", SearchOption.AllDirectories) : [];
    }

    private static byte[] Encrypted(byte[] plaintext)
    {
        var ciphertext = new byte[Cobblestone256.GetCiphertextLength(plaintext.Length)];
        Cobblestone256.Encrypt(RandomNumberGenerator.GetBytes(32), "veil/v1/mail/attachment"u8, plaintext, ciphertext);
        return ciphertext;
    }

    private async Task<Guid> UploadAsync(TestUser user, byte[] ciphertext)
    {
        using var response = await PostAsync(_server, user, ciphertext);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return Guid.Parse((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
    }

    private async Task<byte[]> FetchAsync(TestUser user, Guid blob)
    {
        using var response = await SendAsync(user, HttpMethod.Get, $"/api/v1/mail/attachments/{blob}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>Bytes shaped like a sealed index (format byte 1, then random), of <paramref name="length"/> bytes.</summary>
    private static byte[] SealedLike(int length)
    {
        var bytes = RandomNumberGenerator.GetBytes(length);
        bytes[0] = 0x01;
        return bytes;
    }

    private async Task<HttpResponseMessage> PutIndexAsync(TestUser user, byte[] content, string? ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/mail/search-index") { Content = new ByteArrayContent(content) };
        if (ifMatch is null)
        {
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
        }
        else
        {
            request.Headers.IfMatch.Add(new EntityTagHeaderValue(ifMatch));
        }

        return await SendAsync(user, request);
    }

    private async Task<(TestUser User, Guid AddressId, OpenPgpPublicKey Key)> UserWithAddressAsync()
    {
        var user = await _server.RegisterUserAsync();
        var address = "u" + Guid.NewGuid().ToString("N")[..10] + "@" + Domain;
        var key = OpenPgpKeys.Generate("<" + address + ">", DateTimeOffset.UtcNow).PublicKey;
        using var response = await SendAsync(user, HttpMethod.Post, "/api/v1/mail/addresses", new { address, publicKey = key.ToArmored(), wrappedToken = "v1.dG9rZW4", wrappedPrivateKey = "v1.a2V5" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (user, Guid.Parse((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!), key);
    }

    private static string Address(OpenPgpPublicKey key) => key.UserIds[0].Trim('<', '>');

    private static string Seal(OpenPgpPublicKey key)
    {
        using var input = new MemoryStream("m"u8.ToArray());
        using var output = new MemoryStream();
        OpenPgpMessage.Encrypt(input, output, [key], new OpenPgpEncryptOptions(DateTimeOffset.UnixEpoch));
        return Convert.ToBase64String(output.ToArray());
    }

    private async Task<List<JsonElement>> ListAsync(TestUser user, string folder)
    {
        using var response = await SendAsync(user, HttpMethod.Get, "/api/v1/mail/messages?folder=" + folder);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray()];
    }

    private async Task<HttpResponseMessage> SendAsync(TestUser user, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await SendAsync(user, request);
    }

    private async Task<HttpResponseMessage> SendAsync(TestUser user, HttpRequestMessage request)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        return await _server.Client.SendAsync(request);
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();

    private sealed record SendBody(Guid FromAddressId, IReadOnlyList<CopyBody> Copies, CopyBody SentCopy, object? Outside, long? ExpiresInSeconds, int? MaxViews, IReadOnlyList<Guid>? AttachmentIds);

    private sealed record CopyBody(string? Recipient, string SealedMessage, string SealedSummary, long Size);
}
