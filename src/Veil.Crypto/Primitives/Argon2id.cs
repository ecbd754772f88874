// Argon2id (RFC 9106) through the reference library libargon2, and its PHC string format.
//
// Argon2id.DeriveBytes exposes every RFC 9106 input: password P, salt S, secret K, associated data
// X, memory m (KiB), passes t, lanes p and tag length T. Veil uses lanes = threads.
//
// Argon2PasswordHash stores the server's hash of a client's auth token in the PHC string format
// of the reference implementation:  $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>
// with salt and hash in standard base64 WITHOUT padding. Parsing is strict: only argon2id, only
// v=19, decimal numbers without signs or leading zeros, canonical base64 (re-encoding must give
// the same text). Verification compares in constant time and treats a malformed string as a
// mismatch (false). Because a stored string could be hostile, parameters above a limit (by default
// 256 MiB, 10 passes, 8 lanes) are refused before any memory is allocated.
//
// References: RFC 9106; https://github.com/P-H-C/phc-string-format/blob/master/phc-sf-spec.md ;
// https://github.com/P-H-C/phc-winner-argon2 (src/encoding.c for the reference encoding).
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Native;

namespace Veil.Crypto.Primitives;

/// <summary>The cost parameters of Argon2id.</summary>
/// <param name="MemoryKiB">Memory size m in KiB; at least 8 × <paramref name="Lanes"/>, at most 4 GiB.</param>
/// <param name="Iterations">Number of passes t; 1 to 1024.</param>
/// <param name="Lanes">Degree of parallelism p; 1 to 255.</param>
public readonly record struct Argon2Parameters(int MemoryKiB, int Iterations, int Lanes)
{
    /// <summary>The largest memory size accepted: 4 GiB, in KiB.</summary>
    public const int MaxMemoryKiB = 4 * 1024 * 1024;

    /// <summary>The largest number of passes accepted.</summary>
    public const int MaxIterations = 1024;

    /// <summary>The largest number of lanes accepted.</summary>
    public const int MaxLanes = 255;

    /// <summary>Whether these parameters are within the bounds above.</summary>
    public bool IsValid =>
        Lanes is >= 1 and <= MaxLanes
        && Iterations is >= 1 and <= MaxIterations
        && MemoryKiB >= 8 * Lanes && MemoryKiB <= MaxMemoryKiB;

    /// <summary>Throws if these parameters are out of bounds.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of bounds.</exception>
    public void Validate()
    {
        if (!IsValid)
        {
            throw new ArgumentOutOfRangeException(
                nameof(Argon2Parameters),
                $"Argon2id parameters out of range: m={MemoryKiB} KiB (8·p..{MaxMemoryKiB}), t={Iterations} (1..{MaxIterations}), p={Lanes} (1..{MaxLanes}).");
        }
    }

    /// <summary>Whether every parameter is at most the corresponding one of <paramref name="limit"/>.</summary>
    public bool IsWithin(Argon2Parameters limit) =>
        MemoryKiB <= limit.MemoryKiB && Iterations <= limit.Iterations && Lanes <= limit.Lanes;
}

/// <summary>Raw Argon2id (RFC 9106) key derivation.</summary>
public static unsafe class Argon2id
{
    /// <summary>The shortest salt accepted: 8 bytes.</summary>
    public const int MinSaltLength = 8;

    /// <summary>The shortest output: 4 bytes.</summary>
    public const int MinOutputLength = 4;

    /// <summary>The longest output this API produces: 1024 bytes.</summary>
    public const int MaxOutputLength = 1024;

    /// <summary>
    /// Argon2id over a typed password: its strict UTF-8 bytes (no BOM), wiped after use. Drop passwords and password
    /// mail to outsiders derive their keys this way.
    /// </summary>
    /// <exception cref="ArgumentException">The password is not valid UTF-16 (a lone surrogate), or a length or parameter is out of range.</exception>
    public static void DeriveBytesFromPassword(string password, ReadOnlySpan<byte> salt, Argon2Parameters parameters, Span<byte> output)
    {
        ArgumentNullException.ThrowIfNull(password);
        byte[] bytes;
        try
        {
            bytes = new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(password);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException("The password is not valid UTF-16 (a lone surrogate).", nameof(password), ex);
        }

        try
        {
            DeriveBytes(bytes, salt, parameters, output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// Computes Argon2id (version 0x13) of <paramref name="password"/> into <paramref name="output"/>.
    /// </summary>
    /// <param name="password">The password P (may be empty).</param>
    /// <param name="salt">The salt S; at least 8 bytes.</param>
    /// <param name="parameters">Memory, passes and lanes.</param>
    /// <param name="output">Receives the tag; 4 to 1024 bytes.</param>
    /// <param name="secret">The optional secret K.</param>
    /// <param name="associatedData">The optional associated data X.</param>
    /// <exception cref="ArgumentException">A length or parameter is out of range.</exception>
    /// <exception cref="NativeLibraryMissingException">libargon2 is not installed.</exception>
    public static void DeriveBytes(
        ReadOnlySpan<byte> password,
        ReadOnlySpan<byte> salt,
        Argon2Parameters parameters,
        Span<byte> output,
        ReadOnlySpan<byte> secret = default,
        ReadOnlySpan<byte> associatedData = default)
    {
        parameters.Validate();
        if (salt.Length < MinSaltLength)
        {
            throw new ArgumentException($"An Argon2id salt is at least {MinSaltLength} bytes.", nameof(salt));
        }

        if (output.Length is < MinOutputLength or > MaxOutputLength)
        {
            throw new ArgumentException($"Argon2id output must be {MinOutputLength} to {MaxOutputLength} bytes.", nameof(output));
        }

        Libargon2.EnsureLoaded();
        int result;
        fixed (byte* o = output)
        fixed (byte* pwd = password)
        fixed (byte* s = salt)
        fixed (byte* k = secret)
        fixed (byte* x = associatedData)
        {
            var context = new Libargon2.Argon2Context
            {
                Out = o,
                OutLength = (uint)output.Length,
                Password = pwd,
                PasswordLength = (uint)password.Length,
                Salt = s,
                SaltLength = (uint)salt.Length,
                Secret = k,
                SecretLength = (uint)secret.Length,
                AssociatedData = x,
                AssociatedDataLength = (uint)associatedData.Length,
                TimeCost = (uint)parameters.Iterations,
                MemoryCost = (uint)parameters.MemoryKiB,
                Lanes = (uint)parameters.Lanes,
                Threads = (uint)parameters.Lanes,
                Version = Libargon2.Version13,
                Flags = 0,
            };
            result = Libargon2.argon2_ctx(&context, Libargon2.TypeId);
        }

        if (result != Libargon2.Ok)
        {
            CryptographicOperations.ZeroMemory(output);
            throw new CryptographicException($"argon2_ctx failed with error code {result.ToString(CultureInfo.InvariantCulture)}.");
        }
    }
}

/// <summary>Argon2id password hashes in the PHC string format, for storing and checking verifiers.</summary>
public static class Argon2PasswordHash
{
    /// <summary>The salt length of new hashes: 16 bytes.</summary>
    public const int SaltLength = 16;

    /// <summary>The hash length of new hashes: 32 bytes.</summary>
    public const int HashLength = 32;

    /// <summary>The longest PHC string <see cref="Verify(string, ReadOnlySpan{byte})"/> will parse.</summary>
    public const int MaxEncodedLength = 256;

    private const string Prefix = "$argon2id$v=19$";

    /// <summary>
    /// The default ceiling for parameters found in a stored string: 256 MiB, 10 passes, 8 lanes.
    /// A string asking for more is rejected before anything is allocated.
    /// </summary>
    public static Argon2Parameters DefaultVerifyLimit { get; } = new(256 * 1024, 10, 8);

    /// <summary>
    /// Hashes <paramref name="password"/> with a fresh random 16-byte salt and returns the PHC string.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="parameters"/> are out of range.</exception>
    /// <exception cref="NativeLibraryMissingException">libargon2 is not installed.</exception>
    public static string Hash(ReadOnlySpan<byte> password, Argon2Parameters parameters)
    {
        Span<byte> salt = stackalloc byte[SaltLength];
        RandomNumberGenerator.Fill(salt);
        Span<byte> hash = stackalloc byte[HashLength];
        Argon2id.DeriveBytes(password, salt, parameters, hash);
        return Encode(parameters, salt, hash);
    }

    /// <summary>Encodes parameters, salt and hash as a PHC string (unpadded standard base64).</summary>
    public static string Encode(Argon2Parameters parameters, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> hash) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{Prefix}m={parameters.MemoryKiB},t={parameters.Iterations},p={parameters.Lanes}${ToUnpaddedBase64(salt)}${ToUnpaddedBase64(hash)}");

    /// <summary>
    /// Whether <paramref name="password"/> matches the PHC string, using <see cref="DefaultVerifyLimit"/>.
    /// Malformed strings and strings over the limit return <see langword="false"/>.
    /// </summary>
    /// <exception cref="NativeLibraryMissingException">libargon2 is not installed.</exception>
    public static bool Verify(string encoded, ReadOnlySpan<byte> password) => Verify(encoded, password, DefaultVerifyLimit);

    /// <summary>
    /// Whether <paramref name="password"/> matches the PHC string, refusing (false) any string whose
    /// parameters exceed <paramref name="limit"/>. The comparison is constant-time.
    /// </summary>
    /// <exception cref="NativeLibraryMissingException">libargon2 is not installed.</exception>
    public static bool Verify(string encoded, ReadOnlySpan<byte> password, Argon2Parameters limit)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (!TryDecode(encoded, out var parameters, out var salt, out var expected) || !parameters.IsWithin(limit))
        {
            return false;
        }

        var actual = new byte[expected.Length];
        try
        {
            Argon2id.DeriveBytes(password, salt, parameters, actual);
            return CryptographicOperations.FixedTimeEquals(actual, expected);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(actual);
        }
    }

    /// <summary>
    /// Parses a PHC string strictly. Returns <see langword="false"/> for anything but a canonical
    /// <c>$argon2id$v=19$m=..,t=..,p=..$salt$hash</c> with valid parameters, a salt of 8–64 bytes and
    /// a hash of 4–64 bytes.
    /// </summary>
    public static bool TryDecode(string encoded, out Argon2Parameters parameters, out byte[] salt, out byte[] hash)
    {
        parameters = default;
        salt = [];
        hash = [];
        if (encoded is null || encoded.Length > MaxEncodedLength || !encoded.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = encoded[Prefix.Length..].Split('$');
        if (parts.Length != 3)
        {
            return false;
        }

        var fields = parts[0].Split(',');
        if (fields.Length != 3
            || !TryParseField(fields[0], "m=", out var m)
            || !TryParseField(fields[1], "t=", out var t)
            || !TryParseField(fields[2], "p=", out var p))
        {
            return false;
        }

        var candidate = new Argon2Parameters(m, t, p);
        if (!candidate.IsValid
            || !TryFromUnpaddedBase64(parts[1], out var decodedSalt) || decodedSalt.Length is < Argon2id.MinSaltLength or > 64
            || !TryFromUnpaddedBase64(parts[2], out var decodedHash) || decodedHash.Length is < Argon2id.MinOutputLength or > 64)
        {
            return false;
        }

        parameters = candidate;
        salt = decodedSalt;
        hash = decodedHash;
        return true;
    }

    private static bool TryParseField(string field, string name, out int value)
    {
        value = 0;
        if (!field.StartsWith(name, StringComparison.Ordinal))
        {
            return false;
        }

        var digits = field.AsSpan(name.Length);
        if (digits.IsEmpty || digits.Length > 10 || (digits[0] == '0' && digits.Length > 1))
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static string ToUnpaddedBase64(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    private static bool TryFromUnpaddedBase64(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length == 0 || text.Length % 4 == 1 || text.Contains('=', StringComparison.Ordinal))
        {
            return false;
        }

        var padded = new StringBuilder(text).Append('=', (4 - (text.Length % 4)) % 4).ToString();
        var buffer = new byte[padded.Length / 4 * 3];
        if (!Convert.TryFromBase64String(padded, buffer, out var written))
        {
            return false;
        }

        // Canonical only: unused trailing bits must be zero, so re-encoding reproduces the text.
        var decoded = buffer[..written];
        if (!string.Equals(ToUnpaddedBase64(decoded), text, StringComparison.Ordinal))
        {
            return false;
        }

        bytes = decoded;
        return true;
    }
}
