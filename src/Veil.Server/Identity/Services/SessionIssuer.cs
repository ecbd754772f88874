// Sessions: a row per signed-in device, holding a family of refresh tokens. Refresh tokens rotate on
// every use; a rotated token presented again means it was copied (stolen, or a client bug), and
// the only safe answer is to end the whole family, so the thief's and the owner's copies both die.
// Parallel uses of one token are not a theft: a browser's tabs, or a retry, can present the same cookie at
// once. The first to rotate it wins (200); a use that lost that race, or that comes within RaceWindow of the
// rotation, answers 409 refresh-token-superseded and changes nothing (a browser's cookie already holds the
// winner's token, so one retry succeeds). Past the window, the rotated token coming back is a reuse and ends the
// family. The window delays, never prevents, detecting a copied token: a client whose token was rotated by a thief
// keeps presenting its old token and, after the window, ends the thief's session with its own.
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Identity.Services;

internal sealed record IssuedTokens(string AccessToken, string RefreshToken, Guid SessionId, Guid AccountId);

internal sealed partial class SessionIssuer(VeilDbContext db, AccessTokens tokens, TimeProvider clock, IOptions<IdentityOptions> options, ILogger<SessionIssuer> logger)
{
    public const string RefreshCookie = "veil_refresh";
    public const string RefreshCookiePath = "/api/v1/auth";

    /// <summary>How long after a rotation the old token is answered as superseded rather than reused (see the header).</summary>
    public static readonly TimeSpan RaceWindow = TimeSpan.FromSeconds(5);

    public async Task<IssuedTokens> StartAsync(Guid accountId, string? label, DateTimeOffset authTime, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var session = new Session { Id = Guid.NewGuid(), AccountId = accountId, Label = label, CreatedAt = now, LastUsedAt = now, AuthTime = authTime };
        db.Add(session);
        var refresh = AddRefreshToken(session.Id, now);
        await db.SaveChangesAsync(cancellationToken);
        return new IssuedTokens(tokens.Issue(accountId, session.Id, authTime), refresh, session.Id, accountId);
    }

    public async Task<Result<IssuedTokens>> RefreshAsync(string? presented, CancellationToken cancellationToken)
    {
        var digest = SecretTokens.DigestOf(presented);
        if (digest is null)
        {
            return IdentityErrors.InvalidRefreshToken;
        }

        var now = clock.GetUtcNow();
        var token = await db.Set<RefreshToken>().AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == digest, cancellationToken);
        if (token is null)
        {
            return IdentityErrors.InvalidRefreshToken;
        }

        if (token.RotatedAt is { } rotatedAt)
        {
            if (now - rotatedAt < RaceWindow)
            {
                return IdentityErrors.RefreshTokenSuperseded;
            }

            await RevokeReusedFamilyAsync(token.SessionId, cancellationToken);
            return IdentityErrors.RefreshTokenReused;
        }

        if (token.ExpiresAt <= now)
        {
            return IdentityErrors.InvalidRefreshToken;
        }

        // Conditional update: of requests racing with the same token, exactly one rotates it; the others lost a race
        // (superseded), which is not a reuse.
        var rotated = await db.Set<RefreshToken>()
            .Where(t => t.Id == token.Id && t.RotatedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RotatedAt, now), cancellationToken);
        if (rotated == 0)
        {
            return IdentityErrors.RefreshTokenSuperseded;
        }

        // The session may have ended (logout, revocation) between the read and here: answer as a reuse, never a 500.
        var session = await db.Set<Session>().FirstOrDefaultAsync(s => s.Id == token.SessionId, cancellationToken);
        if (session is null)
        {
            return IdentityErrors.RefreshTokenReused;
        }

        session.LastUsedAt = now;
        var refresh = AddRefreshToken(session.Id, now);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The session row was deleted between the read and the write (foreign key or zero-row update).
            db.ChangeTracker.Clear();
            return IdentityErrors.RefreshTokenReused;
        }

        return new IssuedTokens(tokens.Issue(session.AccountId, session.Id, session.AuthTime), refresh, session.Id, session.AccountId);
    }

    /// <summary>Ends the session of a refresh token (logout); unknown tokens are ignored.</summary>
    public async Task RevokeByRefreshTokenAsync(string? presented, CancellationToken cancellationToken)
    {
        if (SecretTokens.DigestOf(presented) is { } digest)
        {
            var sessionId = await db.Set<RefreshToken>().Where(t => t.TokenHash == digest).Select(t => (Guid?)t.SessionId).FirstOrDefaultAsync(cancellationToken);
            if (sessionId is { } id)
            {
                await RevokeAsync(id, cancellationToken);
            }
        }
    }

    /// <summary>Deletes a session; its refresh tokens go with it (cascade) and its access tokens stop working.</summary>
    public Task<int> RevokeAsync(Guid sessionId, CancellationToken cancellationToken) =>
        db.Set<Session>().Where(s => s.Id == sessionId).ExecuteDeleteAsync(cancellationToken);

    public Task<int> RevokeAllExceptAsync(Guid accountId, Guid? keep, CancellationToken cancellationToken) =>
        db.Set<Session>().Where(s => s.AccountId == accountId && s.Id != keep).ExecuteDeleteAsync(cancellationToken);

    public void AppendCookie(HttpResponse response, string refreshToken) =>
        response.Cookies.Append(RefreshCookie, refreshToken, new CookieOptions
        {
            HttpOnly = true,
            Secure = true,
            SameSite = SameSiteMode.Strict,
            Path = RefreshCookiePath,
            MaxAge = options.Value.RefreshTokenLifetime,
            IsEssential = true,
        });

    public static void ClearCookie(HttpResponse response) =>
        response.Cookies.Append(RefreshCookie, "", new CookieOptions
        {
            HttpOnly = true,
            Secure = true,
            SameSite = SameSiteMode.Strict,
            Path = RefreshCookiePath,
            MaxAge = TimeSpan.Zero,
        });

    private async Task RevokeReusedFamilyAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        await RevokeAsync(sessionId, cancellationToken);
        LogRefreshReuse(logger);
    }

    private string AddRefreshToken(Guid sessionId, DateTimeOffset now)
    {
        var (token, digest) = SecretTokens.New();
        db.Add(new RefreshToken { Id = Guid.NewGuid(), SessionId = sessionId, TokenHash = digest, CreatedAt = now, ExpiresAt = now + options.Value.RefreshTokenLifetime });
        return token;
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "A rotated refresh token was presented again; its session was revoked")]
    private static partial void LogRefreshReuse(ILogger logger);
}
