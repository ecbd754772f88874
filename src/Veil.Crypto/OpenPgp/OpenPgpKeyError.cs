// Why a public key was refused. Codes are stable (the server maps them to problem details); messages name
// what Veil accepts so the person uploading a key knows what to make instead (spec/openpgp.md §Keys).
namespace Veil.Crypto.OpenPgp;

/// <summary>A refused OpenPGP public key: a stable code and a sentence for a person.</summary>
/// <param name="Code">Stable machine-readable code, e.g. <c>openpgp-key-unsupported-algorithm</c>.</param>
/// <param name="Message">What is wrong and what Veil accepts.</param>
public sealed record OpenPgpKeyError(string Code, string Message)
{
    /// <summary>The sentence appended to every refusal: what Veil accepts.</summary>
    public const string Supported =
        "Veil accepts OpenPGP v4 keys with an Ed25519/Curve25519 (ECC) or RSA (2048 bits or more) primary key and a valid, unexpired encryption subkey.";

    internal static OpenPgpKeyError Malformed(string why) => new("openpgp-key-malformed", $"The key could not be read: {why}. {Supported}");

    internal static OpenPgpKeyError UnsupportedVersion(int version) =>
        new("openpgp-key-unsupported-version", $"This is a version {version} key. {Supported}");

    internal static OpenPgpKeyError UnsupportedAlgorithm(string what) =>
        new("openpgp-key-unsupported-algorithm", $"The key uses {what}. {Supported}");

    internal static OpenPgpKeyError RsaTooShort(int bits) =>
        new("openpgp-key-rsa-too-short", $"The RSA key has {bits} bits. {Supported}");

    internal static OpenPgpKeyError Revoked() => new("openpgp-key-revoked", $"The key is revoked. {Supported}");

    internal static OpenPgpKeyError Expired() => new("openpgp-key-expired", $"The key has expired. {Supported}");

    internal static OpenPgpKeyError NoEncryptionKey() =>
        new("openpgp-key-no-encryption-subkey", $"The key has no usable encryption subkey. {Supported}");

    internal static OpenPgpKeyError SecretKeyGiven() =>
        new("openpgp-key-is-secret", "This is a secret (private) key. Upload only the public key (gpg --export --armor).");
}

/// <summary>The outcome of <see cref="OpenPgpPublicKey.Parse(ReadOnlySpan{byte}, DateTimeOffset)"/>: a key or an error, never both.</summary>
public sealed record OpenPgpKeyParseResult
{
    private OpenPgpKeyParseResult(OpenPgpPublicKey? key, OpenPgpKeyError? error)
    {
        Key = key;
        Error = error;
    }

    /// <summary>The accepted key, or null when refused.</summary>
    public OpenPgpPublicKey? Key { get; }

    /// <summary>Why the key was refused, or null when accepted.</summary>
    public OpenPgpKeyError? Error { get; }

    /// <summary>True when <see cref="Key"/> is set.</summary>
    public bool IsSuccess => Key is not null;

    internal static OpenPgpKeyParseResult Ok(OpenPgpPublicKey key) => new(key, null);

    internal static OpenPgpKeyParseResult Fail(OpenPgpKeyError error) => new(null, error);

    /// <summary>Implicit conversion of an error.</summary>
    public static implicit operator OpenPgpKeyParseResult(OpenPgpKeyError error) => Fail(error);
}
