// The one v1 shape for a 32-byte key wrapped under another 32-byte key (spec/keys.md "Protected user key",
// spec/drop.md §8): "v1." || base64url(nonce(24) || XChaCha20-Poly1305(key, nonce, plaintext(32), aad)).
// Each use has its own AAD, so a wrap made for one purpose never opens as another.
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;

namespace Veil.Client.Crypto;

internal static class SealedKey
{
    public const string V1Prefix = "v1.";
    public const int KeyLength = 32;
    private const int SealedLength = XChaCha20Poly1305.NonceSize + KeyLength + SodiumAead.TagLength;

    public static string Wrap(SecretBytes wrappingKey, ReadOnlySpan<byte> plaintext, string associatedData, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(wrappingKey);
        if (plaintext.Length != KeyLength)
        {
            throw new ArgumentException($"The wrapped key is {KeyLength} bytes.", parameterName);
        }

        var sealedBytes = new byte[SealedLength];
        var nonce = sealedBytes.AsSpan(0, XChaCha20Poly1305.NonceSize);
        CryptoRandom.Fill(nonce);
        using (var key = wrappingKey.Acquire())
        using (var aead = new XChaCha20Poly1305(key.Span))
        {
            aead.Encrypt(nonce, plaintext, sealedBytes.AsSpan(XChaCha20Poly1305.NonceSize), Encoding.ASCII.GetBytes(associatedData));
        }

        return V1Prefix + Base64Url.EncodeToString(sealedBytes);
    }

    /// <summary>The key, or null for anything that is not a v1 wrap under <paramref name="wrappingKey"/> with this AAD.</summary>
    public static SecretBytes? TryUnwrap(SecretBytes wrappingKey, string? wrapped, string associatedData)
    {
        ArgumentNullException.ThrowIfNull(wrappingKey);
        if (wrapped is null || !wrapped.StartsWith(V1Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var body = wrapped.AsSpan(V1Prefix.Length);
        if (body.Length != Base64Url.GetEncodedLength(SealedLength))
        {
            return null;
        }

        Span<byte> sealedBytes = stackalloc byte[SealedLength];
        if (!Base64Url.TryDecodeFromChars(body, sealedBytes, out var written) || written != SealedLength)
        {
            return null;
        }

        Span<byte> plaintext = stackalloc byte[KeyLength];
        try
        {
            using var key = wrappingKey.Acquire();
            using var aead = new XChaCha20Poly1305(key.Span);
            return aead.TryDecrypt(
                sealedBytes[..XChaCha20Poly1305.NonceSize],
                sealedBytes[XChaCha20Poly1305.NonceSize..],
                plaintext,
                Encoding.ASCII.GetBytes(associatedData))
                ? SecretBytes.Copy(plaintext)
                : null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}
