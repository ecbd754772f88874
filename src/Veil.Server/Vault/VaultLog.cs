using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Redaction;

namespace Veil.Server.Vault;

/// <summary>
/// Vault's log lines (event ids 2700–2799). Never an address, a token, a code, a key or a CT: a
/// vault id appears only as a redacted fingerprint (ids are not secret, but they link a recipient's
/// claim to an owner's vault, which the log has no need to show).
/// </summary>
internal static partial class VaultLog
{
    public static void VaultCreated(ILogger logger, string vaultId)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var vault = Redact.Token(vaultId);
            LogVaultCreated(logger, vault);
        }
    }

    public static void VaultDeleted(ILogger logger, string vaultId)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var vault = Redact.Token(vaultId);
            LogVaultDeleted(logger, vault);
        }
    }

    public static void ItemSaved(ILogger logger, string vaultId, int revision)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            var vault = Redact.Token(vaultId);
            LogItemSaved(logger, vault, revision);
        }
    }

    public static void FileStored(ILogger logger, string vaultId, long size)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            var vault = Redact.Token(vaultId);
            LogFileStored(logger, vault, size);
        }
    }

    public static void SwitchChanged(ILogger logger, string vaultId, string change)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var vault = Redact.Token(vaultId);
            LogSwitchChanged(logger, vault, change);
        }
    }

    public static void CheckedInByLink(ILogger logger, string vaultId)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var vault = Redact.Token(vaultId);
            LogCheckedInByLink(logger, vault);
        }
    }

    public static void RecipientNotified(ILogger logger, string vaultId)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var vault = Redact.Token(vaultId);
            LogRecipientNotified(logger, vault);
        }
    }

    public static void RecipientAdded(ILogger logger, string vaultId)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var vault = Redact.Token(vaultId);
            LogRecipientAdded(logger, vault);
        }
    }

    public static void RecipientRemoved(ILogger logger, string vaultId)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var vault = Redact.Token(vaultId);
            LogRecipientRemoved(logger, vault);
        }
    }

    public static void CodeSent(ILogger logger, string vaultId, bool rehearsal)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var vault = Redact.Token(vaultId);
            LogCodeSent(logger, vault, rehearsal);
        }
    }

    public static void WrongCode(ILogger logger, string vaultId, int attempts)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            var vault = Redact.Token(vaultId);
            LogWrongCode(logger, vault, attempts);
        }
    }

    public static void LinkLocked(ILogger logger, string vaultId)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            var vault = Redact.Token(vaultId);
            LogLinkLocked(logger, vault);
        }
    }

    public static void Claimed(ILogger logger, string vaultId, bool rehearsal)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var vault = Redact.Token(vaultId);
            LogClaimed(logger, vault, rehearsal);
        }
    }

    public static void UnsealFailed(ILogger logger, string vaultId)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            var vault = Redact.Token(vaultId);
            LogUnsealFailed(logger, vault);
        }
    }

    public static void Rehearsed(ILogger logger, string vaultId)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var vault = Redact.Token(vaultId);
            LogRehearsed(logger, vault);
        }
    }

    public static void Released(ILogger logger, string vaultId, int recipients)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var vault = Redact.Token(vaultId);
            LogReleased(logger, vault, recipients);
        }
    }

    [LoggerMessage(EventId = 2700, Level = LogLevel.Information, Message = "Vault {Vault} created")]
    private static partial void LogVaultCreated(ILogger logger, string vault);

    [LoggerMessage(EventId = 2701, Level = LogLevel.Information, Message = "Vault {Vault} deleted")]
    private static partial void LogVaultDeleted(ILogger logger, string vault);

    [LoggerMessage(EventId = 2702, Level = LogLevel.Debug, Message = "Vault {Vault}: item saved (revision {Revision})")]
    private static partial void LogItemSaved(ILogger logger, string vault, int revision);

    [LoggerMessage(EventId = 2703, Level = LogLevel.Debug, Message = "Vault {Vault}: file stored ({Size} bytes)")]
    private static partial void LogFileStored(ILogger logger, string vault, long size);

    [LoggerMessage(EventId = 2704, Level = LogLevel.Information, Message = "Vault {Vault}: switch {Change}")]
    private static partial void LogSwitchChanged(ILogger logger, string vault, string change);

    [LoggerMessage(EventId = 2705, Level = LogLevel.Information, Message = "Vault {Vault}: checked in by mailed link")]
    private static partial void LogCheckedInByLink(ILogger logger, string vault);

    [LoggerMessage(EventId = 2717, Level = LogLevel.Information, Message = "Vault {Vault}: recipient told by mail that they were added")]
    private static partial void LogRecipientNotified(ILogger logger, string vault);

    [LoggerMessage(EventId = 2706, Level = LogLevel.Information, Message = "Vault {Vault}: recipient added")]
    private static partial void LogRecipientAdded(ILogger logger, string vault);

    [LoggerMessage(EventId = 2707, Level = LogLevel.Information, Message = "Vault {Vault}: recipient removed")]
    private static partial void LogRecipientRemoved(ILogger logger, string vault);

    [LoggerMessage(EventId = 2708, Level = LogLevel.Information, Message = "Vault {Vault}: claim code sent (rehearsal {Rehearsal})")]
    private static partial void LogCodeSent(ILogger logger, string vault, bool rehearsal);

    [LoggerMessage(EventId = 2709, Level = LogLevel.Warning, Message = "Vault {Vault}: wrong claim code (attempt {Attempts})")]
    private static partial void LogWrongCode(ILogger logger, string vault, int attempts);

    [LoggerMessage(EventId = 2710, Level = LogLevel.Warning, Message = "Vault {Vault}: claim link locked after too many wrong codes")]
    private static partial void LogLinkLocked(ILogger logger, string vault);

    [LoggerMessage(EventId = 2711, Level = LogLevel.Information, Message = "Vault {Vault}: link claimed (rehearsal {Rehearsal})")]
    private static partial void LogClaimed(ILogger logger, string vault, bool rehearsal);

    [LoggerMessage(EventId = 2712, Level = LogLevel.Error, Message = "Vault {Vault}: a sealed delivery key did not open (escrow key missing or rotated away?)")]
    private static partial void LogUnsealFailed(ILogger logger, string vault);

    [LoggerMessage(EventId = 2713, Level = LogLevel.Information, Message = "Vault {Vault}: rehearsal link sent to the owner")]
    private static partial void LogRehearsed(ILogger logger, string vault);

    [LoggerMessage(EventId = 2714, Level = LogLevel.Information, Message = "Vault {Vault} released to {Recipients} recipient(s)")]
    private static partial void LogReleased(ILogger logger, string vault, int recipients);

    [LoggerMessage(EventId = 2715, Level = LogLevel.Information, Message = "Vault scheduler: {Reminders} reminder(s), {Releases} release(s), {Skipped} skipped")]
    public static partial void Ticked(ILogger logger, int reminders, int releases, int skipped);

    [LoggerMessage(EventId = 2716, Level = LogLevel.Information, Message = "Deleted {Count} vault(s) of a deleted account")]
    public static partial void AccountVaultsDeleted(ILogger logger, int count);
}
