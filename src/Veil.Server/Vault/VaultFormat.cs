// What the server checks of client data (spec/vault-api.md, Conventions): ids are lowercase
// canonical UUIDs, every CT is "v1." + canonical base64url of nonce12 || ciphertext || tag16 within
// bounds. Nothing else: the server cannot tell a seed phrase from a recipe, and must not try.
using System.Buffers.Text;

namespace Veil.Server.Vault;

internal static class VaultFormat
{
    public const int IdLength = 36;
    public const string CtPrefix = "v1.";

    /// <summary>nonce (12) + tag (16): the smallest CT (an empty value).</summary>
    public const int MinCtBytes = 28;

    /// <summary>A 64 KiB value plus nonce and tag.</summary>
    public const int MaxCtBytes = (64 * 1024) + 28;

    public const int MaxFields = 256;
    public const int MaxTags = 64;
    public const int DeliveryKeyBytes = 32;
    public const int MaxEmailLength = 254;

    /// <summary>A lowercase canonical UUID (8-4-4-4-12 hex); the version is the client's business.</summary>
    public static bool IsId(string? id)
    {
        if (id is not { Length: IdLength })
        {
            return false;
        }

        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            var ok = i is 8 or 13 or 18 or 23 ? c == '-' : char.IsAsciiDigit(c) || c is >= 'a' and <= 'f';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The 16 bytes of a UUID in text order (what tokens carry).</summary>
    public static byte[] IdBytes(string id) => Convert.FromHexString(id.Replace("-", "", StringComparison.Ordinal));

    public static string IdFromBytes(ReadOnlySpan<byte> bytes)
    {
        var hex = Convert.ToHexStringLower(bytes);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    /// <summary>Whether <paramref name="ct"/> has the form of a v1 CT (prefix, canonical base64url, bounds).</summary>
    public static bool IsCt(string? ct)
    {
        if (ct is null || !ct.StartsWith(CtPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var body = ct.AsSpan(CtPrefix.Length);
        if (body.Length < Base64Url.GetEncodedLength(MinCtBytes) || body.Length > Base64Url.GetEncodedLength(MaxCtBytes))
        {
            return false;
        }

        return IsCanonicalBase64Url(body, out var length) && length is >= MinCtBytes and <= MaxCtBytes;
    }

    /// <summary>Canonical unpadded base64url: valid characters, no padding, no stray bits in the last character.</summary>
    public static bool IsCanonicalBase64Url(ReadOnlySpan<char> text, out int decodedLength)
    {
        decodedLength = 0;
        if (text.Length % 4 == 1 || text.ContainsAny('=', '+', '/') || !Base64Url.IsValid(text, out decodedLength))
        {
            return false;
        }

        // The last character of a 2- or 3-character tail carries unused low bits that must be zero.
        var rest = text.Length % 4;
        if (rest == 0)
        {
            return true;
        }

        var last = Base64UrlValue(text[^1]);
        return rest == 2 ? (last & 0x0F) == 0 : (last & 0x03) == 0;
    }

    public static byte[]? DecodeKey(string? text, int bytes)
    {
        if (text is null || text.Length != Base64Url.GetEncodedLength(bytes) || !IsCanonicalBase64Url(text, out var length) || length != bytes)
        {
            return null;
        }

        return Base64Url.DecodeFromChars(text);
    }

    /// <summary>A plausible address: one @, no whitespace or control characters, bounded. The server mails it; nothing more.</summary>
    public static bool IsEmail(string? email)
    {
        if (email is null || email.Length is < 3 or > MaxEmailLength)
        {
            return false;
        }

        var at = email.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at == email.LastIndexOf('@') && at < email.Length - 1
            && !email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or ',' or ';' or '"');
    }

    private static int Base64UrlValue(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        _ => 63,
    };
}
