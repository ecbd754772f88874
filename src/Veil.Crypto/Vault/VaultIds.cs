// Vault ids (spec/vault.md §1): the client chooses vault, item, file and recipient ids as random UUIDs (version 4) in
// lowercase canonical form, so that the associated data of every ciphertext can bind them before the server sees it.
// One spelling only: an id in capitals or braces would give different AAD bytes for the "same" id.
using System.Security.Cryptography;

namespace Veil.Crypto.Vault;

/// <summary>Makes and checks vault ids: lowercase canonical UUID v4 strings (36 characters).</summary>
public static class VaultIds
{
    /// <summary>The length of an id: 36 characters.</summary>
    public const int Length = 36;

    /// <summary>A new random id (122 random bits from the CSPRNG).</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0f) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3f) | 0x80);
        string hex = Convert.ToHexStringLower(bytes);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    /// <summary>True for a lowercase canonical UUID v4: <c>xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx</c>.</summary>
    public static bool IsValid(string? id)
    {
        if (id is not { Length: Length })
        {
            return false;
        }

        for (int i = 0; i < Length; i++)
        {
            char c = id[i];
            bool ok = i switch
            {
                8 or 13 or 18 or 23 => c == '-',
                14 => c == '4',
                19 => c is '8' or '9' or 'a' or 'b',
                _ => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'),
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="id"/> is valid.</summary>
    /// <exception cref="ArgumentException">Not a lowercase canonical UUID v4.</exception>
    public static void Check(string? id, string parameterName)
    {
        if (!IsValid(id))
        {
            throw new ArgumentException("A vault id is a lowercase canonical UUID v4 (xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx).", parameterName);
        }
    }
}
