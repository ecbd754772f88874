// The address key chain (spec/mailbox-api.md "Address keys"), as the issue asks: user key → random token →
// address private key. The token is what a later version can share (e.g. with a second device or a delegate)
// without giving away the user key; the server stores both wrapped strings and can open neither.
//
//   token             = 32 random bytes
//   wrappedToken      = "v1." || base64url(n1(24) || XChaCha20-Poly1305(userKey, n1, token,
//                                            aad = "veil/v1/mail/address-token" 0x00 address))
//   wrappedPrivateKey = "v1." || base64url(n2(24) || XChaCha20-Poly1305(token, n2, secretKeyRing,
//                                            aad = "veil/v1/mail/address-key" 0x00 address))
//
// secretKeyRing is the OpenPGP transferable secret key in binary form with unprotected secret packets: the
// protection is this chain, never BouncyCastle's own S2K (a fixed, weak SHA-1 count). The address (canonical,
// lowercase) in the AAD stops a wrapped key from being moved to another address's row.
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;

namespace Veil.Client.Mailbox;

public static class AddressKeyChain
{
    public const string V1Prefix = "v1.";

    private const int TokenLength = 32;

    /// <summary>Wraps <paramref name="secretKeyRing"/> under a fresh token, and the token under the user key.</summary>
    public static (string WrappedToken, string WrappedPrivateKey) Wrap(SecretBytes userKey, string address, ReadOnlySpan<byte> secretKeyRing)
    {
        ArgumentNullException.ThrowIfNull(userKey);
        Span<byte> token = stackalloc byte[TokenLength];
        try
        {
            CryptoRandom.Fill(token);
            string wrappedToken;
            using (var key = userKey.Acquire())
            {
                wrappedToken = Seal(key.Span, token, Aad("veil/v1/mail/address-token", address));
            }

            return (wrappedToken, Seal(token, secretKeyRing, Aad("veil/v1/mail/address-key", address)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(token);
        }
    }

    /// <summary>The address's secret key ring, or null when either layer does not open (wrong key, tampered, moved).</summary>
    public static byte[]? TryOpen(SecretBytes userKey, string address, string wrappedToken, string wrappedPrivateKey)
    {
        ArgumentNullException.ThrowIfNull(userKey);
        byte[]? token;
        using (var key = userKey.Acquire())
        {
            token = Open(key.Span, wrappedToken, Aad("veil/v1/mail/address-token", address));
        }

        if (token is not { Length: TokenLength })
        {
            return null;
        }

        try
        {
            return Open(token, wrappedPrivateKey, Aad("veil/v1/mail/address-key", address));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(token);
        }
    }

    private static byte[] Aad(string purpose, string address) => Encoding.UTF8.GetBytes(purpose + "\0" + address);

    private static string Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, byte[] aad)
    {
        var sealedBytes = new byte[XChaCha20Poly1305.NonceSize + plaintext.Length + SodiumAead.TagLength];
        var nonce = sealedBytes.AsSpan(0, XChaCha20Poly1305.NonceSize);
        CryptoRandom.Fill(nonce);
        using (var aead = new XChaCha20Poly1305(key))
        {
            aead.Encrypt(nonce, plaintext, sealedBytes.AsSpan(XChaCha20Poly1305.NonceSize), aad);
        }

        return V1Prefix + Base64Url.EncodeToString(sealedBytes);
    }

    private static byte[]? Open(ReadOnlySpan<byte> key, string? wrapped, byte[] aad)
    {
        if (wrapped is null || !wrapped.StartsWith(V1Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        byte[] sealedBytes;
        try
        {
            sealedBytes = Base64Url.DecodeFromChars(wrapped.AsSpan(V1Prefix.Length));
        }
        catch (FormatException)
        {
            return null;
        }

        if (sealedBytes.Length < XChaCha20Poly1305.NonceSize + SodiumAead.TagLength)
        {
            return null;
        }

        using var aead = new XChaCha20Poly1305(key);
        return aead.Decrypt(sealedBytes.AsSpan(0, XChaCha20Poly1305.NonceSize), sealedBytes.AsSpan(XChaCha20Poly1305.NonceSize), aad);
    }
}
