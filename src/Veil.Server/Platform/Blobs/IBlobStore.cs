// Blobs: opaque byte objects addressed by a key (Drop parts today). The default store keeps them as
// files under <data>/blobs; an S3-compatible store can implement the same interface. Writes are
// all-or-nothing: a reader sees the old object or the new one, never a half-written one, so a part
// re-sent by a resuming client replaces itself atomically.
namespace Veil.Server.Platform.Blobs;

/// <summary>The outcome of <see cref="IBlobStore.WriteAsync"/>.</summary>
internal enum BlobWriteStatus
{
    /// <summary>The object was stored (replacing any previous one under the key).</summary>
    Stored,

    /// <summary>The source held more than the expected bytes; nothing was stored.</summary>
    TooLong,

    /// <summary>The source ended before the expected bytes; nothing was stored.</summary>
    TooShort,
}

/// <summary>The result of a write: its status and the bytes read from the source (up to one buffer past the expected length).</summary>
internal readonly record struct BlobWriteResult(BlobWriteStatus Status, long Length);

/// <summary>A store of opaque blobs. Keys are relative paths of <c>[A-Za-z0-9_-]</c> segments joined by <c>/</c>.</summary>
internal interface IBlobStore
{
    /// <summary>
    /// Streams <paramref name="source"/> into the blob <paramref name="key"/>, never holding more than a
    /// small buffer in memory. The blob is stored (atomically replacing any previous one) only if the
    /// source yields exactly <paramref name="expectedLength"/> bytes; otherwise the previous blob stays
    /// and the result says <see cref="BlobWriteStatus.TooLong"/> or <see cref="BlobWriteStatus.TooShort"/>.
    /// If the source fails or the operation is cancelled, nothing is stored and the exception propagates.
    /// </summary>
    Task<BlobWriteResult> WriteAsync(string key, Stream source, long expectedLength, CancellationToken cancellationToken);

    /// <summary>Opens the blob for reading (seekable), or returns null if it does not exist.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>The stored length of the blob in bytes, or null if it does not exist (a cheap metadata lookup, no read).</summary>
    Task<long?> GetLengthAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes every blob whose key starts with <paramref name="prefix"/> followed by <c>/</c> (a "folder"). Missing is not an error.</summary>
    Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>The top-level names under <paramref name="prefix"/> (e.g. drop ids under <c>drops</c>) with their last write time.</summary>
    IAsyncEnumerable<BlobFolder> ListFoldersAsync(string prefix, CancellationToken cancellationToken);
}

/// <summary>A "folder" of blobs: its name under the listed prefix and when it last changed.</summary>
internal readonly record struct BlobFolder(string Name, DateTimeOffset LastWrite);
