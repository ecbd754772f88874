using Microsoft.Extensions.Logging;

namespace Veil.Server.Mailbox;

// Event ids 3700–3799. Never an address, subject, sender or body: ids, counts and reasons.
internal static partial class MailboxLog
{
    [LoggerMessage(EventId = 3700, Level = LogLevel.Information, Message = "Mailbox: message {SpoolId} recipient #{Index} sealed as {MessageId} ({Size} bytes)")]
    public static partial void Sealed(ILogger logger, string spoolId, int index, Guid messageId, long size);

    [LoggerMessage(EventId = 3701, Level = LogLevel.Information, Message = "Mailbox: message {SpoolId} recipient #{Index} was sealed before (redelivery after a restart)")]
    public static partial void AlreadySealed(ILogger logger, string spoolId, int index);

    [LoggerMessage(EventId = 3702, Level = LogLevel.Warning, Message = "Mailbox: message {SpoolId} recipient #{Index} has no address any more (removed after RCPT); not stored")]
    public static partial void AddressGone(ILogger logger, string spoolId, int index);

    [LoggerMessage(EventId = 3703, Level = LogLevel.Warning, Message = "Mailbox: message {SpoolId} could not be sealed now ({Reason}); it stays spooled")]
    public static partial void RetryLater(ILogger logger, string spoolId, string reason);

    [LoggerMessage(EventId = 3704, Level = LogLevel.Warning, Message = "Mailbox: message {SpoolId} recipient #{Index} is larger than Veil:Mail:MaxMessageSize; not stored")]
    public static partial void TooLarge(ILogger logger, string spoolId, int index);

    [LoggerMessage(EventId = 3705, Level = LogLevel.Warning, Message = "Mailbox: recipient lookup failed ({Reason}); RCPT answered 4xx")]
    public static partial void ResolveFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3706, Level = LogLevel.Information, Message = "Mailbox: account data deleted ({Addresses} addresses, {Messages} messages)")]
    public static partial void AccountDeleted(ILogger logger, int addresses, int messages);

    [LoggerMessage(EventId = 3707, Level = LogLevel.Warning, Message = "Mailbox: message {SpoolId} authentication checks did not finish in time; recorded as temperror")]
    public static partial void AuthenticationUnfinished(ILogger logger, string spoolId);

    [LoggerMessage(EventId = 3710, Level = LogLevel.Information, Message = "Mailbox: sent {MessageId}: {Copies} sealed copies, {Outsiders} outside recipients queued as {QueueId}")]
    public static partial void Sent(ILogger logger, Guid messageId, int copies, int outsiders, string? queueId);

    [LoggerMessage(EventId = 3711, Level = LogLevel.Information, Message = "Mailbox: confidential message {MessageId} destroyed ({Reason})")]
    public static partial void Destroyed(ILogger logger, Guid messageId, MailDestroyReason reason);

    [LoggerMessage(EventId = 3712, Level = LogLevel.Information, Message = "Mailbox: confidential job destroyed {Count} messages")]
    public static partial void ConfidentialSwept(ILogger logger, int count);

    [LoggerMessage(EventId = 3713, Level = LogLevel.Information, Message = "Mailbox: a password package was fetched (view {View})")]
    public static partial void PackageViewed(ILogger logger, int view);

    [LoggerMessage(EventId = 3714, Level = LogLevel.Information, Message = "Mailbox: a reply to a password package was stored as {MessageId}")]
    public static partial void PackageReplied(ILogger logger, Guid messageId);

    [LoggerMessage(EventId = 3715, Level = LogLevel.Information, Message = "Mailbox: a password package was destroyed ({Reason})")]
    public static partial void PackageDestroyed(ILogger logger, MailDestroyReason reason);
    [LoggerMessage(EventId = 3720, Level = LogLevel.Information, Message = "Mailbox: attachment blob {BlobId} uploaded ({Size} bytes)")]
    public static partial void AttachmentUploaded(ILogger logger, Guid blobId, long size);

    [LoggerMessage(EventId = 3721, Level = LogLevel.Information, Message = "Mailbox: attachment job purged {Orphans} unsent uploads, released {Released} viewed-out copies, deleted {Unreferenced} unreferenced blobs")]
    public static partial void AttachmentsSwept(ILogger logger, int orphans, int released, int unreferenced);
}
