// Write-through Cobblestone-256 encryption (c2sp.org/chunked-encryption, HKDF-SHA-512 + AES-256-GCM).
// Buffers at most one 16 KiB chunk; a full chunk is sealed and written at once (it can never be the final
// one, which is always short). The final short chunk is written ONLY by Complete/CompleteAsync: disposing an
// incomplete stream leaves a message without its final chunk, which every decryptor rejects as truncated.
// That is deliberate: a producer that fails half-way (an aborted upload) must not yield a valid, shorter message.
using System.Buffers;
using System.Security.Cryptography;

namespace Veil.Crypto.Streams;

/// <summary>
/// A write-only stream that encrypts everything written to it as one Cobblestone-256 message into an inner stream.
/// Call <see cref="Complete"/> or <see cref="CompleteAsync"/> to end the message; disposing without completing
/// leaves a truncated message that will not decrypt.
/// </summary>
public sealed class CobblestoneEncryptStream : Stream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly CobblestoneCipher _cipher;
    private readonly byte[] _header = new byte[Cobblestone256.HeaderSize];
    private byte[]? _buffer;
    private int _count;
    private bool _headerWritten;
    private bool _disposed;

    /// <summary>Starts a message with a fresh random salt. No I/O happens until data is written or the message is completed.</summary>
    /// <param name="ciphertext">Writable destination of the ciphertext.</param>
    /// <param name="key">The 32-byte uniformly random input key; not retained (only the derived AEAD key is).</param>
    /// <param name="context">Application context bound into the key derivation; may be empty.</param>
    /// <param name="leaveOpen">True to leave <paramref name="ciphertext"/> open when this stream is disposed.</param>
    /// <exception cref="ArgumentException">Wrong key size, or a destination that cannot be written.</exception>
    public CobblestoneEncryptStream(Stream ciphertext, ReadOnlySpan<byte> key, ReadOnlySpan<byte> context, bool leaveOpen = false)
        : this(ciphertext, key, context, RandomSalt(), leaveOpen)
    {
    }

    /// <summary>Deterministic variant for known-answer tests only.</summary>
    internal CobblestoneEncryptStream(Stream ciphertext, ReadOnlySpan<byte> key, ReadOnlySpan<byte> context, ReadOnlySpan<byte> salt, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        if (!ciphertext.CanWrite)
        {
            throw new ArgumentException("The ciphertext stream must be writable.", nameof(ciphertext));
        }

        _cipher = CobblestoneCipher.CreateEncryptor(key, context, salt, _header);
        _inner = ciphertext;
        _leaveOpen = leaveOpen;
        _buffer = ArrayPool<byte>.Shared.Rent(Cobblestone256.EncryptedChunkSize);
    }

    /// <summary>True once the final chunk has been written.</summary>
    public bool IsCompleted => _cipher.IsFinished;

    /// <inheritdoc/>
    public override bool CanRead => false;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => !_disposed && !_cipher.IsFinished;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        byte[] chunk = CheckWritable();
        while (!buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, Cobblestone256.ChunkSize - _count);
            buffer[..n].CopyTo(chunk.AsSpan(_count));
            _count += n;
            buffer = buffer[n..];
            if (_count == Cobblestone256.ChunkSize)
            {
                WriteHeaderIfNeeded();
                int written = _cipher.SealChunk(chunk, _count);
                _count = 0;
                _inner.Write(chunk, 0, written);
            }
        }
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        byte[] chunk = CheckWritable();
        while (!buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, Cobblestone256.ChunkSize - _count);
            buffer.Span[..n].CopyTo(chunk.AsSpan(_count));
            _count += n;
            buffer = buffer[n..];
            if (_count == Cobblestone256.ChunkSize)
            {
                await WriteHeaderIfNeededAsync(cancellationToken).ConfigureAwait(false);
                int written = _cipher.SealChunk(chunk, _count);
                _count = 0;
                await _inner.WriteAsync(chunk.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes the final (short, possibly empty) chunk, ending the message, and flushes the inner stream.</summary>
    /// <exception cref="InvalidOperationException">The message was already completed.</exception>
    public void Complete()
    {
        byte[] chunk = CheckWritable();
        WriteHeaderIfNeeded();
        int written = _cipher.SealChunk(chunk, _count);
        _count = 0;
        _inner.Write(chunk, 0, written);
        _inner.Flush();
    }

    /// <summary>Writes the final (short, possibly empty) chunk, ending the message, and flushes the inner stream.</summary>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the final chunk has been written and flushed.</returns>
    /// <exception cref="InvalidOperationException">The message was already completed.</exception>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        byte[] chunk = CheckWritable();
        await WriteHeaderIfNeededAsync(cancellationToken).ConfigureAwait(false);
        int written = _cipher.SealChunk(chunk, _count);
        _count = 0;
        await _inner.WriteAsync(chunk.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Flushes the inner stream. Buffered plaintext (less than one chunk) stays buffered: chunks have a fixed size.</summary>
    public override void Flush()
    {
        if (!_disposed)
        {
            _inner.Flush();
        }
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) =>
        _disposed ? Task.CompletedTask : _inner.FlushAsync(cancellationToken);

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

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

    private byte[] CheckWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_cipher.IsFinished)
        {
            throw new InvalidOperationException("The message is complete: nothing can be written after the final chunk.");
        }

        return _buffer!;
    }

    private void WriteHeaderIfNeeded()
    {
        if (!_headerWritten)
        {
            _inner.Write(_header);
            _headerWritten = true;
        }
    }

    private async ValueTask WriteHeaderIfNeededAsync(CancellationToken cancellationToken)
    {
        if (!_headerWritten)
        {
            await _inner.WriteAsync(_header, cancellationToken).ConfigureAwait(false);
            _headerWritten = true;
        }
    }

    private static byte[] RandomSalt()
    {
        byte[] salt = new byte[Cobblestone256.SaltSize];
        RandomNumberGenerator.Fill(salt);
        return salt;
    }
}
