// The typed outcome of verifying one DKIM signature. Results follow RFC 8601's dkim method:
// pass, fail (the signature does not verify or has expired), permerror (the signature or key
// record cannot be used), temperror (the key lookup failed transiently and a retry may succeed).
namespace Veil.Mail.Dkim;

/// <summary>The outcome class of one signature's verification (RFC 8601 §2.7.1).</summary>
public enum DkimVerificationStatus
{
    /// <summary>The signature verified.</summary>
    Pass,

    /// <summary>The signature is well formed but does not verify (tampering, expiry).</summary>
    Fail,

    /// <summary>The signature or its key record is unusable (syntax, unsupported algorithm, no key).</summary>
    PermError,

    /// <summary>The key could not be fetched now; a later retry may succeed.</summary>
    TempError,
}

/// <summary>Why a signature did not pass.</summary>
public enum DkimFailureReason
{
    /// <summary>No failure: the signature passed.</summary>
    None,

    /// <summary>The DKIM-Signature field is malformed (tag syntax, missing or invalid tag).</summary>
    MalformedSignature,

    /// <summary>v= is not 1.</summary>
    UnsupportedVersion,

    /// <summary>a= names an algorithm Veil does not accept (e.g. rsa-sha1, RFC 8301).</summary>
    UnsupportedAlgorithm,

    /// <summary>h= does not include From (RFC 6376 §5.4).</summary>
    FromNotSigned,

    /// <summary>i= is not d= or a subdomain of it.</summary>
    IdentityMismatch,

    /// <summary>q= does not offer dns/txt.</summary>
    UnsupportedQueryMethod,

    /// <summary>x= is in the past.</summary>
    SignatureExpired,

    /// <summary>No key record exists for the selector and domain.</summary>
    KeyNotFound,

    /// <summary>The key lookup failed transiently.</summary>
    KeyLookupFailed,

    /// <summary>The key record is malformed or its key cannot be imported.</summary>
    MalformedKey,

    /// <summary>The key record has an empty p= (RFC 6376 §3.6.1).</summary>
    KeyRevoked,

    /// <summary>The key record's k=, h= or s= does not fit the signature.</summary>
    KeyUnsuitable,

    /// <summary>The RSA key is outside the accepted sizes (1024–4096 bits).</summary>
    KeySizeRejected,

    /// <summary>l= is larger than the canonical body.</summary>
    BodyLengthExceeded,

    /// <summary>The body hash does not match bh= (the body was changed).</summary>
    BodyHashMismatch,

    /// <summary>The signature does not verify (a signed header or the signature was changed).</summary>
    SignatureMismatch,
}

/// <summary>The result of verifying one DKIM-Signature field.</summary>
/// <param name="Status">Pass, fail, permerror or temperror.</param>
/// <param name="Reason">Why it did not pass; <see cref="DkimFailureReason.None"/> on pass.</param>
/// <param name="Domain">The signing domain (d=), lowercase, or null when unparseable.</param>
/// <param name="Selector">The selector (s=), or null when unparseable.</param>
/// <param name="Algorithm">The algorithm (a=) as written, or null when unparseable.</param>
public sealed record DkimVerificationResult(
    DkimVerificationStatus Status,
    DkimFailureReason Reason,
    string? Domain,
    string? Selector,
    string? Algorithm)
{
    /// <summary>Whether the signature passed.</summary>
    public bool IsPass => Status == DkimVerificationStatus.Pass;
}
