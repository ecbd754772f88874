// Uploading: parts (resumable, idempotent), status, metadata, finalize. Only the owner may upload.
// Part bodies stream from Kestrel straight into the blob store through one 64 KiB buffer, so the
// server's memory does not depend on the part size or the drop size.
using System.Data.Common;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Drop;

internal sealed record UploadPartResponse(int Part, long Size);

internal sealed record UploadStatusResponse(int PartSize, int PartCount, IReadOnlyList<int> Received, bool MetadataReceived, bool Finalized, DateTimeOffset? UploadExpiresAt);

internal sealed class UploadPartCommand(VeilDbContext db, IBlobStore blobs, TimeProvider time, ILogger<UploadPartCommand> logger)
{
    public async Task<Result<UploadPartResponse>> ExecuteAsync(string id, int index, HttpRequest request, DropCaller caller, CancellationToken cancellationToken)
    {
        var drop = await DropQueries.FindOwnedAsync(db, id, caller, cancellationToken);
        if (!drop.IsSuccess)
        {
            return drop.Error;
        }

        var record = drop.Value;
        if (record.FinalizedAt is not null || record.TakenDownAt is not null)
        {
            return record.TakenDownAt is not null ? DropErrors.TakenDown : DropErrors.AlreadyFinalized;
        }

        if (index < 0 || index >= record.PartCount)
        {
            DropLog.PartRejected(logger, id, index, "index out of range");
            return DropErrors.BadPart;
        }

        var expected = record.PartLength(index);
        if (request.ContentLength is { } declared && declared != expected)
        {
            DropLog.PartRejected(logger, id, index, "wrong Content-Length");
            return DropErrors.BadPart;
        }

        // The server-wide body limit is small (JSON); a part may be up to the part size.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = expected + 1;
        }

        BlobWriteResult written;
        try
        {
            written = await blobs.WriteAsync(DropRecord.PartKey(id, index), request.Body, expected, cancellationToken);
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException or OperationCanceledException)
        {
            // The client went away or sent more than allowed: nothing was stored, the part stays missing.
            DropLog.PartRejected(logger, id, index, "body not received completely");
            return DropErrors.BadPart;
        }

        if (written.Status != BlobWriteStatus.Stored)
        {
            // Nothing replaced: a part received earlier stays intact.
            DropLog.PartRejected(logger, id, index, "wrong length");
            return DropErrors.BadPart;
        }

        try
        {
            // Upsert: a re-sent part replaces its row. Same statement on SQLite and PostgreSQL.
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"""INSERT INTO "DropParts" ("DropId", "Index", "Size") VALUES ({id}, {index}, {expected}) ON CONFLICT ("DropId", "Index") DO UPDATE SET "Size" = excluded."Size" """,
                cancellationToken);
        }
        catch (DbException)
        {
            return DropErrors.NotFound; // deleted while the part was arriving; the purge job sweeps the orphan blob
        }

        var now = time.GetUtcNow();
        await db.Set<DropRecord>().Where(d => d.Id == id).ExecuteUpdateAsync(s => s.SetProperty(d => d.LastActivityAt, now), cancellationToken);
        return new UploadPartResponse(index, expected);
    }
}

internal sealed class UploadStatusCommand(VeilDbContext db)
{
    public async Task<Result<UploadStatusResponse>> ExecuteAsync(string id, DropCaller caller, CancellationToken cancellationToken)
    {
        var drop = await DropQueries.FindOwnedAsync(db, id, caller, cancellationToken);
        if (!drop.IsSuccess)
        {
            return drop.Error;
        }

        var record = drop.Value;
        var received = await DropQueries.ReceivedPartsAsync(db, record, cancellationToken);
        return new UploadStatusResponse(record.PartSize, record.PartCount, received, record.Metadata is not null, record.FinalizedAt is not null,
            record.FinalizedAt is null ? record.LastActivityAt + DropLimits.AbandonedAfter : null);
    }
}

internal sealed class UploadMetadataCommand(VeilDbContext db, TimeProvider time)
{
    public async Task<Result<bool>> ExecuteAsync(string id, HttpRequest request, DropCaller caller, CancellationToken cancellationToken)
    {
        var drop = await DropQueries.FindOwnedAsync(db, id, caller, cancellationToken);
        if (!drop.IsSuccess)
        {
            return drop.Error;
        }

        var record = drop.Value;
        if (record.FinalizedAt is not null)
        {
            return DropErrors.AlreadyFinalized;
        }

        if (request.ContentLength is < 1 or > DropLimits.MaxMetadataBytes)
        {
            return DropErrors.BadMetadata;
        }

        // At most 4 KiB + 1: bounded, so reading it into memory is fine.
        var buffer = new byte[DropLimits.MaxMetadataBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        if (length is < 1 or > DropLimits.MaxMetadataBytes)
        {
            return DropErrors.BadMetadata;
        }

        record.Metadata = buffer[..length];
        record.LastActivityAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }
}

internal sealed class FinalizeDropCommand(VeilDbContext db, TimeProvider time, ILogger<FinalizeDropCommand> logger)
{
    public async Task<Result<OwnerStatsResponse>> ExecuteAsync(string id, DropCaller caller, CancellationToken cancellationToken)
    {
        var drop = await DropQueries.FindOwnedAsync(db, id, caller, cancellationToken);
        if (!drop.IsSuccess)
        {
            return drop.Error;
        }

        var record = drop.Value;
        var now = time.GetUtcNow();
        if (record.TakenDownAt is not null)
        {
            return DropErrors.TakenDown;
        }

        if (record.FinalizedAt is not null)
        {
            return OwnerStatsResponse.Of(record, now); // idempotent
        }

        if (await db.Set<DropOwnerStanding>().AnyAsync(s => s.OwnerKey == record.OwnerKey && s.UploadBannedAt != null, cancellationToken))
        {
            return DropErrors.UploadBanned;
        }

        var parts = await db.Set<DropPart>().AsNoTracking().Where(p => p.DropId == id).ToDictionaryAsync(p => p.Index, p => p.Size, cancellationToken);
        var missing = Enumerable.Range(0, record.PartCount).Where(i => !parts.TryGetValue(i, out var size) || size != record.PartLength(i)).ToList();
        if (missing.Count > 0 || record.Metadata is null)
        {
            return new IncompleteUploadError(missing, record.Metadata is null);
        }

        // Parts stay as they are: together they are the one logical content blob (no copy).
        record.GoLive(now);
        await db.SaveChangesAsync(cancellationToken);
        DropLog.Finalized(logger, id);
        return OwnerStatsResponse.Of(record, now);
    }
}

/// <summary>Finalize found gaps: the problem lists the missing part numbers.</summary>
internal sealed record IncompleteUploadError(IReadOnlyList<int> Missing, bool MetadataMissing)
    : Error(DropErrors.IncompleteUpload.Code, DropErrors.IncompleteUpload.Kind, DropErrors.IncompleteUpload.Title, DropErrors.IncompleteUpload.Detail);
