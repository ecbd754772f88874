// The DNS TXT record an operator publishes for a DKIM key (RFC 6376 §3.6.1, RFC 8463 §4).
namespace Veil.Mail.Dkim;

/// <summary>The DNS record that publishes a DKIM public key.</summary>
public static class DkimDnsRecord
{
    /// <summary>The TXT record text for <paramref name="key"/>: <c>v=DKIM1; k=rsa|ed25519; p=BASE64</c>.</summary>
    public static string For(DkimSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return $"v=DKIM1; k={key.KeyType}; p={Convert.ToBase64String(key.ExportPublicKey())}";
    }

    /// <summary>The owner name of the record: <c>selector._domainkey.domain</c>.</summary>
    public static string Name(string selector, string domain)
    {
        ArgumentException.ThrowIfNullOrEmpty(selector);
        ArgumentException.ThrowIfNullOrEmpty(domain);
        return $"{selector}._domainkey.{domain}";
    }
}
