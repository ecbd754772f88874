using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Veil.Crypto.OpenPgp;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mailbox;

/// <summary>
/// POST /api/v1/mail/messages and confidential copies at the HTTP contract (spec/mailbox-api.md "Sending",
/// "Confidential mode"): bad input changes nothing, and parallel fetches never pass a view limit. The end-to-end
/// journeys through `veil` are MailSendCliTests.
/// </summary>
public sealed class MailSendApiTests : IAsyncLifetime
{
    private const string Domain = "mail.example";
    private VeilTestServer _server = null!;

    public async Task InitializeAsync() => _server = await VeilTestServer.StartAsync(o => o.Settings["Veil:Mail:Domains:0"] = Domain);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Send_ACopyInPlaintext_IsRefusedAsInvalidMessage_AndNothingIsStored()
    {
        var (user, address, key) = await UserWithAddressAsync();
        var plain = Convert.ToBase64String("Subject: not sealed\r\n\r\nplaintext\r\n"u8.ToArray());
        var body = new SendBody(address, [new CopyBody(Address(key), plain, Seal(key, "{}"), 10)], new CopyBody(null, Seal(key, "m"), Seal(key, "{}"), 1), null, null, null);

        using var response = await SendAsync(user, HttpMethod.Post, "/api/v1/mail/messages", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid-message", await CodeAsync(response));
        Assert.Empty(await ListAsync(user, "inbox"));
        Assert.Empty(await ListAsync(user, "sent"));
    }

    [Fact]
    public async Task Send_FromAnotherAccountsAddress_IsAddressNotFound()
    {
        var (_, address, key) = await UserWithAddressAsync();
        var stranger = await _server.RegisterUserAsync();
        var body = new SendBody(address, [new CopyBody(Address(key), Seal(key, "m"), Seal(key, "{}"), 1)], new CopyBody(null, Seal(key, "m"), Seal(key, "{}"), 1), null, null, null);

        using var response = await SendAsync(stranger, HttpMethod.Post, "/api/v1/mail/messages", body);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("address-not-found", await CodeAsync(response));
    }

    [Fact]
    public async Task List_UnknownFolder_IsABadRequest()
    {
        var user = await _server.RegisterUserAsync();
        using var response = await SendAsync(user, HttpMethod.Get, "/api/v1/mail/messages?folder=drafts", null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid-folder", await CodeAsync(response));
    }

    [Fact]
    public async Task SealedFetch_TenInParallelAtAViewLimitOfThree_ExactlyThreeGetTheBody_ThenItIsGone()
    {
        var (user, address, key) = await UserWithAddressAsync();
        var body = new SendBody(address, [new CopyBody(Address(key), Seal(key, "the body"), Seal(key, "{}"), 8)], new CopyBody(null, Seal(key, "the body"), Seal(key, "{}"), 8), null, null, 3);
        using (var sent = await SendAsync(user, HttpMethod.Post, "/api/v1/mail/messages", body))
        {
            Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
        }

        var copy = Assert.Single(await ListAsync(user, "inbox"));
        var id = copy.GetProperty("id").GetString();
        Assert.Equal(3, copy.GetProperty("maxViews").GetInt32());

        var fetches = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            using var response = await SendAsync(user, HttpMethod.Get, $"/api/v1/mail/messages/{id}/sealed", null);
            return (response.StatusCode, response.IsSuccessStatusCode ? (await response.Content.ReadAsByteArrayAsync()).Length : 0,
                response.IsSuccessStatusCode ? null : await CodeAsync(response));
        }));

        Assert.Equal(3, fetches.Count(f => f.StatusCode == HttpStatusCode.OK && f.Item2 > 0));
        Assert.All(fetches.Where(f => f.StatusCode != HttpStatusCode.OK), f => Assert.Equal((HttpStatusCode.Gone, "view-limit-reached"), (f.StatusCode, f.Item3)));
        var tombstone = Assert.Single(await ListAsync(user, "inbox"));
        Assert.Equal("view-limit-reached", tombstone.GetProperty("gone").GetString());
        Assert.Equal("", tombstone.GetProperty("summary").GetString());
        Assert.Equal(3, tombstone.GetProperty("views").GetInt32());
        var folder = Guid.Parse(id!).ToString("N");
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(_server.DataDirectory, "blobs"), "*", SearchOption.AllDirectories), f => f.Contains(folder, StringComparison.Ordinal));
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

    private static string Seal(OpenPgpPublicKey key, string text)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(text));
        using var output = new MemoryStream();
        OpenPgpMessage.Encrypt(input, output, [key], new OpenPgpEncryptOptions(DateTimeOffset.UnixEpoch));
        return Convert.ToBase64String(output.ToArray());
    }

    private async Task<HttpResponseMessage> SendAsync(TestUser user, HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        return await _server.Client.SendAsync(request);
    }

    private async Task<List<JsonElement>> ListAsync(TestUser user, string folder)
    {
        using var response = await SendAsync(user, HttpMethod.Get, "/api/v1/mail/messages?folder=" + folder, null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray()];
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();

    private sealed record SendBody(Guid FromAddressId, IReadOnlyList<CopyBody> Copies, CopyBody SentCopy, object? Outside, long? ExpiresInSeconds, int? MaxViews);

    private sealed record CopyBody(string? Recipient, string SealedMessage, string SealedSummary, long Size);
}
