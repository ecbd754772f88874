// The one way to mention a sensitive value in a log line (DESIGN.md principle 5).
//
// Each form is a keyed fingerprint: HMAC-SHA256 under a key drawn at random when the process starts
// and never stored or printed. Within one run the same address always gives the same fingerprint,
// so an operator can follow one user's requests through the log; across runs, and for anyone who
// reads the log, the fingerprint reveals nothing (no dictionary attack without the key).
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Veil.Server.Platform.Redaction;

internal static class Redact
{
    private const int FingerprintBytes = 6;
    private static readonly byte[] ProcessKey = RandomNumberGenerator.GetBytes(32);

    /// <summary>An email address, normalised (trimmed, lowercased) before fingerprinting.</summary>
    public static string Email(string? address) =>
        Tagged("email", address?.Trim().ToLowerInvariant());

    /// <summary>A bearer token, link id, code or any other credential-like value.</summary>
    public static string Token(string? token) => Tagged("token", token);

    /// <summary>A client IP address.</summary>
    public static string Ip(IPAddress? address) => Tagged("ip", address?.ToString());

    /// <summary>Free text the server must not repeat: a subject, a body, a filename.</summary>
    public static string Text(string? text) => Tagged("text", text);

    /// <summary>Key material or a password. Not even a fingerprint: there is nothing to correlate.</summary>
#pragma warning disable IDE0060 // The parameter exists so call sites read as "redact this secret".
    public static string Secret(ReadOnlySpan<char> secret) => "secret:[redacted]";
#pragma warning restore IDE0060

    /// <summary>A keyed, non-reversible fingerprint of <paramref name="value"/> for one purpose (also used as an in-memory partition key).</summary>
    public static string Fingerprint(string purpose, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        ArgumentNullException.ThrowIfNull(value);
        var input = Encoding.UTF8.GetBytes(purpose + "\0" + value);
        Span<byte> mac = stackalloc byte[32];
        try
        {
            HMACSHA256.HashData(ProcessKey, input, mac);
            return Convert.ToHexStringLower(mac[..FingerprintBytes]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    private static string Tagged(string kind, string? value) =>
        value is null
            ? string.Create(CultureInfo.InvariantCulture, $"{kind}:(none)")
            : string.Create(CultureInfo.InvariantCulture, $"{kind}#{Fingerprint(kind, value)}");
}
