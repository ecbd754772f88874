using Microsoft.Extensions.Logging;

namespace Veil.Server.Alias;

// Event ids 2600–2699. Never an address, subject, note or body: ids, counts, events and reason codes.
internal static partial class AliasLog
{
    [LoggerMessage(EventId = 2600, Level = LogLevel.Information, Message = "Alias: message {SpoolId} recipient #{Index}: {Event} ({Reason})")]
    public static partial void Routed(ILogger logger, string spoolId, int index, string @event, string reason);

    [LoggerMessage(EventId = 2601, Level = LogLevel.Warning, Message = "Alias: no DKIM key for an alias domain; forwarded mail leaves unsigned (veil admin dkim create DOMAIN)")]
    public static partial void NoDkimKey(ILogger logger);

    [LoggerMessage(EventId = 2602, Level = LogLevel.Information, Message = "Alias: recipient {RecipientId} paused after {Count} hard bounces")]
    public static partial void RecipientPaused(ILogger logger, Guid recipientId, int count);

    [LoggerMessage(EventId = 2603, Level = LogLevel.Information, Message = "Alias purge: {Log} log entries, {Handled} handled markers, {Bounces} bounces, {Usage} usage rows removed")]
    public static partial void Purged(ILogger logger, int log, int handled, int bounces, int usage);

    [LoggerMessage(EventId = 2604, Level = LogLevel.Information, Message = "Alias: account data deleted ({Aliases} aliases, {Recipients} recipients)")]
    public static partial void AccountDeleted(ILogger logger, int aliases, int recipients);

    [LoggerMessage(EventId = 2605, Level = LogLevel.Warning, Message = "Alias: message {SpoolId} could not be handled now ({ExceptionType}); it stays spooled")]
    public static partial void RetryLater(ILogger logger, string spoolId, string exceptionType);

    [LoggerMessage(EventId = 2607, Level = LogLevel.Error, Message = "Alias: message {SpoolId} recipient #{Index} could not be processed ({ExceptionType}); dropped")]
    public static partial void Unprocessable(ILogger logger, string spoolId, int index, string exceptionType);

    [LoggerMessage(EventId = 2606, Level = LogLevel.Warning, Message = "Alias: RCPT lookup failed ({ExceptionType}); answered 451")]
    public static partial void ResolveFailed(ILogger logger, string exceptionType);

    [LoggerMessage(EventId = 2608, Level = LogLevel.Debug, Message = "Alias batch: {Messages} messages, {Units} recipients; markers {MarkMs:F1} ms, routing {RouteMs:F1} ms, sending {SendMs:F1} ms (summed over parallel sends: build {BuildMs:F1}, sign {SignMs:F1}, smarthost {SmarthostMs:F1}), save {SaveMs:F1} ms")]
    public static partial void Batch(ILogger logger, int messages, int units, double markMs, double routeMs, double sendMs, double buildMs, double signMs, double smarthostMs, double saveMs);
}
