using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Identity.Services;

/// <summary>
/// Validates <c>Authorization: Bearer</c>: an <c>ak_</c> value is only ever an API key, anything else
/// only ever a JWT. A JWT is also checked against its session row, so revoking a session (or a
/// refresh-token reuse) ends its access tokens at once rather than after 15 minutes.
/// </summary>
internal sealed class IdentityAuthenticator(VeilDbContext db, AccessTokens tokens, TimeProvider clock) : IRequestAuthenticator
{
    // Last-used times are written at most once a minute per session or key, not on every request.
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    public async Task<ClaimsPrincipal?> AuthenticateAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var header = context.Request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return null;
        }

        var credential = value["Bearer ".Length..].Trim();
        var now = clock.GetUtcNow();
        if (credential.StartsWith(SecretTokens.ApiKeyPrefix, StringComparison.Ordinal))
        {
            return await ApiKeyAsync(credential, now, cancellationToken);
        }

        var claims = await tokens.ValidateAsync(credential);
        if (claims is null)
        {
            return null;
        }

        var session = await db.Set<Session>().AsNoTracking()
            .Where(s => s.Id == claims.SessionId && s.AccountId == claims.AccountId)
            .Select(s => new { s.LastUsedAt })
            .FirstOrDefaultAsync(cancellationToken);
        if (session is null)
        {
            return null;
        }

        if (now - session.LastUsedAt > TouchInterval)
        {
            await db.Set<Session>().Where(s => s.Id == claims.SessionId).ExecuteUpdateAsync(s => s.SetProperty(x => x.LastUsedAt, now), cancellationToken);
        }

        return claims.ToPrincipal();
    }

    private async Task<ClaimsPrincipal?> ApiKeyAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (SecretTokens.ApiKeyDigest(key) is not { } digest)
        {
            return null;
        }

        var found = await db.Set<ApiKey>().AsNoTracking()
            .Where(k => k.KeyHash == digest)
            .Select(k => new { k.Id, k.AccountId, k.LastUsedAt })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }

        if (found.LastUsedAt is not { } last || now - last > TouchInterval)
        {
            await db.Set<ApiKey>().Where(k => k.Id == found.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.LastUsedAt, now), cancellationToken);
        }

        return new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(VeilClaims.Subject, found.AccountId.ToString("D")),
                new Claim(VeilClaims.Credential, VeilClaims.ApiKeyCredential),
                new Claim(VeilClaims.ApiKeyId, found.Id.ToString("D", CultureInfo.InvariantCulture)),
            ],
            VeilClaims.AuthenticationType));
    }
}
