using Veil.Crypto.Streams;

namespace Veil.Crypto.Tests.Streams;

/// <summary>
/// Streaming encryption and decryption allocate a constant amount, whatever the message length: an 8 MiB and a
/// 64 MiB message (generated on the fly, never stored as plaintext) allocate the same, small number of bytes.
/// </summary>
public sealed class CobblestoneMemoryTests
{
    private const long SmallLength = 8L << 20;
    private const long LargeLength = 64L << 20;

    // Per round trip: an AesGcm per direction, a few small arrays (salt, nonce state), async state, a Task,
    // and, if a gen-2 GC trims ArrayPool.Shared meanwhile, a re-rented 32 KiB chunk buffer.
    private const long Budget = 64 * 1024;

    private static readonly byte[] Key = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];

    [Fact]
    public async Task AsyncHelpers_8MiBAnd64MiB_AllocateTheSameSmallAmount()
    {
        await RoundTripHelpersAsync(1 << 20); // warm up JIT, pools and statics

        long small = await RoundTripHelpersAsync(SmallLength);
        long large = await RoundTripHelpersAsync(LargeLength);

        Assert.InRange(small, 0, Budget);
        Assert.InRange(large, 0, Budget);
        Assert.InRange(Math.Abs(large - small), 0, 48 * 1024); // proportional growth would be hundreds of KiB
    }

    [Fact]
    public void StreamWrappers_8MiBAnd64MiB_AllocateTheSameSmallAmount()
    {
        RoundTripWrappers(1 << 20);

        long small = RoundTripWrappers(SmallLength);
        long large = RoundTripWrappers(LargeLength);

        Assert.InRange(small, 0, Budget);
        Assert.InRange(large, 0, Budget);
        Assert.InRange(Math.Abs(large - small), 0, 48 * 1024); // proportional growth would be hundreds of KiB
    }

    // Every stream here completes synchronously, so the whole round trip runs on this thread and
    // GetAllocatedBytesForCurrentThread sees all of it. The ciphertext buffer is allocated before measuring.
    private static async Task<long> RoundTripHelpersAsync(long length)
    {
        byte[] ciphertext = new byte[Cobblestone256.GetCiphertextLength(length)];
        var source = new GeneratedStream(length);
        var target = new MemoryStream(ciphertext);
        var sink = new CheckingSink();

        long before = GC.GetAllocatedBytesForCurrentThread();
        await Cobblestone256.EncryptAsync(Key, default, source, target);
        target.Position = 0;
        bool ok = await Cobblestone256.DecryptAsync(Key, default, target, sink);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(ok);
        Assert.Equal(length, sink.Length);
        Assert.True(sink.Matches);
        return allocated;
    }

    // The wrappers are measured through their synchronous Read/Write: in a Debug build (the default for
    // `dotnet test`) every call to an async method allocates its state machine on the heap, even when it
    // completes synchronously, so per-call async allocations would be the build's, not the wrappers'.
    private static long RoundTripWrappers(long length)
    {
        byte[] ciphertext = new byte[Cobblestone256.GetCiphertextLength(length)];
        var source = new GeneratedStream(length);
        var target = new MemoryStream(ciphertext);
        var sink = new CheckingSink();
        byte[] copyBuffer = new byte[40_000];

        long before = GC.GetAllocatedBytesForCurrentThread();
        using (var writer = new CobblestoneEncryptStream(target, Key, default, leaveOpen: true))
        {
            int n;
            while ((n = source.Read(copyBuffer)) > 0)
            {
                writer.Write(copyBuffer.AsSpan(0, n));
            }

            writer.Complete();
        }

        target.Position = 0;
        using (CobblestoneDecryptStream reader = CobblestoneDecryptStream.Open(target, Key, default, leaveOpen: true)!)
        {
            int n;
            while ((n = reader.Read(copyBuffer)) > 0)
            {
                sink.Write(copyBuffer.AsSpan(0, n));
            }
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(length, sink.Length);
        Assert.True(sink.Matches);
        return allocated;
    }

    private static byte PatternAt(long i) => (byte)(i ^ (i >> 11) ^ (i >> 19));

    /// <summary>A readable stream of <c>length</c> pattern bytes that never materialises them.</summary>
    private sealed class GeneratedStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - _position);
            for (int i = 0; i < n; i++)
            {
                buffer[i] = PatternAt(_position + i);
            }

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

    /// <summary>A write-only sink that checks the pattern instead of storing it.</summary>
    private sealed class CheckingSink : Stream
    {
        private long _length;

        public bool Matches { get; private set; } = true;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            for (int i = 0; i < buffer.Length; i++)
            {
                Matches &= buffer[i] == PatternAt(_length + i);
            }

            _length += buffer.Length;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
