// OtpAuthUri: the otpauth:// key URI that authenticator apps scan from a QR code
// (Google Authenticator "Key Uri Format", the de facto standard; RFC 3986 percent-encoding).
//
//   otpauth://totp/{issuer}:{account}?secret={base32}&issuer={issuer}&algorithm=SHA1&digits=6&period=30
//
// The issuer and account are percent-encoded as UTF-8, keeping only RFC 3986 unreserved characters
// (A–Z a–z 0–9 - . _ ~) literal, so a space becomes %20 (never '+'), '@' becomes %40 and '&', '=',
// '?', '#', '/' cannot break the URI's structure. The label's separating colon is literal. Neither
// part may contain a colon (the format gives no way to tell which colon separates them) nor be
// empty. The issuer appears in both the label and the query, as the format recommends. The secret
// is base32 without padding (RFC 4648). The result holds the secret: show it once, never log it.
using System.Globalization;
using System.Text;

namespace Veil.Crypto.Otp;

/// <summary>Builds otpauth:// key URIs for TOTP enrolment.</summary>
public static class OtpAuthUri
{
    /// <summary>The otpauth://totp/ URI for <paramref name="secret"/>, to show as a QR code or link.</summary>
    /// <param name="issuer">The service name shown by the app, e.g. "Veil (example.org)".</param>
    /// <param name="account">The account name shown by the app, e.g. the user's email.</param>
    /// <param name="secret">The shared secret (16 to 64 bytes).</param>
    /// <param name="parameters">The credential's parameters; <see cref="TotpParameters.Default"/> if omitted.</param>
    /// <exception cref="ArgumentException">The issuer or account is empty or contains a colon, or the secret's length is out of range.</exception>
    public static string ForTotp(string issuer, string account, ReadOnlySpan<byte> secret, TotpParameters? parameters = null)
    {
        CheckLabelPart(issuer, nameof(issuer));
        CheckLabelPart(account, nameof(account));
        Hotp.CheckSecret(secret);
        var p = parameters ?? TotpParameters.Default;
        p.Validate();

        var algorithm = p.Algorithm switch
        {
            OtpAlgorithm.Sha1 => "SHA1",
            OtpAlgorithm.Sha256 => "SHA256",
            _ => "SHA512",
        };
        var encodedIssuer = Uri.EscapeDataString(issuer);
        return new StringBuilder("otpauth://totp/")
            .Append(encodedIssuer).Append(':').Append(Uri.EscapeDataString(account))
            .Append("?secret=").Append(Base32.Encode(secret))
            .Append("&issuer=").Append(encodedIssuer)
            .Append("&algorithm=").Append(algorithm)
            .Append("&digits=").Append(p.Digits.ToString(CultureInfo.InvariantCulture))
            .Append("&period=").Append(p.PeriodSeconds.ToString(CultureInfo.InvariantCulture))
            .ToString();
    }

    private static void CheckLabelPart(string value, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, name);
        if (value.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException("An otpauth label part must not contain a colon.", name);
        }
    }
}
