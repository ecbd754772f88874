// Aes256Gcm: AES-256-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag, wrapping .NET's
// AesGcm with Veil's AEAD shape: ciphertext and tag travel together (ciphertext || tag), and a
// failed authentication returns false and leaves the plaintext buffer zeroed instead of throwing.
//
// Nonces must never repeat under one key; with random 96-bit nonces stay well below 2^32 messages
// per key (SP 800-38D §8.3). Callers that encrypt streams use Cobblestone, not this type directly.
using System.Security.Cryptography;

namespace Veil.Crypto.Primitives;

/// <summary>AES-256-GCM authenticated encryption with a 12-byte nonce and a 16-byte tag.</summary>
public sealed class Aes256Gcm : IDisposable
{
    /// <summary>The key length: 32 bytes.</summary>
    public const int KeyLength = 32;

    /// <summary>The nonce length: 12 bytes.</summary>
    public const int NonceLength = 12;

    /// <summary>The tag length, appended to the ciphertext: 16 bytes.</summary>
    public const int TagLength = 16;

    private readonly AesGcm _aes;

    /// <summary>Creates an instance for <paramref name="key"/>; the caller wipes its copy of the key.</summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not 32 bytes.</exception>
    public Aes256Gcm(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyLength)
        {
            throw new ArgumentException($"An AES-256-GCM key is {KeyLength} bytes.", nameof(key));
        }

        _aes = new AesGcm(key, TagLength);
    }

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (plaintext length + 16: ciphertext || tag).</summary>
    /// <exception cref="ArgumentException">The nonce is not 12 bytes or the output is not plaintext length + 16.</exception>
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, ReadOnlySpan<byte> associatedData = default)
    {
        AeadArguments.Check(nonce, NonceLength, ciphertext.Length, plaintext.Length + TagLength, nameof(ciphertext));
        _aes.Encrypt(nonce, plaintext, ciphertext[..plaintext.Length], ciphertext[plaintext.Length..], associatedData);
    }

    /// <summary>Encrypts and returns ciphertext || tag.</summary>
    /// <exception cref="ArgumentException">The nonce is not 12 bytes.</exception>
    public byte[] Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData = default)
    {
        var output = new byte[plaintext.Length + TagLength];
        Encrypt(nonce, plaintext, output, associatedData);
        return output;
    }

    /// <summary>
    /// Authenticates and decrypts ciphertext || tag into <paramref name="plaintext"/> (ciphertext length − 16).
    /// Returns <see langword="false"/>, with <paramref name="plaintext"/> zeroed, if authentication fails
    /// or the input is shorter than a tag.
    /// </summary>
    /// <exception cref="ArgumentException">The nonce is not 12 bytes or the output has the wrong length.</exception>
    public bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext, ReadOnlySpan<byte> associatedData = default)
    {
        if (ciphertext.Length < TagLength)
        {
            AeadArguments.Check(nonce, NonceLength, 0, 0, nameof(plaintext));
            return false;
        }

        AeadArguments.Check(nonce, NonceLength, plaintext.Length, ciphertext.Length - TagLength, nameof(plaintext));
        var body = ciphertext[..^TagLength];
        try
        {
            _aes.Decrypt(nonce, body, ciphertext[^TagLength..], plaintext, associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            // .NET signals a forged or corrupted message with an exception; Veil's contract is a false result.
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }
    }

    /// <summary>Decrypts and returns the plaintext, or <see langword="null"/> if authentication fails.</summary>
    /// <exception cref="ArgumentException">The nonce is not 12 bytes.</exception>
    public byte[]? Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData = default)
    {
        if (ciphertext.Length < TagLength)
        {
            AeadArguments.Check(nonce, NonceLength, 0, 0, nameof(ciphertext));
            return null;
        }

        var plaintext = new byte[ciphertext.Length - TagLength];
        return TryDecrypt(nonce, ciphertext, plaintext, associatedData) ? plaintext : null;
    }

    /// <summary>Releases the key schedule.</summary>
    public void Dispose() => _aes.Dispose();

    /// <summary>Names the algorithm only.</summary>
    public override string ToString() => nameof(Aes256Gcm);
}

/// <summary>Argument checks shared by the AEAD types.</summary>
internal static class AeadArguments
{
    internal static void Check(ReadOnlySpan<byte> nonce, int nonceLength, int outputLength, int expectedOutputLength, string outputName)
    {
        if (nonce.Length != nonceLength)
        {
            throw new ArgumentException($"The nonce must be {nonceLength} bytes.", nameof(nonce));
        }

        if (outputLength != expectedOutputLength)
        {
            throw new ArgumentException($"The output must be {expectedOutputLength} bytes.", outputName);
        }
    }
}
