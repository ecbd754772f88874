// The DKIM key record (RFC 6376 §3.6.1, RFC 8463 §4): v=DKIM1; k=rsa|ed25519; p=BASE64; optional
// h= (acceptable hashes), s= (service types), t= (flags; "s" forbids i= subdomains). Bounded to
// MaxRecordLength characters; an RSA key must be 1024–4096 bits (RFC 8301).
using System.Security.Cryptography;
using Veil.Crypto.Primitives;

namespace Veil.Mail.Dkim;

/// <summary>A parsed key record, ready to verify one signature.</summary>
internal sealed class DkimKeyRecord
{
    /// <summary>The longest TXT record accepted.</summary>
    public const int MaxRecordLength = 8 * 1024;

    private DkimKeyRecord(byte[] publicKey, bool strictIdentity)
    {
        PublicKey = publicKey;
        StrictIdentity = strictIdentity;
    }

    /// <summary>The decoded p= bytes.</summary>
    public byte[] PublicKey { get; }

    /// <summary>t=s: i= must use exactly d=, not a subdomain.</summary>
    public bool StrictIdentity { get; }

    /// <summary>Parses <paramref name="text"/> for a signature made with <paramref name="algorithm"/>.</summary>
    public static DkimFailureReason TryParse(string text, DkimAlgorithm algorithm, out DkimKeyRecord? record)
    {
        record = null;
        if (text.Length > MaxRecordLength || !DkimTagList.TryParse(text, out var tags))
        {
            return DkimFailureReason.MalformedKey;
        }

        if (tags["v"] is { } version && (version != "DKIM1" || tags.FirstTag != "v"))
        {
            return DkimFailureReason.MalformedKey;
        }

        if (tags["p"] is not { } p)
        {
            return DkimFailureReason.MalformedKey;
        }

        var compact = DkimTagList.RemoveFws(p);
        if (compact.Length == 0)
        {
            return DkimFailureReason.KeyRevoked;
        }

        var expectedType = algorithm == DkimAlgorithm.RsaSha256 ? "rsa" : "ed25519";
        if ((tags["k"] ?? "rsa") != expectedType)
        {
            return DkimFailureReason.KeyUnsuitable;
        }

        if (tags["h"] is { } hashes && !List(hashes).Contains("sha256"))
        {
            return DkimFailureReason.KeyUnsuitable;
        }

        if (tags["s"] is { } services && !List(services).Any(s => s is "*" or "email"))
        {
            return DkimFailureReason.KeyUnsuitable;
        }

        var buffer = new byte[compact.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64String(compact, buffer, out int written))
        {
            return DkimFailureReason.MalformedKey;
        }

        bool strict = tags["t"] is { } flags && List(flags).Contains("s");
        record = new DkimKeyRecord(buffer[..written], strict);
        return DkimFailureReason.None;
    }

    /// <summary>Verifies <paramref name="signature"/> over the header hash input.</summary>
    public DkimFailureReason Verify(DkimAlgorithm algorithm, ReadOnlySpan<byte> headerHashInput, ReadOnlySpan<byte> signature)
    {
        if (algorithm == DkimAlgorithm.Ed25519Sha256)
        {
            if (PublicKey.Length != Ed25519PublicKey.Length)
            {
                return DkimFailureReason.MalformedKey;
            }

            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(headerHashInput, digest);
            return Ed25519PublicKey.Import(PublicKey).Verify(digest, signature) ? DkimFailureReason.None : DkimFailureReason.SignatureMismatch;
        }

        using var rsa = DkimRsa.TryImportPublicKey(PublicKey);
        if (rsa is null)
        {
            return DkimFailureReason.MalformedKey;
        }

        if (rsa.KeySize is < 1024 or > 4096)
        {
            return DkimFailureReason.KeySizeRejected;
        }

        return DkimRsa.VerifySha256(rsa, headerHashInput, signature) ? DkimFailureReason.None : DkimFailureReason.SignatureMismatch;
    }

    private static string[] List(string value) => DkimTagList.RemoveFws(value).Split(':');
}
