// The payload inside a backup envelope (spec/backup.md): a tar-like stream of named entries, each followed by the
// SHA-256 of its content, and an end record that counts them. The envelope already authenticates every byte; the
// hashes let `verify` name the entry that does not match, and the end record makes a payload cut between two entries
// (which the envelope would also refuse) an error of its own.
//
//   entry = 'F' || name length (u16 BE) || name (UTF-8) || content length (u64 BE) || content || SHA-256(content)
//   end   = 'E' || entry count (u32 BE) || total content bytes (u64 BE)
//
// Names are relative paths with '/' separators, from a fixed alphabet, no '.' or '..' segment: a restore writes each
// entry under its staging directory and nowhere else.
using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Veil.Server.Platform.Backup;

/// <summary>Writes archive entries to a (payload) stream.</summary>
internal sealed class BackupArchiveWriter(Stream output)
{
    private const int BufferSize = 256 * 1024;

    public int Entries { get; private set; }

    public long ContentBytes { get; private set; }

    /// <summary>Appends one entry of exactly <paramref name="length"/> bytes read from <paramref name="content"/>.</summary>
    /// <exception cref="IOException">The source ended early or holds more than <paramref name="length"/> bytes (a file that changed while read).</exception>
    public async Task AddAsync(string name, Stream content, long length, CancellationToken cancellationToken)
    {
        if (!BackupArchive.IsValidName(name))
        {
            throw new ArgumentException("Not a valid archive entry name.", nameof(name));
        }

        var nameBytes = Encoding.UTF8.GetBytes(name);
        var head = new byte[1 + 2 + nameBytes.Length + 8];
        head[0] = BackupArchive.EntryTag;
        BinaryPrimitives.WriteUInt16BigEndian(head.AsSpan(1), (ushort)nameBytes.Length);
        nameBytes.CopyTo(head, 3);
        BinaryPrimitives.WriteUInt64BigEndian(head.AsSpan(3 + nameBytes.Length), (ulong)length);
        await output.WriteAsync(head, cancellationToken);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long remaining = length;
            while (remaining > 0)
            {
                var read = await content.ReadAsync(buffer.AsMemory(0, (int)Math.Min(BufferSize, remaining)), cancellationToken);
                if (read == 0)
                {
                    throw new IOException($"{name} became shorter while it was backed up.");
                }

                hash.AppendData(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                remaining -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await output.WriteAsync(hash.GetHashAndReset(), cancellationToken);
        Entries++;
        ContentBytes += length;
    }

    public Task AddAsync(string name, byte[] content, CancellationToken cancellationToken) =>
        AddAsync(name, new MemoryStream(content, writable: false), content.Length, cancellationToken);

    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        var end = new byte[1 + 4 + 8];
        end[0] = BackupArchive.EndTag;
        BinaryPrimitives.WriteUInt32BigEndian(end.AsSpan(1), (uint)Entries);
        BinaryPrimitives.WriteUInt64BigEndian(end.AsSpan(5), (ulong)ContentBytes);
        await output.WriteAsync(end, cancellationToken);
    }
}

/// <summary>Reads archive entries; every entry's hash and the end record are checked.</summary>
internal static class BackupArchive
{
    public const byte EntryTag = (byte)'F';
    public const byte EndTag = (byte)'E';
    public const int MaxNameBytes = 1024;
    private const int BufferSize = 256 * 1024;

    /// <summary>A relative path of [A-Za-z0-9._-] segments joined by '/', none of them '.' or '..'.</summary>
    public static bool IsValidName(string name)
    {
        if (string.IsNullOrEmpty(name) || Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
        {
            return false;
        }

        foreach (var segment in name.Split('/'))
        {
            if (segment is "" or "." or ".." || !segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Reads every entry, handing each one's content to <paramref name="onEntry"/> (which must read exactly the given
    /// length), and checks hashes and the end record. Returns null when the archive is whole, else one line saying what is wrong.
    /// </summary>
    public static async Task<string?> ReadAsync(Stream payload, Func<string, long, Stream, CancellationToken, Task> onEntry, CancellationToken cancellationToken)
    {
        var count = 0;
        long total = 0;
        var head = new byte[1 + 2];
        while (true)
        {
            if (await payload.ReadAtLeastAsync(head.AsMemory(0, 1), 1, throwOnEndOfStream: false, cancellationToken) < 1)
            {
                return "the archive ends without its end record";
            }

            if (head[0] == EndTag)
            {
                var end = new byte[12];
                if (await payload.ReadAtLeastAsync(end, end.Length, throwOnEndOfStream: false, cancellationToken) < end.Length)
                {
                    return "the archive's end record is cut short";
                }

                if (BinaryPrimitives.ReadUInt32BigEndian(end) != count || BinaryPrimitives.ReadUInt64BigEndian(end.AsSpan(4)) != (ulong)total)
                {
                    return "the archive's end record does not match its entries";
                }

                return await payload.ReadAsync(new byte[1], cancellationToken) == 0 ? null : "data follows the archive's end record";
            }

            if (head[0] != EntryTag || await payload.ReadAtLeastAsync(head.AsMemory(1, 2), 2, throwOnEndOfStream: false, cancellationToken) < 2)
            {
                return $"entry {count + 1} has no valid header";
            }

            var nameLength = BinaryPrimitives.ReadUInt16BigEndian(head.AsSpan(1));
            if (nameLength is 0 or > MaxNameBytes)
            {
                return $"entry {count + 1} has no valid name";
            }

            var nameAndLength = new byte[nameLength + 8];
            if (await payload.ReadAtLeastAsync(nameAndLength, nameAndLength.Length, throwOnEndOfStream: false, cancellationToken) < nameAndLength.Length)
            {
                return $"entry {count + 1} is cut short";
            }

            string name;
            try
            {
                name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(nameAndLength, 0, nameLength);
            }
            catch (DecoderFallbackException)
            {
                return $"entry {count + 1} has no valid name";
            }

            var length = BinaryPrimitives.ReadUInt64BigEndian(nameAndLength.AsSpan(nameLength));
            if (!IsValidName(name) || length > long.MaxValue)
            {
                return $"entry {count + 1} has no valid name or length";
            }

            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var content = new HashingReadStream(payload, (long)length, hash);
            await onEntry(name, (long)length, content, cancellationToken);
            await content.DrainAsync(cancellationToken);
            if (content.Remaining > 0)
            {
                return $"{name} is cut short";
            }

            var stored = new byte[32];
            if (await payload.ReadAtLeastAsync(stored, stored.Length, throwOnEndOfStream: false, cancellationToken) < stored.Length)
            {
                return $"{name} is cut short";
            }

            if (!CryptographicOperations.FixedTimeEquals(stored, hash.GetHashAndReset()))
            {
                return $"{name} does not match its SHA-256";
            }

            count++;
            total += (long)length;
        }
    }

    /// <summary>Reads at most <c>length</c> bytes of the payload, hashing what passes.</summary>
    private sealed class HashingReadStream(Stream inner, long length, IncrementalHash hash) : Stream
    {
        private readonly long _length = length;

        public long Remaining { get; private set; } = length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _length;

        public override long Position { get => _length - Remaining; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Remaining == 0 || buffer.IsEmpty)
            {
                return 0;
            }

            var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, Remaining)], cancellationToken);
            hash.AppendData(buffer.Span[..read]);
            Remaining -= read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public async Task DrainAsync(CancellationToken cancellationToken)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                while (await ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken) > 0)
                {
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
