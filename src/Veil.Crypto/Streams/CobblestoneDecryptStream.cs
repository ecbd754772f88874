// Read-through Cobblestone-256 decryption (c2sp.org/chunked-encryption, HKDF-SHA-512 + AES-256-GCM).
// The header's commitment is checked when the stream is opened (a mismatch is a null result, before any chunk
// is touched). Then each read pulls one encrypted chunk (16,400 bytes), authenticates it, and hands out its
// plaintext. A read that reaches the end of the message returns 0 only after the short final chunk authenticated
// and the inner stream ended with it. Any failure throws CobblestoneAuthenticationException and every later read
// throws again (Wycheproof "PartialPlaintext": a valid prefix may have been released; the caller must discard it).
using System.Buffers;
using System.Security.Cryptography;

namespace Veil.Crypto.Streams;

/// <summary>
/// A read-only stream that decrypts and authenticates a Cobblestone-256 message chunk by chunk, in constant memory.
/// Create it with <see cref="Open"/> or <see cref="OpenAsync"/>.
/// </summary>
/// <remarks>
/// Plaintext is released one authenticated 16 KiB chunk at a time, so a consumer sees a prefix of the message before
/// the end is authenticated. The message is authentic only when a read returns 0; if a read throws
/// <see cref="CobblestoneAuthenticationException"/>, everything read before must be discarded.
/// </remarks>
public sealed class CobblestoneDecryptStream : Stream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly CobblestoneCipher _cipher;
    private byte[]? _buffer;
    private int _offset;
    private int _available;
    private bool _failed;
    private bool _disposed;

    private CobblestoneDecryptStream(Stream inner, CobblestoneCipher cipher, byte[] buffer, bool leaveOpen)
    {
        _inner = inner;
        _cipher = cipher;
        _buffer = buffer;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Reads and checks the message header; returns null if the key or context does not match the commitment or the header is short.</summary>
    /// <param name="ciphertext">Readable source positioned at the start of the message.</param>
    /// <param name="key">The 32-byte input key; not retained.</param>
    /// <param name="context">The context used at encryption.</param>
    /// <param name="leaveOpen">True to leave <paramref name="ciphertext"/> open when this stream is disposed (also on a null result).</param>
    /// <returns>The decrypting stream, or null when the header does not authenticate.</returns>
    /// <exception cref="ArgumentException">Wrong key size, or an unreadable source.</exception>
    public static CobblestoneDecryptStream? Open(Stream ciphertext, ReadOnlySpan<byte> key, ReadOnlySpan<byte> context, bool leaveOpen = false)
    {
        CheckArguments(ciphertext, key);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Cobblestone256.EncryptedChunkSize);
        int n = ciphertext.ReadAtLeast(buffer.AsSpan(0, Cobblestone256.HeaderSize), Cobblestone256.HeaderSize, throwOnEndOfStream: false);
        return Create(ciphertext, key, context, buffer, n, leaveOpen);
    }

    /// <summary>Reads and checks the message header; returns null if the key or context does not match the commitment or the header is short.</summary>
    /// <param name="ciphertext">Readable source positioned at the start of the message.</param>
    /// <param name="key">The 32-byte input key; not retained.</param>
    /// <param name="context">The context used at encryption.</param>
    /// <param name="leaveOpen">True to leave <paramref name="ciphertext"/> open when this stream is disposed (also on a null result).</param>
    /// <param name="cancellationToken">Cancels reading the header.</param>
    /// <returns>The decrypting stream, or null when the header does not authenticate.</returns>
    /// <exception cref="ArgumentException">Wrong key size, or an unreadable source.</exception>
    public static async Task<CobblestoneDecryptStream?> OpenAsync(Stream ciphertext, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> context, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        CheckArguments(ciphertext, key.Span);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Cobblestone256.EncryptedChunkSize);
        int n;
        try
        {
            n = await ciphertext.ReadAtLeastAsync(buffer.AsMemory(0, Cobblestone256.HeaderSize), Cobblestone256.HeaderSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return Create(ciphertext, key.Span, context.Span, buffer, n, leaveOpen);
    }

    /// <summary>True once the whole message has authenticated and been read.</summary>
    public bool IsCompleted => _cipher.IsFinished && !_failed && _available == 0;

    /// <inheritdoc/>
    public override bool CanRead => !_disposed;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    /// <exception cref="CobblestoneAuthenticationException">The message is not authentic; discard what was read.</exception>
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    /// <inheritdoc/>
    /// <exception cref="CobblestoneAuthenticationException">The message is not authentic; discard what was read.</exception>
    public override int Read(Span<byte> buffer)
    {
        byte[] chunk = CheckReadable();
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (_available == 0)
        {
            if (_cipher.IsFinished)
            {
                return 0;
            }

            int n = _inner.ReadAtLeast(chunk.AsSpan(0, Cobblestone256.EncryptedChunkSize), Cobblestone256.EncryptedChunkSize, throwOnEndOfStream: false);
            OpenChunk(chunk, n);
        }

        return CopyOut(chunk, buffer);
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    /// <exception cref="CobblestoneAuthenticationException">The message is not authentic; discard what was read.</exception>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        byte[] chunk = CheckReadable();
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (_available == 0)
        {
            if (_cipher.IsFinished)
            {
                return 0;
            }

            int n = await _inner.ReadAtLeastAsync(chunk.AsMemory(0, Cobblestone256.EncryptedChunkSize), Cobblestone256.EncryptedChunkSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            OpenChunk(chunk, n);
        }

        return CopyOut(chunk, buffer.Span);
    }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            Release();
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            Release();
            if (!_leaveOpen)
            {
                await _inner.DisposeAsync().ConfigureAwait(false);
            }
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private static void CheckArguments(Stream ciphertext, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        if (!ciphertext.CanRead)
        {
            throw new ArgumentException("The ciphertext stream must be readable.", nameof(ciphertext));
        }

        if (key.Length != Cobblestone256.KeySize)
        {
            throw new ArgumentException($"A Cobblestone-256 key is {Cobblestone256.KeySize} bytes.", nameof(key));
        }
    }

    private static CobblestoneDecryptStream? Create(Stream ciphertext, ReadOnlySpan<byte> key, ReadOnlySpan<byte> context, byte[] buffer, int headerLength, bool leaveOpen)
    {
        CobblestoneCipher? cipher = headerLength == Cobblestone256.HeaderSize
            ? CobblestoneCipher.TryCreateDecryptor(key, context, buffer.AsSpan(0, Cobblestone256.HeaderSize))
            : null;
        if (cipher is null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!leaveOpen)
            {
                ciphertext.Dispose();
            }

            return null;
        }

        return new CobblestoneDecryptStream(ciphertext, cipher, buffer, leaveOpen);
    }

    private void OpenChunk(byte[] chunk, int encryptedLength)
    {
        // A full read is a non-final chunk; a short read means the inner stream ended, so it is the final chunk.
        // Trailing data after the final chunk would have lengthened the read and fails to authenticate.
        if (!_cipher.TryOpenChunk(chunk, encryptedLength, out int length))
        {
            _failed = true;
            throw new CobblestoneAuthenticationException();
        }

        _offset = 0;
        _available = length;
    }

    private int CopyOut(byte[] chunk, Span<byte> destination)
    {
        int n = Math.Min(_available, destination.Length);
        chunk.AsSpan(_offset, n).CopyTo(destination);
        _offset += n;
        _available -= n;
        return n;
    }

    private byte[] CheckReadable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failed)
        {
            throw new CobblestoneAuthenticationException();
        }

        return _buffer!;
    }

    private void Release()
    {
        _disposed = true;
        _cipher.Dispose();
        if (_buffer is not null)
        {
            CryptographicOperations.ZeroMemory(_buffer.AsSpan(0, Cobblestone256.EncryptedChunkSize));
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }
}
