using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Crypto.Keys;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Tests.Persistence;

/// <summary>The real model plus test-only entities, declared through the same seam modules use.</summary>
public sealed class TestVeilDbContext(DbContextOptions<TestVeilDbContext> options, Keyring keyring, TimeProvider clock)
    : VeilDbContext(options, keyring, clock)
{
    public DbSet<SecretNote> SecretNotes => Set<SecretNote>();

    public DbSet<NumberedSecret> NumberedSecrets => Set<NumberedSecret>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.ApplyConfiguration(new SecretNoteConfiguration());
        modelBuilder.Entity<NumberedSecret>(builder =>
        {
            builder.ToTable("NumberedSecrets");
            builder.HasEncryptedColumn(x => x.Secret);
        });
    }
}

/// <summary>A row with an encrypted string (blind-indexed), an encrypted byte[] and a plain label.</summary>
public sealed class SecretNote
{
    public Guid Id { get; private set; } = Guid.NewGuid();

    /// <summary>Stored in clear: addresses rows in raw SQL, and is the positive control of the canary scans.</summary>
    public required string Label { get; set; }

    public required string Email { get; set; }

    public byte[]? Attachment { get; set; }

    public byte[]? EmailIndex { get; private set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class SecretNoteConfiguration : IEntityTypeConfiguration<SecretNote>
{
    public void Configure(EntityTypeBuilder<SecretNote> builder)
    {
        builder.ToTable("SecretNotes");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasIndex(x => x.Label).IsUnique();
        builder.HasEncryptedColumn(x => x.Email);
        builder.HasEncryptedColumn(x => x.Attachment);
        builder.HasBlindIndex(x => x.Email, x => x.EmailIndex, "test-email", BlindIndexNormalization.TrimLowercase);
    }
}

/// <summary>A misuse: an encrypted column on a row whose key the database generates.</summary>
public sealed class NumberedSecret
{
    public int Id { get; set; }

    public required string Secret { get; set; }
}
