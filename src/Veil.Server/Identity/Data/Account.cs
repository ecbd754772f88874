using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Identity.Data;

/// <summary>
/// A verified account. It only exists once its primary email was proved by a link (a registration
/// waits as an <see cref="EmailToken"/>), so there is no "unverified account" state to attack.
/// Emails, the password verifier and the wrapped user key are field-encrypted; emails are found by
/// blind index only.
/// </summary>
internal sealed class Account
{
    public Guid Id { get; set; }

    public string Email { get; set; } = "";

    public byte[]? EmailIndex { get; set; }

    public string? RecoveryEmail { get; set; }

    public byte[]? RecoveryEmailIndex { get; set; }

    public bool RecoveryEmailVerified { get; set; }

    public int KdfMemoryKiB { get; set; }

    public int KdfIterations { get; set; }

    public int KdfParallelism { get; set; }

    public byte[] KdfSalt { get; set; } = [];

    /// <summary>PHC string: Argon2id of the client's auth token. Encrypted at rest as well (a database thief cannot even start guessing).</summary>
    public string AuthHash { get; set; } = "";

    /// <summary>The client's user key wrapped by its <c>enc</c> key: opaque to the server.</summary>
    public string ProtectedUserKey { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public int FailedSignIns { get; set; }

    public DateTimeOffset? LockedUntil { get; set; }

    public byte[]? TotpSecret { get; set; }

    public byte[]? PendingTotpSecret { get; set; }

    /// <summary>The TOTP time step of the last accepted code: a code of that step or earlier is refused.</summary>
    public long? TotpLastStep { get; set; }

    /// <summary>The operator-assigned plan (Platform/Plans); null: the <c>default</c> plan or the global limits.</summary>
    public string? Plan { get; set; }

    public bool TwoFactorEnabled => TotpSecret is not null;

    public bool IsLockedAt(DateTimeOffset now) => LockedUntil is { } until && until > now;

    public void SetCredentials(AccountCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        KdfMemoryKiB = credentials.MemoryKiB;
        KdfIterations = credentials.Iterations;
        KdfParallelism = credentials.Parallelism;
        KdfSalt = credentials.Salt;
        AuthHash = credentials.AuthHash;
        ProtectedUserKey = credentials.ProtectedUserKey;
    }
}

/// <summary>What a registration, password change or email change sets, kept together (also as JSON in pending links).</summary>
internal sealed record AccountCredentials(int MemoryKiB, int Iterations, int Parallelism, byte[] Salt, string AuthHash, string ProtectedUserKey);

internal sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public const string EmailPurpose = "account-email";
    public const string RecoveryEmailPurpose = "account-recovery-email";

    public void Configure(EntityTypeBuilder<Account> builder)
    {
        builder.ToTable("Accounts");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasEncryptedColumn(x => x.Email);
        builder.HasBlindIndex(x => x.Email, x => x.EmailIndex, EmailPurpose, BlindIndexNormalization.TrimLowercase).IsUnique();
        builder.HasEncryptedColumn(x => x.RecoveryEmail);
        builder.HasBlindIndex(x => x.RecoveryEmail, x => x.RecoveryEmailIndex, RecoveryEmailPurpose, BlindIndexNormalization.TrimLowercase);
        builder.Property(x => x.KdfSalt).IsRequired();
        builder.HasEncryptedColumn(x => x.AuthHash);
        builder.HasEncryptedColumn(x => x.ProtectedUserKey);
        builder.HasEncryptedColumn(x => x.TotpSecret);
        builder.HasEncryptedColumn(x => x.PendingTotpSecret);
        builder.Property(x => x.Plan).HasMaxLength(32);
        builder.Ignore(x => x.TwoFactorEnabled);
    }
}
