using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Drop;

public sealed class DropUploadDownloadTests
{
    private static byte[] Plaintext(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7 + 3))];

    private static Task<VeilTestServer> StartAsync(Action<VeilTestServerOptions>? configure = null) =>
        VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Drop:PartSizeBytes"] = "16384";
            configure?.Invoke(o);
        });

    [Fact]
    public async Task Upload_InPartsThenFinalize_DownloadReturnsTheSameCiphertext()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var (drop, ciphertext) = await api.ShareAsync(Plaintext(50_000));
        Assert.Equal(4, drop.PartCount);

        using var info = await api.InfoAsync(drop.Id);
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        var body = await info.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(ciphertext.Content.Length, body.GetProperty("contentSize").GetInt64());
        Assert.Equal(Convert.ToBase64String(ciphertext.Metadata).TrimEnd('=').Replace('+', '-').Replace('/', '_'), body.GetProperty("metadata").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("password").ValueKind);

        using var download = await api.ContentAsync(drop.Id);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(ciphertext.Content, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, (await api.OwnerStatsAsync(drop)).GetProperty("downloads").GetInt32());
    }

    [Fact]
    public async Task Part_ResentWithOtherBytes_ReplacesItself_AndAWrongLengthChangesNothing()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var plaintext = Plaintext(20_000);
        var drop = await api.CreateAsync(DropApi.ContentSizeFor(plaintext.Length));
        var ciphertext = DropApi.Encrypt(drop.Id, plaintext, "a.txt");

        using (var garbage = await api.PutPartAsync(drop, 0, new byte[drop.PartSize]))
        {
            Assert.Equal(HttpStatusCode.OK, garbage.StatusCode);
        }

        await api.UploadAllAsync(drop, ciphertext, finalize: false); // re-sends part 0 with the right bytes
        using (var tooShort = await api.PutPartAsync(drop, 0, new byte[10]))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooShort.StatusCode);
            Assert.Equal("bad-part", await DropApi.ProblemCodeAsync(tooShort));
        }

        using (var outOfRange = await api.PutPartAsync(drop, drop.PartCount, new byte[10]))
        {
            Assert.Equal("bad-part", await DropApi.ProblemCodeAsync(outOfRange));
        }

        using (var finalize = await api.SendOwnerAsync(HttpMethod.Post, drop, "/finalize"))
        {
            Assert.Equal(HttpStatusCode.OK, finalize.StatusCode);
        }

        using var download = await api.ContentAsync(drop.Id);
        Assert.Equal(ciphertext.Content, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Status_ListsReceivedParts_AndFinalizeNamesTheMissingOnes()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var drop = await api.CreateAsync(DropApi.ContentSizeFor(60_000));
        var ciphertext = DropApi.Encrypt(drop.Id, Plaintext(60_000), "b.txt");
        using (await api.PutPartAsync(drop, 1, DropApi.Part(drop, ciphertext.Content, 1)))
        using (await api.PutPartAsync(drop, 3, DropApi.Part(drop, ciphertext.Content, 3)))
        {
        }

        using var status = await api.SendOwnerAsync(HttpMethod.Get, drop, "/parts");
        var body = await status.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal([1, 3], body.GetProperty("received").EnumerateArray().Select(e => e.GetInt32()));
        Assert.False(body.GetProperty("finalized").GetBoolean());

        using var finalize = await api.SendOwnerAsync(HttpMethod.Post, drop, "/finalize");
        Assert.Equal(HttpStatusCode.Conflict, finalize.StatusCode);
        var problem = await finalize.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("incomplete-upload", problem.GetProperty("code").GetString());
        Assert.Equal([0, 2], problem.GetProperty("missing").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public async Task Download_BeforeFinalize_IsNotFinalized()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var drop = await api.CreateAsync(1000);
        using var content = await api.ContentAsync(drop.Id);
        Assert.Equal(HttpStatusCode.Conflict, content.StatusCode);
        Assert.Equal("not-finalized", await DropApi.ProblemCodeAsync(content));
        using var info = await api.InfoAsync(drop.Id);
        Assert.Equal("not-finalized", await DropApi.ProblemCodeAsync(info));
    }

    [Fact]
    public async Task Download_RangeUnderTicket_ReturnsTheSliceWithoutCountingAgain()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var (drop, ciphertext) = await api.ShareAsync(Plaintext(40_000), maxDownloads: 1);

        using var ticketResponse = await server.Client.PostAsync(new Uri($"/api/v1/drops/{drop.Id}/downloads", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Created, ticketResponse.StatusCode);
        var ticket = (await ticketResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticket").GetString();

        // A range that spans the boundary between parts 0 and 1, then the rest.
        using var first = await api.ContentAsync(drop.Id, ticket, new RangeHeaderValue(16_000, 17_000));
        Assert.Equal(HttpStatusCode.PartialContent, first.StatusCode);
        Assert.Equal(ciphertext.Content[16_000..17_001], await first.Content.ReadAsByteArrayAsync());
        using var rest = await api.ContentAsync(drop.Id, ticket, new RangeHeaderValue(17_001, null));
        Assert.Equal(ciphertext.Content[17_001..], await rest.Content.ReadAsByteArrayAsync());

        Assert.Equal(1, (await api.OwnerStatsAsync(drop)).GetProperty("downloads").GetInt32());
        using var another = await api.ContentAsync(drop.Id);
        Assert.Equal(HttpStatusCode.Gone, another.StatusCode);
        Assert.Equal("exhausted", await DropApi.ProblemCodeAsync(another));
        using var forged = await api.ContentAsync(drop.Id, "not-a-ticket");
        Assert.Equal("bad-ticket", await DropApi.ProblemCodeAsync(forged));
    }

    [Fact]
    public async Task Download_AfterExpiry_IsGoneAsExpired()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var (drop, _) = await api.ShareAsync(Plaintext(1000), expiresInSeconds: 300);
        server.Time.Advance(TimeSpan.FromSeconds(299));
        using (var before = await api.InfoAsync(drop.Id))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        server.Time.Advance(TimeSpan.FromSeconds(1));
        using var info = await api.InfoAsync(drop.Id);
        Assert.Equal(HttpStatusCode.Gone, info.StatusCode);
        Assert.Equal("expired", await DropApi.ProblemCodeAsync(info));
        using var content = await api.ContentAsync(drop.Id);
        Assert.Equal("expired", await DropApi.ProblemCodeAsync(content));
    }

    [Fact]
    public async Task Download_LimitReachedInParallel_OnlyOneSucceeds()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var (drop, ciphertext) = await api.ShareAsync(Plaintext(5000), maxDownloads: 1);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            using var response = await api.ContentAsync(drop.Id);
            return (response.StatusCode, Body: await response.Content.ReadAsByteArrayAsync());
        }));

        var winners = attempts.Where(a => a.StatusCode == HttpStatusCode.OK).ToList();
        Assert.Single(winners);
        Assert.Equal(ciphertext.Content, winners[0].Body);
        Assert.All(attempts.Where(a => a.StatusCode != HttpStatusCode.OK), a => Assert.Equal(HttpStatusCode.Gone, a.StatusCode));
        Assert.Equal(1, (await api.OwnerStatsAsync(drop)).GetProperty("downloads").GetInt32());
    }

    [Fact]
    public async Task Owner_DeletesDrop_ItIsGoneWithItsBlobs_AndOthersCannot()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var (drop, _) = await api.ShareAsync(Plaintext(1000));
        using (var stranger = await api.SendOwnerAsync(HttpMethod.Delete, drop, "", ownerToken: "wrong-token"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, stranger.StatusCode);
            Assert.Equal("not-owner", await DropApi.ProblemCodeAsync(stranger));
        }

        Assert.True(Directory.Exists(Path.Combine(server.DataDirectory, "blobs", "drops", drop.Id)));
        using (var delete = await api.SendOwnerAsync(HttpMethod.Delete, drop, ""))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        Assert.False(Directory.Exists(Path.Combine(server.DataDirectory, "blobs", "drops", drop.Id)));
        using var info = await api.InfoAsync(drop.Id);
        Assert.Equal(HttpStatusCode.NotFound, info.StatusCode);
    }

    [Fact]
    public async Task Owner_ChangesLimitAndExpiry_StatsReflectIt()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var (drop, _) = await api.ShareAsync(Plaintext(1000), maxDownloads: 1);
        using (await api.ContentAsync(drop.Id))
        {
        }

        using var change = await api.SendOwnerAsync(HttpMethod.Patch, drop, "", JsonContent.Create(new { maxDownloads = 3, expiresInSeconds = 600 }));
        Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        var stats = await change.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(3, stats.GetProperty("maxDownloads").GetInt32());
        Assert.Equal("available", stats.GetProperty("state").GetString());
        using var again = await api.ContentAsync(drop.Id);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        using var bad = await api.SendOwnerAsync(HttpMethod.Patch, drop, "", JsonContent.Create(new { expiresInSeconds = 10 }));
        Assert.Equal("invalid-expiry", await DropApi.ProblemCodeAsync(bad));
    }

    [Fact]
    public async Task PasswordDrop_InfoReturnsTheSaltAndWrappedKeyUnchanged()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var salt = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
        var wrapped = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSks";
        var drop = await api.CreateAsync(DropApi.ContentSizeFor(100), password: new { salt, wrappedKey = wrapped });
        await api.UploadAllAsync(drop, DropApi.Encrypt(drop.Id, Plaintext(100), "p.txt"));
        using var info = await api.InfoAsync(drop.Id);
        var password = (await info.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("password");
        Assert.Equal(salt, password.GetProperty("salt").GetString());
        Assert.Equal(wrapped, password.GetProperty("wrappedKey").GetString());

        using var badSalt = await api.CreateRawAsync(new { contentSize = 100, expiresInSeconds = 3600, password = new { salt = "AAEC", wrappedKey = wrapped } });
        Assert.Equal("invalid-password-wrap", await DropApi.ProblemCodeAsync(badSalt));
    }

    [Theory]
    [InlineData(299, null, "invalid-expiry")]
    [InlineData(2_592_001, null, "invalid-expiry")]
    [InlineData(3600, 0, "invalid-download-limit")]
    public async Task Create_OutOfRange_IsRefused(long expiresInSeconds, int? maxDownloads, string code)
    {
        await using var server = await StartAsync(o => o.Settings["Veil:Drop:Anonymous:MaxExpiry"] = "30.00:00:00");
        using var response = await new DropApi(server.Client).CreateRawAsync(new { contentSize = 100, expiresInSeconds, maxDownloads });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, await DropApi.ProblemCodeAsync(response));
    }
}
