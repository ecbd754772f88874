// The Alias tables. Every address (alias, recipient mailbox, contact, reverse address), note and label
// is a field envelope; SMTP finds rows only through blind indexes. Which mailboxes an alias forwards to
// is an encrypted list inside the alias row, not a join table: a database dump shows neither the
// addresses nor which recipient row an alias points at. Counters, times and reason codes are clear.
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Alias;

/// <summary>A user's real mailbox. Mail is forwarded to it only once its owner clicked the emailed link.</summary>
internal sealed class AliasRecipient
{
    public Guid Id { get; init; }

    public Guid AccountId { get; init; }

    /// <summary>Lowercase address (field-encrypted).</summary>
    public string Email { get; set; } = "";

    public byte[]? EmailIndex { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? VerifiedAt { get; set; }

    /// <summary>SHA-256 of the pending verification token; null once verified.</summary>
    public byte[]? VerifyTokenHash { get; set; }

    public DateTimeOffset? VerifyTokenExpiresAt { get; set; }

    public DateTimeOffset? PausedAt { get; set; }

    public string? PausedReason { get; set; }

    /// <summary>
    /// The mailbox owner's OpenPGP public key, armored (field-encrypted: its user IDs name the person), or null.
    /// When set, every copy forwarded to this mailbox is PGP/MIME encrypted to it.
    /// </summary>
    public string? PgpPublicKey { get; set; }

    /// <summary>SHA-256 fingerprint of the key's primary packet (spec/openpgp.md), 64 hex digits, or null.</summary>
    public string? PgpFingerprint { get; set; }

    public bool Verified => VerifiedAt is not null;

    public bool Deliverable => VerifiedAt is not null && PausedAt is null;

    public void Pause(string reason, DateTimeOffset now)
    {
        PausedAt = now;
        PausedReason = reason;
    }

    public void Resume()
    {
        PausedAt = null;
        PausedReason = null;
    }
}

/// <summary>One alias address and what happens to its mail.</summary>
internal sealed class AliasRecord
{
    public Guid Id { get; init; }

    public Guid AccountId { get; init; }

    /// <summary>Lowercase <c>local@domain</c> (field-encrypted).</summary>
    public string Address { get; set; } = "";

    public byte[]? AddressIndex { get; set; }

    /// <summary>The alias domain in clear: the operator's own domain, needed to sign and to list per domain.</summary>
    public string Domain { get; set; } = "";

    public string? Note { get; set; }

    public string? Label { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary><c>reject</c> or <c>discard</c>.</summary>
    public string DisabledAction { get; set; } = AliasDisabledActions.Reject;

    /// <summary>JSON array of recipient ids (field-encrypted, so a dump does not link aliases to mailboxes).</summary>
    public string RecipientIdsJson { get; set; } = "[]";

    public bool CreatedByCatchAll { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public long Received { get; set; }

    public long Forwarded { get; set; }

    public long Blocked { get; set; }

    public long Replied { get; set; }

    public long Bounced { get; set; }

    public DateTimeOffset? LastEmailAt { get; set; }

    public IReadOnlyList<Guid> RecipientIds
    {
        get => JsonSerializer.Deserialize<List<Guid>>(RecipientIdsJson) ?? [];
        set => RecipientIdsJson = JsonSerializer.Serialize(value.Distinct().ToList());
    }
}

internal static class AliasDisabledActions
{
    public const string Reject = "reject";
    public const string Discard = "discard";
}

/// <summary>One (alias, correspondent) pair with its own reverse address.</summary>
internal sealed class AliasContact
{
    public Guid Id { get; init; }

    public Guid AliasId { get; init; }

    public Guid AccountId { get; init; }

    /// <summary>The correspondent's address, lowercase (field-encrypted).</summary>
    public string Address { get; set; } = "";

    /// <summary>Blind index of <see cref="PairKey"/>: finds the contact of (alias, sender) without decrypting.</summary>
    public byte[]? PairIndex { get; set; }

    /// <summary><c>ra.&lt;random&gt;@&lt;alias domain&gt;</c> (field-encrypted).</summary>
    public string ReverseAddress { get; set; } = "";

    public byte[]? ReverseAddressIndex { get; set; }

    public bool IsBlocked { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public long Forwarded { get; set; }

    public long BlockedCount { get; set; }

    public long Replied { get; set; }

    public DateTimeOffset? LastEmailAt { get; set; }

    /// <summary>Not stored: the blind-index source for <see cref="PairIndex"/>.</summary>
    public string PairKey => PairKeyOf(AliasId, Address);

    public static string PairKeyOf(Guid aliasId, string address) => aliasId.ToString("N") + "|" + address;
}

/// <summary>An address that existed once (a deleted alias or a revoked reverse address): only its blind index, forever.</summary>
internal sealed class AliasTombstone
{
    public Guid Id { get; init; }

    /// <summary>Not stored: the blind-index source.</summary>
    public string? Address { get; set; }

    public byte[]? AddressIndex { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>One routing event: no content, no address; purged after the retention period.</summary>
internal sealed class AliasLogEntry
{
    public Guid Id { get; init; }

    public Guid AccountId { get; init; }

    public Guid? AliasId { get; init; }

    public DateTimeOffset At { get; init; }

    public string Event { get; init; } = "";

    public string? Reason { get; init; }
}

/// <summary>A bounce reported for a recipient mailbox (the destination), for the hard-bounce threshold.</summary>
internal sealed class AliasBounce
{
    public Guid Id { get; init; }

    public Guid RecipientId { get; init; }

    public DateTimeOffset At { get; init; }

    public bool Hard { get; init; }

    /// <summary>The DSN status code (e.g. <c>5.1.1</c>): a code, never the diagnostic text.</summary>
    public string Status { get; init; } = "";
}

/// <summary>What one account did on one UTC day, for the daily limits.</summary>
internal sealed class AliasDailyUsage
{
    public Guid AccountId { get; init; }

    /// <summary><c>yyyy-MM-dd</c> (UTC).</summary>
    public string Day { get; init; } = "";

    public int Created { get; set; }

    public int Forwarded { get; set; }
}

/// <summary>
/// Marks one (spooled message, envelope recipient) as handled, so a redelivery after a crash does not count
/// twice. The key is a hash of the spool id and the recipient's position: it says nothing about the message.
/// </summary>
internal sealed class AliasHandledMessage
{
    public string Key { get; init; } = "";

    public DateTimeOffset At { get; init; }
}

internal static class AliasBlindIndexPurposes
{
    public const string Alias = "alias-address";
    public const string Recipient = "alias-recipient-email";
    public const string ContactPair = "alias-contact-pair";
    public const string Reverse = "alias-reverse-address";
    public const string Tombstone = "alias-tombstone";
}

internal sealed class AliasRecipientConfiguration : IEntityTypeConfiguration<AliasRecipient>
{
    public void Configure(EntityTypeBuilder<AliasRecipient> builder)
    {
        builder.ToTable("AliasRecipients");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasIndex(x => x.AccountId);
        builder.HasEncryptedColumn(x => x.Email);
        builder.HasBlindIndex(x => x.Email, x => x.EmailIndex, AliasBlindIndexPurposes.Recipient, BlindIndexNormalization.TrimLowercase);
        builder.HasIndex(x => x.VerifyTokenHash).IsUnique();
        builder.Property(x => x.PausedReason).HasMaxLength(32);
        builder.HasEncryptedColumn(x => x.PgpPublicKey);
        builder.Property(x => x.PgpFingerprint).HasMaxLength(64);
        builder.Ignore(x => x.Verified);
        builder.Ignore(x => x.Deliverable);
    }
}

internal sealed class AliasRecordConfiguration : IEntityTypeConfiguration<AliasRecord>
{
    public void Configure(EntityTypeBuilder<AliasRecord> builder)
    {
        builder.ToTable("Aliases");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasIndex(x => x.AccountId);
        builder.HasEncryptedColumn(x => x.Address);
        builder.HasBlindIndex(x => x.Address, x => x.AddressIndex, AliasBlindIndexPurposes.Alias, BlindIndexNormalization.TrimLowercase).IsUnique();
        builder.Property(x => x.Domain).HasMaxLength(253).IsRequired();
        builder.HasEncryptedColumn(x => x.Note);
        builder.HasEncryptedColumn(x => x.Label);
        builder.HasEncryptedColumn(x => x.RecipientIdsJson);
        builder.Property(x => x.DisabledAction).HasMaxLength(16).IsRequired();
        builder.Ignore(x => x.RecipientIds);
    }
}

internal sealed class AliasContactConfiguration : IEntityTypeConfiguration<AliasContact>
{
    public void Configure(EntityTypeBuilder<AliasContact> builder)
    {
        builder.ToTable("AliasContacts");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasIndex(x => x.AliasId);
        builder.HasIndex(x => x.AccountId);
        builder.HasOne<AliasRecord>().WithMany().HasForeignKey(x => x.AliasId).OnDelete(DeleteBehavior.Cascade);
        builder.HasEncryptedColumn(x => x.Address);
        builder.HasEncryptedColumn(x => x.ReverseAddress);
        builder.HasBlindIndex(x => x.PairKey, x => x.PairIndex, AliasBlindIndexPurposes.ContactPair, BlindIndexNormalization.TrimLowercase);
        builder.HasBlindIndex(x => x.ReverseAddress, x => x.ReverseAddressIndex, AliasBlindIndexPurposes.Reverse, BlindIndexNormalization.TrimLowercase).IsUnique();
        builder.Ignore(x => x.PairKey);
    }
}

internal sealed class AliasTombstoneConfiguration : IEntityTypeConfiguration<AliasTombstone>
{
    public void Configure(EntityTypeBuilder<AliasTombstone> builder)
    {
        builder.ToTable("AliasTombstones");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.Ignore(x => x.Address);
        builder.HasBlindIndex(x => x.Address, x => x.AddressIndex, AliasBlindIndexPurposes.Tombstone, BlindIndexNormalization.TrimLowercase);
    }
}

internal sealed class AliasLogEntryConfiguration : IEntityTypeConfiguration<AliasLogEntry>
{
    public void Configure(EntityTypeBuilder<AliasLogEntry> builder)
    {
        builder.ToTable("AliasLog");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasIndex(x => new { x.AccountId, x.At });
        builder.HasIndex(x => x.At);
        builder.Property(x => x.Event).HasMaxLength(16).IsRequired();
        builder.Property(x => x.Reason).HasMaxLength(32);
    }
}

internal sealed class AliasBounceConfiguration : IEntityTypeConfiguration<AliasBounce>
{
    public void Configure(EntityTypeBuilder<AliasBounce> builder)
    {
        builder.ToTable("AliasBounces");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasIndex(x => new { x.RecipientId, x.At });
        builder.HasOne<AliasRecipient>().WithMany().HasForeignKey(x => x.RecipientId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(x => x.Status).HasMaxLength(16).IsRequired();
    }
}

internal sealed class AliasDailyUsageConfiguration : IEntityTypeConfiguration<AliasDailyUsage>
{
    public void Configure(EntityTypeBuilder<AliasDailyUsage> builder)
    {
        builder.ToTable("AliasDailyUsage");
        builder.HasKey(x => new { x.AccountId, x.Day });
        builder.Property(x => x.Day).HasMaxLength(10);
    }
}

internal sealed class AliasHandledMessageConfiguration : IEntityTypeConfiguration<AliasHandledMessage>
{
    public void Configure(EntityTypeBuilder<AliasHandledMessage> builder)
    {
        builder.ToTable("AliasHandledMessages");
        builder.HasKey(x => x.Key);
        builder.Property(x => x.Key).HasMaxLength(64);
        builder.HasIndex(x => x.At);
    }
}
