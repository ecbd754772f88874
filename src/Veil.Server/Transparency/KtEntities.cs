using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Veil.Server.Transparency;

/// <summary>
/// One leaf of the key transparency log: a key event (Veil.Crypto.Transparency.KeyEvent bytes) written in the
/// transaction of the change it records. <see cref="LeafIndex"/> is null until the sequencer puts it in the tree.
/// </summary>
internal sealed class KtEntry
{
    public const int MaxSubjectLength = 80;

    public long Id { get; init; }

    /// <summary>Whose keys (<c>chat:&lt;uuid&gt;</c>, <c>mail:&lt;hex&gt;</c>): what lookups find entries by.</summary>
    public required string Subject { get; init; }

    /// <summary>The leaf bytes, public by design: they are served in the log's entry tiles.</summary>
    public required byte[] Body { get; init; }

    public long? LeafIndex { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>The log's one head row: its size, root, right frontier and the signed checkpoint of that size.</summary>
internal sealed class KtLogHead
{
    public const int SingleId = 1;
    public const int MaxOriginLength = 200;

    public int Id { get; init; } = SingleId;

    /// <summary>The checkpoint origin, fixed when the log is created (clients pin it with the log's key).</summary>
    public required string Origin { get; init; }

    public long Size { get; set; }

    public required byte[] RootHash { get; set; }

    /// <summary>The right frontier's hashes, 32 bytes each, largest subtree first (MerkleFrontier.Hashes).</summary>
    public required byte[] Frontier { get; set; }

    /// <summary>The signed checkpoint note of <see cref="Size"/>, as served at <c>GET /kt/checkpoint</c>.</summary>
    public required string Checkpoint { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// The size of the published checkpoint: the latest one a quorum of witnesses cosigned (the latest signed one when
    /// the log has no witnesses). Lookups prove against it; entries past it are shown as pending.
    /// </summary>
    public long PublishedSize { get; set; }

    /// <summary>The published checkpoint note with the log's signature and the witnesses' cosignatures; null until the first one.</summary>
    public string? PublishedCheckpoint { get; set; }
}

internal sealed class KtEntryConfiguration : IEntityTypeConfiguration<KtEntry>
{
    public void Configure(EntityTypeBuilder<KtEntry> builder)
    {
        builder.ToTable("KtEntries");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedOnAdd();
        builder.Property(x => x.Subject).HasMaxLength(KtEntry.MaxSubjectLength).IsRequired();
        builder.Property(x => x.Body).IsRequired();
        builder.HasIndex(x => x.LeafIndex).IsUnique(); // null (pending) is allowed many times on both providers
        builder.HasIndex(x => new { x.Subject, x.LeafIndex });
    }
}

internal sealed class KtLogHeadConfiguration : IEntityTypeConfiguration<KtLogHead>
{
    public void Configure(EntityTypeBuilder<KtLogHead> builder)
    {
        builder.ToTable("KtLogHead");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.Property(x => x.Origin).HasMaxLength(KtLogHead.MaxOriginLength).IsRequired();
        builder.Property(x => x.RootHash).HasMaxLength(32).IsRequired();
        builder.Property(x => x.Frontier).IsRequired();
        builder.Property(x => x.Checkpoint).IsRequired();
    }
}
