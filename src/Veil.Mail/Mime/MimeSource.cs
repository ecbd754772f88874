// Where a parsed message's bytes live. A message parsed from memory slices that memory; a message parsed from a
// seekable stream (a spool file) keeps only offsets and reads byte ranges back on demand, so the parser and the
// writer hold a fixed-size window instead of the message. Both sources answer the same questions with the same
// results, which is what lets the parser run one code path for either.
using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Veil.Mail.Mime;

internal abstract class MimeSource
{
    /// <summary>Longest prefix of a line the parser looks at to classify it (field name, delimiter line).</summary>
    internal const int PeekLimit = 16 * 1024;

    internal abstract int Length { get; }

    /// <summary>The whole source when it is in memory; null for a stream.</summary>
    internal abstract ReadOnlyMemory<byte>? Memory { get; }

    /// <summary>
    /// At least one byte (when <paramref name="offset"/> &lt; <paramref name="end"/>) starting at
    /// <paramref name="offset"/>, at most up to <paramref name="end"/>. Valid until the next call.
    /// </summary>
    internal abstract ReadOnlySpan<byte> Window(int offset, int end);

    /// <summary>Up to <paramref name="count"/> (≤ <see cref="PeekLimit"/>) bytes from <paramref name="offset"/>, fewer only at <paramref name="end"/>.</summary>
    internal abstract ReadOnlySpan<byte> Peek(int offset, int count, int end);

    /// <summary>Copies [start, end) into <paramref name="destination"/> (exactly end − start bytes long).</summary>
    internal abstract void Read(int start, Span<byte> destination);

    internal byte this[int offset] => Peek(offset, 1, offset + 1)[0];

    /// <summary>The bytes [start, end): a slice for memory, a fresh copy for a stream.</summary>
    internal ReadOnlyMemory<byte> Slice(int start, int end)
    {
        if (Memory is { } memory)
        {
            return memory[start..end];
        }

        var copy = new byte[end - start];
        Read(start, copy);
        return copy;
    }

    /// <summary>Offset of the first LF in [start, end), or −1.</summary>
    internal int IndexOfLineFeed(int start, int end)
    {
        var pos = start;
        while (pos < end)
        {
            var window = Window(pos, end);
            var lf = window.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                return pos + lf;
            }

            pos += window.Length;
        }

        return -1;
    }

    /// <summary>
    /// Offset of the first occurrence of <paramref name="value"/> (at most <see cref="PeekLimit"/> bytes) that lies wholly
    /// in [start, end), or −1. Vectorised over each window; consecutive windows overlap by value.Length − 1 bytes.
    /// </summary>
    internal int IndexOf(ReadOnlySpan<byte> value, int start, int end)
    {
        if (Memory is { } memory)
        {
            var found = memory.Span[start..end].IndexOf(value);
            return found < 0 ? -1 : start + found;
        }

        for (var pos = start; end - pos >= value.Length;)
        {
            // Peek makes the window hold at least value.Length bytes from pos, so each step advances.
            Peek(pos, value.Length, end);
            var window = Window(pos, end);
            var i = window.IndexOf(value);
            if (i >= 0)
            {
                return pos + i;
            }

            pos += window.Length - value.Length + 1;
        }

        return -1;
    }

    /// <summary>Offset of the first LF in [0, Length) not preceded by CR, or −1. One pass, window by window.</summary>
    internal int IndexOfBareLineFeed()
    {
        var before = -1;
        for (var pos = 0; pos < Length;)
        {
            var window = Window(pos, Length);
            var found = IndexOfBareLineFeed(window, before);
            if (found >= 0)
            {
                return pos + found;
            }

            before = window[^1];
            pos += window.Length;
        }

        return -1;
    }

    /// <summary>The first LF in <paramref name="span"/> whose preceding byte (<paramref name="before"/> for the first) is not CR.</summary>
    private static int IndexOfBareLineFeed(ReadOnlySpan<byte> span, int before)
    {
        if (span[0] == (byte)'\n' && before != (byte)'\r')
        {
            return 0;
        }

        // 16 positions at a time: a lane is bad when it holds LF and the lane one byte earlier does not hold CR.
        var i = 1;
        if (Vector128.IsHardwareAccelerated)
        {
            var lf = Vector128.Create((byte)'\n');
            var cr = Vector128.Create((byte)'\r');
            for (; i + Vector128<byte>.Count <= span.Length; i += Vector128<byte>.Count)
            {
                var current = Vector128.Create(span.Slice(i, Vector128<byte>.Count));
                var previous = Vector128.Create(span.Slice(i - 1, Vector128<byte>.Count));
                var bad = Vector128.Equals(current, lf) & ~Vector128.Equals(previous, cr);
                if (bad != Vector128<byte>.Zero)
                {
                    return i + BitOperations.TrailingZeroCount(bad.ExtractMostSignificantBits());
                }
            }
        }

        for (; i < span.Length; i++)
        {
            if (span[i] == (byte)'\n' && span[i - 1] != (byte)'\r')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Writes [start, end) to <paramref name="destination"/> through a bounded buffer.</summary>
    internal void CopyTo(int start, int end, Stream destination)
    {
        if (Memory is { } memory)
        {
            destination.Write(memory.Span[start..end]);
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            for (var pos = start; pos < end;)
            {
                var n = Math.Min(buffer.Length, end - pos);
                Read(pos, buffer.AsSpan(0, n));
                destination.Write(buffer, 0, n);
                pos += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

internal sealed class MemoryMimeSource(ReadOnlyMemory<byte> memory) : MimeSource
{
    internal override int Length => memory.Length;

    internal override ReadOnlyMemory<byte>? Memory => memory;

    internal override ReadOnlySpan<byte> Window(int offset, int end) => memory.Span[offset..end];

    internal override ReadOnlySpan<byte> Peek(int offset, int count, int end) => memory.Span[offset..Math.Min(end, offset + count)];

    internal override void Read(int start, Span<byte> destination) => memory.Span.Slice(start, destination.Length).CopyTo(destination);
}

/// <summary>A seekable stream read through one 64 KiB window. Not thread-safe (it moves the stream's position).</summary>
internal sealed class StreamMimeSource : MimeSource
{
    private readonly Stream _stream;
    private readonly long _origin;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _bufferStart;
    private int _bufferLength;

    internal StreamMimeSource(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanSeek)
        {
            throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        }

        _origin = stream.Position;
        var length = stream.Length - _origin;
        if (length > int.MaxValue)
        {
            throw new ArgumentException("Messages of 2 GiB or more cannot be parsed.", nameof(stream));
        }

        _stream = stream;
        Length = (int)length;
    }

    internal override int Length { get; }

    internal override ReadOnlyMemory<byte>? Memory => null;

    internal override ReadOnlySpan<byte> Window(int offset, int end)
    {
        if (offset < _bufferStart || offset >= _bufferStart + _bufferLength)
        {
            Fill(offset);
        }

        return _buffer.AsSpan(offset - _bufferStart, Math.Min(end, _bufferStart + _bufferLength) - offset);
    }

    internal override ReadOnlySpan<byte> Peek(int offset, int count, int end)
    {
        var want = Math.Min(count, end - offset);
        if (offset < _bufferStart || offset + want > _bufferStart + _bufferLength)
        {
            Fill(offset);
        }

        return _buffer.AsSpan(offset - _bufferStart, want);
    }

    internal override void Read(int start, Span<byte> destination)
    {
        _stream.Position = _origin + start;
        _stream.ReadExactly(destination);
    }

    private void Fill(int offset)
    {
        var n = Math.Min(_buffer.Length, Length - offset);
        Read(offset, _buffer.AsSpan(0, n));
        _bufferStart = offset;
        _bufferLength = n;
    }
}

/// <summary>A read-only stream over [start, end) of a source.</summary>
internal sealed class MimeRangeStream(MimeSource source, int start, int end) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => end - start;

    public override long Position
    {
        get => _position;
        set => _position = (int)Math.Clamp(value, 0, Length);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, Length - _position);
        if (n <= 0)
        {
            return 0;
        }

        source.Read(start + _position, buffer[..n]);
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => Length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
