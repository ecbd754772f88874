using Microsoft.AspNetCore.Http;

namespace Veil.Server.Platform.Hosting;

/// <summary>
/// Headers every response carries. The CSP is for API responses (JSON, problems): nothing may load
/// and nothing may frame them. The web client's routes (Web/WebClientEndpoints) set
/// <see cref="PageContentSecurityPolicy"/> themselves; a policy already set is kept.
/// </summary>
internal sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    public const string ApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>
    /// The browser pages and their files: same-origin scripts, styles, workers and requests only; nothing inline,
    /// no plugin, no framing, no form posts. 'wasm-unsafe-eval' lets Argon2id (hash-wasm) compile its WebAssembly;
    /// it does not allow eval of JavaScript. The files under /web/ carry it too, because a worker's policy is the
    /// one delivered with the worker script. 'img-src https:' is for the mailbox's "Load remote images" button: a
    /// mail's HTML is rendered in a sandboxed srcdoc iframe, which inherits this policy on top of its own (img-src
    /// data: blob: until the reader asks for remote images); the app itself renders no markup it did not write.
    /// </summary>
    public const string PageContentSecurityPolicy =
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; style-src 'self'; " +
        "img-src 'self' data: https:; font-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var headers = ((HttpContext)state).Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            headers["Cross-Origin-Resource-Policy"] = "same-origin";
            if (!headers.ContainsKey("Content-Security-Policy"))
            {
                headers.ContentSecurityPolicy = ApiContentSecurityPolicy;
            }

            if (!headers.ContainsKey("Cache-Control"))
            {
                headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}
