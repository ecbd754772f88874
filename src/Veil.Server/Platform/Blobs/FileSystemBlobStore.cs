using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Veil.Server.Platform.Blobs;

/// <summary>
/// Blobs as files under one root (default <c>&lt;data&gt;/blobs</c>). A write goes to a new file in
/// <c>.tmp/</c> on the same file system, is flushed to disk, then renamed over the target: rename is
/// atomic, so a reader (or a crash) sees the complete old file or the complete new one. Files are
/// created with mode 0600. Memory: one pooled 64 KiB buffer per write, whatever the blob size.
/// </summary>
internal sealed class FileSystemBlobStore : IBlobStore
{
    private const int BufferSize = 64 * 1024;
    private const string TemporaryFolder = ".tmp";
    private readonly string _root;
    private readonly string _temporary;

    public FileSystemBlobStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
        _temporary = Path.Combine(_root, TemporaryFolder);
        Hosting.DataDirectory.CreateOwnerOnly(_temporary);
    }

    public string Root => _root;

    public async Task<BlobWriteResult> WriteAsync(string key, Stream source, long expectedLength, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedLength);
        var target = PathOf(key);
        var temporary = Path.Combine(_temporary, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var stored = false;
        try
        {
            long length = 0;
            var fileOptions = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 0, // writes are already 64 KiB; no second buffer
                Options = FileOptions.Asynchronous,
            };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (var file = new FileStream(temporary, fileOptions))
            {
                int read;
                while ((read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
                {
                    length += read;
                    if (length > expectedLength)
                    {
                        return new BlobWriteResult(BlobWriteStatus.TooLong, length);
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }

                if (length < expectedLength)
                {
                    return new BlobWriteResult(BlobWriteStatus.TooShort, length);
                }

                // Durable before it becomes visible: a part the server acknowledged survives a power cut.
                file.Flush(flushToDisk: true);
            }

            Hosting.DataDirectory.CreateOwnerOnly(Path.GetDirectoryName(target)!);
            File.Move(temporary, target, overwrite: true);
            stored = true;
            return new BlobWriteResult(BlobWriteStatus.Stored, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!stored)
            {
                File.Delete(temporary);
            }
        }
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            Stream stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read | FileShare.Delete, // a replacement or purge may rename/delete it meanwhile
                BufferSize = 0,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            });
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<long?> GetLengthAsync(string key, CancellationToken cancellationToken)
    {
        var file = new FileInfo(PathOf(key));
        return Task.FromResult<long?>(file.Exists ? file.Length : null);
    }

    public Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        var path = PathOf(prefix);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<BlobFolder> ListFoldersAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var path = PathOf(prefix);
        if (!Directory.Exists(path))
        {
            yield break;
        }

        foreach (var directory in Directory.EnumerateDirectories(path))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var info = new DirectoryInfo(directory);
            yield return new BlobFolder(info.Name, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));
            await Task.Yield();
        }
    }

    /// <summary>Deletes temporary files left by writes that were interrupted (a crash mid-upload) before <paramref name="before"/>.</summary>
    public int DeleteAbandonedWrites(DateTimeOffset before)
    {
        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(_temporary))
        {
            if (File.GetLastWriteTimeUtc(file) < before.UtcDateTime)
            {
                File.Delete(file);
                deleted++;
            }
        }

        return deleted;
    }

    private string PathOf(string key)
    {
        if (!IsValidKey(key))
        {
            throw new ArgumentException("A blob key is '/'-separated segments of [A-Za-z0-9_-].", nameof(key));
        }

        return Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));
    }

    // The key becomes a path: only plain segments, so no "..", no absolute path, no hidden .tmp.
    internal static bool IsValidKey(string? key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 512)
        {
            return false;
        }

        foreach (var segment in key.Split('/'))
        {
            if (segment.Length == 0 || !segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
