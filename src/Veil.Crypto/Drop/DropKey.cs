// DropKey: the random 32-byte key of one drop (spec/drop.md). It travels only in the link's fragment
// (`/d/{id}#{base64url(key)}`), which browsers never send to a server, or wrapped under a password. It is
// held in SecretBytes (unmanaged, wiped on dispose) and never shown by ToString.
using System.Buffers.Text;
using System.Security.Cryptography;
using Veil.Crypto.Memory;

namespace Veil.Crypto.Drop;

/// <summary>The random 32-byte key of one drop. Dispose it when done; <see cref="ToString"/> never shows it.</summary>
public sealed class DropKey : IDisposable
{
    /// <summary>The key length: 32 bytes.</summary>
    public const int Length = 32;

    /// <summary>The length of the key as unpadded base64url: 43 characters.</summary>
    public const int EncodedLength = 43;

    private readonly SecretBytes _secret;

    private DropKey(SecretBytes secret) => _secret = secret;

    /// <summary>Creates a fresh key from the operating system's CSPRNG.</summary>
    /// <returns>A new key.</returns>
    public static DropKey Generate() => new(SecretBytes.Random(Length));

    /// <summary>Copies a key from bytes; the caller wipes its own copy.</summary>
    /// <param name="key">Exactly 32 bytes.</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not 32 bytes.</exception>
    public static DropKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != Length)
        {
            throw new ArgumentException($"A drop key is {Length} bytes.", nameof(key));
        }

        return new(SecretBytes.Copy(key));
    }

    /// <summary>Parses a key from unpadded base64url (the link fragment).</summary>
    /// <param name="text">43 base64url characters, no padding.</param>
    /// <returns>The key, or null when the text is not exactly a canonical 32-byte base64url string.</returns>
    public static DropKey? FromBase64Url(ReadOnlySpan<char> text)
    {
        if (text.Length != EncodedLength || !Base64Url.IsValid(text, out int decodedLength) || decodedLength != Length)
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[Length];
        try
        {
            int written;
            try
            {
                if (!Base64Url.TryDecodeFromChars(text, bytes, out written) || written != Length)
                {
                    return null;
                }
            }
            catch (FormatException)
            {
                // Non-canonical trailing bits are refused by the decoder with an exception; for a link they are just invalid.
                return null;
            }

            // Canonical only: the two unused low bits of the last character must be zero, so one key has one text.
            Span<char> again = stackalloc char[EncodedLength];
            if (!Base64Url.TryEncodeToChars(bytes, again, out _) || !again.SequenceEqual(text))
            {
                return null;
            }

            return FromBytes(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>The key as unpadded base64url, for the link fragment. The returned string is secret.</summary>
    /// <returns>43 characters.</returns>
    public string ToBase64Url()
    {
        using SecretLease lease = _secret.Acquire();
        return Base64Url.EncodeToString(lease.Span);
    }

    /// <summary>Borrows the key bytes; dispose the lease as soon as the operation is done.</summary>
    /// <returns>A lease over the 32 key bytes.</returns>
    public SecretLease Acquire() => _secret.Acquire();

    /// <summary>Wipes the key.</summary>
    public void Dispose() => _secret.Dispose();

    /// <summary>Names the type only, never the key.</summary>
    /// <returns>"DropKey".</returns>
    public override string ToString() => nameof(DropKey);
}
