using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox.Domains;

/// <summary>Every expected custom-domain failure (codes are the API contract, spec/mail-domains.md).</summary>
internal static class CustomDomainErrors
{
    public static readonly Error NotFound = PlatformErrors.NotFound;
    public static readonly Error Exists = new("domain-exists", ErrorKind.Conflict, "Domain exists", "This domain is already one of yours.");
    public static readonly Error Limit = new("domain-limit", ErrorKind.Conflict, "Too many domains", "This account has the maximum number of custom domains.");
    public static readonly Error OperatorDomain = new("domain-reserved", ErrorKind.Conflict, "Domain reserved", "This domain is one of the server's own mail domains.");
    public static readonly Error Claimed = new("domain-claimed", ErrorKind.Conflict, "Domain claimed", "Another account has verified this domain.");

    public static Error Invalid(string member, string why) => new("invalid-request", ErrorKind.BadRequest, "Invalid request", $"{member}: {why}");
}
