// Expected failures are values (STYLE.md §3): a command returns Result<T>, and its failure is an
// Error record with a stable code. Problems/ProblemMapping turns every Error into one RFC 9457
// problem, so the HTTP shape of a failure is decided in exactly one place.
namespace Veil.Server.Platform.Results;

/// <summary>The class of a failure; its value is the HTTP status it maps to.</summary>
internal enum ErrorKind
{
    BadRequest = 400,
    Unauthorized = 401,
    Forbidden = 403,
    NotFound = 404,
    MethodNotAllowed = 405,
    Conflict = 409,
    Gone = 410,
    PreconditionFailed = 412,
    PayloadTooLarge = 413,
    UnsupportedMediaType = 415,
    PreconditionRequired = 428,
    TooManyRequests = 429,
    Internal = 500,
    Unavailable = 503,
}

/// <summary>
/// An expected failure. <paramref name="Code"/> is stable (clients switch on it; it becomes the
/// problem type <c>urn:veil:problem:&lt;code&gt;</c>); <paramref name="Detail"/> is for humans and must
/// never contain a secret, an address or anything the caller did not already know.
/// </summary>
internal record Error(string Code, ErrorKind Kind, string Title, string? Detail = null)
{
    public int Status => (int)Kind;
}

/// <summary>A rate limit was hit; the client may retry after <paramref name="RetryAfter"/>.</summary>
internal sealed record RateLimitedError(TimeSpan RetryAfter)
    : Error(PlatformErrors.RateLimitedCode, ErrorKind.TooManyRequests, "Too many requests", "Too many requests; retry later.");

/// <summary>The failures the platform itself produces, whatever the module.</summary>
internal static class PlatformErrors
{
    public const string RateLimitedCode = "rate-limited";

    public static readonly Error BadRequest = new("bad-request", ErrorKind.BadRequest, "Bad request", "The request could not be understood.");
    public static readonly Error MalformedJson = new("malformed-json", ErrorKind.BadRequest, "Malformed JSON", "The request body is not valid JSON for this endpoint.");
    public static readonly Error Unauthorized = new("unauthorized", ErrorKind.Unauthorized, "Unauthorized");
    public static readonly Error Forbidden = new("forbidden", ErrorKind.Forbidden, "Forbidden");
    public static readonly Error NotFound = new("not-found", ErrorKind.NotFound, "Not found", "There is nothing at this address.");
    public static readonly Error MethodNotAllowed = new("method-not-allowed", ErrorKind.MethodNotAllowed, "Method not allowed");
    public static readonly Error Conflict = new("conflict", ErrorKind.Conflict, "Conflict");
    public static readonly Error Gone = new("gone", ErrorKind.Gone, "Gone");
    public static readonly Error BodyTooLarge = new("body-too-large", ErrorKind.PayloadTooLarge, "Request body too large", "The request body exceeds the server's limit.");
    public static readonly Error UnsupportedMediaType = new("unsupported-media-type", ErrorKind.UnsupportedMediaType, "Unsupported media type", "This endpoint expects a JSON body (Content-Type: application/json).");
    public static readonly Error Internal = new("internal-error", ErrorKind.Internal, "Internal server error");
    public static readonly Error Unavailable = new("unavailable", ErrorKind.Unavailable, "Service unavailable");

    /// <summary>The platform error for a bare status code (404 from routing, 405, ...).</summary>
    public static Error ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        410 => Gone,
        413 => BodyTooLarge,
        415 => UnsupportedMediaType,
        429 => new RateLimitedError(TimeSpan.Zero),
        503 => Unavailable,
        >= 500 => Internal,
        _ => new Error($"http-{status}", (ErrorKind)status, "Request failed"),
    };
}
