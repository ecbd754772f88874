using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Redaction;

namespace Veil.Server.Drop;

/// <summary>Drop's log lines (event ids 2100–2199). A drop id is a link secret: only its redacted fingerprint is logged.</summary>
internal static partial class DropLog
{
    public static void Created(ILogger logger, string id, long size, int parts, bool anonymous)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var drop = Redact.Token(id);
            LogCreated(logger, drop, size, parts, anonymous);
        }
    }

    public static void Finalized(ILogger logger, string id)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var drop = Redact.Token(id);
            LogFinalized(logger, drop);
        }
    }

    public static void Deleted(ILogger logger, string id)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var drop = Redact.Token(id);
            LogDeleted(logger, drop);
        }
    }

    public static void PartRejected(ILogger logger, string id, int part, string reason)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var drop = Redact.Token(id);
            LogPartRejected(logger, drop, part, reason);
        }
    }

    public static void Reported(ILogger logger, string id, string reason)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var drop = Redact.Token(id);
            LogReported(logger, drop, reason);
        }
    }

    public static void ReportResolved(ILogger logger, Guid report, string id, string status, int strikes)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            LogReportResolved(logger, report, Redact.Token(id), status, strikes);
        }
    }

    public static void BlobDamaged(ILogger logger, string id, int part, long expected, long? stored)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            LogBlobDamaged(logger, Redact.Token(id), part, expected, stored ?? -1);
        }
    }

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Drop {Drop} created: {Size} ciphertext bytes in {Parts} parts, anonymous={Anonymous}")]
    private static partial void LogCreated(ILogger logger, string drop, long size, int parts, bool anonymous);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Drop {Drop} finalized")]
    private static partial void LogFinalized(ILogger logger, string drop);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "Drop {Drop} deleted by its owner")]
    private static partial void LogDeleted(ILogger logger, string drop);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Drop {Drop} part {Part} rejected: {Reason}")]
    private static partial void LogPartRejected(ILogger logger, string drop, int part, string reason);

    [LoggerMessage(EventId = 2110, Level = LogLevel.Information, Message = "Drop {Drop} reported ({Reason})")]
    private static partial void LogReported(ILogger logger, string drop, string reason);

    [LoggerMessage(EventId = 2111, Level = LogLevel.Warning, Message = "Report {Report} on drop {Drop} resolved: {Status}; owner strikes now {Strikes}")]
    private static partial void LogReportResolved(ILogger logger, Guid report, string drop, string status, int strikes);

    // No path: the blob path contains the drop id, a link secret. Stored -1 means the part file is missing.
    [LoggerMessage(EventId = 2140, Level = LogLevel.Error, Message = "Drop {Drop} cannot be served: part {Part} is {Stored} bytes in the blob store, {Expected} recorded (-1 = missing); the blob store is damaged")]
    private static partial void LogBlobDamaged(ILogger logger, string drop, int part, long expected, long stored);

    [LoggerMessage(EventId = 2120, Level = LogLevel.Information, Message = "Drop purge: {Expired} expired/exhausted, {Abandoned} abandoned uploads, {Orphans} orphaned blob folders, {Tombstones} old rows, {Tickets} tickets")]
    public static partial void Purged(ILogger logger, int expired, int abandoned, int orphans, int tombstones, int tickets);

    [LoggerMessage(EventId = 2130, Level = LogLevel.Information, Message = "Account deletion removed {Count} drops")]
    public static partial void AccountDropsDeleted(ILogger logger, int count);
}
