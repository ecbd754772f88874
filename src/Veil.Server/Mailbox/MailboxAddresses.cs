// Address rules and the Web Key Directory names (draft-koch-openpgp-webkey-service, §3.1):
// the WKD file of local@domain is hu/<z-base-32 of SHA-1 of the lowercased local part>.
using System.Security.Cryptography;
using System.Text;

namespace Veil.Server.Mailbox;

internal static class MailboxAddresses
{
    /// <summary>Longest wrapped token or wrapped private key the server stores (a Curve25519 secret key ring is ~0.5 KiB).</summary>
    public const int MaxWrappedLength = 16 * 1024;

    /// <summary>Longest armoured public key accepted.</summary>
    public const int MaxPublicKeyLength = 64 * 1024;

    /// <summary>
    /// The address in canonical form (<c>local@domain</c>, ASCII lowercase), or null when the local part is not
    /// 1–64 characters of <c>a-z 0-9 . _ -</c> (not starting or ending with a dot, no two dots in a row) or the
    /// domain is not a domain name.
    /// </summary>
    public static string? Normalize(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return null;
        }

        var text = address.Trim();
        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1)
        {
            return null;
        }

        var local = text[..at].ToLowerInvariant();
        var domain = Mail.DkimKeyAdmin.NormalizeDomain(text[(at + 1)..]);
        if (domain is null || !IsLocalPart(local))
        {
            return null;
        }

        return local + "@" + domain;
    }

    public static bool IsLocalPart(string local) =>
        local.Length is >= 1 and <= 64
        && local[0] != '.' && local[^1] != '.'
        && !local.Contains("..", StringComparison.Ordinal)
        && local.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-');

    public static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..];

    public static string LocalPartOf(string address) => address[..address.LastIndexOf('@')];

    /// <summary>The blind-indexed WKD key of a canonical address: <c>hash@domain</c>.</summary>
    public static string WkdKey(string address) =>
        address.Length == 0 ? "" : WkdHash(LocalPartOf(address)) + "@" + DomainOf(address);

    /// <summary>z-base-32 of SHA-1 of the lowercased local part: 32 characters.</summary>
    public static string WkdHash(string localPart)
    {
        Span<byte> digest = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // SHA-1 is what the WKD draft names for the file name; it protects nothing here.
        SHA1.HashData(Encoding.UTF8.GetBytes(localPart.ToLowerInvariant()), digest);
#pragma warning restore CA5350
        return ZBase32(digest);
    }

    /// <summary>z-base-32 (Zooko's alphabet, as the WKD draft uses it) of <paramref name="data"/>, no padding.</summary>
    public static string ZBase32(ReadOnlySpan<byte> data)
    {
        const string alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769";
        var result = new StringBuilder((data.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                result.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            result.Append(alphabet[(buffer << (5 - bits)) & 31]);
        }

        return result.ToString();
    }
}
