using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Identity.Data;

/// <summary>
/// A single-use token sent by mail: a magic link, a registration, a recovery-email or email-change
/// verification. Only the SHA-256 of the 32 random bytes is stored; the address it was sent to and
/// any pending change (JSON) are field-encrypted.
/// </summary>
internal sealed class EmailToken
{
    public Guid Id { get; set; }

    /// <summary>Null for a registration: the account does not exist until the link is used.</summary>
    public Guid? AccountId { get; set; }

    public string Purpose { get; set; } = "";

    public byte[] TokenHash { get; set; } = [];

    public string? Email { get; set; }

    public byte[]? EmailIndex { get; set; }

    public string? Payload { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}

internal static class EmailTokenPurposes
{
    public const string MagicLink = "magic-link";
    public const string Registration = "registration";
    public const string RecoveryEmail = "recovery-email";
    public const string EmailChange = "email-change";
}

internal sealed class EmailTokenConfiguration : IEntityTypeConfiguration<EmailToken>
{
    public void Configure(EntityTypeBuilder<EmailToken> builder)
    {
        builder.ToTable("IdentityEmailTokens");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.Property(x => x.Purpose).HasMaxLength(32).IsRequired();
        builder.HasIndex(x => x.TokenHash).IsUnique();
        builder.HasIndex(x => x.ExpiresAt);
        builder.HasEncryptedColumn(x => x.Email);
        builder.HasBlindIndex(x => x.Email, x => x.EmailIndex, "email-token-address", BlindIndexNormalization.TrimLowercase);
        builder.HasEncryptedColumn(x => x.Payload);
        builder.HasOne<Account>().WithMany().HasForeignKey(x => x.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
