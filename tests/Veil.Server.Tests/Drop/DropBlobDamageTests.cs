using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Drop;

/// <summary>A stored blob that no longer matches its recorded length (disk damage, an operator's mistake).</summary>
public sealed class DropBlobDamageTests
{
    private const int PartSize = 16384;

    private static byte[] Plaintext(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 13 + 1))];

    private static Task<VeilTestServer> StartAsync() =>
        VeilTestServer.StartAsync(o => o.Settings["Veil:Drop:PartSizeBytes"] = PartSize.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static string PartFile(VeilTestServer server, string id, int index) =>
        Path.Combine(server.DataDirectory, "blobs", "drops", id, $"p{index:D6}");

    private static void Truncate(string path, long length)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
        file.SetLength(length);
    }

    private static async Task<string> TicketAsync(VeilTestServer server, string id)
    {
        using var response = await server.Client.PostAsync(new Uri($"/api/v1/drops/{id}/downloads", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticket").GetString()!;
    }

    private static async Task AssertBlobDamagedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal("blob-damaged", problem.GetProperty("code").GetString());
        Assert.Equal("urn:veil:problem:blob-damaged", problem.GetProperty("type").GetString());
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal); // no stack trace
        Assert.DoesNotContain("exception", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Download_RangeUnderTicketPastATruncatedPart_IsBlobDamaged_NotABare500()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var (drop, ciphertext) = await api.ShareAsync(Plaintext(50_000));
        var ticket = await TicketAsync(server, drop.Id);
        var last = drop.PartCount - 1;
        Truncate(PartFile(server, drop.Id, last), 10);

        // The resume case: a Range that starts inside the missing bytes of the last part.
        using var response = await api.ContentAsync(drop.Id, ticket, new RangeHeaderValue(ciphertext.Content.Length - 100, null));

        await AssertBlobDamagedAsync(response);
    }

    [Fact]
    public async Task Download_WholeContentWithATruncatedPart_IsBlobDamagedBeforeAnyByteIsSent()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var (drop, _) = await api.ShareAsync(Plaintext(50_000));
        Truncate(PartFile(server, drop.Id, 1), PartSize / 2);

        using var response = await api.ContentAsync(drop.Id);

        await AssertBlobDamagedAsync(response);
    }

    [Fact]
    public async Task Download_MissingPartFile_IsBlobDamaged()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var (drop, _) = await api.ShareAsync(Plaintext(50_000));
        var ticket = await TicketAsync(server, drop.Id);
        File.Delete(PartFile(server, drop.Id, 0));

        using var response = await api.ContentAsync(drop.Id, ticket, new RangeHeaderValue(0, 99));

        await AssertBlobDamagedAsync(response);
    }

    [Fact]
    public async Task Download_TruncatedPart_IsLoggedOnceWithTheRedactedDropAndNoPathOrId()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var (drop, _) = await api.ShareAsync(Plaintext(50_000));
        Truncate(PartFile(server, drop.Id, 2), 1);

        using var response = await api.ContentAsync(drop.Id);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var line = Assert.Single(server.Logs.Entries, e => e.Contains("[2140]", StringComparison.Ordinal));
        Assert.Contains("token#", line, StringComparison.Ordinal);
        Assert.Contains("part 2", line, StringComparison.Ordinal);
        Assert.DoesNotContain(drop.Id, server.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.Combine("blobs", "drops"), server.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Logs.Entries, e => e.Contains("[1300]", StringComparison.Ordinal)); // not an unhandled exception
    }

    [Fact]
    public async Task Download_IntactBlob_StillStreamsAfterTheLengthCheck()
    {
        await using var server = await StartAsync();
        var api = new DropApi(server.Client);
        var (drop, ciphertext) = await api.ShareAsync(Plaintext(50_000));
        var ticket = await TicketAsync(server, drop.Id);

        using var response = await api.ContentAsync(drop.Id, ticket, new RangeHeaderValue(PartSize - 10, PartSize + 9));

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(ciphertext.Content[(PartSize - 10)..(PartSize + 10)], await response.Content.ReadAsByteArrayAsync());
    }
}
