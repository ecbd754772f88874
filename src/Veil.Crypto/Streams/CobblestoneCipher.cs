// Cobblestone-256 core: key derivation, commitment, and per-chunk AEAD.
//
// Reference: https://c2sp.org/chunked-encryption (C2SP chunked encryption, v1), instantiated as
// "Cobblestone-256" = HKDF-Expand with SHA-512 + AEAD_AES_256_GCM, as named by the Wycheproof
// vectors (testvectors_v1/c2sp_chunked_encryption_aes_256_gcm_test.json, group "sha": "SHA-512").
//
//   key(32) || base nonce(12) || commitment(32) =
//       HKDF-Expand(prk = input key, info = "c2sp.org/chunked-encryption@v1+" || "AEAD_AES_256_GCM" || 0x00 || salt(24) || context, L = 76)
//   nonce(i) = base nonce XOR big-endian(i), i < 2^38
//   message = salt(24) || commitment(32) || AES-256-GCM(key, nonce(i), chunk_i, aad = empty) ...
//
// HKDF-Expand is composed from the BCL's HMACSHA512 (RFC 5869 section 2.3, two blocks), because
// System.Security.Cryptography.HKDF.Expand rejects a PRK shorter than the hash output (64 bytes for
// SHA-512) while the spec feeds the 32-byte input key as PRK directly. HMAC is the primitive; only
// the two-block RFC 5869 feedback loop is written here.
using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Veil.Crypto.Streams;

/// <summary>
/// One message's Cobblestone-256 state: the derived AES-256-GCM key, the base nonce and the chunk counter.
/// Not thread-safe; one instance per message and direction.
/// </summary>
internal sealed class CobblestoneCipher : IDisposable
{
    private const int HmacSize = 64;
    private const int DerivedSize = Cobblestone256.KeySize + NonceSize + Cobblestone256.CommitmentSize;
    private const int NonceSize = 12;
    private const long MaxChunks = 1L << 38;

    // "c2sp.org/chunked-encryption@v1+" || "AEAD_AES_256_GCM" || 0x00
    private static ReadOnlySpan<byte> InfoPrefix => "c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\0"u8;

    private readonly AesGcm _aead;
    private readonly byte[] _baseNonce = new byte[NonceSize];
    private long _counter;
    private bool _finished;
    private bool _disposed;

    private CobblestoneCipher(ReadOnlySpan<byte> aeadKey, ReadOnlySpan<byte> baseNonce)
    {
        _aead = new AesGcm(aeadKey, Cobblestone256.TagSize);
        baseNonce.CopyTo(_baseNonce);
    }

    /// <summary>True once the short final chunk has been sealed or opened.</summary>
    public bool IsFinished => _finished;

    /// <summary>Derives the message keys from <paramref name="salt"/> and writes salt || commitment into <paramref name="header"/>.</summary>
    public static CobblestoneCipher CreateEncryptor(ReadOnlySpan<byte> key, ReadOnlySpan<byte> context, ReadOnlySpan<byte> salt, Span<byte> header)
    {
        CheckKey(key);
        if (salt.Length != Cobblestone256.SaltSize)
        {
            throw new ArgumentException($"The salt must be {Cobblestone256.SaltSize} bytes.", nameof(salt));
        }

        Span<byte> derived = stackalloc byte[DerivedSize];
        try
        {
            Derive(key, context, salt, derived);
            salt.CopyTo(header);
            derived[(Cobblestone256.KeySize + NonceSize)..].CopyTo(header[Cobblestone256.SaltSize..Cobblestone256.HeaderSize]);
            return new CobblestoneCipher(derived[..Cobblestone256.KeySize], derived.Slice(Cobblestone256.KeySize, NonceSize));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(derived);
        }
    }

    /// <summary>Derives the message keys from the header's salt and checks its commitment; null if it does not match.</summary>
    public static CobblestoneCipher? TryCreateDecryptor(ReadOnlySpan<byte> key, ReadOnlySpan<byte> context, ReadOnlySpan<byte> header)
    {
        CheckKey(key);
        if (header.Length < Cobblestone256.HeaderSize)
        {
            return null;
        }

        Span<byte> derived = stackalloc byte[DerivedSize];
        try
        {
            Derive(key, context, header[..Cobblestone256.SaltSize], derived);
            if (!CryptographicOperations.FixedTimeEquals(
                    derived[(Cobblestone256.KeySize + NonceSize)..],
                    header[Cobblestone256.SaltSize..Cobblestone256.HeaderSize]))
            {
                return null;
            }

            return new CobblestoneCipher(derived[..Cobblestone256.KeySize], derived.Slice(Cobblestone256.KeySize, NonceSize));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(derived);
        }
    }

    /// <summary>
    /// Seals the next chunk in place: <paramref name="buffer"/>[..plaintextLength] is replaced by its ciphertext
    /// and the tag is written right after it. A chunk shorter than <see cref="Cobblestone256.ChunkSize"/> is the final one.
    /// </summary>
    /// <returns>The encrypted chunk length (plaintext length + tag).</returns>
    public int SealChunk(Span<byte> buffer, int plaintextLength)
    {
        if ((uint)plaintextLength > Cobblestone256.ChunkSize)
        {
            throw new ArgumentOutOfRangeException(nameof(plaintextLength));
        }

        return SealChunk(buffer[..plaintextLength], buffer);
    }

    /// <summary>
    /// Seals the next chunk from <paramref name="plaintext"/> into <paramref name="destination"/> (ciphertext, then tag).
    /// The two either are the same memory (in place) or do not overlap at all. A chunk shorter than
    /// <see cref="Cobblestone256.ChunkSize"/> is the final one.
    /// </summary>
    /// <returns>The encrypted chunk length (plaintext length + tag).</returns>
    public int SealChunk(ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
        {
            throw new InvalidOperationException("The final chunk has already been written.");
        }

        int length = plaintext.Length;
        if (length > Cobblestone256.ChunkSize)
        {
            throw new ArgumentOutOfRangeException(nameof(plaintext));
        }

        if (_counter >= MaxChunks)
        {
            // The spec: implementations MUST abort when the counter reaches 2^38 (4 PiB).
            throw new InvalidOperationException("A Cobblestone message cannot exceed 2^38 chunks (4 PiB).");
        }

        Span<byte> nonce = stackalloc byte[NonceSize];
        NextNonce(nonce);
        _aead.Encrypt(nonce, plaintext, destination[..length], destination.Slice(length, Cobblestone256.TagSize));
        _counter++;
        _finished = length < Cobblestone256.ChunkSize;
        return length + Cobblestone256.TagSize;
    }

    /// <summary>
    /// Opens the next chunk in place. <paramref name="encryptedLength"/> equal to <see cref="Cobblestone256.EncryptedChunkSize"/>
    /// is a full chunk; anything shorter is the final chunk, which must hold at least a tag.
    /// </summary>
    /// <returns>False on authentication failure, a too-short final chunk, a chunk after the final one, or counter overflow.</returns>
    public bool TryOpenChunk(Span<byte> buffer, int encryptedLength, out int plaintextLength)
    {
        if ((uint)encryptedLength > (uint)buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(encryptedLength));
        }

        return TryOpenChunk(buffer[..encryptedLength], buffer, out plaintextLength);
    }

    /// <summary>
    /// Opens the next chunk from <paramref name="encrypted"/> (ciphertext, then tag) into <paramref name="destination"/>.
    /// The two either start at the same address (in place) or do not overlap at all. An input of
    /// <see cref="Cobblestone256.EncryptedChunkSize"/> bytes is a full chunk; anything shorter is the final chunk,
    /// which must hold at least a tag. On failure the BCL has cleared the destination.
    /// </summary>
    /// <returns>False on authentication failure, a too-short final chunk, a chunk after the final one, or counter overflow.</returns>
    public bool TryOpenChunk(ReadOnlySpan<byte> encrypted, Span<byte> destination, out int plaintextLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        plaintextLength = 0;
        int encryptedLength = encrypted.Length;
        if (_finished || encryptedLength < Cobblestone256.TagSize || encryptedLength > Cobblestone256.EncryptedChunkSize || _counter >= MaxChunks)
        {
            _finished = true;
            return false;
        }

        int length = encryptedLength - Cobblestone256.TagSize;
        Span<byte> nonce = stackalloc byte[NonceSize];
        NextNonce(nonce);
        try
        {
            _aead.Decrypt(nonce, encrypted[..length], encrypted.Slice(length, Cobblestone256.TagSize), destination[..length]);
        }
        catch (AuthenticationTagMismatchException)
        {
            // The BCL has already cleared the output. A failed chunk ends the message for good.
            _finished = true;
            return false;
        }

        _counter++;
        _finished = length < Cobblestone256.ChunkSize;
        plaintextLength = length;
        return true;
    }

    /// <summary>Marks the message as failed: every later chunk is rejected.</summary>
    public void Fail() => _finished = true;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _aead.Dispose();
        CryptographicOperations.ZeroMemory(_baseNonce);
    }

    private void NextNonce(Span<byte> nonce)
    {
        _baseNonce.CopyTo(nonce);
        ulong low = BinaryPrimitives.ReadUInt64BigEndian(nonce[4..]) ^ (ulong)_counter;
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], low);
    }

    private static void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != Cobblestone256.KeySize)
        {
            throw new ArgumentException($"A Cobblestone-256 key is {Cobblestone256.KeySize} bytes.", nameof(key));
        }
    }

    // HKDF-Expand(SHA-512, prk = key, info, L = 76): T(1) = HMAC(prk, info || 0x01), T(2) = HMAC(prk, T(1) || info || 0x02).
    private static void Derive(ReadOnlySpan<byte> key, ReadOnlySpan<byte> context, ReadOnlySpan<byte> salt, Span<byte> output)
    {
        int infoLength = InfoPrefix.Length + Cobblestone256.SaltSize + context.Length;
        int inputLength = HmacSize + infoLength + 1;
        byte[]? rented = null;
        Span<byte> input = inputLength <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(inputLength));
        input = input[..inputLength];
        Span<byte> block = stackalloc byte[HmacSize];
        try
        {
            Span<byte> info = input.Slice(HmacSize, infoLength);
            InfoPrefix.CopyTo(info);
            salt.CopyTo(info[InfoPrefix.Length..]);
            context.CopyTo(info[(InfoPrefix.Length + Cobblestone256.SaltSize)..]);

            // T(1): no previous block.
            input[^1] = 1;
            HMACSHA512.HashData(key, input[HmacSize..], block);
            block.CopyTo(output);

            // T(2): previous block || info || 0x02.
            block.CopyTo(input);
            input[^1] = 2;
            HMACSHA512.HashData(key, input, block);
            block[..(output.Length - HmacSize)].CopyTo(output[HmacSize..]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(block);
            CryptographicOperations.ZeroMemory(input);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
