// The mail engine's log lines (event ids 2450–2499, inside the Mail module's 2400–2499; the host's own lines are
// 2400–2449). What may appear: session numbers, spool and queue ids (random, carry no content), reply codes, counts,
// sizes, exception type names, and the client address only in the form the host's redactor gives it. What never
// appears: an envelope address, a header, a subject, a body byte, an SMTP argument, a full server reply text (a
// reply can echo an address), credentials.
using Microsoft.Extensions.Logging;

namespace Veil.Mail;

internal static partial class MailEngineLog
{
    private static readonly System.Buffers.SearchValues<char> StatusChars = System.Buffers.SearchValues.Create("0123456789.");

    [LoggerMessage(EventId = 2450, Level = LogLevel.Debug, Message = "SMTP session {Session} opened from {Remote}")]
    public static partial void SessionOpened(ILogger logger, long session, string remote);

    [LoggerMessage(EventId = 2451, Level = LogLevel.Debug, Message = "SMTP session {Session} closed ({Reason}): {Accepted} message(s) accepted, {Rejected} command(s) rejected, TLS {Tls}")]
    public static partial void SessionClosed(ILogger logger, long session, string reason, int accepted, int rejected, bool tls);

    [LoggerMessage(EventId = 2452, Level = LogLevel.Information, Message = "SMTP session {Session} from {Remote}: {Verb} rejected {Code} {Status}")]
    public static partial void Rejected(ILogger logger, long session, string remote, string verb, string code, string status);

    [LoggerMessage(EventId = 2453, Level = LogLevel.Warning, Message = "SMTP connection from {Remote} refused 421 4.7.0: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 2454, Level = LogLevel.Information, Message = "SMTP session {Session}: message {SpoolId} spooled, {Bytes} bytes, {Recipients} recipient(s)")]
    public static partial void Spooled(ILogger logger, long session, string spoolId, long bytes, int recipients);

    [LoggerMessage(EventId = 2455, Level = LogLevel.Information, Message = "SMTP session {Session} from {Remote} closed with {Code} {Status}")]
    public static partial void ClosedWith(ILogger logger, long session, string remote, string code, string status);

    [LoggerMessage(EventId = 2460, Level = LogLevel.Debug, Message = "Spool: {SpoolId} committed ({Bytes} bytes)")]
    public static partial void SpoolCommitted(ILogger logger, string spoolId, long bytes);

    [LoggerMessage(EventId = 2461, Level = LogLevel.Error, Message = "Spool: writing {SpoolId} failed ({ExceptionType}); the client hears 451 and retries")]
    public static partial void SpoolWriteFailed(ILogger logger, string spoolId, string exceptionType);

    [LoggerMessage(EventId = 2462, Level = LogLevel.Debug, Message = "Spool: {SpoolId} handed to the sink: {Result}")]
    public static partial void SpoolDispatched(ILogger logger, string spoolId, string result);

    [LoggerMessage(EventId = 2470, Level = LogLevel.Information,
        Message = "Queue: {QueueId} attempt {Attempt}: {Outcome} (reply {Code}); {Delivered} delivered, {Failed} failed, {Pending} pending")]
    public static partial void Attempted(ILogger logger, string queueId, int attempt, string outcome, string code, int delivered, int failed, int pending);

    [LoggerMessage(EventId = 2471, Level = LogLevel.Information, Message = "Queue: {QueueId} deferred until {NextAttemptAt:O}")]
    public static partial void Deferred(ILogger logger, string queueId, DateTimeOffset nextAttemptAt);

    [LoggerMessage(EventId = 2472, Level = LogLevel.Warning, Message = "Queue: {QueueId} bounced: {Failed} recipient(s) failed ({GaveUp} after the maximum age); DSN {DsnId} queued to the sender")]
    public static partial void Bounced(ILogger logger, string queueId, int failed, int gaveUp, string dsnId);

    [LoggerMessage(EventId = 2473, Level = LogLevel.Warning, Message = "Queue: {QueueId}: {Failed} recipient(s) failed; no DSN (null reverse path)")]
    public static partial void FailedWithoutBounce(ILogger logger, string queueId, int failed);

    [LoggerMessage(EventId = 2474, Level = LogLevel.Information, Message = "Queue: {QueueId} enqueued ({Bytes} bytes, {Recipients} recipient(s))")]
    public static partial void Enqueued(ILogger logger, string queueId, long bytes, int recipients);

    [LoggerMessage(EventId = 2475, Level = LogLevel.Debug, Message = "Queue: sent at once ({Bytes} bytes, {Recipients} recipients, reply {Code}); nothing queued")]
    public static partial void SentDirect(ILogger logger, long bytes, int recipients, string code);

    [LoggerMessage(EventId = 2476, Level = LogLevel.Information, Message = "Queue: sending at once was answered {Code}; {Recipients} recipients queued as {QueueId}")]
    public static partial void DirectFellBack(ILogger logger, string queueId, string code, int recipients);

    [LoggerMessage(EventId = 2477, Level = LogLevel.Warning, Message = "SMTP {SessionId}: DATA deferred (451): {Pending} messages still waiting in the spool")]
    public static partial void BacklogFull(ILogger logger, long sessionId, int pending);

    [LoggerMessage(EventId = 2478, Level = LogLevel.Warning, Message = "SMTP under pressure: {Sessions} open sessions; idle ones now get the shorter command timeout")]
    public static partial void UnderPressure(ILogger logger, int sessions);

    [LoggerMessage(EventId = 2479, Level = LogLevel.Error, Message = "Queue: {QueueId}: the delivery observer failed ({ExceptionType}); bounced to the reverse path instead")]
    public static partial void ObserverFailed(ILogger logger, string queueId, string exceptionType);

    /// <summary>"550" and "5.1.1" from an SMTP reply line; only these leave the process, never the text after them.</summary>
    public static (string Code, string Status) CodeOf(string reply)
    {
        var code = reply.Length >= 3 && char.IsAsciiDigit(reply[0]) && char.IsAsciiDigit(reply[1]) && char.IsAsciiDigit(reply[2]) ? reply[..3] : "---";
        var rest = reply.Length > 4 ? reply.AsSpan(4) : [];
        var space = rest.IndexOf(' ');
        var token = space < 0 ? rest : rest[..space];
        var isStatus = token.Length is >= 5 and <= 11 && token[0] is '2' or '4' or '5' && token[1] == '.' && token.Count('.') == 2 && !token.ContainsAnyExcept(StatusChars);
        return (code, isStatus ? token.ToString() : "-");
    }

    [LoggerMessage(EventId = 2480, Level = LogLevel.Warning, Message = "MTA-STS: a policy could not be fetched ({Reason}); a cached one or none applies")]
    public static partial void MtaStsFetchFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 2481, Level = LogLevel.Warning, Message = "MTA-STS: {Count} MX hosts of a recipient domain do not match its policy (mode {Mode})")]
    public static partial void MtaStsMxMismatch(ILogger logger, int count, string mode);

    [LoggerMessage(EventId = 2482, Level = LogLevel.Warning, Message = "MTA-STS testing: delivered to an MX host that {Problem}; enforce mode would have deferred it")]
    public static partial void MtaStsTestingFailure(ILogger logger, string problem);

    [LoggerMessage(EventId = 2484, Level = LogLevel.Error, Message = "SMTP session {Session}: the recipient lookup failed ({ExceptionType}); the client hears 451 and retries")]
    public static partial void ResolverFailed(ILogger logger, long session, string exceptionType);

    [LoggerMessage(EventId = 2485, Level = LogLevel.Error, Message = "SMTP session {Session}: the spool failed unexpectedly ({ExceptionType}); the client hears 451 and retries")]
    public static partial void SpoolFailed(ILogger logger, long session, string exceptionType);

    [LoggerMessage(EventId = 2486, Level = LogLevel.Error, Message = "SMTP connection from {Remote} ended by an unexpected {ExceptionType}; message withheld. Stack: {StackTrace}")]
    public static partial void SessionFailed(ILogger logger, string remote, string exceptionType, string? stackTrace);

    [LoggerMessage(EventId = 2483, Level = LogLevel.Information, Message = "MTA-STS enforce: no MX host of a recipient domain took the message over validated TLS; deferred")]
    public static partial void MtaStsDeferred(ILogger logger);
}
