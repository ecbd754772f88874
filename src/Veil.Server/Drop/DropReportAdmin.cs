// Operator actions on abuse reports, used by `veil admin reports …` (which builds the server's
// services over the same data directory / database and calls these directly; there is no admin
// HTTP API, so no admin credential exists to leak). A takedown removes the drop's blobs and gives
// its owner one strike, atomically with marking the reports; at the configured number of strikes
// (default 3) the owner loses the upload capability, and only that one.
using System.Buffers.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Drop;

/// <summary>One report in a listing.</summary>
public sealed record DropReportSummary(Guid Id, string DropId, string Reason, string Status, DateTimeOffset CreatedAt, DateTimeOffset? ResolvedAt, bool HasKey);

/// <summary>One report in full. <see cref="DropKey"/> and <see cref="Link"/> are present only if the reporter shared the key.</summary>
public sealed record DropReportDetail(
    DropReportSummary Report, string? Comment, string? DropKey, string? Link,
    string DropState, long? ContentSize, DateTimeOffset? DropCreatedAt, int OwnerStrikes, bool OwnerUploadBanned);

/// <summary>The outcome of an operator action.</summary>
public enum DropReportActionResult
{
    Done,
    NotFound,
    AlreadyResolved,
}

/// <summary>Operator access to abuse reports (scoped service; resolve it from a scope of the built server).</summary>
public sealed class DropReportAdmin
{
    private readonly VeilDbContext _db;
    private readonly IBlobStore _blobs;
    private readonly DropSecrets _secrets;
    private readonly TimeProvider _time;
    private readonly DropOptions _options;
    private readonly VeilOptions _veil;
    private readonly ILogger<DropReportAdmin> _logger;
    private readonly Platform.Audit.AdminAudit _audit;

    internal DropReportAdmin(VeilDbContext db, IBlobStore blobs, DropSecrets secrets, TimeProvider time, IOptions<DropOptions> options, IOptions<VeilOptions> veil, ILogger<DropReportAdmin> logger,
        Platform.Audit.AdminAudit audit)
    {
        _audit = audit;
        _db = db;
        _blobs = blobs;
        _secrets = secrets;
        _time = time;
        _options = options.Value;
        _veil = veil.Value;
        _logger = logger;
    }

    /// <summary>Reports, newest first; <paramref name="status"/> is open, dismissed, taken-down or null for all.</summary>
    public async Task<IReadOnlyList<DropReportSummary>> ListAsync(string? status, int limit, CancellationToken cancellationToken)
    {
        var query = _db.Set<DropReport>().AsNoTracking();
        if (status is not null)
        {
            var wanted = ParseStatus(status) ?? throw new ArgumentException("Status is open, dismissed or taken-down.", nameof(status));
            query = query.Where(r => r.Status == wanted);
        }

        var reports = await query.OrderByDescending(r => r.CreatedAt).Take(Math.Clamp(limit, 1, 10_000)).ToListAsync(cancellationToken);
        return [.. reports.Select(Summary)];
    }

    public async Task<DropReportDetail?> ShowAsync(Guid id, CancellationToken cancellationToken)
    {
        var report = await _db.Set<DropReport>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (report is null)
        {
            return null;
        }

        // Viewing a report can reveal the drop's key and link: the view itself is an operator action.
        await _audit.AppendAsync("report-view", id.ToString("D"), cancellationToken);
        var drop = await _db.Set<DropRecord>().AsNoTracking().FirstOrDefaultAsync(d => d.Id == report.DropId, cancellationToken);
        var standing = await _db.Set<DropOwnerStanding>().AsNoTracking().FirstOrDefaultAsync(s => s.OwnerKey == report.OwnerKey, cancellationToken);
        string? key = null, link = null;
        if (report.SealedKey is not null && _secrets.OpenReportKey(report.Id, report.SealedKey) is { } opened)
        {
            key = Base64Url.EncodeToString(opened);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(opened);
            link = $"{(_veil.PublicOrigin ?? "").TrimEnd('/')}/d/{report.DropId}#{key}";
        }

        var state = drop is null ? "deleted" : OwnerStatsResponse.StateName(drop.StateAt(_time.GetUtcNow()));
        return new DropReportDetail(Summary(report), report.Comment, key, link, state, drop?.ContentSize, drop?.CreatedAt,
            standing?.Strikes ?? 0, standing?.UploadBannedAt is not null);
    }

    /// <summary>Takes the drop down (blobs deleted), resolves every open report on it, strikes the owner once.</summary>
    public async Task<DropReportActionResult> TakedownAsync(Guid id, CancellationToken cancellationToken)
    {
        var report = await _db.Set<DropReport>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (report is null)
        {
            return DropReportActionResult.NotFound;
        }

        if (report.Status != DropReportStatus.Open)
        {
            return DropReportActionResult.AlreadyResolved;
        }

        var now = _time.GetUtcNow();
        int strikes;
        await using (var transaction = await _db.Database.BeginTransactionAsync(cancellationToken))
        {
            // Conditional updates make the takedown count once, whoever else is resolving reports on this drop.
            var resolved = await _db.Set<DropReport>().Where(r => r.Id == id && r.Status == DropReportStatus.Open)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, DropReportStatus.TakenDown).SetProperty(r => r.ResolvedAt, now), cancellationToken);
            if (resolved == 0)
            {
                return DropReportActionResult.AlreadyResolved;
            }

            var takenDown = await _db.Set<DropRecord>().Where(d => d.Id == report.DropId && d.TakenDownAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.TakenDownAt, now).SetProperty(d => d.PurgedAt, now).SetProperty(d => d.Metadata, (byte[]?)null), cancellationToken);
            var dropGone = !await _db.Set<DropRecord>().AnyAsync(d => d.Id == report.DropId, cancellationToken);
            // One strike per drop: when this call took it down, or (the owner deleted it after the
            // report) when no earlier report on it was upheld.
            var strike = takenDown == 1
                || (dropGone && !await _db.Set<DropReport>().AnyAsync(r => r.DropId == report.DropId && r.Id != id && r.Status == DropReportStatus.TakenDown, cancellationToken));
            await _db.Set<DropReport>().Where(r => r.DropId == report.DropId && r.Status == DropReportStatus.Open)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, DropReportStatus.TakenDown).SetProperty(r => r.ResolvedAt, now), cancellationToken);
            await _db.Set<DropTicket>().Where(t => t.DropId == report.DropId).ExecuteDeleteAsync(cancellationToken);

            if (strike)
            {
                await _db.Database.ExecuteSqlInterpolatedAsync(
                    $"""INSERT INTO "DropOwnerStandings" ("OwnerKey", "Strikes") VALUES ({report.OwnerKey}, 0) ON CONFLICT ("OwnerKey") DO NOTHING""",
                    cancellationToken);
                await _db.Set<DropOwnerStanding>().Where(s => s.OwnerKey == report.OwnerKey)
                    .ExecuteUpdateAsync(s => s.SetProperty(o => o.Strikes, o => o.Strikes + 1), cancellationToken);
                var limit = _options.StrikesForUploadBan;
                await _db.Set<DropOwnerStanding>().Where(s => s.OwnerKey == report.OwnerKey && s.Strikes >= limit && s.UploadBannedAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(o => o.UploadBannedAt, now), cancellationToken);
            }

            strikes = await _db.Set<DropOwnerStanding>().Where(s => s.OwnerKey == report.OwnerKey).Select(s => s.Strikes).FirstOrDefaultAsync(cancellationToken);
            _audit.Add("report-takedown", id.ToString("D"));
            await _db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await _blobs.DeletePrefixAsync(DropRecord.BlobFolder(report.DropId), cancellationToken);
        DropLog.ReportResolved(_logger, id, report.DropId, "taken-down", strikes);
        return DropReportActionResult.Done;
    }

    public async Task<DropReportActionResult> DismissAsync(Guid id, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var report = await _db.Set<DropReport>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (report is null)
        {
            return DropReportActionResult.NotFound;
        }

        await using (var transaction = await _db.Database.BeginTransactionAsync(cancellationToken))
        {
            var changed = await _db.Set<DropReport>().Where(r => r.Id == id && r.Status == DropReportStatus.Open)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, DropReportStatus.Dismissed).SetProperty(r => r.ResolvedAt, now), cancellationToken);
            if (changed == 0)
            {
                return DropReportActionResult.AlreadyResolved;
            }

            _audit.Add("report-dismiss", id.ToString("D"));
            await _db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        DropLog.ReportResolved(_logger, id, report.DropId, "dismissed", -1);
        return DropReportActionResult.Done;
    }

    private static DropReportStatus? ParseStatus(string status) => status switch
    {
        "open" => DropReportStatus.Open,
        "dismissed" => DropReportStatus.Dismissed,
        "taken-down" => DropReportStatus.TakenDown,
        _ => null,
    };

    private static DropReportSummary Summary(DropReport r) =>
        new(r.Id, r.DropId, r.Reason, ReportReasons.Name(r.Status), r.CreatedAt, r.ResolvedAt, r.SealedKey is not null);
}
