using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Mail.Dkim;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Mail;

/// <summary>
/// A DKIM signing key Veil generated for one domain and selector. The private key (PKCS#8 for RSA, the
/// 32-byte seed for Ed25519) is sealed with the keyring's field key: a database dump alone cannot sign
/// mail as the operator's domains.
/// </summary>
internal sealed class DkimKey
{
    private DkimKey()
    {
    }

    public Guid Id { get; private set; }

    /// <summary>Lowercase ASCII (A-label) domain, no trailing dot.</summary>
    public string Domain { get; private set; } = "";

    public string Selector { get; private set; } = "";

    /// <summary><c>rsa-sha256</c> or <c>ed25519-sha256</c>.</summary>
    public string Algorithm { get; private set; } = "";

    public byte[] PrivateKey { get; private set; } = [];

    public DateTimeOffset CreatedAt { get; private set; }

    public static DkimKey Create(string domain, string selector, DkimSigningKey key, DateTimeOffset now) => new()
    {
        Id = Guid.NewGuid(),
        Domain = domain,
        Selector = selector,
        Algorithm = key.AlgorithmTag,
        PrivateKey = key.ExportPrivateKey(),
        CreatedAt = now,
    };

    /// <summary>The signing key; the caller disposes it.</summary>
    public DkimSigningKey OpenSigningKey() => Algorithm switch
    {
        "rsa-sha256" => DkimSigningKey.ImportRsaPkcs8(PrivateKey),
        "ed25519-sha256" => DkimSigningKey.ImportEd25519Seed(PrivateKey),
        _ => throw new CryptographicException($"Unknown DKIM algorithm '{Algorithm}' in the key store."),
    };
}

internal sealed class DkimKeyConfiguration : IEntityTypeConfiguration<DkimKey>
{
    public void Configure(EntityTypeBuilder<DkimKey> builder)
    {
        builder.ToTable("MailDkimKeys");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.Property(x => x.Domain).HasMaxLength(253).IsRequired();
        builder.Property(x => x.Selector).HasMaxLength(253).IsRequired();
        builder.Property(x => x.Algorithm).HasMaxLength(32).IsRequired();
        builder.HasIndex(x => new { x.Domain, x.Selector }).IsUnique();
        builder.HasEncryptedColumn(x => x.PrivateKey);
    }
}
