// Password mail to outsiders (spec/mailbox-api.md "Password mail to outsiders"): one row per outsider recipient of a
// message sent with a password. The package itself (the whole MIME message and a reply key, encrypted by the sending
// client under a key derived from the password; Veil.Crypto.Mailbox.OutsiderPackage) lives in the blob store, opaque
// here: there is no password verifier of any kind, the AEAD tag in the package is the only check, made in the
// outsider's browser. The row holds the delivery metadata (recipient field-encrypted, size, times, views) and the
// reply summary, a small OpenPGP message the client sealed to the sender's address key that carries the reply
// private key; it becomes the summary of every reply row, so the sender's client reads a reply with its own key.
// Limits work as for confidential copies: when the expiry passes or the views run out, the blob is deleted for good
// and the row stays as a tombstone (the reply summary stays with it, so replies already counted can still arrive).
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Mailbox;

internal sealed class OutsiderPackageRow : IViewLimited
{
    /// <summary>Length of <see cref="Id"/>: 16 random bytes in base64url, the part of the link that finds the package.</summary>
    public const int IdLength = 22;

    /// <summary>128 random bits (base64url), not guessable: the link names only this.</summary>
    public string Id { get; init; } = "";

    public Guid AccountId { get; init; }

    /// <summary>The sender's address (its key opens the reply summary).</summary>
    public Guid AddressId { get; init; }

    /// <summary>The sender's own Sent copy of the message.</summary>
    public Guid SentId { get; init; }

    /// <summary>The outsider's address. Field-encrypted.</summary>
    public string Recipient { get; set; } = "";

    /// <summary>Length of the package in the blob store.</summary>
    public long Size { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The package is destroyed at this time (always set: a public link never lives unbounded).</summary>
    public DateTimeOffset ExpiresAt { get; init; }

    public int? MaxViews { get; init; }

    /// <summary>Fetches of the package (each counts, limited or not: replies are capped by it).</summary>
    public int Views { get; set; }

    public int Replies { get; set; }

    /// <summary>An OpenPGP message (base64) sealed by the sending client to the sender's address key: the reply private key.</summary>
    public string ReplySummary { get; set; } = "";

    public DateTimeOffset? DestroyedAt { get; private set; }

    public MailDestroyReason? DestroyedReason { get; private set; }

    /// <summary>The blob "folder" of the package, under the account's mail folder (deleted with the account).</summary>
    public string BlobFolder => $"mail/{AccountId:N}/outsider/{Id}";

    public string BlobKey => BlobFolder + "/package";

    /// <summary>Why the package can no longer be fetched at <paramref name="now"/>, or null while it can.</summary>
    public MailDestroyReason? GoneAt(DateTimeOffset now) =>
        DestroyedReason ?? (ExpiresAt <= now ? MailDestroyReason.Expired : MaxViews <= Views ? MailDestroyReason.ViewLimitReached : null);

    public void Destroy(MailDestroyReason reason, DateTimeOffset now)
    {
        DestroyedAt = now;
        DestroyedReason = reason;
    }

    public static string NewId() => Base64Url(RandomNumberGenerator.GetBytes(16));

    public static bool IsId(string? id) =>
        id is { Length: IdLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

internal sealed class OutsiderPackageConfiguration : IEntityTypeConfiguration<OutsiderPackageRow>
{
    public void Configure(EntityTypeBuilder<OutsiderPackageRow> builder)
    {
        builder.ToTable("MailOutsiderPackages");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(OutsiderPackageRow.IdLength);
        builder.HasIndex(x => x.AccountId);
        builder.HasIndex(x => x.ExpiresAt);
        builder.HasEncryptedColumn(x => x.Recipient);
        builder.Property(x => x.ReplySummary).HasMaxLength(SendMailCommand.MaxSummaryBytes * 2);
        builder.Ignore(x => x.BlobKey);
        builder.Ignore(x => x.BlobFolder);
    }
}
