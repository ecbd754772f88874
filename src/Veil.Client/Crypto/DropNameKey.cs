// The owner's copy of a drop's name key (spec/drop.md §8): the drop's METADATA key — not the drop key — wrapped
// under the account's user key, so the owner's clients can read the file name, media type and size back from
// GET /api/v1/drops. The metadata key opens only the metadata blob (HKDF separates it from the content key), so this
// copy gives the account no way into the file itself: that still needs the link.
using Veil.Crypto.Drop;
using Veil.Crypto.Memory;

namespace Veil.Client.Crypto;

/// <summary>Wraps and opens a drop's metadata key under the user key (format v1, AAD "veil/v1/drop-name-key").</summary>
public static class DropNameKey
{
    /// <summary>The associated data of a v1 wrap.</summary>
    public const string AssociatedData = "veil/v1/drop-name-key";

    /// <summary>The owner's name key for the drop whose key is <paramref name="dropKey"/>: a 99-character "v1." string.</summary>
    public static string Wrap(SecretBytes userKey, DropKey dropKey)
    {
        Span<byte> metadataKey = stackalloc byte[SealedKey.KeyLength];
        try
        {
            DropCipher.DeriveMetadataKey(dropKey, metadataKey);
            return SealedKey.Wrap(userKey, metadataKey, AssociatedData, nameof(dropKey));
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(metadataKey);
        }
    }

    /// <summary>
    /// The drop's metadata, opened with the owner's name key; null when the name key does not open under this user
    /// key or the metadata does not authenticate for <paramref name="dropId"/> (both mean: show no name).
    /// </summary>
    public static DropMetadata? TryOpenMetadata(SecretBytes userKey, string? nameKey, string dropId, ReadOnlySpan<byte> metadataCiphertext)
    {
        using var metadataKey = SealedKey.TryUnwrap(userKey, nameKey, AssociatedData);
        if (metadataKey is null)
        {
            return null;
        }

        using var lease = metadataKey.Acquire();
        var (status, metadata) = DropCipher.DecryptMetadataWithMetadataKey(lease.Span, dropId, metadataCiphertext);
        return status == DropOpenStatus.Ok ? metadata : null;
    }
}
