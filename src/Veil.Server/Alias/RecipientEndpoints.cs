// Recipients: the user's real mailboxes. A mailbox receives forwarded mail only after its owner clicked
// the emailed link, so nobody can make Veil forward to (or reply as) an address they do not control.
// The link's GET only shows a confirm button: mail scanners prefetch links, and a prefetch must not verify.
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Veil.Crypto.OpenPgp;
using Veil.Crypto.Primitives;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Outbox;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.Results;

namespace Veil.Server.Alias;

internal sealed record AddRecipientRequest(string? Email);

internal sealed record VerifyRecipientRequest(string? Token);

internal sealed record SetRecipientPgpRequest(string? PublicKey);

internal sealed record RecipientDto(
    Guid Id, string Email, bool Verified, bool Paused, string? PausedReason, DateTimeOffset CreatedAt, DateTimeOffset? VerifiedAt, string? PgpFingerprint)
{
    public static RecipientDto From(AliasRecipient r) =>
        new(r.Id, r.Email, r.Verified, r.PausedAt is not null, r.PausedReason, r.CreatedAt, r.VerifiedAt, r.PgpFingerprint);
}

internal sealed record RecipientsResponse(IReadOnlyList<RecipientDto> Recipients);

internal static class RecipientEndpoints
{
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromHours(24);

    public static async Task<IResult> AddAsync(
        AddRecipientRequest body, ClaimsPrincipal user, AliasDirectory directory, RecipientMail mail, TimeProvider time, CancellationToken ct)
    {
        var email = AliasAddresses.NormalizeMailbox(body?.Email);
        if (email is null)
        {
            return AliasErrors.Invalid("email", "must be an email address").ToProblem();
        }

        if (AliasAddresses.TrySplit(email, out _, out var domain) && directory.Options.IsAliasDomain(domain))
        {
            // An alias forwarding to an alias domain would loop through Veil.
            return AliasErrors.Invalid("email", "an address at an alias domain cannot be a recipient").ToProblem();
        }

        var accountId = user.UserId();
        var db = directory.Db;
        if (await db.Set<AliasRecipient>().WhereBlindIndexMatches(r => r.EmailIndex, email).AnyAsync(r => r.AccountId == accountId, ct))
        {
            return AliasErrors.RecipientExists.ToProblem();
        }

        if (await db.Set<AliasRecipient>().CountAsync(r => r.AccountId == accountId, ct) >= directory.Options.MaxRecipientsPerAccount)
        {
            return AliasErrors.RecipientLimit.ToProblem();
        }

        var now = time.GetUtcNow();
        var token = NewToken(out var hash);
        var recipient = new AliasRecipient
        {
            Id = Guid.NewGuid(),
            AccountId = accountId,
            Email = email,
            CreatedAt = now,
            VerifyTokenHash = hash,
            VerifyTokenExpiresAt = now + LinkLifetime,
        };
        db.Add(recipient);
        await db.SaveChangesAsync(ct);
        await mail.SendVerificationAsync(email, token, ct);
        return TypedResults.Created($"/api/v1/alias/recipients/{recipient.Id}", RecipientDto.From(recipient));
    }

    public static async Task<IResult> ListAsync(ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct) =>
        TypedResults.Ok(new RecipientsResponse([.. (await directory.RecipientsOfAsync(user.UserId(), ct)).Select(RecipientDto.From)]));

    public static async Task<IResult> DeleteAsync(Guid id, ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct)
    {
        var accountId = user.UserId();
        var db = directory.Db;
        var recipient = await db.Set<AliasRecipient>().FirstOrDefaultAsync(r => r.Id == id && r.AccountId == accountId, ct);
        if (recipient is null)
        {
            return AliasErrors.NotFound.ToProblem();
        }

        // The alias → recipient lists are encrypted, so they are rewritten here rather than cascaded by the database.
        foreach (var alias in await db.Set<AliasRecord>().Where(a => a.AccountId == accountId).ToListAsync(ct))
        {
            if (alias.RecipientIds.Contains(id))
            {
                alias.RecipientIds = [.. alias.RecipientIds.Where(r => r != id)];
            }
        }

        db.Remove(recipient);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Sets the mailbox's OpenPGP key: from now on every copy forwarded to it is PGP/MIME encrypted to this key.
    /// The key is validated (spec/openpgp.md §Keys) and refused with the reason and what Veil accepts; a refused
    /// key changes nothing.
    /// </summary>
    public static async Task<IResult> SetPgpAsync(Guid id, SetRecipientPgpRequest body, ClaimsPrincipal user, AliasDirectory directory, TimeProvider time, CancellationToken ct)
    {
        var recipient = await directory.Db.Set<AliasRecipient>().FirstOrDefaultAsync(r => r.Id == id && r.AccountId == user.UserId(), ct);
        if (recipient is null)
        {
            return AliasErrors.NotFound.ToProblem();
        }

        if (string.IsNullOrWhiteSpace(body?.PublicKey))
        {
            return AliasErrors.Invalid("publicKey", "must be an OpenPGP public key (ASCII armored)").ToProblem();
        }

        var parsed = OpenPgpPublicKey.Parse(body.PublicKey, time.GetUtcNow());
        if (parsed.Key is not { } key)
        {
            return AliasErrors.PgpKeyRefused(parsed.Error!).ToProblem();
        }

        // Stored re-armored from the parsed packets: what is kept is exactly what was validated.
        recipient.PgpPublicKey = key.ToArmored();
        recipient.PgpFingerprint = key.Sha256Fingerprint;
        await directory.Db.SaveChangesAsync(ct);
        return TypedResults.Ok(RecipientDto.From(recipient));
    }

    /// <summary>Removes the mailbox's OpenPGP key: forwarded copies go out as they arrived again.</summary>
    public static async Task<IResult> ClearPgpAsync(Guid id, ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct)
    {
        var recipient = await directory.Db.Set<AliasRecipient>().FirstOrDefaultAsync(r => r.Id == id && r.AccountId == user.UserId(), ct);
        if (recipient is null)
        {
            return AliasErrors.NotFound.ToProblem();
        }

        recipient.PgpPublicKey = null;
        recipient.PgpFingerprint = null;
        await directory.Db.SaveChangesAsync(ct);
        return TypedResults.Ok(RecipientDto.From(recipient));
    }

    public static async Task<IResult> ResumeAsync(Guid id, ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct)
    {
        var accountId = user.UserId();
        var db = directory.Db;
        var recipient = await db.Set<AliasRecipient>().FirstOrDefaultAsync(r => r.Id == id && r.AccountId == accountId, ct);
        if (recipient is null)
        {
            return AliasErrors.NotFound.ToProblem();
        }

        recipient.Resume();
        await db.Set<AliasBounce>().Where(b => b.RecipientId == id).ExecuteDeleteAsync(ct);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(RecipientDto.From(recipient));
    }

    public static async Task<IResult> ResendAsync(Guid id, ClaimsPrincipal user, AliasDirectory directory, RecipientMail mail, TimeProvider time, CancellationToken ct)
    {
        var accountId = user.UserId();
        var db = directory.Db;
        var recipient = await db.Set<AliasRecipient>().FirstOrDefaultAsync(r => r.Id == id && r.AccountId == accountId, ct);
        if (recipient is null)
        {
            return AliasErrors.NotFound.ToProblem();
        }

        if (recipient.Verified)
        {
            return AliasErrors.Invalid("id", "the recipient is already verified").ToProblem();
        }

        var token = NewToken(out var hash);
        recipient.VerifyTokenHash = hash;
        recipient.VerifyTokenExpiresAt = time.GetUtcNow() + LinkLifetime;
        await db.SaveChangesAsync(ct);
        await mail.SendVerificationAsync(recipient.Email, token, ct);
        return TypedResults.Accepted((string?)null);
    }

    public static async Task<IResult> VerifyApiAsync(VerifyRecipientRequest body, VeilDbContext db, TimeProvider time, CancellationToken ct) =>
        await VerifyAsync(db, body?.Token, time, ct) ? TypedResults.Ok(new { verified = true }) : AliasErrors.InvalidToken.ToProblem();

    /// <summary>
    /// The page's own policy: the platform's API policy forbids form posts, and this page is a form that posts
    /// to itself. Nothing else may load; no script, no style, no framing.
    /// </summary>
    public const string PageContentSecurityPolicy = "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    /// <summary>
    /// The mailed link opens the app's confirmation page (web/src/alias/VerifyRecipientPage.tsx, the app's CSP),
    /// whose button posts the token to <c>POST /api/v1/alias/recipients/verify</c>. A server built without the web
    /// client shows a bare form that posts to this URL instead.
    /// </summary>
    public static IResult ConfirmPage(string token, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (Web.WebClientEndpoints.AppPage(http) is { } app)
        {
            return app;
        }

        http.Response.Headers.ContentSecurityPolicy = PageContentSecurityPolicy;
        return ConfirmForm(token);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ContentHttpResult ConfirmForm(string token) => Html(HttpStatusCode.OK, "Confirm this mailbox",
        $"""
        <p>Confirm that this mailbox may receive mail forwarded from your Veil aliases.</p>
        <form method="post" action="/alias/verify/{WebUtility.HtmlEncode(token)}"><button type="submit">Confirm</button></form>
        """);

    public static async Task<IResult> ConfirmAsync(string token, VeilDbContext db, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.Headers.ContentSecurityPolicy = PageContentSecurityPolicy;
        return await VerifyAsync(db, token, time, ct)
            ? Html(HttpStatusCode.OK, "Mailbox confirmed", "<p>This mailbox now receives mail from your Veil aliases. You can close this page.</p>")
            : Html(HttpStatusCode.BadRequest, "Link not valid", "<p>This link is unknown, already used or expired. Ask for a new one from your Veil account.</p>");
    }

    private static async Task<bool> VerifyAsync(VeilDbContext db, string? token, TimeProvider time, CancellationToken ct)
    {
        if (token is null || CryptoRandom.FromBase64Url(token) is not { Length: 32 } raw)
        {
            return false;
        }

        var hash = SHA256.HashData(raw);
        var now = time.GetUtcNow();
        var recipient = await db.Set<AliasRecipient>().FirstOrDefaultAsync(r => r.VerifyTokenHash == hash, ct);
        if (recipient is null || recipient.VerifyTokenExpiresAt <= now)
        {
            return false;
        }

        recipient.VerifiedAt = now;
        recipient.VerifyTokenHash = null;
        recipient.VerifyTokenExpiresAt = null;
        await db.SaveChangesAsync(ct);
        return true;
    }

    private static string NewToken(out byte[] hash)
    {
        var raw = RandomNumberGenerator.GetBytes(32);
        hash = SHA256.HashData(raw);
        return CryptoRandom.ToBase64Url(raw);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ContentHttpResult Html(HttpStatusCode status, string title, string body) => TypedResults.Content(
        $"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <meta name="referrer" content="no-referrer"><title>{title} · Veil</title></head>
        <body><main><h1>{title}</h1>{body}</main></body></html>
        """, "text/html; charset=utf-8", statusCode: (int)status);
}

/// <summary>Recipient verification mail, through the one outbox. The token is in the path (a form must post it back).</summary>
internal sealed class RecipientMail(IMailOutbox outbox, PublicOrigin origin)
{
    private static readonly IReadOnlyDictionary<string, string> AutoSubmitted = new Dictionary<string, string> { ["Auto-Submitted"] = "auto-generated" };

    public Task SendVerificationAsync(string to, string token, CancellationToken ct)
    {
        var link = $"{Origin()}/alias/verify/{token}";
        var body = $"Someone (hopefully you) asked Veil to forward alias mail to this mailbox.\r\n\r\nOpen this link and press Confirm to allow it:\r\n\r\n{link}\r\n\r\nThe link expires in {HumanDuration.Format(RecipientEndpoints.LinkLifetime)}. If you did not ask for this, ignore this message: nothing will be forwarded to you.\r\n";
        return outbox.SendAsync(new OutboxMessage(to, "Confirm your Veil alias mailbox", body) { Headers = AutoSubmitted }, ct);
    }

    public Task SendPausedAsync(string to, CancellationToken ct) => outbox.SendAsync(new OutboxMessage(to, "Veil paused forwarding to one of your mailboxes",
        "Mail forwarded from your Veil aliases to one of your recipient mailboxes bounced repeatedly, so Veil stopped forwarding to it.\r\n\r\n"
        + "Check that the mailbox exists and accepts mail, then resume it in your Veil account (Alias → Recipients). Until then, mail to aliases that only use it is not delivered.\r\n")
    { Headers = AutoSubmitted }, ct);

    private string Origin() => origin.Value;
}
