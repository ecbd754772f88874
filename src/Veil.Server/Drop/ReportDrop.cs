// Abuse reports (anon.li's model): anyone may report a drop; the reporter's IP is kept only as a
// peppered hash (to refuse a second report of the same drop from the same IP within 24 h); a drop
// key the reporter chooses to share is sealed at once to the `report` key, so it is readable only
// through `veil admin reports show`, never by a database reader.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Drop;

internal sealed record ReportDropRequest(string? Reason, string? Comment, string? Key);

internal sealed record ReportDropResponse(string TrackingToken, string Status);

internal sealed record ReportStatusResponse(string Status, DateTimeOffset CreatedAt, DateTimeOffset? ResolvedAt);

internal static class ReportReasons
{
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        "malware", "phishing", "csam", "copyright", "illegal", "spam", "other",
    };

    public static string Name(DropReportStatus status) => status switch
    {
        DropReportStatus.Open => "open",
        DropReportStatus.Dismissed => "dismissed",
        DropReportStatus.TakenDown => "taken-down",
        _ => "unknown",
    };
}

internal sealed class ReportDropCommand(VeilDbContext db, DropSecrets secrets, TimeProvider time, ILogger<ReportDropCommand> logger)
{
    public async Task<Result<ReportDropResponse>> ExecuteAsync(string id, ReportDropRequest request, DropCaller caller, CancellationToken cancellationToken)
    {
        if (request.Reason is null || !ReportReasons.All.Contains(request.Reason) || request.Comment is { Length: > DropLimits.MaxReportCommentLength })
        {
            return DropErrors.InvalidReport;
        }

        byte[]? key = null;
        if (request.Key is not null && (key = CreateDropCommand.DecodeKey(request.Key, DropLimits.DropKeyBytes)) is null)
        {
            return DropErrors.InvalidReport;
        }

        try
        {
            var drop = await DropQueries.FindAsync(db, id, cancellationToken);
            if (!drop.IsSuccess)
            {
                return drop.Error;
            }

            var now = time.GetUtcNow();
            var ipHash = secrets.ReporterIpHash(caller.Ip);
            var since = now - DropLimits.ReportDedupWindow;
            if (await db.Set<DropReport>().AnyAsync(r => r.DropId == id && r.ReporterIpHash == ipHash && r.CreatedAt > since, cancellationToken))
            {
                return DropErrors.AlreadyReported;
            }

            var token = DropSecrets.NewToken();
            var reportId = Guid.CreateVersion7(now);
            db.Add(new DropReport
            {
                Id = reportId,
                DropId = id,
                OwnerKey = drop.Value.OwnerKey,
                TrackingTokenHash = DropSecrets.HashToken(token),
                ReporterIpHash = ipHash,
                Reason = request.Reason,
                Comment = string.IsNullOrWhiteSpace(request.Comment) ? null : request.Comment,
                SealedKey = key is null ? null : secrets.SealReportKey(reportId, key),
                Status = DropReportStatus.Open,
                CreatedAt = now,
            });
            await db.SaveChangesAsync(cancellationToken);
            DropLog.Reported(logger, id, request.Reason);
            return new ReportDropResponse(token, ReportReasons.Name(DropReportStatus.Open));
        }
        finally
        {
            if (key is not null)
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(key);
            }
        }
    }
}

internal sealed class ReportStatusCommand(VeilDbContext db)
{
    public const string TokenHeader = "X-Report-Token";

    public async Task<Result<ReportStatusResponse>> ExecuteAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 100)
        {
            return DropErrors.NotFound;
        }

        var hash = DropSecrets.HashToken(token);
        var report = await db.Set<DropReport>().AsNoTracking().FirstOrDefaultAsync(r => r.TrackingTokenHash == hash, cancellationToken);
        return report is null
            ? DropErrors.NotFound
            : new ReportStatusResponse(ReportReasons.Name(report.Status), report.CreatedAt, report.ResolvedAt);
    }
}
