using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Veil.Mail.Smtp;

namespace Veil.Mail.Spool;

/// <summary>
/// The spool as files under <c>&lt;data&gt;/spool</c>: one file per message,
/// <c>&lt;id&gt;.msg</c>, written first under <c>spool/tmp</c>, fsynced, renamed into place, and the
/// directory fsynced (see <see cref="DirectorySync"/>). A file in <c>spool/</c> is therefore complete
/// or absent; leftovers in <c>spool/tmp</c> were never answered 250 and are deleted at start.
/// </summary>
/// <remarks>
/// File format (version 1): the 10 ASCII bytes <c>VEILSPOOL1</c>, a 4-byte big-endian length, that many
/// bytes of UTF-8 JSON envelope, then the message's raw bytes exactly as received after dot-unstuffing.
/// The spool holds message content in clear while it waits for its sink: the directory must be on
/// the server's own disk with mode 0700 (set here on Unix).
/// <para>
/// Files are recycled: a completed message's file is renamed out of <c>spool/</c> into <c>spool/tmp</c> and
/// truncated to nothing at once (no content outlives completion), then the next message is written into it. Creating
/// and deleting a file per message made ext4 allocate an inode each time, and its allocator scans past every
/// recently deleted inode: at a few hundred messages a second that scan cost more CPU than anything else in the spool.
/// At most <see cref="MaxRecycledFiles"/> empty files wait for reuse; they are deleted at start like any leftover.
/// </para>
/// </remarks>
public sealed class FileSpool : ISpool, ISpoolBacklog
{
    private static ReadOnlySpan<byte> Magic => "VEILSPOOL1"u8;
    private const string Extension = ".msg";
    private readonly string _dir;
    private readonly string _tmp;
    private readonly GroupDirectorySync _dirSync;
    private readonly ILogger _logger;

    // Envelopes of the messages this process committed or already listed: a listing reads only the directory and
    // the headers of files it has not seen (the dispatcher lists often). Entries leave on completion.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SpooledMessage> _known = new(StringComparer.Ordinal);

    // The raw bytes of small messages this process committed, so the sink reads them from memory instead of opening
    // the file again (the file stays the durable copy; a restart reads files). Bounded by ContentCacheBytes in total.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte[]> _content = new(StringComparer.Ordinal);
    private long _contentBytes;

    /// <summary>Messages up to this size keep their bytes in memory between commit and completion.</summary>
    internal const int CachedMessageMaxBytes = 60 * 1024;

    /// <summary>The most message bytes kept in memory at once (beyond it, the sink reads the file).</summary>
    internal const long ContentCacheBytes = 32L * 1024 * 1024;

    // Empty files of completed messages, under spool/tmp, waiting to take the next message (see the remarks).
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _free = new();
    private int _freeCount;
    private long _freeSequence;

    /// <summary>The most emptied files kept for reuse.</summary>
    internal const int MaxRecycledFiles = 256;

    // Completed (and replaced) on every completion: what a backpressured DATA waits on.
    private TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Opens (creating if needed) the spool under <paramref name="dataDirectory"/>/spool.</summary>
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
        _dirSync = new GroupDirectorySync(_dir);
        foreach (var stale in Directory.EnumerateFiles(_tmp)) File.Delete(stale);
    }

    /// <inheritdoc/>
    public int Pending => _known.Count;

    /// <inheritdoc/>
    public async Task<bool> WaitBelowAsync(int limit, TimeSpan maxWait, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        var started = time.GetTimestamp();
        while (true)
        {
            var completed = Volatile.Read(ref _completed).Task; // taken before the check: a completion after it wakes us
            if (_known.Count < limit) return true;
            var left = maxWait - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero) return false;
            try
            {
                await completed.WaitAsync(left, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return _known.Count < limit;
            }
        }
    }

    /// <summary>The spool directory (<c>&lt;data&gt;/spool</c>).</summary>
    public string DirectoryPath => _dir;

    /// <summary>Raised after a message was committed, so a dispatcher can wake without polling.</summary>
    public event EventHandler? Committed;

    /// <inheritdoc/>
    public async ValueTask<ISpoolWriter> BeginAsync(SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var id = SpoolId.New();
        // A raw handle and positional writes from one pooled buffer: a typical message is one write() and one
        // fdatasync; no FileStream, no per-message 64 KiB buffer, no thread-pool hop per write.
        var (tmpPath, handle) = TakeRecycledFile() ?? CreateFile(id);
        var writer = new Writer(this, id, envelope, tmpPath, handle);
        try
        {
            byte[] json = SerializeEnvelope(envelope);
            Span<byte> header = stackalloc byte[Magic.Length + 4];
            Magic.CopyTo(header);
            BinaryPrimitives.WriteInt32BigEndian(header[Magic.Length..], json.Length);
            writer.Append(header);
            writer.Append(json);
            return writer;
        }
        catch
        {
            await writer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private (string Path, Microsoft.Win32.SafeHandles.SafeFileHandle Handle) CreateFile(SpoolId id)
    {
        var path = Path.Combine(_tmp, id.Value + ".tmp");
        return (path, File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read));
    }

    /// <summary>An emptied file of a completed message, opened for writing; null when there is none.</summary>
    private (string Path, Microsoft.Win32.SafeHandles.SafeFileHandle Handle)? TakeRecycledFile()
    {
        while (_free.TryDequeue(out var path))
        {
            Interlocked.Decrement(ref _freeCount);
            try
            {
                return (path, File.OpenHandle(path, FileMode.Truncate, FileAccess.Write, FileShare.Read));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone or unusable: a new file does instead.
            }
        }
        return null;
    }

    /// <summary>Moves a completed message's file out of the spool and empties it for reuse; false when the pool is full.</summary>
    private bool TryRecycle(string path)
    {
        if (Interlocked.Increment(ref _freeCount) > MaxRecycledFiles)
        {
            Interlocked.Decrement(ref _freeCount);
            return false;
        }
        var free = Path.Combine(_tmp, "free-" + Interlocked.Increment(ref _freeSequence).ToString(System.Globalization.CultureInfo.InvariantCulture) + ".tmp");
        try
        {
            DirectorySync.Rename(path, free); // out of the spool first: from here on the message is completed
        }
        catch
        {
            Interlocked.Decrement(ref _freeCount);
            throw;
        }
        try
        {
            DirectorySync.Truncate(free); // the message's bytes go with the completion
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Interlocked.Decrement(ref _freeCount);
            File.Delete(free);
            return true;
        }
        _free.Enqueue(free);
        return true;
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<SpooledMessage>> PendingAsync(CancellationToken cancellationToken)
    {
        var list = new List<SpooledMessage>();
        foreach (var path in Directory.EnumerateFiles(_dir, "*" + Extension))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetFileNameWithoutExtension(path);
            if (!SpoolId.IsValid(name)) continue;
            if (_known.TryGetValue(name, out var known))
            {
                list.Add(known);
                continue;
            }
            try
            {
                await using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.Asynchronous);
                var (envelope, offset) = await ReadHeaderAsync(fs, cancellationToken).ConfigureAwait(false);
                var message = new SpooledMessage(new SpoolId(name), envelope, fs.Length - offset);
                _known[name] = message;
                list.Add(message);
            }
            catch (FileNotFoundException)
            {
                // Completed by another worker between listing and opening.
            }
        }
        list.Sort((a, b) => a.Envelope.ReceivedAt.CompareTo(b.Envelope.ReceivedAt));
        return list;
    }

    /// <inheritdoc/>
    public Stream OpenContent(SpoolId id)
    {
        if (_content.TryGetValue(id.Value, out var bytes))
        {
            return new MemoryStream(bytes, 0, bytes.Length, writable: false, publiclyVisible: true);
        }

        var fs = new FileStream(PathOf(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous);
        try
        {
            Span<byte> head = stackalloc byte[Magic.Length + 4];
            fs.ReadExactly(head);
            if (!head[..Magic.Length].SequenceEqual(Magic)) throw new InvalidDataException("Not a Veil spool file.");
            int len = BinaryPrimitives.ReadInt32BigEndian(head[Magic.Length..]);
            fs.Position = Magic.Length + 4 + len;
            return fs;
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public ValueTask CompleteAsync(SpoolId id, CancellationToken cancellationToken)
    {
        if (_content.TryRemove(id.Value, out var bytes)) Interlocked.Add(ref _contentBytes, -bytes.Length);
        try
        {
            if (!TryRecycle(PathOf(id))) File.Delete(PathOf(id));
        }
        catch (FileNotFoundException)
        {
            // Completed already.
        }
        _known.TryRemove(id.Value, out _);
        Interlocked.Exchange(ref _completed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        // No directory fsync waits for the removal: it becomes durable with the next commit's directory fsync or the
        // file system's own journal commit. A crash before that brings the message back, and the sink, which is
        // offered every message at least once, recognises it (the Alias sink by its handled marker); a commit,
        // by contrast, is never answered 250 before its directory fsync.
        return ValueTask.CompletedTask;
    }

    private string PathOf(SpoolId id) => Path.Combine(_dir, id.Value + Extension);

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
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static async ValueTask<(SmtpEnvelope Envelope, long Offset)> ReadHeaderAsync(FileStream fs, CancellationToken ct)
    {
        byte[] head = new byte[Magic.Length + 4];
        await fs.ReadExactlyAsync(head, ct).ConfigureAwait(false);
        if (!head.AsSpan(0, Magic.Length).SequenceEqual(Magic)) throw new InvalidDataException("Not a Veil spool file.");
        int len = BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(Magic.Length));
        if (len is < 2 or > 1024 * 1024) throw new InvalidDataException("Corrupt spool envelope length.");
        byte[] json = new byte[len];
        await fs.ReadExactlyAsync(json, ct).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var to = root.GetProperty("to").EnumerateArray().Select(x => x.GetString() ?? "").ToArray();
        var env = new SmtpEnvelope(
            root.GetProperty("from").GetString() ?? "",
            to,
            root.GetProperty("8bitmime").GetBoolean(),
            root.GetProperty("smtputf8").GetBoolean(),
            root.GetProperty("received").GetDateTimeOffset());
        return (env, head.Length + len);
    }

    private sealed class Writer(FileSpool spool, SpoolId id, SmtpEnvelope envelope, string tmpPath, Microsoft.Win32.SafeHandles.SafeFileHandle handle) : ISpoolWriter
    {
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        private int _used;
        private long _fileOffset;
        private bool _committed;
        private bool _disposed;
        private long _bytes;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _bytes += bytes.Length;
            Append(bytes.Span);
            return ValueTask.CompletedTask;
        }

        /// <summary>Buffers bytes; a full buffer is written at once (to the page cache: no wait for the disk).</summary>
        internal void Append(ReadOnlySpan<byte> bytes)
        {
            var buffer = _buffer!;
            while (!bytes.IsEmpty)
            {
                var n = Math.Min(bytes.Length, buffer.Length - _used);
                bytes[..n].CopyTo(buffer.AsSpan(_used));
                _used += n;
                bytes = bytes[n..];
                if (_used == buffer.Length)
                {
                    WriteBuffer();
                }
            }
        }

        private void WriteBuffer()
        {
            RandomAccess.Write(handle, _buffer.AsSpan(0, _used), _fileOffset);
            _fileOffset += _used;
            _used = 0;
        }

        public async ValueTask<SpoolId> CommitAsync(CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // A message that never left the buffer is kept in memory for its sink, while there is room.
            byte[]? cached = null;
            if (_fileOffset == 0 && _bytes <= CachedMessageMaxBytes)
            {
                if (Interlocked.Add(ref spool._contentBytes, _bytes) <= ContentCacheBytes)
                    cached = _buffer.AsSpan(_used - (int)_bytes, (int)_bytes).ToArray();
                else
                    Interlocked.Add(ref spool._contentBytes, -_bytes);
            }

            try
            {
                WriteBuffer();
                // fdatasync: the bytes (and the size that makes them readable) are on disk before the rename makes
                // them visible; done on a dedicated sync thread, never blocking the thread pool.
                // The session resumes on the sync thread: a rename, then it waits for the directory sync.
                await SyncWorkers.RunAsync(() => SyncWorkers.DataSync(handle), continueOnSyncThread: true).ConfigureAwait(false);
                handle.Dispose();
                DirectorySync.Rename(tmpPath, spool.PathOf(id));
                if (cached is not null) spool._content[id.Value] = cached;
                spool._known[id.Value] = new SpooledMessage(id, envelope, _bytes);
                // The rename itself is durable before we answer 250: one directory fsync that started after
                // the rename, shared with the other sessions committing at the same time (group commit); run here,
                // on the sync thread, when no other fsync is under way.
                await spool._dirSync.SyncAsync(onSyncThread: true).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (cached is not null && !spool._content.ContainsKey(id.Value)) Interlocked.Add(ref spool._contentBytes, -cached.Length);
                MailEngineLog.SpoolWriteFailed(spool._logger, id.Value, e.GetType().Name);
                throw;
            }

            _committed = true;
            await DisposeAsync().ConfigureAwait(false);
            MailEngineLog.SpoolCommitted(spool._logger, id.Value, _bytes);
            spool.Committed?.Invoke(spool, EventArgs.Empty);
            return id;
        }

        public ValueTask DisposeAsync()
        {
            if (_disposed) return ValueTask.CompletedTask;
            _disposed = true;
            handle.Dispose();
            if (_buffer is { } buffer)
            {
                _buffer = null;
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (!_committed) File.Delete(tmpPath);
            return ValueTask.CompletedTask;
        }
    }
}
