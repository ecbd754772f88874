using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Veil.Mail.Smtp;

namespace Veil.Mail.Spool;

/// <summary>
/// The spool as append-only segment files under <c>&lt;data&gt;/spool</c> (<c>seg-N.log</c>). Small messages (up to
/// 64 KiB with their envelope) are appended, one record each, to the current shared segment, and the sessions that
/// committed at about the same time share one <c>fdatasync</c> of it (group commit): no file is created, renamed or
/// deleted per message. A larger message is written alone into a segment of its own under <c>spool/tmp</c>, fsynced
/// and renamed into place, as a one-record segment. <c>250</c> is answered only after the record is durable.
/// </summary>
/// <remarks>
/// Record format (version 2): an 88-byte header — the 8 ASCII bytes <c>VEILREC2</c>, the segment's 8-byte random
/// generation, the body length (8 bytes, big-endian), the envelope length (4), 4 reserved zero bytes, the 16-byte
/// spool id, the body's SHA-256 (32), the first 8 bytes of the SHA-256 of the 80 bytes before — then the body: the
/// UTF-8 JSON envelope followed by the message's raw bytes exactly as received after dot-unstuffing.
/// <para>
/// Completing a message overwrites its body with zeros at once (no content outlives completion; the header, which
/// holds no address or content, stays so the segment can still be walked). A segment that is no longer the current
/// one and holds no pending message is deleted, or (at most <see cref="MaxSpareSegments"/> of them, full ones) kept
/// and written over from the start with a new generation. At start the segments are walked from the beginning: a record
/// whose body hashes right is pending, an all-zero body was completed, anything else (a write the crash cut short,
/// which was never answered <c>250</c>) is skipped; a header that does not check, or carries another generation,
/// ends the walk, because every record answered <c>250</c> was written — and synced — before any record after it.
/// </para>
/// <para>
/// Completions are not synced: after a power cut a completed message can come back, and its sink, which is offered
/// every message at least once, recognises it (the Alias sink by its handled marker). The spool holds message
/// content in clear while it waits for its sink: the directory must be on the server's own disk with mode 0700
/// (set here on Unix). Files of the first format (<c>&lt;id&gt;.msg</c>, version 1) left by an older Veil are read
/// and delivered too.
/// </para>
/// </remarks>
public sealed class FileSpool : ISpool, ISpoolBacklog
{
    private static ReadOnlySpan<byte> RecordMagic => "VEILREC2"u8;
    private static ReadOnlySpan<byte> LegacyMagic => "VEILSPOOL1"u8;
    private const string LegacyExtension = ".msg";
    private const string SegmentPrefix = "seg-";
    private const string SegmentExtension = ".log";

    /// <summary>The length of a record header.</summary>
    internal const int HeaderLength = 88;

    /// <summary>A shared segment takes no new record once it is this long (a record never spans two segments).</summary>
    internal const long SegmentBytes = 4L * 1024 * 1024;

    /// <summary>Records up to this length (header, envelope, message) go into the shared segment.</summary>
    internal const int SharedRecordMaxBytes = 64 * 1024;

    private static readonly byte[] Zeros = new byte[SharedRecordMaxBytes];

    private readonly string _dir;
    private readonly string _tmp;
    private readonly GroupSync _dirSync;
    private readonly ILogger _logger;

    // Every committed, not yet completed message this process knows of (recovered at start, or committed since).
    private readonly ConcurrentDictionary<string, Entry> _index = new(StringComparer.Ordinal);
    private long _contentBytes;

    /// <summary>Messages up to this size keep their bytes in memory between commit and completion.</summary>
    internal const int CachedMessageMaxBytes = 60 * 1024;

    /// <summary>The most message bytes kept in memory at once (beyond it, the sink reads the segment).</summary>
    internal const long ContentCacheBytes = 32L * 1024 * 1024;

    // Appends, seals and retirements of segments happen under this lock (each holds it for a pwrite at most).
    private readonly Lock _gate = new();
    private Segment? _current;
    private long _sequence;

    // Full shared segments whose every record completed, kept open for reuse (under the gate): records written over a
    // file's existing blocks make its fdatasync a flush of data alone, where a growing file also commits its new size
    // and blocks to the file system's journal.
    private readonly Stack<Segment> _spares = new();

    /// <summary>The most emptied segments kept for reuse.</summary>
    internal const int MaxSpareSegments = 2;

    // Completed (and replaced) on every completion: what a backpressured DATA waits on.
    private TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Opens (creating if needed) the spool under <paramref name="dataDirectory"/>/spool and recovers what it holds.</summary>
    /// <param name="dataDirectory">Veil's data directory.</param>
    /// <param name="logger">Commit (debug) and write-failure (error) lines with spool ids and sizes only; none when null.</param>
    public FileSpool(string dataDirectory, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        _dir = Path.GetFullPath(Path.Combine(dataDirectory, "spool"));
        _tmp = Path.Combine(_dir, "tmp");
        CreatePrivateDirectory(_dir);
        CreatePrivateDirectory(_tmp);
        _dirSync = new GroupSync(() => DirectorySync.Fsync(_dir));
        foreach (var stale in Directory.EnumerateFiles(_tmp)) File.Delete(stale);
        Recover();
    }

    /// <inheritdoc/>
    public int Pending => _index.Count;

    /// <summary>The spool directory (<c>&lt;data&gt;/spool</c>).</summary>
    public string DirectoryPath => _dir;

    /// <summary>Raised after a message was committed, so a dispatcher can wake without polling.</summary>
    public event EventHandler? Committed;

    /// <summary>
    /// Counts the messages waiting in the spool under <paramref name="dataDirectory"/> without changing anything
    /// (for status output and tests; a segment being appended to meanwhile may show one message fewer).
    /// </summary>
    public static int CountPending(string dataDirectory)
    {
        var dir = Path.Combine(dataDirectory, "spool");
        if (!Directory.Exists(dir)) return 0;
        int count = Directory.EnumerateFiles(dir, "*" + LegacyExtension).Count(p => SpoolId.IsValid(Path.GetFileNameWithoutExtension(p)));
        foreach (var path in Directory.EnumerateFiles(dir, SegmentPrefix + "*" + SegmentExtension))
        {
            try
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                count += Walk(handle).Count(r => r.State == RecordState.Pending);
            }
            catch (FileNotFoundException)
            {
                // Retired meanwhile.
            }
        }
        return count;
    }

    /// <inheritdoc/>
    public async Task<bool> WaitBelowAsync(int limit, TimeSpan maxWait, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        var started = time.GetTimestamp();
        while (true)
        {
            var completed = Volatile.Read(ref _completed).Task; // taken before the check: a completion after it wakes us
            if (_index.Count < limit) return true;
            var left = maxWait - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero) return false;
            try
            {
                await completed.WaitAsync(left, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return _index.Count < limit;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<ISpoolWriter> BeginAsync(SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var writer = new Writer(this, SpoolId.New(), envelope);
        try
        {
            var json = SerializeEnvelope(envelope);
            writer.BeginBody(json);
            return ValueTask.FromResult<ISpoolWriter>(writer);
        }
        catch
        {
            writer.Discard();
            throw;
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<SpooledMessage>> PendingAsync(CancellationToken cancellationToken)
    {
        var list = _index.Values.Select(e => e.Message).ToList();
        list.Sort((a, b) => a.Envelope.ReceivedAt.CompareTo(b.Envelope.ReceivedAt));
        return ValueTask.FromResult<IReadOnlyList<SpooledMessage>>(list);
    }

    /// <inheritdoc/>
    public Stream OpenContent(SpoolId id)
    {
        if (!_index.TryGetValue(id.Value, out var entry)) throw new FileNotFoundException("The message was completed already.", id.Value);
        if (entry.Cached is { } bytes) return new MemoryStream(bytes, 0, bytes.Length, writable: false, publiclyVisible: true);

        if (entry.Segment.Handle is { } handle && entry.ContentLength <= SharedRecordMaxBytes)
        {
            // A record of a shared segment: one positional read.
            var content = new byte[entry.ContentLength];
            try
            {
                RandomAccess.Read(handle, content, entry.ContentOffset);
            }
            catch (ObjectDisposedException)
            {
                throw new FileNotFoundException("The message was completed already.", id.Value);
            }
            return new MemoryStream(content, 0, content.Length, writable: false, publiclyVisible: true);
        }

        var fs = new FileStream(entry.Segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous);
        fs.Position = entry.ContentOffset; // a segment of its own (or a version-1 file): the content runs to its end
        return fs;
    }

    /// <inheritdoc/>
    public ValueTask CompleteAsync(SpoolId id, CancellationToken cancellationToken)
    {
        if (!_index.TryRemove(id.Value, out var entry)) return ValueTask.CompletedTask; // completed already
        if (entry.Cached is { } bytes) Interlocked.Add(ref _contentBytes, -bytes.Length);
        var segment = entry.Segment;
        if (segment.Handle is { } handle)
        {
            // The message's bytes go with its completion: its body (envelope and content) becomes zeros.
            try
            {
                RandomAccess.Write(handle, Zeros.AsSpan(0, (int)(entry.ContentOffset + entry.ContentLength - entry.BodyOffset)), entry.BodyOffset);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                MailEngineLog.SpoolWriteFailed(_logger, id.Value, e.GetType().Name);
            }
        }
        Release(segment);
        Interlocked.Exchange(ref _completed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        // No sync waits for the completion: it becomes durable with the segment's next sync or the kernel's writeback.
        // A crash before that brings the message back, and the sink, which is offered every message at least once,
        // recognises it (the Alias sink by its handled marker); a commit, by contrast, is never answered 250 before
        // its sync.
        return ValueTask.CompletedTask;
    }

    /// <summary>Appends one record to the current shared segment (starting a new one when it is full).</summary>
    private (Segment Segment, long Offset) Append(ReadOnlySpan<byte> record, Span<byte> header)
    {
        lock (_gate)
        {
            var segment = _current;
            if (segment is null || (segment.Length > 0 && segment.Length + record.Length > SegmentBytes))
            {
                if (segment is not null)
                {
                    segment.Full = true;
                    SealLocked(segment);
                }
                segment = _current = CreateSegment();
            }
            segment.Generation.CopyTo(header[RecordMagic.Length..]);
            FinishHeader(header);
            var offset = segment.Length;
            try
            {
                RandomAccess.Write(segment.Handle!, record, offset);
            }
            catch
            {
                // What the failed write left must not sit before later records: no more appends to this segment.
                SealLocked(segment);
                throw;
            }
            segment.Length += record.Length;
            segment.Live++;
            return (segment, offset);
        }
    }

    /// <summary>A shared segment to append to: an emptied one kept for reuse, else a new file.</summary>
    private Segment CreateSegment()
    {
        if (_spares.TryPop(out var spare))
        {
            // A fresh generation: the old records after the new ones end a walk of the file (see the remarks).
            return NewSharedSegment(spare.Path, spare.Handle!, nameSynced: true);
        }
        var path = Path.Combine(_dir, SegmentName(++_sequence));
        return NewSharedSegment(path, File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read), nameSynced: false);
    }

    private Segment NewSharedSegment(string path, SafeFileHandle handle, bool nameSynced)
    {
        var segment = new Segment(path, handle, RandomNumberGenerator.GetBytes(8), sealedAtStart: false) { NameSynced = nameSynced };
        // One sync makes a group of records durable; the first also makes the new file's name durable.
        segment.Sync = new GroupSync(() =>
        {
            SyncWorkers.DataSync(handle);
            if (!segment.NameSynced)
            {
                DirectorySync.Fsync(_dir);
                segment.NameSynced = true;
            }
        });
        return segment;
    }

    private static string SegmentName(long sequence) =>
        SegmentPrefix + sequence.ToString("D12", System.Globalization.CultureInfo.InvariantCulture) + SegmentExtension;

    /// <summary>Takes no more records into <paramref name="segment"/>; deletes it if nothing in it is pending.</summary>
    private void SealLocked(Segment segment)
    {
        segment.Sealed = true;
        if (ReferenceEquals(_current, segment)) _current = null;
        if (segment.Live == 0) Retire(segment);
    }

    /// <summary>One record of <paramref name="segment"/> is no longer pending (completed, or its commit failed).</summary>
    private void Release(Segment segment)
    {
        lock (_gate)
        {
            segment.Live--;
            if (segment.Sealed && segment.Live == 0) Retire(segment);
        }
    }

    /// <summary>Deletes a sealed segment with nothing pending, or keeps a full shared one for reuse (under the gate).</summary>
    private void Retire(Segment segment)
    {
        if (segment.Retired) return;
        segment.Retired = true;
        if (segment.Full && segment.Handle is not null && _spares.Count < MaxSpareSegments)
        {
            _spares.Push(segment); // every body in it is zeros already
            return;
        }
        segment.Handle?.Dispose();
        try
        {
            File.Delete(segment.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next start, which deletes a segment with nothing pending.
            MailEngineLog.SpoolWriteFailed(_logger, Path.GetFileName(segment.Path), e.GetType().Name);
        }
    }

    /// <summary>Reads what a previous process left: every segment's pending records, and version-1 files.</summary>
    private void Recover()
    {
        foreach (var path in Directory.EnumerateFiles(_dir, SegmentPrefix + "*" + SegmentExtension).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (long.TryParse(name.AsSpan(SegmentPrefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var sequence))
            {
                _sequence = Math.Max(_sequence, sequence); // new segments are numbered after every existing one
            }

            SafeFileHandle handle;
            try
            {
                handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (FileNotFoundException)
            {
                continue;
            }
            var records = Walk(handle).Where(r => r.State == RecordState.Pending).ToList();
            if (records.Count == 0)
            {
                handle.Dispose();
                File.Delete(path);
                continue;
            }
            // A segment holding one record and nothing else is read by path and deleted on completion.
            bool single = records.Count == 1 && records[0].Offset == 0 && records[0].End == RandomAccess.GetLength(handle);
            var segment = new Segment(path, single ? null : handle, [], sealedAtStart: true) { Live = records.Count };
            foreach (var record in records)
            {
                var message = new SpooledMessage(record.Id, ReadEnvelope(handle, path, record), record.ContentLength);
                _index[record.Id.Value] = new Entry(message, segment, record.Offset + HeaderLength, record.ContentOffset, record.ContentLength, null);
            }
            if (single) handle.Dispose();
        }

        foreach (var path in Directory.EnumerateFiles(_dir, "*" + LegacyExtension))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (!SpoolId.IsValid(name)) continue;
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var (envelope, offset) = ReadLegacyHeader(fs);
            var id = new SpoolId(name);
            var segment = new Segment(path, null, [], sealedAtStart: true) { Live = 1 };
            _index[name] = new Entry(new SpooledMessage(id, envelope, fs.Length - offset), segment, offset, offset, fs.Length - offset, null);
        }
    }

    private static SmtpEnvelope ReadEnvelope(SafeFileHandle reader, string path, WalkedRecord record)
    {
        var json = new byte[record.EnvelopeLength];
        RandomAccess.Read(reader, json, record.Offset + HeaderLength);
        try
        {
            return ParseEnvelope(json);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"Corrupt envelope in spool segment {Path.GetFileName(path)}.", e);
        }
    }

    private enum RecordState { Pending, Completed, Torn }

    private readonly record struct WalkedRecord(long Offset, long End, SpoolId Id, int EnvelopeLength, long ContentOffset, long ContentLength, RecordState State);

    /// <summary>The records of a segment, from its start to the first header that does not check.</summary>
    private static IEnumerable<WalkedRecord> Walk(SafeFileHandle handle)
    {
        long length = RandomAccess.GetLength(handle);
        long offset = 0;
        byte[] header = new byte[HeaderLength];
        byte[] chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        byte[]? generation = null;
        try
        {
            while (offset + HeaderLength <= length)
            {
                if (RandomAccess.Read(handle, header, offset) < HeaderLength || !HeaderChecks(header)) yield break;
                var recordGeneration = header.AsSpan(8, 8);
                if (generation is null) generation = recordGeneration.ToArray();
                else if (!recordGeneration.SequenceEqual(generation)) yield break;
                long bodyLength = BinaryPrimitives.ReadInt64BigEndian(header.AsSpan(16));
                int envelopeLength = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(24));
                long end = offset + HeaderLength + bodyLength;
                if (bodyLength < 0 || envelopeLength < 2 || envelopeLength > bodyLength || end > length) yield break;

                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                bool zero = true;
                for (long at = offset + HeaderLength; at < end;)
                {
                    int n = RandomAccess.Read(handle, chunk.AsSpan(0, (int)Math.Min(chunk.Length, end - at)), at);
                    if (n <= 0) yield break;
                    hash.AppendData(chunk, 0, n);
                    if (zero && chunk.AsSpan(0, n).ContainsAnyExcept((byte)0)) zero = false;
                    at += n;
                }
                var state = hash.GetHashAndReset().AsSpan().SequenceEqual(header.AsSpan(48, 32)) ? RecordState.Pending
                    : zero ? RecordState.Completed : RecordState.Torn;
                var id = new SpoolId(Convert.ToHexStringLower(header.AsSpan(32, 16)));
                long contentOffset = offset + HeaderLength + envelopeLength;
                yield return new WalkedRecord(offset, end, id, envelopeLength, contentOffset, end - contentOffset, state);
                offset = end;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static bool HeaderChecks(ReadOnlySpan<byte> header)
    {
        if (!header[..RecordMagic.Length].SequenceEqual(RecordMagic)) return false;
        Span<byte> check = stackalloc byte[8];
        HeaderCheck(header, check);
        return check.SequenceEqual(header[80..88]);
    }

    /// <summary>A header's own check: the first 8 bytes of the SHA-256 of its first 80 bytes.</summary>
    private static void HeaderCheck(ReadOnlySpan<byte> header, Span<byte> check)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(header[..80], hash);
        hash[..8].CopyTo(check);
    }

    /// <summary>Fills a header's fields (magic, lengths, id, body hash) except the generation; see <see cref="FinishHeader"/>.</summary>
    private static void WriteHeaderFields(Span<byte> header, SpoolId id, long bodyLength, int envelopeLength, ReadOnlySpan<byte> bodyHash)
    {
        RecordMagic.CopyTo(header);
        BinaryPrimitives.WriteInt64BigEndian(header[16..], bodyLength);
        BinaryPrimitives.WriteInt32BigEndian(header[24..], envelopeLength);
        header[28..32].Clear();
        Convert.FromHexString(id.Value, header[32..48], out _, out _);
        bodyHash.CopyTo(header[48..80]);
    }

    /// <summary>Seals a header whose fields and generation are in place with its own check bytes.</summary>
    private static void FinishHeader(Span<byte> header) => HeaderCheck(header, header[80..88]);

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static byte[] SerializeEnvelope(SmtpEnvelope e)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("from", e.ReversePath);
            w.WriteStartArray("to");
            foreach (var r in e.Recipients) w.WriteStringValue(r);
            w.WriteEndArray();
            w.WriteBoolean("8bitmime", e.EightBitMime);
            w.WriteBoolean("smtputf8", e.SmtpUtf8);
            w.WriteString("received", e.ReceivedAt);
            if (e.ClientAddress is not null) w.WriteString("client", e.ClientAddress);
            if (e.HeloName is not null) w.WriteString("helo", e.HeloName);
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static SmtpEnvelope ParseEnvelope(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var doc = JsonDocument.ParseValue(ref reader);
        var root = doc.RootElement;
        var to = root.GetProperty("to").EnumerateArray().Select(x => x.GetString() ?? "").ToArray();
        return new SmtpEnvelope(
            root.GetProperty("from").GetString() ?? "",
            to,
            root.GetProperty("8bitmime").GetBoolean(),
            root.GetProperty("smtputf8").GetBoolean(),
            root.GetProperty("received").GetDateTimeOffset(),
            // Absent in envelopes spooled before they were recorded.
            root.TryGetProperty("client", out var client) ? client.GetString() : null,
            root.TryGetProperty("helo", out var helo) ? helo.GetString() : null);
    }

    /// <summary>Reads a version-1 file's header: magic, envelope length, envelope.</summary>
    private static (SmtpEnvelope Envelope, long Offset) ReadLegacyHeader(FileStream fs)
    {
        byte[] head = new byte[LegacyMagic.Length + 4];
        fs.ReadExactly(head);
        if (!head.AsSpan(0, LegacyMagic.Length).SequenceEqual(LegacyMagic)) throw new InvalidDataException("Not a Veil spool file.");
        int len = BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(LegacyMagic.Length));
        if (len is < 2 or > 1024 * 1024) throw new InvalidDataException("Corrupt spool envelope length.");
        byte[] json = new byte[len];
        fs.ReadExactly(json);
        return (ParseEnvelope(json), head.Length + len);
    }

    /// <summary>A segment file and what this process knows of it.</summary>
    private sealed class Segment(string path, SafeFileHandle? handle, byte[] generation, bool sealedAtStart)
    {
        public string Path { get; } = path;

        /// <summary>Open for the segment's life when it is shared; null for a one-record segment (opened by path).</summary>
        public SafeFileHandle? Handle { get; } = handle;

        public byte[] Generation { get; } = generation;

        public GroupSync? Sync { get; set; }

        public bool NameSynced { get; set; }

        public long Length { get; set; }

        /// <summary>Records written and neither completed nor failed (under the spool's gate).</summary>
        public int Live { get; set; }

        public bool Sealed { get; set; } = sealedAtStart;

        /// <summary>Sealed because it was full (not after a failure): it may be reused once emptied.</summary>
        public bool Full { get; set; }

        public bool Retired { get; set; }
    }

    /// <summary>A pending message: where its body and content are, and its bytes when they are kept in memory.</summary>
    private sealed record Entry(SpooledMessage Message, Segment Segment, long BodyOffset, long ContentOffset, long ContentLength, byte[]? Cached);

    private sealed class Writer(FileSpool spool, SpoolId id, SmtpEnvelope envelope) : ISpoolWriter
    {
        // The record is built in this buffer: header space, envelope, content. A record that outgrows it goes to a
        // segment of its own under spool/tmp, written as the buffer fills.
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(SharedRecordMaxBytes);
        private int _used;
        private int _envelopeLength;
        private long _bytes;
        private SafeFileHandle? _file;
        private string? _filePath;
        private long _fileOffset;
        private IncrementalHash? _hash;
        private bool _committed;
        private bool _disposed;

        internal void BeginBody(byte[] json)
        {
            if (json.Length > 1024 * 1024) throw new ArgumentException("The envelope is too large for the spool.", nameof(json));
            _used = HeaderLength;
            _envelopeLength = json.Length;
            Append(json);
        }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _bytes += bytes.Length;
            Append(bytes.Span);
            return ValueTask.CompletedTask;
        }

        private void Append(ReadOnlySpan<byte> bytes)
        {
            var buffer = _buffer!;
            while (!bytes.IsEmpty)
            {
                if (_used == buffer.Length) Spill();
                var n = Math.Min(bytes.Length, buffer.Length - _used);
                bytes[..n].CopyTo(buffer.AsSpan(_used));
                _used += n;
                bytes = bytes[n..];
            }
        }

        /// <summary>Writes the buffer to this record's own file (created on the first spill; the page cache, no wait).</summary>
        private void Spill()
        {
            if (_file is null)
            {
                _filePath = Path.Combine(spool._tmp, id.Value + ".tmp");
                _file = File.OpenHandle(_filePath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
                _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                _hash.AppendData(_buffer!, HeaderLength, _used - HeaderLength);
            }
            else
            {
                _hash!.AppendData(_buffer!, 0, _used);
            }
            RandomAccess.Write(_file, _buffer.AsSpan(0, _used), _fileOffset);
            _fileOffset += _used;
            _used = 0;
        }

        public async ValueTask<SpoolId> CommitAsync(CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                var committed = _file is null ? await CommitSharedAsync().ConfigureAwait(false) : await CommitAloneAsync().ConfigureAwait(false);
                spool._index[id.Value] = committed;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                MailEngineLog.SpoolWriteFailed(spool._logger, id.Value, e.GetType().Name);
                throw;
            }

            _committed = true;
            await DisposeAsync().ConfigureAwait(false);
            MailEngineLog.SpoolCommitted(spool._logger, id.Value, _bytes);
            spool.Committed?.Invoke(spool, EventArgs.Empty);
            return id;
        }

        /// <summary>Appends the record to the shared segment and waits for a sync of it that started after the write.</summary>
        private async Task<Entry> CommitSharedAsync()
        {
            var buffer = _buffer!;
            int bodyLength = _used - HeaderLength;
            var hash = SHA256.HashData(buffer.AsSpan(HeaderLength, bodyLength));
            WriteHeaderFields(buffer, id, bodyLength, _envelopeLength, hash);
            var (segment, offset) = spool.Append(buffer.AsSpan(0, _used), buffer.AsSpan(0, HeaderLength));
            try
            {
                await segment.Sync!.SyncAsync().ConfigureAwait(false);
            }
            catch
            {
                // Possibly on disk, never answered 250: emptied and released; the segment takes no more records
                // (after a failed fdatasync, Linux may have dropped the pages it could not write).
                try { RandomAccess.Write(segment.Handle!, Zeros.AsSpan(0, bodyLength), offset + HeaderLength); }
                catch (Exception e) when (e is IOException or ObjectDisposedException) { /* the sync failed already */ }
                lock (spool._gate) spool.SealLocked(segment);
                spool.Release(segment);
                throw;
            }

            long contentOffset = offset + HeaderLength + _envelopeLength;
            byte[]? cached = null;
            if (_bytes <= CachedMessageMaxBytes)
            {
                if (Interlocked.Add(ref spool._contentBytes, _bytes) <= ContentCacheBytes)
                    cached = buffer.AsSpan(HeaderLength + _envelopeLength, (int)_bytes).ToArray();
                else
                    Interlocked.Add(ref spool._contentBytes, -_bytes);
            }
            return new Entry(new SpooledMessage(id, envelope, _bytes), segment, offset + HeaderLength, contentOffset, _bytes, cached);
        }

        /// <summary>Finishes the record's own file, syncs it, renames it into the spool and syncs the directory.</summary>
        private async Task<Entry> CommitAloneAsync()
        {
            var file = _file!;
            _hash!.AppendData(_buffer!, 0, _used);
            RandomAccess.Write(file, _buffer.AsSpan(0, _used), _fileOffset);
            long bodyLength = _fileOffset + _used - HeaderLength;
            byte[] header = new byte[HeaderLength];
            WriteHeaderFields(header, id, bodyLength, _envelopeLength, _hash.GetHashAndReset());
            RandomNumberGenerator.Fill(header.AsSpan(8, 8));
            FinishHeader(header);
            RandomAccess.Write(file, header, 0);
            // fdatasync on a sync thread: the bytes are on disk before the rename makes them visible.
            await SyncWorkers.RunAsync(() => SyncWorkers.DataSync(file), continueOnSyncThread: true).ConfigureAwait(false);
            file.Dispose();
            string path;
            lock (spool._gate) path = Path.Combine(spool._dir, SegmentName(++spool._sequence));
            DirectorySync.Rename(_filePath!, path);
            _filePath = null;
            await spool._dirSync.SyncAsync(onSyncThread: true).ConfigureAwait(false);
            var segment = new Segment(path, null, [], sealedAtStart: true) { Live = 1 };
            long contentOffset = HeaderLength + _envelopeLength;
            return new Entry(new SpooledMessage(id, envelope, _bytes), segment, HeaderLength, contentOffset, _bytes, null);
        }

        internal void Discard()
        {
            _disposed = true;
            _file?.Dispose();
            _hash?.Dispose();
            if (_buffer is { } buffer)
            {
                _buffer = null;
                ArrayPool<byte>.Shared.Return(buffer);
            }
            if (_filePath is not null && !_committed) File.Delete(_filePath);
        }

        public ValueTask DisposeAsync()
        {
            if (!_disposed) Discard();
            return ValueTask.CompletedTask;
        }
    }
}
