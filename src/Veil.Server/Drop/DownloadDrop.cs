// Reading a drop: public info for the download page, counting a download, streaming the content.
//
// The download limit is enforced by ONE conditional UPDATE (… SET Downloads = Downloads + 1 WHERE
// Downloads < MaxDownloads AND not expired …): the database serialises concurrent attempts, so a
// limit-k drop is downloaded exactly k times however many clients race. A counted download gets a
// ticket under which any number of Range requests follow without counting again (resume after a
// broken connection must not spend another download).
using System.Buffers.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Drop;

internal sealed record DropInfoResponse(string Id, long ContentSize, string Metadata, DateTimeOffset ExpiresAt, PasswordWrapDto? Password);

internal sealed record DownloadTicketResponse(string Ticket, DateTimeOffset TicketExpiresAt, long ContentSize);

internal sealed class DropInfoCommand(VeilDbContext db, TimeProvider time)
{
    public async Task<Result<DropInfoResponse>> ExecuteAsync(string id, CancellationToken cancellationToken)
    {
        var drop = await DropQueries.FindAsync(db, id, cancellationToken);
        if (!drop.IsSuccess)
        {
            return drop.Error;
        }

        var record = drop.Value;
        var state = record.StateAt(time.GetUtcNow());
        if (state != DropState.Available)
        {
            return DropErrors.ForState(state);
        }

        var password = record.PasswordSalt is { } salt && record.WrappedKey is { } wrapped
            ? new PasswordWrapDto(Base64Url.EncodeToString(salt), Base64Url.EncodeToString(wrapped))
            : null;
        return new DropInfoResponse(record.Id, record.ContentSize, Base64Url.EncodeToString(record.Metadata), record.ExpiresAt!.Value, password);
    }
}

internal sealed class CountDownloadCommand(VeilDbContext db, TimeProvider time)
{
    /// <summary>Counts one download atomically and issues its ticket.</summary>
    public async Task<Result<DownloadTicketResponse>> ExecuteAsync(string id, CancellationToken cancellationToken)
    {
        if (!DropSecrets.IsWellFormedId(id))
        {
            return DropErrors.NotFound;
        }

        var now = time.GetUtcNow();
        var counted = await db.Set<DropRecord>()
            .Where(d => d.Id == id && d.FinalizedAt != null && d.TakenDownAt == null && d.PurgedAt == null && d.ExpiresAt > now
                && (d.MaxDownloads == null || d.Downloads < d.MaxDownloads))
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Downloads, d => d.Downloads + 1), cancellationToken);
        var drop = await db.Set<DropRecord>().AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (drop is null)
        {
            return DropErrors.NotFound;
        }

        if (counted == 0)
        {
            var state = drop.StateAt(now);
            return DropErrors.ForState(state == DropState.Available ? DropState.Exhausted : state);
        }

        var ticket = DropSecrets.NewToken();
        var expires = Min(now + DropLimits.TicketLifetime, drop.ExpiresAt!.Value);
        db.Add(new DropTicket { Hash = DropSecrets.HashToken(ticket), DropId = id, ExpiresAt = expires });
        await db.SaveChangesAsync(cancellationToken);
        return new DownloadTicketResponse(ticket, expires, drop.ContentSize);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}

/// <summary>Opens the content of a drop for a valid ticket; the HTTP layer does Range.</summary>
internal sealed class OpenContentCommand(VeilDbContext db, IBlobStore blobs, TimeProvider time, ILogger<OpenContentCommand> logger)
{
    public async Task<Result<Stream>> ExecuteAsync(string id, string? ticket, CancellationToken cancellationToken)
    {
        var drop = await DropQueries.FindAsync(db, id, cancellationToken);
        if (!drop.IsSuccess)
        {
            return drop.Error;
        }

        var record = drop.Value;
        var now = time.GetUtcNow();
        if (string.IsNullOrEmpty(ticket) || ticket.Length > 100)
        {
            return DropErrors.BadTicket;
        }

        var hash = DropSecrets.HashToken(ticket);
        var valid = await db.Set<DropTicket>().AnyAsync(t => t.Hash == hash && t.DropId == id && t.ExpiresAt > now, cancellationToken);
        if (!valid)
        {
            return DropErrors.BadTicket;
        }

        // A ticket does not outlive the drop: expiry, takedown or purge stop downloads in progress.
        // Exhausted is fine here: the ticket holder's download is the one that was counted.
        var state = record.StateAt(now);
        if (state is not (DropState.Available or DropState.Exhausted) || record.PurgedAt is not null)
        {
            return DropErrors.ForState(state == DropState.Exhausted ? DropState.Expired : state);
        }

        // Every part is checked against its recorded length before a byte is sent. Otherwise a part lost or
        // cut short on disk surfaces as an exception inside the response: a bare 500 when a Range starts past
        // the damage (nothing written yet), or a silently short body. One stat per part (640 for 5 GiB at
        // 8 MiB) is cheap next to streaming the content.
        for (var index = 0; index < record.PartCount; index++)
        {
            var expected = record.PartLength(index);
            var stored = await blobs.GetLengthAsync(DropRecord.PartKey(record.Id, index), cancellationToken);
            if (stored != expected)
            {
                DropLog.BlobDamaged(logger, record.Id, index, expected, stored);
                return DropErrors.BlobDamaged;
            }
        }

        return new DropContentStream(blobs, record);
    }
}

/// <summary>
/// The parts of a drop read as one seekable stream (so ASP.NET's Range processing works on it).
/// Opens one part file at a time; memory is constant.
/// </summary>
internal sealed class DropContentStream(IBlobStore blobs, DropRecord drop) : Stream
{
    private Stream? _part;
    private int _partIndex = -1;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => drop.ContentSize;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read asynchronously.");

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= drop.ContentSize || buffer.Length == 0)
        {
            return 0;
        }

        var index = (int)(_position / drop.PartSize);
        var offset = _position - ((long)index * drop.PartSize);
        if (_partIndex != index || _part is null)
        {
            if (_part is not null)
            {
                await _part.DisposeAsync();
            }

            _part = await blobs.OpenReadAsync(DropRecord.PartKey(drop.Id, index), cancellationToken)
                ?? throw new IOException("A part of the drop is missing from the blob store (deleted during the download).");
            _partIndex = index;
        }

        if (_part.Position != offset)
        {
            _part.Position = offset;
        }

        var wanted = (int)Math.Min(buffer.Length, drop.PartLength(index) - offset);
        var read = await _part.ReadAsync(buffer[..wanted], cancellationToken);
        if (read == 0)
        {
            throw new IOException("A part of the drop is shorter than recorded.");
        }

        _position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => drop.ContentSize + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (_part is not null)
        {
            await _part.DisposeAsync();
            _part = null;
        }

        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _part?.Dispose();
            _part = null;
        }

        base.Dispose(disposing);
    }
}
