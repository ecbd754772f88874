// OtpAlgorithm: the HMAC hash behind an HOTP/TOTP code (RFC 4226 §5, RFC 6238 §1.2).
namespace Veil.Crypto.Otp;

/// <summary>The HMAC hash function of a one-time password. Authenticator apps expect <see cref="Sha1"/>.</summary>
public enum OtpAlgorithm
{
    /// <summary>HMAC-SHA1, the RFC 4226 default and the only one every authenticator app supports.</summary>
    Sha1 = 0,

    /// <summary>HMAC-SHA256 (RFC 6238 §1.2).</summary>
    Sha256 = 1,

    /// <summary>HMAC-SHA512 (RFC 6238 §1.2).</summary>
    Sha512 = 2,
}
