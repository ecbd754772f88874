using System.Net;
using System.Text.Json;

namespace Veil.Client;

/// <summary>
/// A request the server refused or could not answer, carrying the RFC 9457 problem details it sent
/// (<see cref="Code"/> is Veil's stable error code, e.g. <c>identity.step_up_required</c>). Transport
/// failures (connection refused, timeout) arrive here too, with status 0 and code <c>network</c>, so a
/// caller handles one exception type and never shows a raw HttpRequestException text.
/// </summary>
public sealed class VeilApiException : Exception
{
    /// <summary>The code of a transport failure (no HTTP response).</summary>
    public const string NetworkCode = "network";

    /// <summary>The code of a response that was not the shape the contract promises.</summary>
    public const string ProtocolCode = "protocol";

    public VeilApiException(int status, string code, string title, string? detail = null, string? type = null, TimeSpan? retryAfter = null, Exception? inner = null)
        : base(detail is null ? $"{title} ({code})" : $"{title}: {detail} ({code})", inner)
    {
        Status = status;
        Code = code;
        Title = title;
        Detail = detail;
        Type = type;
        RetryAfter = retryAfter;
    }

    /// <summary>The HTTP status, or 0 when no response arrived.</summary>
    public int Status { get; }

    /// <summary>Veil's stable error code (the problem's <c>code</c> member).</summary>
    public string Code { get; }

    /// <summary>The problem's short human-readable title.</summary>
    public string Title { get; }

    /// <summary>The problem's detail, if any.</summary>
    public string? Detail { get; }

    /// <summary>The problem's <c>type</c> URI, if any.</summary>
    public string? Type { get; }

    /// <summary>The server's Retry-After on 429/503, if given.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Reads a problem-details response into an exception (tolerating a body that is not one).</summary>
    internal static async Task<VeilApiException> FromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string? code = null, title = null, detail = null, type = null;
        try
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length > 0 && body.Length < 64 * 1024)
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    code = StringMember(document.RootElement, "code");
                    title = StringMember(document.RootElement, "title");
                    detail = StringMember(document.RootElement, "detail");
                    type = StringMember(document.RootElement, "type");
                }
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's HTML error page, say): the status alone describes it.
        }

        const string Prefix = "urn:veil:problem:";
        code ??= type is not null && type.StartsWith(Prefix, StringComparison.Ordinal) ? type[Prefix.Length..] : "http_" + status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        title ??= response.ReasonPhrase ?? ((HttpStatusCode)status).ToString();
        TimeSpan? retryAfter = response.Headers.RetryAfter?.Delta;
        return new VeilApiException(status, code, title, detail, type, retryAfter);
    }

    private static string? StringMember(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
