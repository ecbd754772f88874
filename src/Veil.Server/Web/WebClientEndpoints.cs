using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.Results;

namespace Veil.Server.Web;

/// <summary>
/// Serves the browser pages: the app at <c>/</c> and its client routes (<see cref="AppRoutes"/>), <c>/drop</c> (send)
/// and <c>/d/{id}</c> (receive), and their files under <c>/web/</c>.
/// The drop key travels in the link's fragment, which browsers never send, so these routes never see it; the page
/// decrypts everything itself. Pages and their files carry the page CSP (<see cref="SecurityHeadersMiddleware.PageContentSecurityPolicy"/>):
/// only same-origin scripts, styles, workers and requests, nothing inline, nothing framed.
/// </summary>
internal static class WebClientEndpoints
{
    private const string ImmutableCache = "public, max-age=31536000, immutable";

    /// <summary>
    /// The paths the app routes in the page (web/src/app/router.ts). Mailed links land here: <c>/verify-email#token</c>
    /// and <c>/magic-link#token</c> (the token is the fragment, never sent). A module's signed-in pages live under
    /// <c>/app/</c>, so adding one needs no change here. The Vault claim link <c>/vault/claim/{token}</c> carries its
    /// token in the path (spec/vault-api.md, and the CLI accepts the same link); the page sends it only in the claim's
    /// POST body, and the app's pages answer with <c>Referrer-Policy: no-referrer</c>.
    /// </summary>
    internal static readonly string[] AppRoutes = ["/", "/signin", "/register", "/verify-email", "/magic-link", "/app", "/app/{**rest}", "/vault/claim/{token}"];

    // Loaded once: module routes that open an app page (the Alias recipient link) share it with the routes below.
    private static readonly Lazy<WebClientFiles> Files = new(WebClientFiles.Load);

    /// <summary>
    /// The app page for a route a module maps itself (a mailed link whose token is in the path, like
    /// <c>/alias/verify/{token}</c>); null when the server was built without the web client, so the module can fall
    /// back to a page of its own.
    /// </summary>
    internal static IResult? AppPage(HttpContext context) => Files.Value.IsBuilt ? Serve(context, Files.Value, "app.html") : null;

    public static IEndpointRouteBuilder MapWebClient(this IEndpointRouteBuilder endpoints)
    {
        var files = Files.Value;
        string[] getOrHead = [HttpMethods.Get, HttpMethods.Head];
        foreach (var route in AppRoutes)
        {
            endpoints.MapMethods(route, getOrHead, (HttpContext context) => Serve(context, files, "app.html"))
                .WithName("Web_App" + route.Replace("/", "_", StringComparison.Ordinal).Replace("{**rest}", "rest", StringComparison.Ordinal).Replace("{token}", "token", StringComparison.Ordinal))
                .ExcludeFromDescription();
        }

        endpoints.MapMethods("/drop", getOrHead, (HttpContext context) => Serve(context, files, "drop.html"))
            .WithName("Web_DropPage").ExcludeFromDescription();
        endpoints.MapMethods("/d/{id}", getOrHead, (HttpContext context) => Serve(context, files, "download.html"))
            .WithName("Web_DownloadPage").ExcludeFromDescription();
        endpoints.MapMethods("/web/{**path}", getOrHead, (HttpContext context, string path) => Serve(context, files, path))
            .WithName("Web_Files").ExcludeFromDescription();
        return endpoints;
    }

    private static IResult Serve(HttpContext context, WebClientFiles files, string path)
    {
        if (files.Find(path) is not { } file)
        {
            return (files.IsBuilt ? PlatformErrors.NotFound : NotBuilt).ToProblem();
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = SecurityHeadersMiddleware.PageContentSecurityPolicy;
        // Cross-origin isolation (COOP + COEP) gives the pages SharedArrayBuffer, which the key derivation worker needs
        // to run Argon2id's lanes in parallel (ADR 0006 "Argon2 in threads"). require-corp costs nothing here: the pages
        // load only same-origin files, and every response carries Cross-Origin-Resource-Policy: same-origin.
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Embedder-Policy"] = "require-corp";
        // Built file names carry a content hash, so they can be cached for good; pages are not cached.
        headers.CacheControl = path.StartsWith("assets/", StringComparison.Ordinal) ? ImmutableCache : "no-cache";
        return TypedResults.Bytes(file.Content, file.ContentType);
    }

    private static readonly Error NotBuilt = new("web-client-missing", ErrorKind.NotFound, "Web client not built",
        "This server was built without its web client (VeilSkipWeb=true). Build it with Node.js and npm available.");
}
