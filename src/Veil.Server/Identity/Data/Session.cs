using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Identity.Data;

/// <summary>
/// A signed-in device: one refresh-token family. Revoking it deletes it and its refresh tokens, and
/// access tokens naming it stop working on the next request. No IP address is stored.
/// </summary>
internal sealed class Session
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    /// <summary>The client's label ("veil-cli on laptop"); encrypted, it can name a person's device.</summary>
    public string? Label { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LastUsedAt { get; set; }

    /// <summary>The last password, magic-link, 2FA or step-up authentication (the JWT's auth_time).</summary>
    public DateTimeOffset AuthTime { get; set; }
}

/// <summary>One refresh token of a session. Rotated on use: <see cref="RotatedAt"/> set, a successor issued.</summary>
internal sealed class RefreshToken
{
    public Guid Id { get; set; }

    public Guid SessionId { get; set; }

    public byte[] TokenHash { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? RotatedAt { get; set; }
}

internal sealed class SessionConfiguration : IEntityTypeConfiguration<Session>
{
    public void Configure(EntityTypeBuilder<Session> builder)
    {
        builder.ToTable("IdentitySessions");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasEncryptedColumn(x => x.Label);
        builder.HasIndex(x => x.AccountId);
        builder.HasOne<Account>().WithMany().HasForeignKey(x => x.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public void Configure(EntityTypeBuilder<RefreshToken> builder)
    {
        builder.ToTable("IdentityRefreshTokens");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasIndex(x => x.TokenHash).IsUnique();
        builder.HasIndex(x => x.SessionId);
        builder.HasOne<Session>().WithMany().HasForeignKey(x => x.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}
