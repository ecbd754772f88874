using System.Security.Cryptography;
using Veil.Crypto.Primitives;

namespace Veil.Server.Identity.Services;

/// <summary>
/// Identity's random tokens (links, refresh tokens, challenges, API keys): generated from
/// CryptoRandom, stored only as SHA-256, looked up by that digest (an equality on a unique index,
/// so the comparison happens on digests of uniformly random values: no timing oracle on the token).
/// </summary>
internal static class SecretTokens
{
    public const int TokenBytes = 32;
    public const string ApiKeyPrefix = "ak_";

    /// <summary>A new 32-byte token, base64url, and its digest.</summary>
    public static (string Token, byte[] Digest) New()
    {
        Span<byte> raw = stackalloc byte[TokenBytes];
        try
        {
            CryptoRandom.Fill(raw);
            return (CryptoRandom.ToBase64Url(raw), SHA256.HashData(raw));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>The digest of a presented base64url token, or null when it is not 32 bytes of base64url.</summary>
    public static byte[]? DigestOf(string? token)
    {
        if (token is null || token.Length != 43)
        {
            return null;
        }

        var raw = CryptoRandom.FromBase64Url(token);
        if (raw is null || raw.Length != TokenBytes)
        {
            return null;
        }

        try
        {
            return SHA256.HashData(raw);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>
    /// A token derived from <paramref name="token"/> (a 32-byte base64url token) for <paramref name="purpose"/>: SHA-256 over the
    /// purpose and the token's bytes, base64url. As unguessable as the token, and recomputable by whoever holds it.
    /// </summary>
    public static string Derive(string purpose, string token)
    {
        var raw = CryptoRandom.FromBase64Url(token) ?? throw new ArgumentException("Not a base64url token.", nameof(token));
        try
        {
            return CryptoRandom.ToBase64Url(SHA256.HashData([.. System.Text.Encoding.ASCII.GetBytes("veil/" + purpose + "\0"), .. raw]));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>A new API key <c>ak_</c> + 32 lowercase hex (128 bits) and its digest.</summary>
    public static (string Key, byte[] Digest) NewApiKey()
    {
        var key = ApiKeyPrefix + Convert.ToHexStringLower(CryptoRandom.Bytes(16));
        return (key, ApiKeyDigest(key)!);
    }

    /// <summary>The digest of a presented API key, or null when it is not <c>ak_</c> + 32 lowercase hex.</summary>
    public static byte[]? ApiKeyDigest(string key)
    {
        if (key.Length != ApiKeyPrefix.Length + 32 || !key.StartsWith(ApiKeyPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        foreach (var c in key.AsSpan(ApiKeyPrefix.Length))
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return null;
            }
        }

        return SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(key));
    }
}
