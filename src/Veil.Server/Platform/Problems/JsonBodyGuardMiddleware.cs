using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Veil.Server.Platform.Results;

namespace Veil.Server.Platform.Problems;

/// <summary>
/// Refuses, once for every endpoint, a JSON body whose bytes cannot become .NET strings: invalid UTF-8, or an
/// escaped lone surrogate (<c>"\ud800"</c>). System.Text.Json parses both into a <c>JsonElement</c> without
/// complaint and throws only when a handler later asks for the string (<c>GetString()</c>), which surfaced as a 500
/// in Alias and Drop PATCH (issue 14, finding 6). Checking every handler would leave the next one open; checking the
/// bytes here gives the same <c>malformed-json</c> problem as any other bad body, before a handler has changed anything.
/// Syntax errors are left to the binder, which already answers them with a problem.
/// It guards the endpoints that declare a JSON body (minimal APIs add <see cref="IAcceptsMetadata"/> for a bound body
/// parameter). Endpoints that read the raw request themselves (Vault items and files, Drop parts) are skipped: they
/// raise the body-size limit inside the handler, which reading the body here first would defeat. For those, and for
/// handlers that deserialize the body themselves (refresh, logout), <see cref="VeilExceptionHandler"/> answers the
/// same exception from System.Text.Json with the same problem.
/// </summary>
internal sealed class JsonBodyGuardMiddleware(RequestDelegate next)
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!request.HasJsonContentType() || (request.ContentLength is 0 or null && request.Headers.TransferEncoding.Count == 0)
            || context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is not { } accepts
            || !accepts.ContentTypes.Any(t => t.Contains("json", StringComparison.OrdinalIgnoreCase)))
        {
            await next(context);
            return;
        }

        // Kestrel's MaxRequestBodySize still applies while copying (413 through the exception handler).
        var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, context.RequestAborted);
        var bytes = new ArraySegment<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        if (!IsDecodable(bytes))
        {
            await PlatformErrors.MalformedJson.ToProblem().ExecuteAsync(context);
            return;
        }

        buffer.Position = 0;
        request.Body = buffer;
        await next(context);
    }

    /// <summary>True unless the body holds invalid UTF-8 or a string (or property name) with an unpaired surrogate escape.</summary>
    internal static bool IsDecodable(ReadOnlySpan<byte> json)
    {
        if (!Utf8.IsValid(json))
        {
            return false;
        }

        var reader = new Utf8JsonReader(json, ReaderOptions);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    _ = reader.GetString(); // throws InvalidOperationException on an unpaired surrogate escape
                }
            }
        }
        catch (JsonException)
        {
            return true; // a syntax error: the binder answers it as it always has
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        return true;
    }
}
