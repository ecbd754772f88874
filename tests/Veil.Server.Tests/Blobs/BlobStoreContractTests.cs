using System.Security.Cryptography;
using Veil.Server.Platform.Blobs;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Blobs;

/// <summary>
/// What every <see cref="IBlobStore"/> promises (Platform/Blobs/IBlobStore.cs), run against each store: files on disk
/// and an S3 bucket on a real s3rver. A store that has no backend here (s3rver not installed, outside CI) makes
/// <see cref="Store"/> null and the tests return.
/// </summary>
public abstract class BlobStoreContractTests
{
    // 12 MiB: past the S3 store's 5 MiB threshold below, so three multipart parts.
    protected const int Large = 12 * 1024 * 1024;

    private readonly string _root = "t" + Guid.NewGuid().ToString("N");

    private protected abstract IBlobStore? Store { get; }

    private string Key(string rest) => _root + "/" + rest;

    [Fact]
    public async Task Write_ThenRead_ReturnsTheBytesAndTheLength()
    {
        if (Store is not { } store) return;
        var bytes = RandomNumberGenerator.GetBytes(70_000);

        var result = await store.WriteAsync(Key("a/b"), new MemoryStream(bytes), bytes.Length, default);

        Assert.Equal(new BlobWriteResult(BlobWriteStatus.Stored, bytes.Length), result);
        Assert.Equal(bytes.Length, await store.GetLengthAsync(Key("a/b"), default));
        Assert.Equal(bytes, await ReadAllAsync(store, Key("a/b")));
    }

    [Fact]
    public async Task Write_LargerThanOneRequest_ReadsBackWhole()
    {
        if (Store is not { } store) return;
        var bytes = RandomNumberGenerator.GetBytes(Large);

        var result = await store.WriteAsync(Key("big/data"), new MemoryStream(bytes), bytes.Length, default);

        Assert.Equal(BlobWriteStatus.Stored, result.Status);
        Assert.Equal(bytes, await ReadAllAsync(store, Key("big/data")));
    }

    [Fact]
    public async Task Write_Empty_IsStored()
    {
        if (Store is not { } store) return;

        var result = await store.WriteAsync(Key("e/x"), new MemoryStream(), 0, default);

        Assert.Equal(BlobWriteStatus.Stored, result.Status);
        Assert.Equal(0, await store.GetLengthAsync(Key("e/x"), default));
        Assert.Empty(await ReadAllAsync(store, Key("e/x")));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(Large)]
    public async Task Write_TooLongOrTooShort_KeepsTheOldBlob(int length)
    {
        if (Store is not { } store) return;
        var old = RandomNumberGenerator.GetBytes(length);
        await store.WriteAsync(Key("p/0"), new MemoryStream(old), old.Length, default);

        var tooLong = await store.WriteAsync(Key("p/0"), new MemoryStream(new byte[length + 1]), length, default);
        var tooShort = await store.WriteAsync(Key("p/0"), new MemoryStream(new byte[length - 1]), length, default);

        Assert.Equal(BlobWriteStatus.TooLong, tooLong.Status);
        Assert.Equal(BlobWriteStatus.TooShort, tooShort.Status);
        Assert.Equal(old, await ReadAllAsync(store, Key("p/0")));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(Large)]
    public async Task Write_SourceFailsMidway_KeepsTheOldBlobAndThrows(int length)
    {
        if (Store is not { } store) return;
        var old = RandomNumberGenerator.GetBytes(length);
        await store.WriteAsync(Key("f/0"), new MemoryStream(old), old.Length, default);

        await Assert.ThrowsAsync<IOException>(() => store.WriteAsync(Key("f/0"), new FailingStream(length - 10), length, default));

        Assert.Equal(old, await ReadAllAsync(store, Key("f/0")));
    }

    [Fact]
    public async Task Write_Again_ReplacesTheBlob()
    {
        if (Store is not { } store) return;
        await store.WriteAsync(Key("r/0"), new MemoryStream(new byte[500]), 500, default);
        var second = RandomNumberGenerator.GetBytes(300);

        await store.WriteAsync(Key("r/0"), new MemoryStream(second), second.Length, default);

        Assert.Equal(second, await ReadAllAsync(store, Key("r/0")));
    }

    [Fact]
    public async Task Read_IsSeekable_AndReadsFromWhereItWasSought()
    {
        if (Store is not { } store) return;
        var bytes = RandomNumberGenerator.GetBytes(200_000);
        await store.WriteAsync(Key("s/0"), new MemoryStream(bytes), bytes.Length, default);

        await using var stream = (await store.OpenReadAsync(Key("s/0"), default))!;
        Assert.True(stream.CanSeek);
        Assert.Equal(bytes.Length, stream.Length);
        var head = new byte[100];
        await stream.ReadExactlyAsync(head);
        stream.Position = 150_000;
        var middle = new byte[1000];
        await stream.ReadExactlyAsync(middle);
        stream.Seek(-10, SeekOrigin.End);
        var tail = new byte[10];
        await stream.ReadExactlyAsync(tail);

        Assert.Equal(bytes[..100], head);
        Assert.Equal(bytes[150_000..151_000], middle);
        Assert.Equal(bytes[^10..], tail);
        Assert.Equal(0, await stream.ReadAsync(new byte[1]));
    }

    [Fact]
    public async Task Read_OpenedBeforeADelete_ReadsToTheEnd()
    {
        if (Store is not { } store) return;
        var bytes = RandomNumberGenerator.GetBytes(20_000);
        await store.WriteAsync(Key("d/0"), new MemoryStream(bytes), bytes.Length, default);

        await using var stream = (await store.OpenReadAsync(Key("d/0"), default))!;
        await store.DeletePrefixAsync(Key("d"), default);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(bytes, copy.ToArray());
        Assert.Null(await store.OpenReadAsync(Key("d/0"), default));
    }

    [Fact]
    public async Task Missing_OpensAsNull_AndHasNoLength()
    {
        if (Store is not { } store) return;

        Assert.Null(await store.OpenReadAsync(Key("none/0"), default));
        Assert.Null(await store.GetLengthAsync(Key("none/0"), default));
    }

    [Fact]
    public async Task DeletePrefix_DeletesTheFolderOnly_AndMissingIsNoError()
    {
        if (Store is not { } store) return;
        foreach (var key in new[] { "x/1", "x/2", "x/sub/3", "xy/1" })
        {
            await store.WriteAsync(Key(key), new MemoryStream([1, 2, 3]), 3, default);
        }

        await store.DeletePrefixAsync(Key("x"), default);
        await store.DeletePrefixAsync(Key("nothing"), default);

        Assert.Null(await store.GetLengthAsync(Key("x/1"), default));
        Assert.Null(await store.GetLengthAsync(Key("x/sub/3"), default));
        Assert.Equal(3, await store.GetLengthAsync(Key("xy/1"), default));
    }

    [Fact]
    public async Task ListFolders_NamesEachFolderOnce_WithARecentLastWrite()
    {
        if (Store is not { } store) return;
        var before = DateTimeOffset.UtcNow.AddMinutes(-5);
        foreach (var key in new[] { "drops/aa/0", "drops/aa/1", "drops/bb/0", "drops/cc/sub/0" })
        {
            await store.WriteAsync(Key(key), new MemoryStream([1]), 1, default);
        }

        var folders = new List<BlobFolder>();
        await foreach (var folder in store.ListFoldersAsync(Key("drops"), default))
        {
            folders.Add(folder);
        }

        Assert.Equal(["aa", "bb", "cc"], folders.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.All(folders, f => Assert.InRange(f.LastWrite, before, DateTimeOffset.UtcNow.AddMinutes(5)));
        await foreach (var _ in store.ListFoldersAsync(Key("empty"), default))
        {
            Assert.Fail("a missing prefix has no folders");
        }
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a/.tmp")]
    public async Task Key_OutsideThePlainAlphabet_IsRefused(string key)
    {
        if (Store is not { } store) return;

        await Assert.ThrowsAsync<ArgumentException>(() => store.WriteAsync(key, new MemoryStream([1]), 1, default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenReadAsync(key, default));
    }

    private static async Task<byte[]> ReadAllAsync(IBlobStore store, string key)
    {
        await using var stream = await store.OpenReadAsync(key, default);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>Yields zeros, then fails as a dropped client connection does.</summary>
    private sealed class FailingStream(long failAt) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAt)
            {
                throw new IOException("the client went away");
            }

            var n = (int)Math.Min(count, failAt - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

public sealed class FileSystemBlobStoreTests : BlobStoreContractTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("veil-blobs-").FullName;
    private readonly FileSystemBlobStore _store;

    public FileSystemBlobStoreTests() => _store = new FileSystemBlobStore(_directory);

    private protected override IBlobStore? Store => _store;

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

public sealed class S3BlobStoreTests : BlobStoreContractTests, IClassFixture<S3rverFixture>, IDisposable
{
    private readonly S3BlobStore? _store;

    public S3BlobStoreTests(S3rverFixture s3)
    {
        ArgumentNullException.ThrowIfNull(s3);
        if (s3.Server.Available)
        {
            _store = new S3BlobStore(new S3BlobOptions
            {
                Endpoint = s3.Server.Endpoint!.ToString(),
                Bucket = S3rver.Bucket,
                AccessKey = S3rver.AccessKey,
                SecretKey = S3rver.SecretKey,
                MultipartThresholdBytes = 5 * 1024 * 1024,
                PartSizeBytes = 5 * 1024 * 1024,
            }, Microsoft.Extensions.Logging.Abstractions.NullLogger<S3BlobStore>.Instance);
        }
    }

    private protected override IBlobStore? Store => _store;

    public void Dispose() => _store?.Dispose();
}
