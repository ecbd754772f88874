// The Mailbox tables (spec/mailbox-api.md, docs/THREAT-MODEL.md "Mail").
//
// MailAddresses: one row per address. The server keeps the address only field-encrypted (found by a blind
// index), the public key field-encrypted too (its user ID names the address), and two opaque strings made by the
// client that it cannot open: the address token wrapped by the user key, and the address private key wrapped by
// that token. So a database dump alone names no address, and the server never holds an address private key.
//
// MailMessages: one row per stored message and address. The whole raw message lives sealed (OpenPGP, to the
// address public key) in the blob store; the row holds a separately sealed summary and only what delivery needs in
// the clear: size, arrival time, the envelope sender (field-encrypted) and a keyed hash of the Message-ID.
// Mail sent by a Veil client (spec/mailbox-api.md "Sending") adds rows of the same shape: one per Veil recipient
// (Inbox) and one for the sender (Sent), each sealed by the client. Confidential copies carry their limits (expiry,
// views); when one is reached the ciphertext (blob and summary) is deleted and the row stays as a tombstone.
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Mailbox;

internal sealed class MailAddress
{
    public Guid Id { get; init; }

    public Guid AccountId { get; init; }

    /// <summary>The address, lowercased (<c>local@domain</c>). Field-encrypted.</summary>
    public string Address { get; set; } = "";

    public byte[]? AddressIndex { get; set; }

    /// <summary>The WKD lookup key of the address (<c>hu-hash@domain</c>), blind-indexed and never stored.</summary>
    public string WkdKey => MailboxAddresses.WkdKey(Address);

    public byte[]? WkdIndex { get; set; }

    /// <summary>The address's OpenPGP public key, ASCII-armoured. Field-encrypted: its user ID names the address.</summary>
    public string PublicKey { get; set; } = "";

    /// <summary>The random address token wrapped by the user's user key (client-made, opaque here).</summary>
    public string WrappedToken { get; set; } = "";

    /// <summary>The address private key wrapped by the address token (client-made, opaque here).</summary>
    public string WrappedPrivateKey { get; set; } = "";

    public DateTimeOffset CreatedAt { get; init; }
}

internal sealed class MailMessage : IViewLimited
{
    /// <summary>Derived from (spool id, recipient position): a redelivery after a crash finds the row it already made.</summary>
    public Guid Id { get; init; }

    public Guid AccountId { get; init; }

    public Guid AddressId { get; init; }

    /// <summary>The envelope sender (MAIL FROM), empty for bounces. Field-encrypted.</summary>
    public string EnvelopeFrom { get; set; } = "";

    /// <summary>Length of the raw message as received.</summary>
    public long Size { get; init; }

    /// <summary>Length of the sealed message in the blob store.</summary>
    public long SealedSize { get; init; }

    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>
    /// The Message-ID header, read once at sealing to compute <see cref="ThreadIndex"/>; never stored. Scoped by
    /// the account, so two accounts holding one message cannot be linked through it.
    /// </summary>
    public string? ThreadKey { get; set; }

    /// <summary>Keyed hash (blind index) of the account and the Message-ID, for threading; null without a Message-ID.</summary>
    public byte[]? ThreadIndex { get; set; }

    /// <summary>The summary (sender, subject, snippet, attachment names) sealed to the address key, base64 of an OpenPGP message.</summary>
    public string SealedSummary { get; set; } = "";

    /// <summary>Inbox (received) or Sent (the sender's own copy of mail sent from a Veil client).</summary>
    public MailFolder Folder { get; init; }

    /// <summary>Confidential mode: the copy is destroyed at this time (null: never).</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Confidential mode: the copy is destroyed once its body was fetched this many times (null: no limit).</summary>
    public int? MaxViews { get; init; }

    /// <summary>How often the body was fetched; counted only for copies with <see cref="MaxViews"/>.</summary>
    public int Views { get; set; }

    /// <summary>When the ciphertext was deleted for good (a tombstone), or null.</summary>
    public DateTimeOffset? DestroyedAt { get; private set; }

    public MailDestroyReason? DestroyedReason { get; private set; }

    public string BlobKey => BlobFolderOf(AccountId, Id) + "/sealed";

    /// <summary>Why the content can no longer be read at <paramref name="now"/>, or null while it can.</summary>
    public MailDestroyReason? GoneAt(DateTimeOffset now) =>
        DestroyedReason ?? (ExpiresAt <= now ? MailDestroyReason.Expired : MaxViews <= Views ? MailDestroyReason.ViewLimitReached : null);

    /// <summary>Keeps only the envelope: the summary goes now, the blob right after the row is saved.</summary>
    public void Destroy(MailDestroyReason reason, DateTimeOffset now)
    {
        SealedSummary = "";
        DestroyedAt = now;
        DestroyedReason = reason;
    }

    /// <summary>The blob "folder" of one message (deleted as a whole).</summary>
    public static string BlobFolderOf(Guid accountId, Guid messageId) => $"mail/{accountId:N}/{messageId:N}";
}

internal enum MailFolder
{
    Inbox = 0,
    Sent = 1,
}

internal enum MailDestroyReason
{
    Expired = 1,
    ViewLimitReached = 2,
}

internal static class MailboxBlindIndexPurposes
{
    public const string Address = "mail-address";
    public const string Wkd = "mail-wkd";
    public const string Thread = "mail-message-id";
}

internal sealed class MailAddressConfiguration : IEntityTypeConfiguration<MailAddress>
{
    public void Configure(EntityTypeBuilder<MailAddress> builder)
    {
        builder.ToTable("MailAddresses");
        builder.HasKey(x => x.Id);
        builder.HasIndex(x => x.AccountId);
        builder.HasEncryptedColumn(x => x.Address);
        builder.HasBlindIndex(x => x.Address, x => x.AddressIndex, MailboxBlindIndexPurposes.Address, BlindIndexNormalization.TrimLowercase).IsUnique();
        builder.HasBlindIndex(x => x.WkdKey, x => x.WkdIndex, MailboxBlindIndexPurposes.Wkd);
        builder.Ignore(x => x.WkdKey);
        builder.HasEncryptedColumn(x => x.PublicKey);
        builder.Property(x => x.WrappedToken).HasMaxLength(MailboxAddresses.MaxWrappedLength);
        builder.Property(x => x.WrappedPrivateKey).HasMaxLength(MailboxAddresses.MaxWrappedLength);
    }
}

internal sealed class MailMessageConfiguration : IEntityTypeConfiguration<MailMessage>
{
    public void Configure(EntityTypeBuilder<MailMessage> builder)
    {
        builder.ToTable("MailMessages");
        builder.HasKey(x => x.Id);
        builder.HasIndex(x => new { x.AccountId, x.ReceivedAt });
        builder.HasIndex(x => x.AddressId);
        builder.HasIndex(x => x.ExpiresAt);
        builder.HasEncryptedColumn(x => x.EnvelopeFrom);
        builder.HasBlindIndex(x => x.ThreadKey, x => x.ThreadIndex, MailboxBlindIndexPurposes.Thread);
        builder.Ignore(x => x.ThreadKey);
    }
}
