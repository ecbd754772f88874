// CryptoBytes: comparisons of secret values that take the same time whatever the contents.
// Reference: CryptographicOperations.FixedTimeEquals.
using System.Security.Cryptography;

namespace Veil.Crypto.Primitives;

/// <summary>Constant-time helpers for secret byte strings.</summary>
public static class CryptoBytes
{
    /// <summary>
    /// Whether two byte strings are equal, in time that depends only on their lengths, never on
    /// where they differ. Strings of different lengths are unequal.
    /// </summary>
    public static bool ConstantTimeEquals(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right) =>
        CryptographicOperations.FixedTimeEquals(left, right);

    /// <summary>Overwrites <paramref name="buffer"/> with zeros in a way the compiler cannot remove.</summary>
    public static void Wipe(Span<byte> buffer) => CryptographicOperations.ZeroMemory(buffer);
}
