// The one-click check-in link from reminder mail: /vault/checkin/{token}. A GET only shows a page
// with one button, because mail scanners and link previews fetch every link they see; only the
// POST that button sends checks in. The token is HMAC-signed and bound to the switch generation,
// so a link from before the last check-in no longer works. The page is static HTML with no script, linked to the
// app's stylesheet so it looks like the rest of Veil.
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Vault;

internal sealed class CheckInPage(VeilDbContext db, VaultSecrets secrets, VaultSwitchCommand switches, ILogger<CheckInPage> logger)
{
    // Style only from this origin (the app's built stylesheet); still no script, no inline style, no frames.
    private const string Csp = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private static string? Stylesheet => Web.WebClientFiles.Load().AppStylesheet;

    public async Task<IResult> ShowAsync(string token, HttpContext http, CancellationToken cancellationToken)
    {
        var (status, s) = await FindAsync(token, cancellationToken);
        if (status != StatusCodes.Status200OK || s is null)
        {
            return Page(http, status, status == StatusCodes.Status404NotFound ? "This link is not valid." : Stale(s));
        }

        var action = "/vault/checkin/" + WebUtility.HtmlEncode(token);
        return Page(http, StatusCodes.Status200OK,
            $"<p>Your vault will be released on {Format(s.ReleaseAt)} unless you check in.</p>"
            + $"<form method=\"post\" action=\"{action}\"><button type=\"submit\">I'm here</button></form>");
    }

    public async Task<IResult> CheckInAsync(string token, HttpContext http, CancellationToken cancellationToken)
    {
        var (status, s) = await FindAsync(token, cancellationToken);
        if (status != StatusCodes.Status200OK || s is null)
        {
            return Page(http, status, status == StatusCodes.Status404NotFound ? "This link is not valid." : Stale(s));
        }

        var result = await switches.ApplyAsync(s, SwitchAction.CheckIn, cancellationToken);
        if (!result.IsSuccess)
        {
            return Page(http, StatusCodes.Status409Conflict, "The switch changed at this moment. Sign in to see its state.");
        }

        VaultLog.CheckedInByLink(logger, s.VaultId);
        return Page(http, StatusCodes.Status200OK, $"<p>Checked in. Your next deadline is {Format(s.Deadline)}.</p>");
    }

    private async Task<(int Status, VaultSwitch? Switch)> FindAsync(string token, CancellationToken cancellationToken)
    {
        if (secrets.VerifyCheckInToken(token) is not { } proof)
        {
            return (StatusCodes.Status404NotFound, null);
        }

        var s = await db.Set<VaultSwitch>().FirstOrDefaultAsync(x => x.VaultId == proof.VaultId, cancellationToken);
        if (s is null)
        {
            return (StatusCodes.Status404NotFound, null);
        }

        return s.Generation != proof.Generation || s.State is VaultSwitchState.Paused or VaultSwitchState.Released
            ? (StatusCodes.Status410Gone, s)
            : (StatusCodes.Status200OK, s);
    }

    private static string Stale(VaultSwitch? s) => s?.State switch
    {
        VaultSwitchState.Released => "<p>This vault was already released; checking in is no longer possible.</p>",
        VaultSwitchState.Paused => "<p>This switch is paused. Sign in to resume it.</p>",
        _ => "<p>This link is out of date: you checked in after it was sent. Use the link in the newest reminder, or sign in.</p>",
    };

    private static IResult Page(HttpContext http, int status, string body, string title = "Veil vault check-in")
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = Csp;
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        // The same frame as the app's pages (header.site, main, section.page), styled by the app's stylesheet when the
        // client is built; without it the page is plain HTML and still works.
        var stylesheet = Stylesheet is { } href ? $"<link rel=\"stylesheet\" href=\"{WebUtility.HtmlEncode(href)}\">" : "";
        var html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">"
            + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"color-scheme\" content=\"light dark\">"
            + $"{stylesheet}<title>{title}</title></head><body><header class=\"site\"><a class=\"brand\" href=\"/\">Veil</a></header>"
            + $"<main id=\"main\"><section class=\"page\"><h1>{title}</h1>"
            + (body.StartsWith('<') ? body : "<p>" + WebUtility.HtmlEncode(body) + "</p>") + "</section></main></body></html>";
        return Results.Content(html, "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);
    }

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
