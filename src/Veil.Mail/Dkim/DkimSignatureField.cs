// Parsing and checking a DKIM-Signature field (RFC 6376 §3.5, §6.1.1), and building the header
// hash input (§3.7) shared by the signer and the verifier. Bounded: the field is at most
// MaxFieldBytes, h= lists at most MaxSignedHeaders names, numbers at most 12 digits.
using System.Buffers;
using System.Text;

namespace Veil.Mail.Dkim;

/// <summary>A parsed DKIM-Signature field whose tags passed the syntax checks.</summary>
internal sealed class DkimSignatureField
{
    /// <summary>The largest DKIM-Signature field accepted.</summary>
    public const int MaxFieldBytes = 16 * 1024;

    /// <summary>The most names in h=.</summary>
    public const int MaxSignedHeaders = 128;

    public required DkimAlgorithm Algorithm { get; init; }
    public required string AlgorithmTag { get; init; }
    public required byte[] Signature { get; init; }
    public required byte[] BodyHash { get; init; }
    public required DkimCanonicalization HeaderCanonicalization { get; init; }
    public required DkimCanonicalization BodyCanonicalization { get; init; }
    public required string Domain { get; init; }
    public required string Selector { get; init; }
    public required IReadOnlyList<string> SignedHeaders { get; init; }
    public string? Identity { get; init; }
    public long? BodyLength { get; init; }
    public long? Timestamp { get; init; }
    public long? Expiration { get; init; }

    /// <summary>The tags as far as they could be read, for reporting when a later check fails.</summary>
    internal sealed record Partial(string? Domain, string? Selector, string? Algorithm);

    /// <summary>Parses and checks the value of a DKIM-Signature field.</summary>
    public static DkimFailureReason TryParse(ReadOnlySpan<byte> rawValue, out DkimSignatureField? field, out Partial partial)
    {
        field = null;
        partial = new Partial(null, null, null);
        if (rawValue.Length > MaxFieldBytes || !IsAscii(rawValue))
        {
            return DkimFailureReason.MalformedSignature;
        }

        if (!DkimTagList.TryParse(Encoding.ASCII.GetString(rawValue), out var tags))
        {
            return DkimFailureReason.MalformedSignature;
        }

        var domain = tags["d"]?.ToLowerInvariant();
        var selector = tags["s"];
        var algorithm = tags["a"];
        partial = new Partial(domain, selector, algorithm);

        if (tags["v"] is not { } version || tags["a"] is null || tags["b"] is null || tags["bh"] is null
            || domain is null || tags["h"] is null || selector is null)
        {
            return DkimFailureReason.MalformedSignature;
        }

        if (version != "1")
        {
            return DkimFailureReason.UnsupportedVersion;
        }

        DkimAlgorithm alg;
        switch (algorithm)
        {
            case "rsa-sha256":
                alg = DkimAlgorithm.RsaSha256;
                break;
            case "ed25519-sha256":
                alg = DkimAlgorithm.Ed25519Sha256;
                break;
            default:
                return DkimFailureReason.UnsupportedAlgorithm;
        }

        if (!TryBase64(tags["b"]!, out var signature) || signature.Length == 0
            || !TryBase64(tags["bh"]!, out var bodyHash) || bodyHash.Length != 32)
        {
            return DkimFailureReason.MalformedSignature;
        }

        if (!DkimCanonicalizer.TryParseTag(tags["c"], out var headerCanon, out var bodyCanon))
        {
            return DkimFailureReason.MalformedSignature;
        }

        if (!IsDomainName(domain) || !IsSelector(selector))
        {
            return DkimFailureReason.MalformedSignature;
        }

        var names = DkimTagList.RemoveFws(tags["h"]!).Split(':');
        if (names.Length > MaxSignedHeaders || names.Any(n => !IsFieldName(n)))
        {
            return DkimFailureReason.MalformedSignature;
        }

        if (!names.Any(n => n.Equals("from", StringComparison.OrdinalIgnoreCase)))
        {
            return DkimFailureReason.FromNotSigned;
        }

        string? identity = tags["i"];
        if (identity is not null)
        {
            int at = identity.LastIndexOf('@');
            if (at < 0)
            {
                return DkimFailureReason.MalformedSignature;
            }

            var identityDomain = identity[(at + 1)..].ToLowerInvariant();
            if (identityDomain != domain && !identityDomain.EndsWith("." + domain, StringComparison.Ordinal))
            {
                return DkimFailureReason.IdentityMismatch;
            }
        }

        if (tags["q"] is { } query && !DkimTagList.RemoveFws(query).Split(':').Any(q => q == "dns/txt"))
        {
            return DkimFailureReason.UnsupportedQueryMethod;
        }

        if (!TryNumber(tags["l"], out var bodyLength) || !TryNumber(tags["t"], out var timestamp) || !TryNumber(tags["x"], out var expiration))
        {
            return DkimFailureReason.MalformedSignature;
        }

        if (timestamp is not null && expiration is not null && expiration < timestamp)
        {
            return DkimFailureReason.MalformedSignature;
        }

        field = new DkimSignatureField
        {
            Algorithm = alg,
            AlgorithmTag = algorithm,
            Signature = signature,
            BodyHash = bodyHash,
            HeaderCanonicalization = headerCanon,
            BodyCanonicalization = bodyCanon,
            Domain = domain,
            Selector = selector,
            SignedHeaders = names,
            Identity = identity,
            BodyLength = bodyLength,
            Timestamp = timestamp,
            Expiration = expiration,
        };
        return DkimFailureReason.None;
    }

    /// <summary>
    /// Builds the header hash input (RFC 6376 §3.7): the signed fields, each chosen bottom-up and
    /// used once (a name listed more often than present contributes nothing, which is how
    /// oversigning forbids adding a field), then the signature field itself with b= emptied and
    /// without its final CRLF.
    /// </summary>
    public static byte[] BuildHeaderHashInput(
        IReadOnlyList<DkimHeaderField> fields,
        IReadOnlyList<string> signedHeaders,
        DkimCanonicalization canonicalization,
        ReadOnlySpan<byte> signatureFieldWithEmptyB)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        var used = new bool[fields.Count];
        foreach (var name in signedHeaders)
        {
            for (int i = fields.Count - 1; i >= 0; i--)
            {
                if (!used[i] && fields[i].Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    used[i] = true;
                    DkimCanonicalizer.WriteHeader(canonicalization, fields[i].NameBytes, fields[i].ValueBytes, buffer);
                    break;
                }
            }
        }

        int colon = signatureFieldWithEmptyB.IndexOf((byte)':');
        var own = new ArrayBufferWriter<byte>(signatureFieldWithEmptyB.Length + 2);
        DkimCanonicalizer.WriteHeader(canonicalization, signatureFieldWithEmptyB[..colon], signatureFieldWithEmptyB[(colon + 1)..], own);
        var ownBytes = own.WrittenSpan;
        if (ownBytes.EndsWith("\r\n"u8))
        {
            ownBytes = ownBytes[..^2];
        }

        buffer.Write(ownBytes);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The raw field with the value of its b= tag removed (RFC 6376 §3.5 b=: "the value of the b=
    /// tag (including all surrounding whitespace) is deleted"), keeping the final CRLF.
    /// </summary>
    public static byte[] WithEmptyB(ReadOnlySpan<byte> rawField)
    {
        int colon = rawField.IndexOf((byte)':');
        int pos = colon + 1;
        int end = rawField.EndsWith("\r\n"u8) ? rawField.Length - 2 : rawField.Length;
        while (pos < end)
        {
            int semi = rawField[pos..end].IndexOf((byte)';');
            int specEnd = semi < 0 ? end : pos + semi;
            var spec = rawField[pos..specEnd];
            int eq = spec.IndexOf((byte)'=');
            if (eq > 0 && spec[..eq].Trim(" \t\r\n"u8).SequenceEqual("b"u8))
            {
                int valueStart = pos + eq + 1;
                var result = new byte[rawField.Length - (specEnd - valueStart)];
                rawField[..valueStart].CopyTo(result);
                rawField[specEnd..].CopyTo(result.AsSpan(valueStart));
                return result;
            }

            pos = specEnd + 1;
        }

        return rawField.ToArray();
    }

    private static bool IsAscii(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyExcept(AllowedBytes) < 0;

    private static readonly SearchValues<byte> AllowedBytes = SearchValues.Create(
        Enumerable.Range(0x20, 0x5F).Select(b => (byte)b).Concat([(byte)'\t', (byte)'\r', (byte)'\n']).ToArray());

    private static bool TryBase64(string value, out byte[] bytes)
    {
        bytes = [];
        var compact = DkimTagList.RemoveFws(value);
        var buffer = new byte[compact.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64String(compact, buffer, out int written))
        {
            return false;
        }

        bytes = buffer[..written];
        return true;
    }

    private static bool TryNumber(string? value, out long? number)
    {
        number = null;
        if (value is null)
        {
            return true;
        }

        if (value.Length is 0 or > 12 || !value.All(char.IsAsciiDigit))
        {
            return false;
        }

        number = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>A domain name: dot-separated labels of letters, digits and hyphens (A-labels for IDNs).</summary>
    internal static bool IsDomainName(string value)
    {
        if (value.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in value.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-'
                || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A selector: like a domain name, but labels may also contain underscores.</summary>
    internal static bool IsSelector(string value)
        => value.Length is > 0 and <= 253 && value.Split('.').All(l => l.Length is > 0 and <= 63 && l.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));

    private static bool IsFieldName(string name) => name.Length is > 0 and <= 256 && name.All(c => c is >= '!' and <= '~' && c != ':');
}
