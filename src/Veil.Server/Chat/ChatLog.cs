using Microsoft.Extensions.Logging;

namespace Veil.Server.Chat;

/// <summary>Chat's log lines (event ids 2800–2899). No account id, device id, IP, token or ciphertext is ever logged.</summary>
internal static partial class ChatLog
{
    [LoggerMessage(EventId = 2800, Level = LogLevel.Debug, Message = "Chat socket authenticated")]
    public static partial void Connected(ILogger logger);

    [LoggerMessage(EventId = 2801, Level = LogLevel.Information, Message = "Chat socket closed for sustained frame abuse")]
    public static partial void ClosedForAbuse(ILogger logger);

    [LoggerMessage(EventId = 2802, Level = LogLevel.Information, Message = "Chat metadata job: {Expired} expired mailbox rows, {PreKeys} used prekeys, {Audit} audit rows removed; {Conversations} conversations hashed, {Devices} devices coarsened")]
    public static partial void MetadataSwept(ILogger logger, int expired, int preKeys, int audit, int conversations, int devices);
}
