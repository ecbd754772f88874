// Drop links (spec/drop.md): `{origin}/d/{id}#{base64url(drop key)}`, or `{origin}/d/{id}` for a password drop.
//
// The key sits in the fragment because user agents never send a fragment to the server (RFC 3986 §3.5,
// RFC 9110 §7.1): the server that serves /d/{id} never learns the key. The origin may carry a path prefix
// (a reverse proxy at https://example.org/veil): everything before the last "/d/" is the origin.
namespace Veil.Crypto.Drop;

/// <summary>A parsed drop link: where the drop lives, its id, and (for a drop without password) its key.</summary>
/// <param name="Origin">Scheme, authority and optional path prefix, without a trailing slash (e.g. <c>https://veil.example</c>).</param>
/// <param name="Id">The drop id.</param>
/// <param name="KeyText">The key as unpadded base64url (secret), or null for a password drop.</param>
public sealed record DropLink(string Origin, string Id, string? KeyText)
{
    /// <summary>Formats a link.</summary>
    /// <param name="origin">The server origin (http or https), with or without a trailing slash.</param>
    /// <param name="id">The drop id.</param>
    /// <param name="key">The drop key, or null for a password drop (the link then carries no key).</param>
    /// <returns>The link; it contains the key when <paramref name="key"/> is given, so it is secret.</returns>
    /// <exception cref="ArgumentException">The origin is not an absolute http(s) URL without query or fragment, or the id is invalid.</exception>
    public static string Format(string origin, string id, DropKey? key)
    {
        ArgumentNullException.ThrowIfNull(origin);
        DropCipher.CheckDropId(id);
        string trimmed = origin.TrimEnd('/');
        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || trimmed.Contains('?', StringComparison.Ordinal) || trimmed.Contains('#', StringComparison.Ordinal))
        {
            throw new ArgumentException("The origin must be an absolute http or https URL without query or fragment.", nameof(origin));
        }

        string link = $"{trimmed}/d/{id}";
        return key is null ? link : $"{link}#{key.ToBase64Url()}";
    }

    /// <summary>Parses a link; returns null when the text is not a drop link.</summary>
    /// <param name="text">An http(s) URL whose path ends in <c>/d/{id}</c>, optionally with a <c>#key</c> fragment.</param>
    /// <returns>The link, or null. A fragment that is present but not a valid 43-character key gives null.</returns>
    public static DropLink? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        string? keyText = null;
        int hash = text.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
        {
            keyText = text[(hash + 1)..];
            text = text[..hash];
            if (keyText.Length == 0)
            {
                keyText = null;
            }
            else
            {
                using DropKey? key = DropKey.FromBase64Url(keyText);
                if (key is null)
                {
                    return null;
                }
            }
        }

        if (text.Contains('?', StringComparison.Ordinal)
            || !Uri.TryCreate(text, UriKind.Absolute, out Uri? uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return null;
        }

        int marker = text.LastIndexOf("/d/", StringComparison.Ordinal);
        int authorityEnd = text.IndexOf('/', uri.Scheme.Length + 3);
        if (marker < 0 || marker < authorityEnd || authorityEnd < 0)
        {
            return null;
        }

        string id = text[(marker + 3)..];
        string origin = text[..marker];
        return DropCipher.IsValidDropId(id) ? new DropLink(origin, id, keyText) : null;
    }

    /// <summary>The link's key, or null for a password drop. Dispose it when done.</summary>
    /// <returns>A new key instance, or null.</returns>
    public DropKey? Key() => KeyText is null ? null : DropKey.FromBase64Url(KeyText);

    /// <summary>Shows origin and id; never the key.</summary>
    /// <returns>The link without its fragment.</returns>
    public override string ToString() => $"{Origin}/d/{Id}";
}
