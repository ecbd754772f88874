// The Drop tables. The server stores only what it needs to relay ciphertext: sizes, limits, times,
// the SHA-256 of the owner token, and opaque bytes it cannot open (the metadata ciphertext, the
// password salt and wrapped key). It never has the drop key, the file name or any plaintext.
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Drop;

/// <summary>One drop: its upload, limits and lifecycle.</summary>
internal sealed class DropRecord
{
    public const int IdLength = 22;
    public const int OwnerKeyMaxLength = 220;

    public required string Id { get; init; }

    /// <summary>SHA-256 of the owner token (the token itself is shown once and never stored).</summary>
    public required byte[] OwnerTokenHash { get; init; }

    /// <summary>The signed-in creator (<c>sub</c>), or null for an anonymous drop.</summary>
    public string? OwnerUserId { get; init; }

    /// <summary>Whom quotas and strikes count against: <c>u:&lt;sub&gt;</c> or <c>ip:&lt;peppered hash&gt;</c>.</summary>
    public required string OwnerKey { get; init; }

    public long ContentSize { get; init; }

    public int PartSize { get; init; }

    public int PartCount { get; init; }

    /// <summary>The metadata ciphertext (name, type, size — encrypted by the client; opaque here).</summary>
    public byte[]? Metadata { get; set; }

    public byte[]? PasswordSalt { get; init; }

    public byte[]? WrappedKey { get; init; }

    /// <summary>
    /// The drop's metadata key wrapped under the signed-in creator's user key (spec/drop.md §8), so the owner's
    /// clients can read the name back; null for anonymous drops and for drops sent before it existed. Opaque here.
    /// </summary>
    public string? OwnerNameKey { get; init; }

    public int ExpiresInSeconds { get; set; }

    /// <summary>Null until finalized: the expiry clock starts when the drop goes live.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    public int? MaxDownloads { get; set; }

    public int Downloads { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Last part or metadata upload; an unfinalized drop idle for 24 h is abandoned.</summary>
    public DateTimeOffset LastActivityAt { get; set; }

    public DateTimeOffset? FinalizedAt { get; set; }

    public DateTimeOffset? TakenDownAt { get; set; }

    /// <summary>When its blobs were removed (expired, exhausted, taken down); the row stays a while so links say why.</summary>
    public DateTimeOffset? PurgedAt { get; set; }

    public DropState StateAt(DateTimeOffset now) =>
        TakenDownAt is not null ? DropState.TakenDown
        : FinalizedAt is null ? DropState.Uploading
        : ExpiresAt <= now ? DropState.Expired
        : MaxDownloads is { } max && Downloads >= max ? DropState.Exhausted
        : PurgedAt is not null ? DropState.Expired
        : DropState.Available;

    /// <summary>Goes live: the expiry clock starts now.</summary>
    public void GoLive(DateTimeOffset now)
    {
        FinalizedAt = now;
        ExpiresAt = now.AddSeconds(ExpiresInSeconds);
    }

    public static string BlobFolder(string id) => "drops/" + id;

    public static string PartKey(string id, int index) => $"drops/{id}/p{index:D6}";

    public long PartLength(int index) => index < PartCount - 1 ? PartSize : ContentSize - ((long)PartSize * (PartCount - 1));
}

internal enum DropState
{
    Uploading,
    Available,
    Expired,
    Exhausted,
    TakenDown,
}

/// <summary>A part that arrived completely (its blob is in the store).</summary>
internal sealed class DropPart
{
    public required string DropId { get; init; }

    public int Index { get; init; }

    public long Size { get; init; }
}

/// <summary>A download ticket: one counted download, any number of (range) requests until it expires.</summary>
internal sealed class DropTicket
{
    /// <summary>SHA-256 of the ticket.</summary>
    public required byte[] Hash { get; init; }

    public required string DropId { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }
}

internal enum DropReportStatus
{
    Open,
    Dismissed,
    TakenDown,
}

/// <summary>An abuse report. The reporter's IP is kept only as a peppered hash (for deduplication).</summary>
internal sealed class DropReport
{
    public required Guid Id { get; init; }

    /// <summary>No foreign key: a report outlives the drop (an owner deleting a drop does not erase reports against it).</summary>
    public required string DropId { get; init; }

    /// <summary>Copied from the drop, so a takedown strikes the owner even if the drop is gone.</summary>
    public required string OwnerKey { get; init; }

    public required byte[] TrackingTokenHash { get; init; }

    public required byte[] ReporterIpHash { get; init; }

    public required string Reason { get; init; }

    /// <summary>Free text from the reporter: field-encrypted (it may quote personal data).</summary>
    public string? Comment { get; init; }

    /// <summary><c>report</c> key version (2 bytes, big-endian) || sealed box of (report id || drop key).</summary>
    public byte[]? SealedKey { get; init; }

    public DropReportStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ResolvedAt { get; set; }
}

/// <summary>An owner's record: upheld reports (strikes) and whether it lost the upload capability.</summary>
internal sealed class DropOwnerStanding
{
    public required string OwnerKey { get; init; }

    public int Strikes { get; set; }

    /// <summary>Set when strikes reach the limit: the owner can no longer create drops (only this capability is removed).</summary>
    public DateTimeOffset? UploadBannedAt { get; set; }
}

internal sealed class DropRecordConfiguration : IEntityTypeConfiguration<DropRecord>
{
    public void Configure(EntityTypeBuilder<DropRecord> builder)
    {
        builder.ToTable("Drops");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(DropRecord.IdLength);
        builder.Property(x => x.OwnerTokenHash).HasMaxLength(32).IsRequired();
        builder.Property(x => x.OwnerUserId).HasMaxLength(200);
        builder.Property(x => x.OwnerKey).HasMaxLength(DropRecord.OwnerKeyMaxLength).IsRequired();
        builder.Property(x => x.Metadata).HasMaxLength(DropLimits.MaxMetadataBytes);
        builder.Property(x => x.PasswordSalt).HasMaxLength(DropLimits.PasswordSaltBytes);
        builder.Property(x => x.WrappedKey).HasMaxLength(DropLimits.MaxWrappedKeyBytes);
        builder.Property(x => x.OwnerNameKey).HasMaxLength(DropLimits.MaxOwnerNameKeyChars).IsUnicode(false);
        builder.HasIndex(x => x.OwnerKey);
        builder.HasIndex(x => x.ExpiresAt);
        builder.HasIndex(x => x.LastActivityAt);
        builder.HasMany<DropPart>().WithOne().HasForeignKey(x => x.DropId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany<DropTicket>().WithOne().HasForeignKey(x => x.DropId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DropPartConfiguration : IEntityTypeConfiguration<DropPart>
{
    public void Configure(EntityTypeBuilder<DropPart> builder)
    {
        builder.ToTable("DropParts");
        builder.HasKey(x => new { x.DropId, x.Index });
        builder.Property(x => x.DropId).HasMaxLength(DropRecord.IdLength);
    }
}

internal sealed class DropTicketConfiguration : IEntityTypeConfiguration<DropTicket>
{
    public void Configure(EntityTypeBuilder<DropTicket> builder)
    {
        builder.ToTable("DropTickets");
        builder.HasKey(x => x.Hash);
        builder.Property(x => x.Hash).HasMaxLength(32);
        builder.Property(x => x.DropId).HasMaxLength(DropRecord.IdLength);
        builder.HasIndex(x => x.DropId);
        builder.HasIndex(x => x.ExpiresAt);
    }
}

internal sealed class DropReportConfiguration : IEntityTypeConfiguration<DropReport>
{
    public void Configure(EntityTypeBuilder<DropReport> builder)
    {
        builder.ToTable("DropReports");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.DropId).HasMaxLength(DropRecord.IdLength);
        builder.Property(x => x.OwnerKey).HasMaxLength(DropRecord.OwnerKeyMaxLength);
        builder.Property(x => x.TrackingTokenHash).HasMaxLength(32);
        builder.Property(x => x.ReporterIpHash).HasMaxLength(32);
        builder.Property(x => x.Reason).HasMaxLength(20);
        builder.Property(x => x.SealedKey).HasMaxLength(128);
        builder.Property(x => x.Status).HasConversion<string>().HasMaxLength(20);
        builder.HasEncryptedColumn(x => x.Comment);
        builder.HasIndex(x => x.TrackingTokenHash).IsUnique();
        builder.HasIndex(x => new { x.DropId, x.ReporterIpHash });
        builder.HasIndex(x => new { x.Status, x.CreatedAt });
    }
}

internal sealed class DropOwnerStandingConfiguration : IEntityTypeConfiguration<DropOwnerStanding>
{
    public void Configure(EntityTypeBuilder<DropOwnerStanding> builder)
    {
        builder.ToTable("DropOwnerStandings");
        builder.HasKey(x => x.OwnerKey);
        builder.Property(x => x.OwnerKey).HasMaxLength(DropRecord.OwnerKeyMaxLength);
    }
}
