using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.OpenPgp;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mailbox;

/// <summary>The Mailbox HTTP contract (spec/mailbox-api.md): bad input changes nothing, limits, other accounts, redelivery.</summary>
public sealed class MailboxApiTests : IAsyncLifetime
{
    private const string Domain = "mail.example";
    private VeilTestServer _server = null!;

    public async Task InitializeAsync() => _server = await VeilTestServer.StartAsync(o =>
    {
        o.Settings["Veil:Mail:Domains:0"] = Domain;
        o.Settings["Veil:Mail:MaxAddressesPerAccount"] = "2";
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, string> BadRequests() => new()
    {
        { "no-at-sign", "invalid-address" },
        { ".dot@" + Domain, "invalid-address" },
        { "someone@other.example", "unknown-domain" },
        { "bad-wrap@" + Domain, "invalid-wrapped-key" },
        { "other-uid@" + Domain, "invalid-public-key" },
        { "not-a-key@" + Domain, "invalid-public-key" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task AddAddress_BadInput_IsAProblemWithItsCode_AndNothingIsStored(string address, string code)
    {
        var user = await _server.RegisterUserAsync();
        var body = Body(address);
        if (address.StartsWith("bad-wrap", StringComparison.Ordinal))
        {
            body = body with { WrappedToken = "v2.not-ours" };
        }
        else if (address.StartsWith("other-uid", StringComparison.Ordinal))
        {
            body = body with { PublicKey = Key("someone-else@" + Domain) };
        }
        else if (address.StartsWith("not-a-key", StringComparison.Ordinal))
        {
            body = body with { PublicKey = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n" };
        }

        using var response = await SendAsync(user, HttpMethod.Post, "/api/v1/mail/addresses", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Empty(await ListAsync(user, "/api/v1/mail/addresses"));
    }

    [Fact]
    public async Task AddAddress_TakenByAnotherAccount_Or_OverThePlanLimit_IsAConflict()
    {
        var first = await _server.RegisterUserAsync();
        var second = await _server.RegisterUserAsync();
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(first, HttpMethod.Post, "/api/v1/mail/addresses", Body("taken@" + Domain))).StatusCode);

        using var taken = await SendAsync(second, HttpMethod.Post, "/api/v1/mail/addresses", Body("Taken@" + Domain));
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.Equal("address-taken", (await taken.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        Assert.Equal(HttpStatusCode.Created, (await SendAsync(first, HttpMethod.Post, "/api/v1/mail/addresses", Body("second@" + Domain))).StatusCode);
        using var third = await SendAsync(first, HttpMethod.Post, "/api/v1/mail/addresses", Body("third@" + Domain));
        Assert.Equal(HttpStatusCode.Conflict, third.StatusCode);
        Assert.Equal("too-many-addresses", (await third.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(2, (await ListAsync(first, "/api/v1/mail/addresses")).Count);
    }

    [Fact]
    public async Task Sink_SameSpooledMessageTwice_StoresOneCopy_AndAnotherAccountSeesNothingOfIt()
    {
        var owner = await _server.RegisterUserAsync();
        var stranger = await _server.RegisterUserAsync();
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(owner, HttpMethod.Post, "/api/v1/mail/addresses", Body("box@" + Domain))).StatusCode);
        var sink = _server.Services.GetRequiredService<IMessageSink>();
        var raw = Encoding.ASCII.GetBytes("Subject: twice\r\nMessage-ID: <once@sender.test>\r\n\r\nhello\r\n");
        var spooled = new SpooledMessage(SpoolId.New(), new SmtpEnvelope("a@sender.test", ["box@" + Domain], false, false, _server.Time.GetUtcNow()), raw.Length);

        // A redelivery after a crash between the stored row and the spool's removal offers the message again.
        Assert.Equal(SinkResult.Done, await sink.ProcessAsync(spooled, new MemoryStream(raw), CancellationToken.None));
        Assert.Equal(SinkResult.Done, await sink.ProcessAsync(spooled, new MemoryStream(raw), CancellationToken.None));

        var message = Assert.Single(await ListAsync(owner, "/api/v1/mail/messages"));
        Assert.Equal("a@sender.test", message.GetProperty("envelopeFrom").GetString());
        Assert.Equal(raw.Length, message.GetProperty("size").GetInt64());
        Assert.NotNull(message.GetProperty("threadId").GetString());
        var id = message.GetProperty("id").GetString();
        Assert.Empty(await ListAsync(stranger, "/api/v1/mail/messages"));
        foreach (var (method, path) in new[] { (HttpMethod.Get, $"/api/v1/mail/messages/{id}"), (HttpMethod.Get, $"/api/v1/mail/messages/{id}/sealed"), (HttpMethod.Delete, $"/api/v1/mail/messages/{id}") })
        {
            using var response = await SendAsync(stranger, method, path, null);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("message-not-found", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        using var sealedCopy = await SendAsync(owner, HttpMethod.Get, $"/api/v1/mail/messages/{id}/sealed", null);
        Assert.Equal(HttpStatusCode.OK, sealedCopy.StatusCode);
        Assert.DoesNotContain("twice", Encoding.Latin1.GetString(await sealedCopy.Content.ReadAsByteArrayAsync()), StringComparison.Ordinal);
    }

    private static string Key(string address) => OpenPgpKeys.Generate("<" + address + ">", DateTimeOffset.UtcNow).PublicKey.ToArmored();

    private static AddBody Body(string address) =>
        new(address, address.Contains('@', StringComparison.Ordinal) ? Key(address.ToLowerInvariant()) : Key("x@" + Domain), "v1.dG9rZW4", "v1.a2V5");

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

    private async Task<List<JsonElement>> ListAsync(TestUser user, string path)
    {
        using var response = await SendAsync(user, HttpMethod.Get, path, null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray()];
    }

    private sealed record AddBody(string Address, string PublicKey, string WrappedToken, string WrappedPrivateKey);
}
