// A breach notice (issue 24 point 4) and what it takes to deliver it exactly once per address:
//   Notice           the operator's subject and body, and when it was written;
//   NoticeRecipient  one row per distinct address (primary and verified recovery addresses of the accounts that
//                    existed when the notice was written), encrypted like the account's own email, with a state
//                    that only moves forward: Pending → Claimed (committed before the mail is handed to the outbox)
//                    → Sent (committed after). A crash leaves at most the claimed rows, and those are handed again
//                    under the same outbox id, which the outbox writes idempotently (NoticeSender);
//   NoticeAck        "I have read this": the banner is gone for that account.
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Notices;

internal sealed class Notice
{
    public const int MaxSubjectLength = 200;
    public const int MaxBodyLength = 64 * 1024;

    public Guid Id { get; private set; }

    public string Subject { get; private set; } = "";

    public string Body { get; private set; } = "";

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>How many distinct addresses the notice goes to (fixed when it is written).</summary>
    public int Recipients { get; private set; }

    public static Notice Create(Guid id, string subject, string body, DateTimeOffset now, int recipients) =>
        new() { Id = id, Subject = subject, Body = body, CreatedAt = now, Recipients = recipients };
}

internal enum NoticeRecipientState
{
    Pending = 0,
    Claimed = 1,
    Sent = 2,
}

internal sealed class NoticeRecipient
{
    public Guid Id { get; private set; }

    public Guid NoticeId { get; private set; }

    /// <summary>The address's place in the notice (0-based): sending goes in this order, and the outbox id is derived from it.</summary>
    public int Seq { get; private set; }

    public string Address { get; private set; } = "";

    public NoticeRecipientState State { get; private set; }

    public DateTimeOffset? SentAt { get; private set; }

    public static NoticeRecipient Create(Guid noticeId, int seq, string address) =>
        new() { Id = Guid.NewGuid(), NoticeId = noticeId, Seq = seq, Address = address, State = NoticeRecipientState.Pending };

    /// <summary>The outbox id of this address's mail: the same on every attempt, so a second hand-over replaces the first.</summary>
    public static string OutboxId(Guid noticeId, int seq) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"notice-{noticeId:N}-{seq}");
}

internal sealed class NoticeAck
{
    public Guid NoticeId { get; private set; }

    public Guid AccountId { get; private set; }

    public DateTimeOffset AckedAt { get; private set; }

    public static NoticeAck Create(Guid noticeId, Guid accountId, DateTimeOffset now) => new() { NoticeId = noticeId, AccountId = accountId, AckedAt = now };
}

internal sealed class NoticeConfiguration : IEntityTypeConfiguration<Notice>
{
    public void Configure(EntityTypeBuilder<Notice> builder)
    {
        builder.ToTable("Notices");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.Property(x => x.Subject).HasMaxLength(Notice.MaxSubjectLength).IsRequired();
        builder.Property(x => x.Body).HasMaxLength(Notice.MaxBodyLength).IsRequired();
        builder.HasIndex(x => x.CreatedAt);
    }
}

internal sealed class NoticeRecipientConfiguration : IEntityTypeConfiguration<NoticeRecipient>
{
    public void Configure(EntityTypeBuilder<NoticeRecipient> builder)
    {
        builder.ToTable("NoticeRecipients");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
        builder.HasEncryptedColumn(x => x.Address);
        builder.HasOne<Notice>().WithMany().HasForeignKey(x => x.NoticeId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(x => new { x.NoticeId, x.Seq }).IsUnique();
        builder.HasIndex(x => new { x.NoticeId, x.State });
    }
}

internal sealed class NoticeAckConfiguration : IEntityTypeConfiguration<NoticeAck>
{
    public void Configure(EntityTypeBuilder<NoticeAck> builder)
    {
        builder.ToTable("NoticeAcks");
        builder.HasKey(x => new { x.NoticeId, x.AccountId });
        builder.HasOne<Notice>().WithMany().HasForeignKey(x => x.NoticeId).OnDelete(DeleteBehavior.Cascade);
        // A deleted account's acknowledgements go with it.
        builder.HasOne<Account>().WithMany().HasForeignKey(x => x.AccountId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(x => x.AccountId);
    }
}
