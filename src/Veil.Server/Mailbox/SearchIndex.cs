// The encrypted search index (issue 17, point 7; spec/mailbox-api.md "Search index"). One opaque blob per account,
// made and read by the client: it maps the words of subjects, senders, bodies and attachment names to message ids,
// so it says everything about the mailbox's content and the server must never read it. The server keeps only its
// length and a version number (the ETag), and checks two things it can see without a key: the leading format byte
// (so a client bug cannot store plaintext by mistake) and the size quota (Veil:Mail:SearchIndexMaxBytes).
//
// Writers race (two devices, two CLI runs): every replace names the version it read (If-Match) and the row moves
// from that version to the next by a compare-and-set UPDATE, so of two writers on one version exactly one wins and
// the other gets 412 and merges. Each version is its own blob: the winner's blob becomes current and the old one is
// deleted after the row moved; the loser deletes the blob it wrote. A crash in between leaves an unreferenced blob in
// the account's search folder, which the next successful write sweeps.
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox;

/// <summary>The account's search index: which blob holds the current version, its version and length. Nothing else.</summary>
internal sealed class MailSearchIndex
{
    public Guid AccountId { get; init; }

    /// <summary>Starts at 1; every replace adds one. The ETag is <c>"version"</c>.</summary>
    public long Version { get; set; }

    public long Length { get; set; }

    /// <summary>The blob holding this version (random, so a replace never overwrites the blob a reader has open).</summary>
    public string BlobName { get; set; } = "";

    public DateTimeOffset UpdatedAt { get; set; }

    public string BlobKey => VersionFolderOf(AccountId, BlobName) + "/index";

    /// <summary>The blob "folder" of one version (deleted as a whole; under the account's mail folder, so account deletion takes it).</summary>
    public static string VersionFolderOf(Guid accountId, string blobName) => $"mail/{accountId:N}/search/{blobName}";
}

internal sealed class MailSearchIndexConfiguration : IEntityTypeConfiguration<MailSearchIndex>
{
    public void Configure(EntityTypeBuilder<MailSearchIndex> builder)
    {
        builder.ToTable("MailSearchIndexes");
        builder.HasKey(x => x.AccountId);
        builder.Property(x => x.BlobName).HasMaxLength(64);
    }
}

/// <summary>A stored index opened for reading, with its version.</summary>
internal sealed record SearchIndexContent(Stream Content, long Version, long Length);

/// <summary>The answer to a PUT: the new version (its ETag) and length.</summary>
internal sealed record SearchIndexWritten(long Version, long Length);

internal sealed class SearchIndexCommands(VeilDbContext db, IBlobStore blobs, IOptions<MailboxOptions> options, TimeProvider time)
{
    /// <summary>The first byte of every stored index: the client format's version (spec/mailbox-api.md "Search index").</summary>
    public const byte FormatV1 = 0x01;

    /// <summary>Format byte, 24-byte nonce and 16-byte tag: nothing shorter is a sealed index.</summary>
    public const int MinLength = 1 + 24 + 16;

    public static string ETagOf(long version) => "\"" + version.ToString(CultureInfo.InvariantCulture) + "\"";

    public async Task<Result<SearchIndexContent>> GetAsync(Guid accountId, CancellationToken ct)
    {
        var row = await db.Set<MailSearchIndex>().AsNoTracking().FirstOrDefaultAsync(x => x.AccountId == accountId, ct);
        if (row is null)
        {
            return MailboxErrors.SearchIndexNotFound;
        }

        // The blob of a version stays until a later version replaced the row, and an open stream reads on after a
        // delete, so a reader racing a writer gets the whole version it looked up.
        return await blobs.OpenReadAsync(row.BlobKey, ct) is { } stream
            ? new SearchIndexContent(stream, row.Version, row.Length)
            : MailboxErrors.SearchIndexNotFound;
    }

    public async Task<Result<SearchIndexWritten>> PutAsync(HttpRequest request, Guid accountId, CancellationToken ct)
    {
        var settings = options.Value;
        var ifMatch = request.Headers.IfMatch.ToString();
        var ifNoneMatch = request.Headers.IfNoneMatch.ToString();
        long? expected = null;
        if (ifMatch.Length > 0)
        {
            if (!long.TryParse(ifMatch.Trim().Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
            {
                return MailboxErrors.SearchIndexStale;
            }

            expected = version;
        }
        else if (ifNoneMatch.Trim() != "*")
        {
            return MailboxErrors.SearchIndexPreconditionRequired;
        }

        if (request.ContentLength is not { } length)
        {
            return MailboxErrors.InvalidSearchIndex("Send the index with a Content-Length.");
        }

        if (length > settings.SearchIndexMaxBytes)
        {
            return MailboxErrors.SearchIndexTooLarge(settings.SearchIndexMaxBytes);
        }

        if (length < MinLength)
        {
            return MailboxErrors.InvalidSearchIndex("The index is a sealed blob (spec/mailbox-api.md, Search index).");
        }

        // Refuse a stale write before reading a byte of it.
        var current = await db.Set<MailSearchIndex>().AsNoTracking().FirstOrDefaultAsync(x => x.AccountId == accountId, ct);
        if ((expected is null && current is not null) || (expected is not null && current?.Version != expected))
        {
            return MailboxErrors.SearchIndexStale;
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = length + 1;
        }

        // The format byte is checked as the body streams in (the store reads through this wrapper).
        var blobName = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var folder = MailSearchIndex.VersionFolderOf(accountId, blobName);
        var key = folder + "/index";
        var checkedBody = new FirstByteStream(request.Body, FormatV1);
        BlobWriteResult written;
        try
        {
            written = await blobs.WriteAsync(key, checkedBody, length, ct);
        }
        catch (InvalidDataException)
        {
            return MailboxErrors.InvalidSearchIndex("The index is a sealed blob whose first byte is its format version (1).");
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException)
        {
            return MailboxErrors.InvalidSearchIndex("The body did not arrive whole.");
        }

        if (written.Status != BlobWriteStatus.Stored)
        {
            return MailboxErrors.InvalidSearchIndex("The body's length is not its Content-Length.");
        }

        var now = time.GetUtcNow();
        bool won;
        if (expected is { } from)
        {
            won = await db.Set<MailSearchIndex>()
                .Where(x => x.AccountId == accountId && x.Version == from)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Version, from + 1).SetProperty(x => x.Length, length)
                    .SetProperty(x => x.BlobName, blobName).SetProperty(x => x.UpdatedAt, now), ct) == 1;
        }
        else
        {
            db.Add(new MailSearchIndex { AccountId = accountId, Version = 1, Length = length, BlobName = blobName, UpdatedAt = now });
            try
            {
                await db.SaveChangesAsync(ct);
                won = true;
            }
            catch (DbUpdateException)
            {
                won = false; // another writer created it first
            }
        }

        if (!won)
        {
            await blobs.DeletePrefixAsync(folder, CancellationToken.None);
            return MailboxErrors.SearchIndexStale;
        }

        if (current is not null)
        {
            await blobs.DeletePrefixAsync(MailSearchIndex.VersionFolderOf(accountId, current.BlobName), CancellationToken.None);
        }

        return new SearchIndexWritten(expected + 1 ?? 1, length);
    }

    /// <summary>Passes the body through, failing with <see cref="InvalidDataException"/> when its first byte is not the format's.</summary>
    private sealed class FirstByteStream(Stream inner, byte first) : Stream
    {
        private bool _checked;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Check(buffer.Span, read);
        }

        public override int Read(byte[] buffer, int offset, int count) => Check(buffer.AsSpan(offset, count), inner.Read(buffer, offset, count));

        private int Check(ReadOnlySpan<byte> buffer, int read)
        {
            if (!_checked && read > 0)
            {
                _checked = true;
                if (buffer[0] != first)
                {
                    throw new InvalidDataException("not a sealed search index");
                }
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
