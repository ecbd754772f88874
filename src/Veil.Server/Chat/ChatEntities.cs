// The Chat relay's tables. The relay stores public keys, ciphertext envelopes it cannot open, and as
// little metadata as the protocol allows: sealed messages have no sender column at all; conversation
// participants are replaced by a keyed hash after 24 h idle; coarse (day) timestamps replace exact ones
// once they are no longer needed for delivery (ChatMetadataJob).
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Chat;

/// <summary>An account's chat identity: the Ed25519 account key that certifies its devices.</summary>
internal sealed class ChatAccount
{
    public required Guid AccountId { get; init; }

    /// <summary>The account signing key's public half (32 bytes); every device certificate must verify under it.</summary>
    public required byte[] AccountKey { get; init; }

    /// <summary>SHA-256 of the 16-byte delivery access key for sealed sends, or null (no sealed sends accepted).</summary>
    public byte[]? AccessKeyHash { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>One linked device: its certified keys, its signed prekey, and its mailbox sequence.</summary>
internal sealed class ChatDevice
{
    public required Guid AccountId { get; init; }

    public int DeviceId { get; init; }

    public int RegistrationId { get; init; }

    public required byte[] SigningKey { get; init; }

    public required byte[] IdentityKey { get; init; }

    public required byte[] Certificate { get; init; }

    public int SignedPreKeyId { get; set; }

    public required byte[] SignedPreKey { get; set; }

    public required byte[] SignedPreKeySignature { get; set; }

    /// <summary>Last mailbox sequence number handed out (messages are ordered by it).</summary>
    public long LastSequence { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When a socket of this device last connected; coarsened to the day after 24 h.</summary>
    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>True once CreatedAt and LastSeenAt hold day-level values only.</summary>
    public bool ActivityCoarse { get; set; }
}

/// <summary>A one-time prekey. Claimed at most once; a claimed key's row is purged 7 days later.</summary>
internal sealed class ChatOneTimePreKey
{
    public required Guid AccountId { get; init; }

    public int DeviceId { get; init; }

    public long KeyId { get; init; }

    public required byte[] PublicKey { get; init; }

    public DateTimeOffset? ClaimedAt { get; set; }
}

/// <summary>
/// One ciphertext envelope waiting in one device's mailbox. The body is field-encrypted at rest.
/// A sealed message has no sender: <see cref="SenderAccountId"/> and <see cref="SenderDeviceId"/> stay null.
/// </summary>
internal sealed class ChatMailboxEntry
{
    public required Guid Id { get; init; }

    public required Guid AccountId { get; init; }

    public int DeviceId { get; init; }

    public long Sequence { get; init; }

    /// <summary>The sender's message id: a resend with the same id is not stored twice.</summary>
    public required Guid MessageId { get; init; }

    public Guid? SenderAccountId { get; init; }

    public int? SenderDeviceId { get; init; }

    public bool Sealed { get; init; }

    /// <summary>The client's ciphertext (a Signal message or sealed-sender envelope); sealed again under the field key.</summary>
    public byte[]? Body { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// A pair of accounts that exchanged (non-sealed) messages. The participant columns are nulled after
/// 24 h idle, leaving only the keyed hash; the timestamp is then cut to the day.
/// </summary>
internal sealed class ChatConversation
{
    public required Guid Id { get; init; }

    /// <summary>Blind index of the ordered pair (index key): finds the row without the participants.</summary>
    public required byte[] PairHash { get; init; }

    public Guid? ParticipantLow { get; set; }

    public Guid? ParticipantHigh { get; set; }

    public DateTimeOffset LastActivityAt { get; set; }

    public bool Hashed { get; set; }
}

/// <summary>A security event on an account's devices (registered, removed), kept 90 days.</summary>
internal sealed class ChatAuditEntry
{
    public required Guid Id { get; init; }

    public required Guid AccountId { get; init; }

    public required string Event { get; init; }

    public int DeviceId { get; init; }

    public DateTimeOffset At { get; init; }
}

internal sealed class ChatAccountConfiguration : IEntityTypeConfiguration<ChatAccount>
{
    public void Configure(EntityTypeBuilder<ChatAccount> builder)
    {
        builder.ToTable("ChatAccounts");
        builder.HasKey(x => x.AccountId);
        builder.Property(x => x.AccountKey).HasMaxLength(32);
        builder.Property(x => x.AccessKeyHash).HasMaxLength(32);
    }
}

internal sealed class ChatDeviceConfiguration : IEntityTypeConfiguration<ChatDevice>
{
    public void Configure(EntityTypeBuilder<ChatDevice> builder)
    {
        builder.ToTable("ChatDevices");
        builder.HasKey(x => new { x.AccountId, x.DeviceId });
        builder.Property(x => x.SigningKey).HasMaxLength(32);
        builder.Property(x => x.IdentityKey).HasMaxLength(33);
        builder.Property(x => x.Certificate).HasMaxLength(64);
        builder.Property(x => x.SignedPreKey).HasMaxLength(33);
        builder.Property(x => x.SignedPreKeySignature).HasMaxLength(64);
        builder.HasIndex(x => new { x.ActivityCoarse, x.LastSeenAt });
    }
}

internal sealed class ChatOneTimePreKeyConfiguration : IEntityTypeConfiguration<ChatOneTimePreKey>
{
    public void Configure(EntityTypeBuilder<ChatOneTimePreKey> builder)
    {
        builder.ToTable("ChatOneTimePreKeys");
        builder.HasKey(x => new { x.AccountId, x.DeviceId, x.KeyId });
        builder.Property(x => x.PublicKey).HasMaxLength(33);
        builder.HasIndex(x => x.ClaimedAt);
    }
}

internal sealed class ChatMailboxEntryConfiguration : IEntityTypeConfiguration<ChatMailboxEntry>
{
    public void Configure(EntityTypeBuilder<ChatMailboxEntry> builder)
    {
        builder.ToTable("ChatMailbox");
        builder.HasKey(x => x.Id);
        builder.HasIndex(x => new { x.AccountId, x.DeviceId, x.Sequence }).IsUnique();
        builder.HasIndex(x => new { x.AccountId, x.DeviceId, x.MessageId }).IsUnique();
        builder.HasIndex(x => x.CreatedAt);
        builder.HasEncryptedColumn(x => x.Body);
    }
}

internal sealed class ChatConversationConfiguration : IEntityTypeConfiguration<ChatConversation>
{
    public void Configure(EntityTypeBuilder<ChatConversation> builder)
    {
        builder.ToTable("ChatConversations");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.PairHash).HasMaxLength(34);
        builder.HasIndex(x => x.PairHash).IsUnique();
        builder.HasIndex(x => new { x.Hashed, x.LastActivityAt });
    }
}

internal sealed class ChatAuditEntryConfiguration : IEntityTypeConfiguration<ChatAuditEntry>
{
    public void Configure(EntityTypeBuilder<ChatAuditEntry> builder)
    {
        builder.ToTable("ChatAudit");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Event).HasMaxLength(40);
        builder.HasIndex(x => x.AccountId);
        builder.HasIndex(x => x.At);
    }
}
