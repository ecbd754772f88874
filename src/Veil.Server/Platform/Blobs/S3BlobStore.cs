using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;

namespace Veil.Server.Platform.Blobs;

/// <summary>
/// Blobs as objects in one S3-compatible bucket (several Veil nodes share it; ADR 0009). The blob key is the object key.
/// <para>
/// All-or-nothing: S3 makes an object visible only when its PUT (or a multipart upload's completion) succeeds, so a
/// reader sees the old object or the new one. A write reads the source into one pooled buffer of at most
/// <see cref="S3BlobOptions.MultipartThresholdBytes"/> bytes: a blob that fits is sent with one PUT once its length is
/// known to be exact; a larger one goes as a multipart upload of <see cref="S3BlobOptions.PartSizeBytes"/> parts that
/// is completed only after the source ended at exactly the expected length, and aborted otherwise. Memory per write is
/// that one buffer, whatever the blob size. (The buffer also lets the SDK sign each body's hash over plain HTTP,
/// which a streamed body of unknown content could not.)
/// </para>
/// <para>
/// Reads are seekable streams over ranged GETs (<see cref="S3ReadStream"/>). The first GET is sent when the blob is
/// opened: a blob deleted after it was opened still reads to its end, as a file opened before its unlink does.
/// </para>
/// </summary>
internal sealed partial class S3BlobStore : IBlobStore, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly int _threshold;
    private readonly int _partSize;
    private readonly ILogger _logger;

    public S3BlobStore(S3BlobOptions options, ILogger<S3BlobStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        var config = new AmazonS3Config
        {
            ServiceURL = options.Endpoint,
            ForcePathStyle = true, // bucket in the path: works with any host name and with self-hosted servers
            AuthenticationRegion = options.Region,
            // Checksums only where S3 requires them: the v4 SDK's default trailing checksums need chunked bodies.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 2,
            BufferSize = 256 * 1024, // the SDK's body copies (8 KiB by default) cost more than the transfer on loopback
        };
        _client = new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
        _bucket = options.Bucket!;
        _threshold = options.MultipartThresholdBytes;
        _partSize = options.PartSizeBytes;
    }

    public string Bucket => _bucket;

    public async Task<BlobWriteResult> WriteAsync(string key, Stream source, long expectedLength, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedLength);
        CheckKey(key);
        return expectedLength <= _threshold
            ? await PutAsync(key, source, (int)expectedLength, cancellationToken)
            : await MultipartAsync(key, source, expectedLength, cancellationToken);
    }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        CheckKey(key);
        return await S3ReadStream.OpenAsync(_client, _bucket, key, cancellationToken);
    }

    public async Task<long?> GetLengthAsync(string key, CancellationToken cancellationToken)
    {
        CheckKey(key);
        try
        {
            var metadata = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, cancellationToken);
            return metadata.ContentLength;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        CheckKey(prefix);
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix + "/", MaxKeys = 1000 };
        while (true)
        {
            var page = await _client.ListObjectsV2Async(request, cancellationToken);
            if (page.S3Objects is { Count: > 0 } objects)
            {
                var delete = new DeleteObjectsRequest { BucketName = _bucket, Quiet = true };
                foreach (var item in objects)
                {
                    delete.AddKey(item.Key);
                }

                var result = await _client.DeleteObjectsAsync(delete, cancellationToken);
                if (result.DeleteErrors is { Count: > 0 } errors)
                {
                    throw new IOException($"The object store refused to delete {errors.Count} blob(s) ({errors[0].Code}).");
                }
            }

            if (page.IsTruncated != true)
            {
                return;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    /// <summary>
    /// S3 has no folders, so a folder's last write is its newest object's. One listing of every key under the
    /// prefix (in key order, so a folder's objects are adjacent) yields each folder once its last object is seen.
    /// </summary>
    public async IAsyncEnumerable<BlobFolder> ListFoldersAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        CheckKey(prefix);
        var start = prefix + "/";
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = start, MaxKeys = 1000 };
        string? current = null;
        var newest = DateTimeOffset.MinValue;
        while (true)
        {
            var page = await _client.ListObjectsV2Async(request, cancellationToken);
            foreach (var item in page.S3Objects ?? [])
            {
                var rest = item.Key.AsSpan(start.Length);
                var slash = rest.IndexOf('/');
                if (slash <= 0)
                {
                    continue; // an object directly under the prefix is not a folder
                }

                var name = rest[..slash].ToString();
                var modified = item.LastModified is { } at ? new DateTimeOffset(at.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MinValue;
                if (name != current)
                {
                    if (current is not null)
                    {
                        yield return new BlobFolder(current, newest);
                    }

                    current = name;
                    newest = modified;
                }
                else if (modified > newest)
                {
                    newest = modified;
                }
            }

            if (page.IsTruncated != true)
            {
                break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }

        if (current is not null)
        {
            yield return new BlobFolder(current, newest);
        }
    }

    public void Dispose() => _client.Dispose();

    private async Task<BlobWriteResult> PutAsync(string key, Stream source, int expectedLength, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(expectedLength + 1);
        try
        {
            // One byte of room past the expected length tells "too long" from "exact".
            var length = await FillAsync(source, buffer.AsMemory(0, expectedLength + 1), cancellationToken);
            if (length != expectedLength)
            {
                return new BlobWriteResult(length > expectedLength ? BlobWriteStatus.TooLong : BlobWriteStatus.TooShort, length);
            }

            using var body = new MemoryStream(buffer, 0, length, writable: false);
            await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _bucket,
                Key = key,
                InputStream = body,
                AutoCloseStream = false,
                UseChunkEncoding = false,
            }, cancellationToken);
            return new BlobWriteResult(BlobWriteStatus.Stored, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<BlobWriteResult> MultipartAsync(string key, Stream source, long expectedLength, CancellationToken cancellationToken)
    {
        var started = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = key }, cancellationToken);
        var uploadId = started.UploadId;
        var buffer = ArrayPool<byte>.Shared.Rent(_partSize);
        var completed = false;
        try
        {
            var parts = new List<PartETag>();
            long length = 0;
            while (length < expectedLength)
            {
                var wanted = (int)Math.Min(_partSize, expectedLength - length);
                var read = await FillAsync(source, buffer.AsMemory(0, wanted), cancellationToken);
                length += read;
                if (read < wanted)
                {
                    return new BlobWriteResult(BlobWriteStatus.TooShort, length);
                }

                using var body = new MemoryStream(buffer, 0, read, writable: false);
                var part = await _client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _bucket,
                    Key = key,
                    UploadId = uploadId,
                    PartNumber = parts.Count + 1,
                    InputStream = body,
                    PartSize = read,
                    UseChunkEncoding = false,
                }, cancellationToken);
                parts.Add(new PartETag(parts.Count + 1, part.ETag));
            }

            var extra = await source.ReadAsync(buffer.AsMemory(0, 1), cancellationToken);
            if (extra > 0)
            {
                return new BlobWriteResult(BlobWriteStatus.TooLong, length + extra);
            }

            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket,
                Key = key,
                UploadId = uploadId,
                PartETags = parts,
            }, cancellationToken);
            completed = true;
            return new BlobWriteResult(BlobWriteStatus.Stored, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!completed)
            {
                await AbortAsync(key, uploadId);
            }
        }
    }

    /// <summary>
    /// Drops the parts of an upload that will not complete. Never visible either way (an incomplete upload is no
    /// object); only storage is at stake, so a refusal is logged, not thrown over the write's own outcome, and the
    /// bucket's lifecycle rule (docs/OPERATIONS.md, Scaling) removes what is left.
    /// </summary>
    private async Task AbortAsync(string key, string uploadId)
    {
        try
        {
            // Not cancellable: the caller's token may be what ended the write.
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId }, CancellationToken.None);
        }
        catch (AmazonS3Exception e)
        {
            LogAbortRefused(_logger, (int)e.StatusCode, e.ErrorCode);
        }
    }

    [LoggerMessage(EventId = 1600, Level = LogLevel.Warning, Message = "The object store refused to abort an unfinished multipart upload ({Status} {Code}); its parts stay until the bucket's lifecycle rule removes them")]
    private static partial void LogAbortRefused(ILogger logger, int status, string? code);

    private static async Task<int> FillAsync(Stream source, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        int read;
        while (filled < buffer.Length && (read = await source.ReadAsync(buffer[filled..], cancellationToken)) > 0)
        {
            filled += read;
        }

        return filled;
    }

    private static void CheckKey(string key)
    {
        if (!FileSystemBlobStore.IsValidKey(key))
        {
            throw new ArgumentException("A blob key is '/'-separated segments of [A-Za-z0-9_-].", nameof(key));
        }
    }
}
