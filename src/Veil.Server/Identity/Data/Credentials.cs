using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Identity.Data;

/// <summary>A pending second-factor step of a sign-in. Only the token's SHA-256 is stored.</summary>
internal sealed class TwoFactorChallenge
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    public byte[] TokenHash { get; set; } = [];

    public string? Label { get; set; }

    public bool BodyTransport { get; set; }

    public int FailedAttempts { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>One unused TOTP backup code (SHA-256 of the normalised code; ~95 bits, so unkeyed is enough). Deleted when used.</summary>
internal sealed class BackupCode
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    public byte[] Hash { get; set; } = [];
}

/// <summary>One unused recovery code: HMAC fingerprint under a subkey of the <c>recovery</c> key (with its version). Deleted when used.</summary>
internal sealed class RecoveryCode
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    public byte[] Fingerprint { get; set; } = [];
}

/// <summary>An API key: only the SHA-256 of <c>ak_…</c> is stored.</summary>
internal sealed class ApiKey
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    public string Name { get; set; } = "";

    public byte[] KeyHash { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }
}

internal sealed class TwoFactorChallengeConfiguration : IEntityTypeConfiguration<TwoFactorChallenge>
{
    public void Configure(EntityTypeBuilder<TwoFactorChallenge> builder)
    {
        builder.ToTable("IdentityTwoFactorChallenges");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasIndex(x => x.TokenHash).IsUnique();
        builder.HasEncryptedColumn(x => x.Label);
        builder.HasOne<Account>().WithMany().HasForeignKey(x => x.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class BackupCodeConfiguration : IEntityTypeConfiguration<BackupCode>
{
    public void Configure(EntityTypeBuilder<BackupCode> builder)
    {
        builder.ToTable("IdentityBackupCodes");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasIndex(x => new { x.AccountId, x.Hash });
        builder.HasOne<Account>().WithMany().HasForeignKey(x => x.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RecoveryCodeConfiguration : IEntityTypeConfiguration<RecoveryCode>
{
    public void Configure(EntityTypeBuilder<RecoveryCode> builder)
    {
        builder.ToTable("IdentityRecoveryCodes");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasIndex(x => new { x.AccountId, x.Fingerprint });
        builder.HasOne<Account>().WithMany().HasForeignKey(x => x.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("IdentityApiKeys");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasEncryptedColumn(x => x.Name);
        builder.HasIndex(x => x.KeyHash).IsUnique();
        builder.HasIndex(x => x.AccountId);
        builder.HasOne<Account>().WithMany().HasForeignKey(x => x.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
