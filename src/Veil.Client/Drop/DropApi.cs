// The HTTP side of Drop (spec/drop-api.md): one method per endpoint, problems turned into DropException.
// Everything sent is ciphertext, an opaque wrapped key, or sizes; the drop key never leaves this process.
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Veil.Client.Drop;

/// <summary>Calls the Drop endpoints of one server. <paramref name="http"/>'s base address is the server origin.</summary>
public sealed class DropApi(HttpClient http)
{
    internal const string OwnerHeader = "X-Owner-Token";
    internal const string TicketHeader = "X-Download-Ticket";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The underlying client.</summary>
    public HttpClient Http { get; } = http;

    public async Task<DropCreated> CreateAsync(CreateDropRequest request, CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "api/v1/drops") { Content = JsonContent.Create(request, options: Json) };
        return await SendJsonAsync<DropCreated>(message, cancellationToken).ConfigureAwait(false);
    }

    public Task UploadPartAsync(string id, string ownerToken, int part, ReadOnlyMemory<byte> ciphertext, CancellationToken cancellationToken = default) =>
        UploadPartAsync(id, ownerToken, part, Binary(ciphertext), cancellationToken);

    /// <summary>Uploads one part from <paramref name="ciphertext"/>, which must know its length (the server needs Content-Length); it is disposed.</summary>
    internal async Task UploadPartAsync(string id, string ownerToken, int part, HttpContent ciphertext, CancellationToken cancellationToken)
    {
        using var message = Owner(new HttpRequestMessage(HttpMethod.Put, $"api/v1/drops/{id}/parts/{part}") { Content = ciphertext }, ownerToken);
        using HttpResponseMessage response = await SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    public async Task<DropUploadStatus> GetUploadStatusAsync(string id, string ownerToken, CancellationToken cancellationToken = default)
    {
        using var message = Owner(new HttpRequestMessage(HttpMethod.Get, $"api/v1/drops/{id}/parts"), ownerToken);
        return await SendJsonAsync<DropUploadStatus>(message, cancellationToken).ConfigureAwait(false);
    }

    public async Task PutMetadataAsync(string id, string ownerToken, ReadOnlyMemory<byte> ciphertext, CancellationToken cancellationToken = default)
    {
        using var message = Owner(new HttpRequestMessage(HttpMethod.Put, $"api/v1/drops/{id}/metadata") { Content = Binary(ciphertext) }, ownerToken);
        using HttpResponseMessage response = await SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    public async Task<DropOwnerStats> FinalizeAsync(string id, string ownerToken, CancellationToken cancellationToken = default)
    {
        using var message = Owner(new HttpRequestMessage(HttpMethod.Post, $"api/v1/drops/{id}/finalize"), ownerToken);
        return await SendJsonAsync<DropOwnerStats>(message, cancellationToken).ConfigureAwait(false);
    }

    public async Task<DropInfo> GetInfoAsync(string id, CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, $"api/v1/drops/{id}");
        return await SendJsonAsync<DropInfo>(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The signed-in caller's drops, newest first (the HTTP client must send the caller's bearer token).</summary>
    public async Task<OwnedDropList> ListOwnedAsync(CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, "api/v1/drops");
        return await SendJsonAsync<OwnedDropList>(message, cancellationToken).ConfigureAwait(false);
    }

    public async Task<DropOwnerStats> GetOwnerStatsAsync(string id, string? ownerToken, CancellationToken cancellationToken = default)
    {
        using var message = Owner(new HttpRequestMessage(HttpMethod.Get, $"api/v1/drops/{id}/owner"), ownerToken);
        return await SendJsonAsync<DropOwnerStats>(message, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string id, string? ownerToken, CancellationToken cancellationToken = default)
    {
        using var message = Owner(new HttpRequestMessage(HttpMethod.Delete, $"api/v1/drops/{id}"), ownerToken);
        using HttpResponseMessage response = await SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Counts one download (atomically, on the server) and returns the ticket that lets the content be fetched.</summary>
    public async Task<DropTicket> CountDownloadAsync(string id, CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, $"api/v1/drops/{id}/downloads");
        return await SendJsonAsync<DropTicket>(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens the content ciphertext under a ticket, from byte <paramref name="offset"/>. The caller disposes the response.</summary>
    public async Task<HttpResponseMessage> OpenContentAsync(string id, string ticket, long offset, CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, $"api/v1/drops/{id}/content");
        message.Headers.Add(TicketHeader, ticket);
        if (offset > 0)
        {
            message.Headers.Range = new RangeHeaderValue(offset, null);
        }

        HttpResponseMessage response = await SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (offset > 0 && response.StatusCode != HttpStatusCode.PartialContent)
        {
            response.Dispose();
            throw new DropException(DropErrorCodes.Failed, "The server did not resume the download where it broke off.");
        }

        return response;
    }

    /// <summary>Adds the owner token; without one, the request relies on the signed-in session its client sends (SessionHandler).</summary>
    private static HttpRequestMessage Owner(HttpRequestMessage message, string? ownerToken)
    {
        if (ownerToken is not null)
        {
            message.Headers.Add(OwnerHeader, ownerToken);
        }

        return message;
    }

    private static ReadOnlyMemoryContent Binary(ReadOnlyMemory<byte> bytes)
    {
        var content = new ReadOnlyMemoryContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    private async Task<T> SendJsonAsync<T>(HttpRequestMessage message, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false)
            ?? throw new DropException(DropErrorCodes.Failed, "The server sent an empty answer.");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(message, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new DropException(DropErrorCodes.Unreachable, ServerUnreachable.Message(Http.BaseAddress), null, ex);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<DropException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        int status = (int)response.StatusCode;
        string? code = null, detail = null;
        try
        {
            using JsonDocument problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            if (problem.RootElement.ValueKind == JsonValueKind.Object)
            {
                code = problem.RootElement.TryGetProperty("code", out JsonElement c) ? c.GetString() : null;
                detail = problem.RootElement.TryGetProperty("detail", out JsonElement d) ? d.GetString()
                    : problem.RootElement.TryGetProperty("title", out JsonElement t) ? t.GetString() : null;
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's error page): the status alone describes it.
        }

        code ??= status switch { 404 => DropErrorCodes.NotFound, 410 => DropErrorCodes.Expired, _ => DropErrorCodes.Failed };
        return new DropException(code, DropMessages.ForCode(code, detail ?? $"the server answered {status} {response.ReasonPhrase}"), status);
    }
}

/// <summary>One line per problem code, for people.</summary>
public static class DropMessages
{
    public static string ForCode(string code, string fallback) => code switch
    {
        DropErrorCodes.Expired => "this drop has expired",
        DropErrorCodes.Exhausted => "this drop is used up: its download limit has been reached",
        DropErrorCodes.NotFound => "no such drop (it never existed, was deleted, or has been purged)",
        DropErrorCodes.TakenDown => "this drop was taken down after an abuse report",
        DropErrorCodes.NotFinalized => "this drop is still being uploaded",
        DropErrorCodes.NotOwner => "not the owner: the server refused the owner token",
        DropErrorCodes.BlobDamaged => "the server's copy of this drop is damaged (incomplete); it cannot be downloaded: tell the server's operator",
        "too-large" => "the file is larger than this server accepts" + Detail(fallback),
        "quota-exceeded" => "your upload quota on this server is used up" + Detail(fallback),
        "anonymous-disabled" => "this server does not accept anonymous drops: sign in first",
        "upload-banned" => "uploading is disabled for you on this server",
        "invalid-expiry" => "the server refused the expiry" + Detail(fallback),
        "invalid-download-limit" => "the server refused the download limit" + Detail(fallback),
        "rate-limited" => "too many requests: try again later",
        _ => fallback,
    };

    private static string Detail(string detail) => string.IsNullOrEmpty(detail) ? string.Empty : $" ({detail})";
}

/// <summary>
/// Create request: sizes and policy only; the password member carries the salt and the wrapped key, and a signed-in
/// sender's <see cref="OwnerNameKey"/> the metadata key wrapped under the user key (spec/drop.md §8).
/// </summary>
public sealed record CreateDropRequest(long ContentSize, long ExpiresInSeconds, int? MaxDownloads, DropPasswordWrap? Password)
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? OwnerNameKey { get; init; }
}

/// <summary>One of the signed-in caller's drops (<c>GET /api/v1/drops</c>); <see cref="NameKey"/> and <see cref="Metadata"/> are null for drops sent without a name key.</summary>
public sealed record OwnedDropSummary(
    string Id, DateTimeOffset CreatedAt, bool Finalized, DateTimeOffset? ExpiresAt, int? MaxDownloads, int Downloads,
    long ContentSize, string State, bool PasswordProtected, string? NameKey, string? Metadata);

/// <summary>The answer of <c>GET /api/v1/drops</c>.</summary>
public sealed record OwnedDropList(IReadOnlyList<OwnedDropSummary> Drops);

/// <summary>Salt and wrapped key of a password drop, base64url without padding.</summary>
public sealed record DropPasswordWrap(string Salt, string WrappedKey);

public sealed record DropCreated(string Id, string OwnerToken, long PartSize, int PartCount, DateTimeOffset? UploadExpiresAt);

public sealed record DropUploadStatus(long PartSize, int PartCount, IReadOnlyList<int> Received, bool MetadataReceived, bool Finalized, DateTimeOffset? UploadExpiresAt);

public sealed record DropInfo(string Id, long ContentSize, string Metadata, DateTimeOffset? ExpiresAt, DropPasswordWrap? Password);

public sealed record DropTicket(string Ticket, DateTimeOffset? TicketExpiresAt, long ContentSize);

public sealed record DropOwnerStats(
    string Id, DateTimeOffset? CreatedAt, bool Finalized, DateTimeOffset? ExpiresAt, long? ExpiresInSeconds,
    int? MaxDownloads, int Downloads, long ContentSize, string? State);
