// OneTimeCodes: the two kinds of single-use codes that stand in for a lost authenticator.
//
// Backup codes (8 per account, issue 3 deliverable 4): XXXXX-XXXXXXXXXXX, 16 symbols from the 62
// ASCII letters and digits, 16 × log2(62) = 95.27 bits. Reaching ~95 bits in 16 symbols needs at
// least 2^(95/16) ≈ 61.3 symbols, so the alphabet cannot drop look-alikes (0/O/o, 1/l/I): it is all
// of [0-9A-Za-z] and it is case-sensitive. Normalisation therefore removes only what cannot be part
// of a code — ASCII spaces, tabs, CR/LF and hyphen-minus, wherever they are — and never folds case
// or maps look-alikes, which would merge distinct codes. UIs should show them in a monospace font.
// Stored as SHA-256(canonical ASCII form). A fast unkeyed hash is enough: with 2^95 equally likely
// codes, a database thief testing even 10^12 hashes a second needs ~10^9 years to expect a hit, so
// a slow hash (Argon2) would cost every sign-in and buy nothing.
//
// Recovery codes (10 per account, deliverable 5): XXXXX-XXXXX-XXXXX-XXXXX, 20 symbols from
// Crockford's base32 alphabet 0-9 A-Z without I L O U, 20 × 5 = 100 bits. This alphabet has no
// look-alikes and no case, so normalisation may be generous: it removes the same separators,
// upper-cases ASCII letters and reads O as 0 and I, L as 1 (Crockford's decoding rule); U and
// anything else is refused. Fingerprinted as HMAC-SHA256(key, "veil/recovery-code/v1" 0x00
// canonical form) under a key the caller supplies (the server's `recovery` keyring subkey), so
// that the stored fingerprints are useless without the key as well as the database.
//
// Symbols are drawn by rejection sampling from CryptoRandom: a random byte b is used only if
// b < 256 − (256 mod N), then mapped to b mod N, so every symbol is exactly equally likely (no
// modulo bias; for N = 62 a byte is redrawn with probability 8/256). A generated set has no
// duplicates. Malformed input returns null/false, never throws.
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Otp;

/// <summary>Backup and recovery codes: generation, normalisation of typed input, and storage digests.</summary>
public static class OneTimeCodes
{
    /// <summary>The backup-code alphabet: the 62 ASCII digits and letters, case-sensitive.</summary>
    public const string BackupCodeAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>The number of random symbols in a backup code: 16 (95.27 bits).</summary>
    public const int BackupCodeSymbols = 16;

    /// <summary>The length of a backup code as displayed, with its dash: 17.</summary>
    public const int BackupCodeLength = 17;

    /// <summary>The number of backup codes in a set: 8.</summary>
    public const int BackupCodeCount = 8;

    /// <summary>The recovery-code alphabet: Crockford base32 (digits and upper-case letters without I, L, O, U).</summary>
    public const string RecoveryCodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary>The number of random symbols in a recovery code: 20 (100 bits).</summary>
    public const int RecoveryCodeSymbols = 20;

    /// <summary>The length of a recovery code as displayed, with its three dashes: 23.</summary>
    public const int RecoveryCodeLength = 23;

    /// <summary>The number of recovery codes in a set: 10.</summary>
    public const int RecoveryCodeCount = 10;

    /// <summary>The length of a backup-code hash (SHA-256) and of a recovery-code fingerprint (HMAC-SHA256): 32 bytes.</summary>
    public const int DigestLength = 32;

    /// <summary>The shortest fingerprint key accepted: 32 bytes.</summary>
    public const int MinimumFingerprintKeyLength = 32;

    /// <summary>The longest typed input looked at; anything longer is malformed.</summary>
    private const int MaximumInputLength = 128;

    private static readonly byte[] FingerprintLabel = "veil/recovery-code/v1\0"u8.ToArray();

    /// <summary>A source of random bytes; tests substitute a deterministic one to check the sampler.</summary>
    internal delegate void RandomFill(Span<byte> buffer);

    /// <summary>A new backup code, <c>XXXXX-XXXXXXXXXXX</c>.</summary>
    public static string GenerateBackupCode() => Generate(BackupCodeAlphabet, BackupCodeSymbols, BackupGroups, CryptoRandom.Fill);

    /// <summary>A set of <paramref name="count"/> distinct backup codes (8 by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is outside 1–100.</exception>
    public static IReadOnlyList<string> GenerateBackupCodes(int count = BackupCodeCount) => GenerateSet(count, GenerateBackupCode);

    /// <summary>
    /// The canonical form of a typed backup code (<c>XXXXX-XXXXXXXXXXX</c>), or <see langword="null"/> if
    /// it is not one. Spaces, tabs, line breaks and dashes are removed; letter case is significant.
    /// </summary>
    public static string? NormalizeBackupCode(ReadOnlySpan<char> input) =>
        Normalize(input, BackupCodeAlphabet, BackupCodeSymbols, BackupGroups, foldCrockford: false);

    /// <summary>The SHA-256 to store for a backup code, or <see langword="null"/> if the input is not a backup code.</summary>
    public static byte[]? HashBackupCode(ReadOnlySpan<char> input)
    {
        var canonical = NormalizeBackupCode(input);
        return canonical is null ? null : SHA256.HashData(Encoding.ASCII.GetBytes(canonical));
    }

    /// <summary>Whether typed <paramref name="input"/> is the backup code whose hash is <paramref name="storedHash"/>, compared in constant time.</summary>
    public static bool BackupCodeMatches(ReadOnlySpan<char> input, ReadOnlySpan<byte> storedHash)
    {
        var hash = HashBackupCode(input);
        return hash is not null && CryptographicOperations.FixedTimeEquals(hash, storedHash);
    }

    /// <summary>A new recovery code, <c>XXXXX-XXXXX-XXXXX-XXXXX</c>.</summary>
    public static string GenerateRecoveryCode() => Generate(RecoveryCodeAlphabet, RecoveryCodeSymbols, RecoveryGroups, CryptoRandom.Fill);

    /// <summary>A set of <paramref name="count"/> distinct recovery codes (10 by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is outside 1–100.</exception>
    public static IReadOnlyList<string> GenerateRecoveryCodes(int count = RecoveryCodeCount) => GenerateSet(count, GenerateRecoveryCode);

    /// <summary>
    /// The canonical form of a typed recovery code (<c>XXXXX-XXXXX-XXXXX-XXXXX</c>), or
    /// <see langword="null"/> if it is not one. Spaces, tabs, line breaks and dashes are removed,
    /// letters upper-cased, O read as 0 and I, L as 1.
    /// </summary>
    public static string? NormalizeRecoveryCode(ReadOnlySpan<char> input) =>
        Normalize(input, RecoveryCodeAlphabet, RecoveryCodeSymbols, RecoveryGroups, foldCrockford: true);

    /// <summary>
    /// The HMAC-SHA256 fingerprint to store for a recovery code under <paramref name="key"/>, or
    /// <see langword="null"/> if the input is not a recovery code.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is shorter than 32 bytes.</exception>
    public static byte[]? FingerprintRecoveryCode(ReadOnlySpan<byte> key, ReadOnlySpan<char> input)
    {
        if (key.Length < MinimumFingerprintKeyLength)
        {
            throw new ArgumentException($"A recovery-code key must be at least {MinimumFingerprintKeyLength} bytes.", nameof(key));
        }

        var canonical = NormalizeRecoveryCode(input);
        if (canonical is null)
        {
            return null;
        }

        var message = new byte[FingerprintLabel.Length + canonical.Length];
        FingerprintLabel.CopyTo(message, 0);
        Encoding.ASCII.GetBytes(canonical, message.AsSpan(FingerprintLabel.Length));
        try
        {
            return HMACSHA256.HashData(key, message);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(message);
        }
    }

    /// <summary>Whether typed <paramref name="input"/> is the recovery code whose fingerprint is <paramref name="storedFingerprint"/>, compared in constant time.</summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is shorter than 32 bytes.</exception>
    public static bool RecoveryCodeMatches(ReadOnlySpan<byte> key, ReadOnlySpan<char> input, ReadOnlySpan<byte> storedFingerprint)
    {
        var fingerprint = FingerprintRecoveryCode(key, input);
        return fingerprint is not null && CryptographicOperations.FixedTimeEquals(fingerprint, storedFingerprint);
    }

    private static ReadOnlySpan<int> BackupGroups => [5, 11];

    private static ReadOnlySpan<int> RecoveryGroups => [5, 5, 5, 5];

    /// <summary>
    /// Fills <paramref name="destination"/> with symbols of <paramref name="alphabet"/>, each uniformly
    /// distributed: bytes at or above the largest multiple of the alphabet size are discarded and redrawn.
    /// </summary>
    internal static void Sample(ReadOnlySpan<char> alphabet, Span<char> destination, RandomFill fill)
    {
        if (alphabet.Length is < 2 or > 256)
        {
            throw new ArgumentException("An alphabet must have 2 to 256 symbols.", nameof(alphabet));
        }

        var limit = 256 - (256 % alphabet.Length);
        Span<byte> buffer = stackalloc byte[64];
        var used = buffer.Length;
        try
        {
            for (var i = 0; i < destination.Length;)
            {
                if (used == buffer.Length)
                {
                    fill(buffer);
                    used = 0;
                }

                var b = buffer[used++];
                if (b < limit)
                {
                    destination[i++] = alphabet[b % alphabet.Length];
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    internal static string Generate(ReadOnlySpan<char> alphabet, int symbols, ReadOnlySpan<int> groups, RandomFill fill)
    {
        Span<char> raw = stackalloc char[symbols];
        Sample(alphabet, raw, fill);
        var formatted = Format(raw, groups);
        raw.Clear();
        return formatted;
    }

    private static List<string> GenerateSet(int count, Func<string> generate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 100);
        var codes = new List<string>(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (codes.Count < count)
        {
            // A repeat has probability ~count²/2^96; the check makes "distinct" a guarantee, not a likelihood.
            var code = generate();
            if (seen.Add(code))
            {
                codes.Add(code);
            }
        }

        return codes;
    }

    private static string? Normalize(ReadOnlySpan<char> input, string alphabet, int symbols, ReadOnlySpan<int> groups, bool foldCrockford)
    {
        if (input.Length > MaximumInputLength)
        {
            return null;
        }

        Span<char> raw = stackalloc char[symbols];
        var count = 0;
        try
        {
            foreach (var typed in input)
            {
                if (typed is ' ' or '\t' or '\r' or '\n' or '-')
                {
                    continue;
                }

                var c = typed;
                if (foldCrockford)
                {
                    // ASCII only: a Unicode case mapping would let 'ı' (dotless i) or 'ſ' (long s) pass as I or S.
                    if (char.IsAsciiLetterLower(c))
                    {
                        c = (char)(c - ('a' - 'A'));
                    }

                    c = c switch
                    {
                        'O' => '0',
                        'I' or 'L' => '1',
                        _ => c,
                    };
                }

                if (count == symbols || !alphabet.Contains(c, StringComparison.Ordinal))
                {
                    return null;
                }

                raw[count++] = c;
            }

            return count == symbols ? Format(raw, groups) : null;
        }
        finally
        {
            raw.Clear();
        }
    }

    private static string Format(ReadOnlySpan<char> raw, ReadOnlySpan<int> groups)
    {
        var builder = new StringBuilder(raw.Length + groups.Length - 1);
        var start = 0;
        foreach (var size in groups)
        {
            if (start > 0)
            {
                builder.Append('-');
            }

            builder.Append(raw.Slice(start, size));
            start += size;
        }

        return builder.ToString();
    }
}
