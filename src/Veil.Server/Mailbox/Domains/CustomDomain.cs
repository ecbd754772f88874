using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Mail.Dkim;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Mailbox.Domains;

/// <summary>
/// A user's own domain, claimed by an account and verified by DNS (ownership TXT, MX, SPF, DKIM, DMARC). Several
/// accounts may claim the same domain while unverified (so a squatter cannot block the real owner: only the owner
/// can publish their token); at most one account holds it verified. Veil generates the domain's DKIM key here rather
/// than in MailDkimKeys, because OutgoingDkim signs with every key of a domain found there and an unverified claim
/// must never sign anything. The private key is sealed with the keyring's field key, like DkimKey's.
/// </summary>
internal sealed class CustomDomain
{
    private CustomDomain()
    {
    }

    public Guid Id { get; private set; }

    public Guid AccountId { get; private set; }

    /// <summary>Lowercase ASCII (A-label), no trailing dot.</summary>
    public string Domain { get; private set; } = "";

    /// <summary>The value the owner publishes as <c>veil-verification=TOKEN</c>; public by design (it goes into DNS).</summary>
    public string VerificationToken { get; private set; } = "";

    public string DkimSelector { get; private set; } = "";

    /// <summary><c>rsa-sha256</c>: the algorithm every receiver verifies.</summary>
    public string DkimAlgorithm { get; private set; } = "";

    public byte[] DkimPrivateKey { get; private set; } = [];

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset? CheckedAt { get; private set; }

    /// <summary>Set while the latest conclusive check passed; cleared when a check proves a record wrong or missing.</summary>
    public DateTimeOffset? VerifiedAt { get; private set; }

    public bool Verified => VerifiedAt is not null;

    public static CustomDomain Create(Guid accountId, string domain, DateTimeOffset now)
    {
        using var key = DkimSigningKey.GenerateRsa2048();
        return new CustomDomain
        {
            Id = Guid.NewGuid(),
            AccountId = accountId,
            Domain = domain,
            VerificationToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            // A selector per claim: two accounts claiming one domain never ask for the same DKIM record.
            DkimSelector = "veil-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)),
            DkimAlgorithm = key.AlgorithmTag,
            DkimPrivateKey = key.ExportPrivateKey(),
            CreatedAt = now,
        };
    }

    /// <summary>The signing key; the caller disposes it.</summary>
    public DkimSigningKey OpenDkimKey() => DkimSigningKey.ImportRsaPkcs8(DkimPrivateKey);

    /// <summary>Records a conclusive check: verified when every record passed, unverified otherwise.</summary>
    public void RecordCheck(bool passed, DateTimeOffset now)
    {
        CheckedAt = now;
        VerifiedAt = passed ? VerifiedAt ?? now : null;
    }

    /// <summary>Records a check that could not conclude (a DNS failure): the state stays as it was.</summary>
    public void RecordInconclusiveCheck(DateTimeOffset now) => CheckedAt = now;
}

internal sealed class CustomDomainConfiguration : IEntityTypeConfiguration<CustomDomain>
{
    public void Configure(EntityTypeBuilder<CustomDomain> builder)
    {
        builder.ToTable("MailCustomDomains");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.Property(x => x.Domain).HasMaxLength(253).IsRequired();
        builder.Property(x => x.VerificationToken).HasMaxLength(64).IsRequired();
        builder.Property(x => x.DkimSelector).HasMaxLength(63).IsRequired();
        builder.Property(x => x.DkimAlgorithm).HasMaxLength(32).IsRequired();
        builder.Ignore(x => x.Verified);
        builder.HasIndex(x => new { x.AccountId, x.Domain }).IsUnique();
        builder.HasIndex(x => x.Domain);
        builder.HasEncryptedColumn(x => x.DkimPrivateKey);
    }
}
