using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace Veil.Server.Platform.Blobs;

/// <summary>
/// One S3 object read as a seekable stream. Opening sends a GET of the whole object (its answer says whether the
/// object exists and its length); reading on from where the last read ended uses that response's body, and a seek
/// elsewhere closes it and sends a ranged GET from the new position on the next read. Sequential readers (a download,
/// a copy) thus cost one request; a Range request served by ASP.NET costs two. Memory is the HTTP client's buffer.
/// </summary>
internal sealed class S3ReadStream : Stream
{
    private readonly IAmazonS3 _client;
    private readonly string _bucket;
    private readonly string _key;
    private readonly string? _etag;
    private GetObjectResponse? _response;
    private Stream? _body;
    private long _bodyPosition;
    private long _position;

    private S3ReadStream(IAmazonS3 client, string bucket, string key, GetObjectResponse first)
    {
        _client = client;
        _bucket = bucket;
        _key = key;
        _response = first;
        _body = first.ResponseStream;
        _etag = first.ETag;
        Length = first.ContentLength;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length { get; }

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    /// <summary>Opens the object, or returns null if it does not exist.</summary>
    public static async Task<S3ReadStream?> OpenAsync(IAmazonS3 client, string bucket, string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key }, cancellationToken);
            return new S3ReadStream(client, bucket, key, response);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>Synchronous reads go on from the open response; a seek needs a new request, which is only sent asynchronously.</summary>
    public override int Read(Span<byte> buffer)
    {
        if (_position >= Length || buffer.Length == 0)
        {
            return 0;
        }

        if (_body is null || _bodyPosition != _position)
        {
            throw new NotSupportedException("After a seek, read the S3 blob asynchronously.");
        }

        var read = _body.Read(buffer[..(int)Math.Min(buffer.Length, Length - _position)]);
        return Advance(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= Length || buffer.Length == 0)
        {
            return 0;
        }

        if (_body is null || _bodyPosition != _position)
        {
            await ReopenAtAsync(_position, cancellationToken);
        }

        var read = await _body!.ReadAsync(buffer[..(int)Math.Min(buffer.Length, Length - _position)], cancellationToken);
        return Advance(read);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => Length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            CloseBody();
        }

        base.Dispose(disposing);
    }

    private int Advance(int read)
    {
        if (read == 0)
        {
            throw new IOException("The S3 object ended before its recorded length.");
        }

        _position += read;
        _bodyPosition += read;
        return read;
    }

    private async Task ReopenAtAsync(long position, CancellationToken cancellationToken)
    {
        CloseBody();
        // If-Match: a ranged read must come from the same object the stream opened, not from a replacement.
        _response = await _client.GetObjectAsync(new GetObjectRequest
        {
            BucketName = _bucket,
            Key = _key,
            ByteRange = new ByteRange(position, Length - 1),
            EtagToMatch = _etag,
        }, cancellationToken);
        _body = _response.ResponseStream;
        _bodyPosition = position;
    }

    private void CloseBody()
    {
        _body?.Dispose();
        _response?.Dispose();
        _body = null;
        _response = null;
    }
}
