using Veil.Crypto.Streams;

namespace Veil.Crypto.Tests.Streams;

/// <summary>
/// EncryptAsync and DecryptAsync move <see cref="Cobblestone256.BatchChunks"/> chunks per stream call: messages that
/// end on, just before or just after a batch boundary produce the same bytes as the one-shot API, and a message cut
/// at a batch boundary is rejected.
/// </summary>
public sealed class CobblestoneBatchTests
{
    private const int Chunk = Cobblestone256.ChunkSize;
    private const int Batch = Cobblestone256.BatchChunks * Chunk;

    private static readonly byte[] Key = [.. Enumerable.Range(7, 32).Select(i => (byte)i)];
    private static readonly byte[] Context = "drop:batch"u8.ToArray();
    private static readonly byte[] Salt = [.. Enumerable.Range(50, Cobblestone256.SaltSize).Select(i => (byte)i)];

    public static TheoryData<int> BatchBoundaryLengths => new()
    {
        Batch - Chunk, Batch - 1, Batch, Batch + 1, Batch + Chunk, 2 * Batch - 1, 2 * Batch, 2 * Batch + Chunk - 1, 3 * Batch + 12_345,
    };

    [Theory]
    [MemberData(nameof(BatchBoundaryLengths))]
    public async Task EncryptAsync_AroundBatchBoundary_MatchesOneShotBytes(int length)
    {
        byte[] plaintext = CobblestoneStreamTests.Message(length);
        byte[] expected = new byte[Cobblestone256.GetCiphertextLength(length)];
        Cobblestone256.Encrypt(Key, Context, Salt, plaintext, expected);

        using var ciphertext = new MemoryStream();
        await Cobblestone256.EncryptAsync(Key, Context, Salt, new MemoryStream(plaintext), ciphertext, CancellationToken.None);

        Assert.Equal(expected, ciphertext.ToArray());
    }

    [Theory]
    [MemberData(nameof(BatchBoundaryLengths))]
    public async Task DecryptAsync_AroundBatchBoundary_ReturnsThePlaintext(int length)
    {
        byte[] plaintext = CobblestoneStreamTests.Message(length);
        byte[] ciphertext = new byte[Cobblestone256.GetCiphertextLength(length)];
        Cobblestone256.Encrypt(Key, Context, Salt, plaintext, ciphertext);

        using var output = new MemoryStream();
        bool ok = await Cobblestone256.DecryptAsync(Key, Context, new MemoryStream(ciphertext), output);

        Assert.True(ok);
        Assert.Equal(plaintext, output.ToArray());
    }

    [Fact]
    public async Task RoundTrip_SourcesThatReturnFewBytesPerRead_StillFillWholeBatches()
    {
        byte[] plaintext = CobblestoneStreamTests.Message(2 * Batch + 777);
        byte[] expected = new byte[Cobblestone256.GetCiphertextLength(plaintext.Length)];
        Cobblestone256.Encrypt(Key, Context, Salt, plaintext, expected);

        using var ciphertext = new MemoryStream();
        await Cobblestone256.EncryptAsync(Key, Context, Salt, new TrickleStream(plaintext, 5_000), ciphertext, CancellationToken.None);
        using var output = new MemoryStream();
        bool ok = await Cobblestone256.DecryptAsync(Key, Context, new TrickleStream(expected, 3_001), output);

        Assert.Equal(expected, ciphertext.ToArray());
        Assert.True(ok);
        Assert.Equal(plaintext, output.ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task DecryptAsync_CutAtABatchBoundary_IsRejected(int batches)
    {
        byte[] plaintext = CobblestoneStreamTests.Message(3 * Batch + 10);
        byte[] ciphertext = new byte[Cobblestone256.GetCiphertextLength(plaintext.Length)];
        Cobblestone256.Encrypt(Key, Context, Salt, plaintext, ciphertext);
        int cut = Cobblestone256.HeaderSize + batches * Cobblestone256.BatchChunks * Cobblestone256.EncryptedChunkSize;

        using var output = new MemoryStream();
        bool ok = await Cobblestone256.DecryptAsync(Key, Context, new MemoryStream(ciphertext[..cut]), output);

        Assert.False(ok);
        Assert.True(output.Length <= batches * Batch);
    }

    /// <summary>A read-only stream that returns at most <c>maxRead</c> bytes per call, like a socket.</summary>
    private sealed class TrickleStream(byte[] data, int maxRead) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(Math.Min(buffer.Length, maxRead), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
