using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Veil.Server.Drop;

/// <summary>
/// Who is calling: the signed-in user (claim <c>sub</c>, present once Identity's scheme authenticates
/// the request), the owner token header if any, and the client IP (kept in memory only; it is hashed
/// with the server pepper before anything is stored).
/// </summary>
internal sealed record DropCaller(string? UserId, string? OwnerToken, IPAddress? Ip)
{
    public const string OwnerTokenHeader = "X-Owner-Token";

    public static DropCaller From(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var sub = context.User.FindFirstValue("sub");
        string? token = context.Request.Headers[OwnerTokenHeader];
        return new DropCaller(string.IsNullOrEmpty(sub) ? null : sub, string.IsNullOrEmpty(token) ? null : token, context.Connection.RemoteIpAddress);
    }

    /// <summary>The owner token matches, or the caller is the signed-in user who created the drop.</summary>
    public bool Owns(DropRecord drop)
    {
        ArgumentNullException.ThrowIfNull(drop);
        return (UserId is not null && drop.OwnerUserId is not null && string.Equals(UserId, drop.OwnerUserId, StringComparison.Ordinal))
            || DropSecrets.TokenMatches(OwnerToken, drop.OwnerTokenHash);
    }
}
