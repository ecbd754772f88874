// The Vault tables. The server is an untrusted store: names, wrapped keys, item fields, file names
// and file keys are ciphertext strings ("CT", spec/vault.md) it only checks the form of. What it can
// read is limited to sizes, times, switch settings and — field-encrypted — recipient addresses.
// Delivery keys exist only sealed under a subkey of the `escrow` server key (environment only), so a
// database dump alone opens nothing. Claim links, codes and download tokens are stored as SHA-256.
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Vault;

/// <summary>One vault: its encrypted name and its vault key wrapped by the owner's user key.</summary>
internal sealed class VaultRecord
{
    public required string Id { get; init; }

    public Guid OwnerId { get; init; }

    public required string Name { get; init; }

    public required string WrappedKey { get; init; }

    /// <summary>Stored bytes the vault row itself counts against the quota (name + wrapped key).</summary>
    public long Size { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public static string BlobFolder(string vaultId) => "vault/" + vaultId;

    public static string FileBlobFolder(string vaultId, string fileId) => $"vault/{vaultId}/{fileId}";

    public static string FileBlobKey(string vaultId, string fileId) => $"vault/{vaultId}/{fileId}/content";
}

/// <summary>An item: every text is a CT; tags and fields are stored as JSON arrays of CTs.</summary>
internal sealed class VaultItem
{
    public required string Id { get; init; }

    public required string VaultId { get; init; }

    public required string Title { get; set; }

    public string? Notes { get; set; }

    /// <summary>JSON array of CT strings.</summary>
    public required string Tags { get; set; }

    /// <summary>JSON array of {label, value} CT pairs.</summary>
    public required string Fields { get; set; }

    public int Revision { get; set; }

    /// <summary>Sum of the CT lengths (the quota's unit for items).</summary>
    public long Size { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A file: its ciphertext lives in the blob store; name and key are CTs.</summary>
internal sealed class VaultFile
{
    public required string Id { get; init; }

    public required string VaultId { get; init; }

    public required string ItemId { get; init; }

    public required string Name { get; init; }

    public required string Key { get; init; }

    /// <summary>Ciphertext bytes of the content blob.</summary>
    public long Size { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>What the file counts against the quota: content bytes plus its name and key CTs.</summary>
    public long QuotaBytes => Size + Name.Length + Key.Length;
}

internal enum VaultSwitchState
{
    Armed,
    Grace,
    Paused,
    Released,
}

/// <summary>
/// A vault's dead man's switch. <see cref="NextActionAt"/> is the only column the scheduler queries
/// (indexed): the next reminder or the release, null when nothing is scheduled (paused, released).
/// </summary>
internal sealed class VaultSwitch
{
    public required string VaultId { get; init; }

    public VaultSwitchState State { get; set; }

    public int IntervalSeconds { get; set; }

    public int GraceSeconds { get; set; }

    public DateTimeOffset LastCheckInAt { get; set; }

    /// <summary>Bumped by every check-in, re-arm and resume: check-in links carry it, so older links stop working.</summary>
    public long Generation { get; set; }

    /// <summary>How many of this generation's reminders went out (see <see cref="VaultSchedule"/>).</summary>
    public int RemindersSent { get; set; }

    public DateTimeOffset? NextActionAt { get; set; }

    public DateTimeOffset? ReleasedAt { get; set; }

    /// <summary>Optimistic concurrency: the scheduler and a check-in racing on one switch cannot both win.</summary>
    public int Version { get; set; }

    public DateTimeOffset Deadline => LastCheckInAt.AddSeconds(IntervalSeconds);

    public DateTimeOffset ReleaseAt => Deadline.AddSeconds(GraceSeconds);

    /// <summary>Arms the switch from <paramref name="now"/>: a new generation, no reminder sent.</summary>
    public void Arm(DateTimeOffset now)
    {
        State = VaultSwitchState.Armed;
        LastCheckInAt = now;
        Generation++;
        RemindersSent = 0;
        ReleasedAt = null;
        NextActionAt = VaultSchedule.NextAction(this);
        Version++;
    }

    public void Pause()
    {
        State = VaultSwitchState.Paused;
        NextActionAt = null;
        Version++;
    }

    public void RecordReminder(int sentCount)
    {
        State = VaultSwitchState.Grace;
        RemindersSent = sentCount;
        NextActionAt = VaultSchedule.NextAction(this);
        Version++;
    }

    public void Release(DateTimeOffset now)
    {
        State = VaultSwitchState.Released;
        ReleasedAt = now;
        NextActionAt = null;
        Version++;
    }
}

internal enum VaultRecipientState
{
    Waiting,
    Notified,
    Claimed,
    Locked,
}

/// <summary>A recipient: address (field-encrypted), the client's escrow CT and the sealed delivery key.</summary>
internal sealed class VaultRecipient
{
    public required string Id { get; init; }

    public required string VaultId { get; init; }

    /// <summary>Field-encrypted at rest (HasEncryptedColumn).</summary>
    public required string Email { get; set; }

    /// <summary>The vault key wrapped by the delivery key (client-made CT).</summary>
    public required string Escrow { get; init; }

    /// <summary>escrow key version (2 bytes BE) || nonce12 || AES-256-GCM(delivery key); null once delivered.</summary>
    public byte[]? SealedDeliveryKey { get; set; }

    public VaultRecipientState State { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? NotifiedAt { get; set; }

    public DateTimeOffset? ClaimedAt { get; set; }
}

/// <summary>
/// A claim link (a release link for a recipient, or a rehearsal link for the owner). Only the SHA-256
/// of the token is kept; the code likewise. Attempts count wrong codes over the link's whole life.
/// </summary>
internal sealed class VaultClaimLink
{
    /// <summary>SHA-256 of the 64 token bytes.</summary>
    public required byte[] Digest { get; init; }

    public required string VaultId { get; init; }

    /// <summary>The recipient id, or for a rehearsal the random id in the token.</summary>
    public required string SubjectId { get; init; }

    public bool Rehearsal { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public byte[]? CodeDigest { get; set; }

    public DateTimeOffset? CodeExpiresAt { get; set; }

    /// <summary>Codes sent in the current window (per-link rate limit).</summary>
    public int CodesSent { get; set; }

    public DateTimeOffset? CodeWindowStart { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset? UsedAt { get; set; }

    public DateTimeOffset? LockedAt { get; set; }

    /// <summary>SHA-256 of the download token handed out by the claim.</summary>
    public byte[]? DownloadDigest { get; set; }

    public DateTimeOffset? DownloadExpiresAt { get; set; }
}

internal sealed class VaultRecordConfiguration : IEntityTypeConfiguration<VaultRecord>
{
    public void Configure(EntityTypeBuilder<VaultRecord> builder)
    {
        builder.ToTable("Vaults");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(VaultFormat.IdLength);
        builder.Property(x => x.Name).IsRequired();
        builder.Property(x => x.WrappedKey).IsRequired();
        builder.HasIndex(x => x.OwnerId);
        builder.HasMany<VaultItem>().WithOne().HasForeignKey(x => x.VaultId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany<VaultFile>().WithOne().HasForeignKey(x => x.VaultId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<VaultSwitch>().WithOne().HasForeignKey<VaultSwitch>(x => x.VaultId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany<VaultRecipient>().WithOne().HasForeignKey(x => x.VaultId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany<VaultClaimLink>().WithOne().HasForeignKey(x => x.VaultId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class VaultItemConfiguration : IEntityTypeConfiguration<VaultItem>
{
    public void Configure(EntityTypeBuilder<VaultItem> builder)
    {
        builder.ToTable("VaultItems");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(VaultFormat.IdLength);
        builder.Property(x => x.VaultId).HasMaxLength(VaultFormat.IdLength);
        builder.Property(x => x.Title).IsRequired();
        builder.Property(x => x.Tags).IsRequired();
        builder.Property(x => x.Fields).IsRequired();
        builder.HasIndex(x => new { x.VaultId, x.CreatedAt });
    }
}

internal sealed class VaultFileConfiguration : IEntityTypeConfiguration<VaultFile>
{
    public void Configure(EntityTypeBuilder<VaultFile> builder)
    {
        builder.ToTable("VaultFiles");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(VaultFormat.IdLength);
        builder.Property(x => x.VaultId).HasMaxLength(VaultFormat.IdLength);
        builder.Property(x => x.ItemId).HasMaxLength(VaultFormat.IdLength);
        builder.Property(x => x.Name).IsRequired();
        builder.Property(x => x.Key).IsRequired();
        builder.Ignore(x => x.QuotaBytes);
        builder.HasIndex(x => x.VaultId);
        builder.HasIndex(x => x.ItemId);
    }
}

internal sealed class VaultSwitchConfiguration : IEntityTypeConfiguration<VaultSwitch>
{
    public void Configure(EntityTypeBuilder<VaultSwitch> builder)
    {
        builder.ToTable("VaultSwitches");
        builder.HasKey(x => x.VaultId);
        builder.Property(x => x.VaultId).HasMaxLength(VaultFormat.IdLength);
        builder.Property(x => x.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(x => x.Version).IsConcurrencyToken();
        builder.Ignore(x => x.Deadline);
        builder.Ignore(x => x.ReleaseAt);
        // The scheduler's only access path: due work is a range scan of this index, never a table scan.
        builder.HasIndex(x => x.NextActionAt);
    }
}

internal sealed class VaultRecipientConfiguration : IEntityTypeConfiguration<VaultRecipient>
{
    public void Configure(EntityTypeBuilder<VaultRecipient> builder)
    {
        builder.ToTable("VaultRecipients");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(VaultFormat.IdLength);
        builder.Property(x => x.VaultId).HasMaxLength(VaultFormat.IdLength);
        builder.HasEncryptedColumn(x => x.Email);
        builder.Property(x => x.Escrow).IsRequired();
        builder.Property(x => x.SealedDeliveryKey).HasMaxLength(VaultSecrets.SealedDeliveryKeyLength);
        builder.Property(x => x.State).HasConversion<string>().HasMaxLength(16);
        builder.HasIndex(x => x.VaultId);
    }
}

internal sealed class VaultClaimLinkConfiguration : IEntityTypeConfiguration<VaultClaimLink>
{
    public void Configure(EntityTypeBuilder<VaultClaimLink> builder)
    {
        builder.ToTable("VaultClaimLinks");
        builder.HasKey(x => x.Digest);
        builder.Property(x => x.Digest).HasMaxLength(32);
        builder.Property(x => x.VaultId).HasMaxLength(VaultFormat.IdLength);
        builder.Property(x => x.SubjectId).HasMaxLength(VaultFormat.IdLength);
        builder.Property(x => x.CodeDigest).HasMaxLength(32);
        builder.Property(x => x.DownloadDigest).HasMaxLength(32);
        builder.HasIndex(x => x.VaultId);
        builder.HasIndex(x => x.SubjectId);
        builder.HasIndex(x => x.DownloadDigest);
    }
}
