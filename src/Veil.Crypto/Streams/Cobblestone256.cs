// Cobblestone-256: streaming authenticated encryption per https://c2sp.org/chunked-encryption,
// instantiated with HKDF-Expand-SHA-512 and AES-256-GCM (BCL AesGcm / HMACSHA512 only).
//
// Format:  salt(24) || commitment(32) || chunk_0 || ... || chunk_n
//          every chunk but the last is 16 KiB of plaintext + 16-byte tag; the last is SHORTER than 16 KiB
//          (possibly empty), which is what marks the end of the message: there is no final flag.
// Limits:  at most 2^38 chunks (4 PiB) per message; the key must be 32 uniformly random bytes; the salt is
//          random per message (the spec requires it never repeats for a key); context is bound through the
//          key derivation (the AEAD's AAD is empty by the spec), so it must be known before decrypting.
// Release of plaintext: chunks are authenticated one at a time, so a streaming decryptor releases
//          each chunk's plaintext once that chunk authenticates (DecryptAsync: once every chunk of its batch has). On a later failure (corruption,
//          truncation, reordering, trailing data) the output already written is a valid PREFIX of the
//          message but the message as a whole is NOT authentic: callers must discard it. This is exactly what
//          the Wycheproof "PartialPlaintext" flag allows; nothing beyond an authenticated chunk is ever written.
// Memory:  EncryptAsync/DecryptAsync use one pooled buffer of ~480 KiB (an input and an output area of
//          BatchChunks chunks each), wiped on return, plus one AesGcm instance: constant in the message length.
//          They read and write BatchChunks chunks per stream call (one syscall per ~240 KiB on a FileStream
//          instead of one per 16 KiB) and seal/open each chunk out of place from the input to the output area,
//          so no byte is copied besides the stream's own copy. Measured in docs/PERFORMANCE.md.
using System.Buffers;
using System.Security.Cryptography;

namespace Veil.Crypto.Streams;

/// <summary>
/// Cobblestone-256 (c2sp.org/chunked-encryption with HKDF-SHA-512 and AES-256-GCM): one-shot and streaming
/// encryption and decryption of messages of any length up to 4 PiB, with key commitment and truncation,
/// reordering and extension detection.
/// </summary>
/// <remarks>
/// Misuse (a key that is not <see cref="KeySize"/> bytes, an output buffer of the wrong size) throws
/// <see cref="ArgumentException"/>. Failed authentication is a value: <see cref="TryDecrypt"/> and
/// <see cref="DecryptAsync"/> return <see langword="false"/>. The read-through <see cref="CobblestoneDecryptStream"/>
/// cannot return a value from <c>Read</c>, so it throws <see cref="CobblestoneAuthenticationException"/> instead.
/// </remarks>
public static class Cobblestone256
{
    /// <summary>Input key size in bytes (AES-256).</summary>
    public const int KeySize = 32;

    /// <summary>Size of the random per-message salt at the start of the ciphertext.</summary>
    public const int SaltSize = 24;

    /// <summary>Size of the key commitment that follows the salt.</summary>
    public const int CommitmentSize = 32;

    /// <summary>Size of the header: salt followed by commitment.</summary>
    public const int HeaderSize = SaltSize + CommitmentSize;

    /// <summary>Plaintext size of every chunk but the last, which is always shorter.</summary>
    public const int ChunkSize = 16 * 1024;

    /// <summary>AES-GCM tag size appended to every chunk.</summary>
    public const int TagSize = 16;

    /// <summary>Size of a full encrypted chunk: <see cref="ChunkSize"/> + <see cref="TagSize"/>.</summary>
    public const int EncryptedChunkSize = ChunkSize + TagSize;

    /// <summary>Largest plaintext a message can carry: 2^38 chunks minus one byte (4 PiB - 1).</summary>
    public const long MaxPlaintextLength = (1L << 38) * ChunkSize - 1;

    /// <summary>Returns the exact ciphertext length for a plaintext of <paramref name="plaintextLength"/> bytes.</summary>
    /// <param name="plaintextLength">Plaintext length, 0 to <see cref="MaxPlaintextLength"/>.</param>
    /// <returns><see cref="HeaderSize"/> + plaintext + one tag per chunk (the final short chunk included).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The length is negative or too large.</exception>
    public static long GetCiphertextLength(long plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(plaintextLength, MaxPlaintextLength);
        return HeaderSize + plaintextLength + (plaintextLength / ChunkSize + 1) * TagSize;
    }

    /// <summary>Returns the plaintext length a ciphertext of <paramref name="ciphertextLength"/> bytes would carry.</summary>
    /// <param name="ciphertextLength">Total ciphertext length, header included.</param>
    /// <param name="plaintextLength">The plaintext length, or 0 when the length is impossible.</param>
    /// <returns>False when no valid message has that length (too short, truncated final chunk, too long).</returns>
    public static bool TryGetPlaintextLength(long ciphertextLength, out long plaintextLength)
    {
        plaintextLength = 0;
        long body = ciphertextLength - HeaderSize;
        if (body < TagSize)
        {
            return false;
        }

        long fullChunks = body / EncryptedChunkSize;
        long last = body % EncryptedChunkSize;
        if (last < TagSize || fullChunks >= 1L << 38)
        {
            // A body that ends on a chunk boundary lacks the required short final chunk.
            return false;
        }

        plaintextLength = fullChunks * ChunkSize + last - TagSize;
        return true;
    }

    /// <summary>Encrypts <paramref name="plaintext"/> in one shot into <paramref name="ciphertext"/>, with a fresh random salt.</summary>
    /// <param name="key">The 32-byte uniformly random input key.</param>
    /// <param name="context">Application context bound into the key derivation (e.g. a drop id); may be empty.</param>
    /// <param name="plaintext">The message.</param>
    /// <param name="ciphertext">Destination of exactly <see cref="GetCiphertextLength"/> bytes; must not overlap <paramref name="plaintext"/>.</param>
    /// <exception cref="ArgumentException">Wrong key size or destination size.</exception>
    public static void Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> context, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        Span<byte> salt = stackalloc byte[SaltSize];
        RandomNumberGenerator.Fill(salt);
        Encrypt(key, context, salt, plaintext, ciphertext);
    }

    /// <summary>Deterministic encryption with a caller-chosen salt: for known-answer tests only.</summary>
    internal static void Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> context, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        if (ciphertext.Length != GetCiphertextLength(plaintext.Length))
        {
            throw new ArgumentException("The destination must be exactly GetCiphertextLength(plaintext.Length) bytes.", nameof(ciphertext));
        }

        using CobblestoneCipher cipher = CobblestoneCipher.CreateEncryptor(key, context, salt, ciphertext);
        Span<byte> output = ciphertext[HeaderSize..];
        do
        {
            int n = Math.Min(ChunkSize, plaintext.Length);
            plaintext[..n].CopyTo(output);
            int written = cipher.SealChunk(output, n);
            plaintext = plaintext[n..];
            output = output[written..];
        }
        while (!cipher.IsFinished);
    }

    /// <summary>Decrypts and authenticates a whole message in one shot.</summary>
    /// <param name="key">The 32-byte input key.</param>
    /// <param name="context">The context used at encryption.</param>
    /// <param name="ciphertext">The whole message: header and every chunk.</param>
    /// <param name="plaintext">Destination; must hold at least the plaintext length (see <see cref="TryGetPlaintextLength"/>).</param>
    /// <param name="bytesWritten">Plaintext bytes written; 0 on failure.</param>
    /// <returns>False if the message is not authentic (wrong key or context, tampering, truncation, reordering, trailing data);
    /// <paramref name="plaintext"/> is then cleared.</returns>
    /// <exception cref="ArgumentException">Wrong key size, or a destination too small for a ciphertext of this length.</exception>
    public static bool TryDecrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> context, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext, out int bytesWritten)
    {
        bytesWritten = 0;
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"A Cobblestone-256 key is {KeySize} bytes.", nameof(key));
        }

        if (!TryGetPlaintextLength(ciphertext.Length, out long expected))
        {
            return false;
        }

        if (plaintext.Length < expected)
        {
            throw new ArgumentException("The destination is too small for this ciphertext.", nameof(plaintext));
        }

        using CobblestoneCipher? cipher = CobblestoneCipher.TryCreateDecryptor(key, context, ciphertext);
        if (cipher is null)
        {
            return false;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(EncryptedChunkSize);
        try
        {
            ReadOnlySpan<byte> input = ciphertext[HeaderSize..];
            int offset = 0;
            while (!cipher.IsFinished)
            {
                int n = Math.Min(EncryptedChunkSize, input.Length);
                input[..n].CopyTo(buffer);
                if (!cipher.TryOpenChunk(buffer, n, out int length))
                {
                    CryptographicOperations.ZeroMemory(plaintext[..offset]);
                    return false;
                }

                buffer.AsSpan(0, length).CopyTo(plaintext[offset..]);
                offset += length;
                input = input[n..];
            }

            if (!input.IsEmpty)
            {
                CryptographicOperations.ZeroMemory(plaintext[..offset]);
                return false;
            }

            bytesWritten = offset;
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer.AsSpan(0, EncryptedChunkSize));
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads <paramref name="plaintext"/> to its end and writes the Cobblestone-256 message to <paramref name="ciphertext"/>,
    /// in constant memory. Neither stream is disposed.
    /// </summary>
    /// <param name="key">The 32-byte uniformly random input key.</param>
    /// <param name="context">Application context bound into the key derivation; may be empty.</param>
    /// <param name="plaintext">Readable source, read until it returns 0 bytes.</param>
    /// <param name="ciphertext">Writable destination.</param>
    /// <param name="cancellationToken">Cancels the operation; the destination then holds an incomplete message that will not decrypt.</param>
    /// <returns>A task that completes when the final chunk has been written.</returns>
    /// <exception cref="ArgumentException">Wrong key size.</exception>
    public static Task EncryptAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> context, Stream plaintext, Stream ciphertext, CancellationToken cancellationToken = default)
    {
        byte[] salt = new byte[SaltSize];
        RandomNumberGenerator.Fill(salt);
        return EncryptAsync(key, context, salt, plaintext, ciphertext, cancellationToken);
    }

    /// <summary>Streaming encryption with a caller-chosen salt: for known-answer tests only.</summary>
    internal static async Task EncryptAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> context, ReadOnlyMemory<byte> salt, Stream plaintext, Stream ciphertext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(ciphertext);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BatchBufferSize);
        try
        {
            Memory<byte> input = buffer.AsMemory(0, BatchChunks * ChunkSize);
            Memory<byte> output = buffer.AsMemory(BatchAreaSize, HeaderSize + BatchAreaSize);
            using CobblestoneCipher cipher = CobblestoneCipher.CreateEncryptor(key.Span, context.Span, salt.Span, output.Span);
            int headerLength = HeaderSize; // the header goes out with the first batch
            while (!cipher.IsFinished)
            {
                int n = await plaintext.ReadAtLeastAsync(input, input.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                int written = SealBatch(cipher, input.Span[..n], isFull: n == input.Length, output.Span[headerLength..]);
                await ciphertext.WriteAsync(output[..(headerLength + written)], cancellationToken).ConfigureAwait(false);
                headerLength = 0;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer.AsSpan(0, BatchBufferSize));
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads a Cobblestone-256 message from <paramref name="ciphertext"/> to its end and writes the plaintext to
    /// <paramref name="plaintext"/>, in batches of authenticated chunks, in constant memory. Neither stream is disposed.
    /// </summary>
    /// <remarks>
    /// Each 16 KiB chunk is written only after it authenticates, but the message as a whole is authentic only if
    /// this method returns <see langword="true"/>. On <see langword="false"/>, the destination may already hold a prefix of
    /// the message (whole authenticated chunks, never more): the caller MUST discard it (delete the file, abort the
    /// response) and treat the message as forged. Decrypt to a temporary location when that is not possible.
    /// </remarks>
    /// <param name="key">The 32-byte input key.</param>
    /// <param name="context">The context used at encryption.</param>
    /// <param name="ciphertext">Readable source, read until it returns 0 bytes; data after the final chunk is a failure.</param>
    /// <param name="plaintext">Writable destination.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True if the whole message authenticated; false on a wrong key or context, tampering, truncation,
    /// reordering, a missing or duplicated final chunk, or trailing data.</returns>
    /// <exception cref="ArgumentException">Wrong key size.</exception>
    public static async Task<bool> DecryptAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> context, Stream ciphertext, Stream plaintext, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        ArgumentNullException.ThrowIfNull(plaintext);
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"A Cobblestone-256 key is {KeySize} bytes.", nameof(key));
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(BatchBufferSize);
        try
        {
            int headerLength = await ciphertext.ReadAtLeastAsync(buffer.AsMemory(0, HeaderSize), HeaderSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            using CobblestoneCipher? cipher = headerLength == HeaderSize
                ? CobblestoneCipher.TryCreateDecryptor(key.Span, context.Span, buffer.AsSpan(0, HeaderSize))
                : null;
            if (cipher is null)
            {
                return false;
            }

            Memory<byte> input = buffer.AsMemory(0, BatchAreaSize);
            Memory<byte> output = buffer.AsMemory(BatchAreaSize, BatchAreaSize);
            while (!cipher.IsFinished)
            {
                int n = await ciphertext.ReadAtLeastAsync(input, input.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (!OpenBatch(cipher, input.Span[..n], isFull: n == input.Length, output.Span, out int length))
                {
                    return false;
                }

                await plaintext.WriteAsync(output[..length], cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer.AsSpan(0, BatchBufferSize));
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Chunks per stream call in EncryptAsync/DecryptAsync. 15 keeps the input and output areas (246,000 bytes each)
    // in one 512 KiB ArrayPool bucket; a ~1 MiB batch measured no faster (docs/PERFORMANCE.md).
    internal const int BatchChunks = 15;
    private const int BatchAreaSize = BatchChunks * EncryptedChunkSize;
    private const int BatchBufferSize = BatchAreaSize + HeaderSize + BatchAreaSize;

    // Seals a batch read from the plaintext stream. A full batch holds only full chunks, none of them final (the
    // final chunk is always short, so a stream ending on the batch boundary gets an empty final chunk from the
    // next, empty, read). A short batch means the stream ended: its full chunks, then the short final one.
    private static int SealBatch(CobblestoneCipher cipher, ReadOnlySpan<byte> plaintext, bool isFull, Span<byte> output)
    {
        int written = 0;
        while (plaintext.Length >= ChunkSize)
        {
            written += cipher.SealChunk(plaintext[..ChunkSize], output[written..]);
            plaintext = plaintext[ChunkSize..];
        }

        if (!isFull)
        {
            written += cipher.SealChunk(plaintext, output[written..]);
        }

        return written;
    }

    // Opens a batch read from the ciphertext stream into contiguous plaintext, with the same rule as SealBatch: a
    // short batch ends with the final chunk, which must be shorter than a full one (a remainder under a tag, e.g. a
    // stream ending on a chunk boundary, fails). On failure nothing of this batch is released.
    private static bool OpenBatch(CobblestoneCipher cipher, ReadOnlySpan<byte> ciphertext, bool isFull, Span<byte> output, out int length)
    {
        length = 0;
        while (ciphertext.Length >= EncryptedChunkSize)
        {
            if (!cipher.TryOpenChunk(ciphertext[..EncryptedChunkSize], output[length..], out int n))
            {
                return false;
            }

            length += n;
            ciphertext = ciphertext[EncryptedChunkSize..];
        }

        if (!isFull)
        {
            if (!cipher.TryOpenChunk(ciphertext, output[length..], out int n))
            {
                return false;
            }

            length += n;
        }

        return true;
    }
}
