using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Veil.Server.Platform.Persistence;

/// <summary>
/// A named, time-limited claim on a background job, so that when several nodes share one PostgreSQL
/// database only one of them runs a given job at a time. A lease that is not renewed expires, so a
/// crashed holder never blocks the job for longer than one lease duration.
/// </summary>
public sealed class JobLease
{
    public const int MaxNameLength = 200;
    public const int MaxHolderLength = 200;

    public JobLease(string name, string holder, DateTimeOffset acquiredAt, DateTimeOffset expiresAt)
    {
        Name = name;
        Holder = holder;
        AcquiredAt = acquiredAt;
        ExpiresAt = expiresAt;
    }

    /// <summary>The job's stable name, e.g. <c>drop-purge</c>.</summary>
    public string Name { get; private set; }

    /// <summary>Who holds the lease: a node id chosen at start.</summary>
    public string Holder { get; private set; }

    public DateTimeOffset AcquiredAt { get; private set; }

    public DateTimeOffset ExpiresAt { get; private set; }

    public bool IsHeldAt(DateTimeOffset now) => ExpiresAt > now;
}

internal sealed class JobLeaseConfiguration : IEntityTypeConfiguration<JobLease>
{
    public void Configure(EntityTypeBuilder<JobLease> builder)
    {
        builder.ToTable("JobLeases");
        builder.HasKey(x => x.Name);
        builder.Property(x => x.Name).HasMaxLength(JobLease.MaxNameLength);
        builder.Property(x => x.Holder).HasMaxLength(JobLease.MaxHolderLength).IsRequired();
        builder.HasIndex(x => x.ExpiresAt);
    }
}
