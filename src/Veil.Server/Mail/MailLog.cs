using Microsoft.Extensions.Logging;

namespace Veil.Server.Mail;

// Event ids 2400–2499. No address, envelope, subject or client IP is ever logged: only the server's
// own listening address, file paths it owns, and counts.
internal static partial class MailLog
{
    [LoggerMessage(EventId = 2400, Level = LogLevel.Information, Message = "SMTP listening on {EndPoint}, STARTTLS {Tls}")]
    public static partial void SmtpListening(ILogger logger, string endPoint, string tls);

    [LoggerMessage(EventId = 2401, Level = LogLevel.Information, Message = "SMTP stopped; open sessions were answered 421")]
    public static partial void SmtpStopped(ILogger logger);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Warning,
        Message = "SMTP STARTTLS uses a SELF-SIGNED certificate {Action} at {Path}: configure Veil:Mail:Smtp:CertificatePath with a trusted certificate")]
    public static partial void SelfSignedCertificate(ILogger logger, string action, string path);

    [LoggerMessage(EventId = 2403, Level = LogLevel.Warning,
        Message = "No message sink is registered: accepted mail stays in the spool ({Pending} pending) until a module handles it")]
    public static partial void NoMessageSink(ILogger logger, int pending);

    [LoggerMessage(EventId = 2404, Level = LogLevel.Error, Message = "The spool dispatcher failed ({ExceptionType}); it restarts, nothing is lost")]
    public static partial void DispatcherFailed(ILogger logger, string exceptionType);

    [LoggerMessage(EventId = 2405, Level = LogLevel.Warning,
        Message = "DEVELOPMENT AID active: {Setting}; not for production")]
    public static partial void DevelopmentAid(ILogger logger, string setting);

    [LoggerMessage(EventId = 2406, Level = LogLevel.Information, Message = "Spool: {Count} message(s) handed to the sink")]
    public static partial void Dispatched(ILogger logger, int count);
}
