using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Veil.Crypto.Streams;

namespace Veil.Server.Tests.Drop;

/// <summary>What a client holds after creating a drop.</summary>
public sealed record CreatedDrop(string Id, string OwnerToken, int PartSize, int PartCount);

/// <summary>A drop's ciphertexts, made with Cobblestone-256 under a random key over known plaintext (context = drop id).</summary>
public sealed record DropCiphertext(byte[] Content, byte[] Metadata);

/// <summary>
/// Intent helpers over the Drop HTTP API (spec/drop-api.md), as a client would call it; with a
/// <paramref name="bearer"/> (an Identity access token or API key), as that signed-in user.
/// </summary>
public sealed class DropApi(HttpClient client, string? bearer = null)
{
    public HttpClient Client => client;

    public string? Bearer => bearer;

    /// <summary>The same client, signed in with <paramref name="credential"/> (an access token or <c>ak_…</c> key).</summary>
    public DropApi As(string credential) => new(client, credential);

    private Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return client.SendAsync(request);
    }

    public static int ContentSizeFor(int plaintextLength) => (int)Cobblestone256.GetCiphertextLength(plaintextLength);

    public static DropCiphertext Encrypt(string dropId, byte[] plaintext, string fileName)
    {
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var context = Encoding.UTF8.GetBytes("veil-drop-test/" + dropId);
        var content = new byte[Cobblestone256.GetCiphertextLength(plaintext.Length)];
        Cobblestone256.Encrypt(key, context, plaintext, content);
        var meta = Encoding.UTF8.GetBytes($"{{\"name\":\"{fileName}\",\"type\":\"text/plain\",\"size\":{plaintext.Length}}}");
        var metadata = new byte[Cobblestone256.GetCiphertextLength(meta.Length)];
        Cobblestone256.Encrypt(key, context, meta, metadata);
        return new DropCiphertext(content, metadata);
    }

    public async Task<HttpResponseMessage> CreateRawAsync(object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/drops") { Content = JsonContent.Create(body) };
        return await SendAsync(request);
    }

    public async Task<CreatedDrop> CreateAsync(long contentSize, long expiresInSeconds = 3600, int? maxDownloads = null, object? password = null)
    {
        using var response = await CreateRawAsync(new { contentSize, expiresInSeconds, maxDownloads, password });
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<CreatedDrop>())!;
    }

    public async Task<HttpResponseMessage> PutPartAsync(CreatedDrop drop, int index, ReadOnlyMemory<byte> bytes, string? ownerToken = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/drops/{drop.Id}/parts/{index}")
        {
            Content = new ReadOnlyMemoryContent(bytes),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("X-Owner-Token", ownerToken ?? drop.OwnerToken);
        return await SendAsync(request);
    }

    public static ReadOnlyMemory<byte> Part(CreatedDrop drop, byte[] content, int index)
    {
        var start = index * drop.PartSize;
        return content.AsMemory(start, Math.Min(drop.PartSize, content.Length - start));
    }

    public async Task UploadAllAsync(CreatedDrop drop, DropCiphertext ciphertext, bool finalize = true)
    {
        for (var i = drop.PartCount - 1; i >= 0; i--) // any order
        {
            using var part = await PutPartAsync(drop, i, DropApi.Part(drop, ciphertext.Content, i));
            Assert.Equal(HttpStatusCode.OK, part.StatusCode);
        }

        using (var metadata = await SendOwnerAsync(HttpMethod.Put, drop, "/metadata", new ByteArrayContent(ciphertext.Metadata)))
        {
            Assert.Equal(HttpStatusCode.NoContent, metadata.StatusCode);
        }

        if (finalize)
        {
            using var finalized = await SendOwnerAsync(HttpMethod.Post, drop, "/finalize");
            Assert.Equal(HttpStatusCode.OK, finalized.StatusCode);
        }
    }

    /// <summary>Creates, uploads and finalizes a drop of <paramref name="plaintext"/>.</summary>
    public async Task<(CreatedDrop Drop, DropCiphertext Ciphertext)> ShareAsync(byte[] plaintext, string fileName = "file.txt", int? maxDownloads = null, long expiresInSeconds = 3600)
    {
        var drop = await CreateAsync(ContentSizeFor(plaintext.Length), expiresInSeconds, maxDownloads);
        var ciphertext = Encrypt(drop.Id, plaintext, fileName);
        await UploadAllAsync(drop, ciphertext);
        return (drop, ciphertext);
    }

    public async Task<HttpResponseMessage> SendOwnerAsync(HttpMethod method, CreatedDrop drop, string suffix, HttpContent? content = null, string? ownerToken = null)
    {
        using var request = new HttpRequestMessage(method, $"/api/v1/drops/{drop.Id}{suffix}") { Content = content };
        request.Headers.Add("X-Owner-Token", ownerToken ?? drop.OwnerToken);
        return await SendAsync(request);
    }

    public async Task<JsonElement> OwnerStatsAsync(CreatedDrop drop)
    {
        using var response = await SendOwnerAsync(HttpMethod.Get, drop, "/owner");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<HttpResponseMessage> InfoAsync(string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/drops/{id}");
        return await SendAsync(request);
    }

    public async Task<HttpResponseMessage> ContentAsync(string id, string? ticket = null, RangeHeaderValue? range = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/drops/{id}/content");
        if (ticket is not null)
        {
            request.Headers.Add("X-Download-Ticket", ticket);
        }

        request.Headers.Range = range;
        return await SendAsync(request);
    }

    public static async Task<string?> ProblemCodeAsync(HttpResponseMessage response)
    {
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return problem.TryGetProperty("code", out var code) ? code.GetString() : null;
    }
}
