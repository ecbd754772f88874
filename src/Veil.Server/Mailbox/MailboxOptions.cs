using Microsoft.Extensions.Options;
using Veil.Server.Mail;

namespace Veil.Server.Mailbox;

/// <summary>
/// Mailbox settings (section <c>Veil:Mail</c>, docs/OPERATIONS.md "Mail domains"). Only the keys below belong to
/// Mailbox; the section also holds the SMTP host (<c>Veil:Mail:Smtp</c>) and the smarthost settings.
/// </summary>
internal sealed class MailboxOptions
{
    public const string Section = "Veil:Mail";

    /// <summary>The operator's mail domains (<c>Veil:Mail:Domains:0</c>…). None: Mailbox accepts no mail and no address.</summary>
    public List<string> Domains { get; } = [];

    /// <summary>Addresses one account may hold (the plan limit; the issue asks for 10).</summary>
    public int MaxAddressesPerAccount { get; set; } = 10;

    /// <summary>The largest message Mailbox stores; larger ones are refused by the SMTP host's own size limit first.</summary>
    public long MaxMessageSize { get; set; } = 25 * 1024 * 1024;

    /// <summary>How often the confidential-mail job destroys expired copies (<c>Veil:Mail:ConfidentialJobInterval</c>).</summary>
    public TimeSpan ConfidentialJobInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The largest encrypted search index one account may store (<c>Veil:Mail:SearchIndexMaxBytes</c>, 64 MiB).</summary>
    public long SearchIndexMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The largest encrypted attachment blob (<c>Veil:Mail:MaxAttachmentSize</c>, 256 MiB).</summary>
    public long MaxAttachmentSize { get; set; } = 256L * 1024 * 1024;

    /// <summary>The bytes of attachment blobs one account's uploads may hold at once (<c>Veil:Mail:AttachmentQuotaBytes</c>, 2 GiB).</summary>
    public long AttachmentQuotaBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>An uploaded attachment no send referenced within this time is purged (<c>Veil:Mail:AttachmentOrphanAfter</c>, 6 h).</summary>
    public TimeSpan AttachmentOrphanAfter { get; set; } = TimeSpan.FromHours(6);

    /// <summary>How long a copy's attachments stay fetchable after its last allowed view (<c>Veil:Mail:AttachmentViewGrace</c>, 15 min).</summary>
    public TimeSpan AttachmentViewGrace { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often the attachment job runs (<c>Veil:Mail:AttachmentJobInterval</c>, 10 min).</summary>
    public TimeSpan AttachmentJobInterval { get; set; } = TimeSpan.FromMinutes(10);

    public bool Enabled => Domains.Count > 0;

    /// <summary>The configured domains as lowercased A-labels.</summary>
    public IReadOnlyList<string> NormalizedDomains =>
        [.. Domains.Select(DkimKeyAdmin.NormalizeDomain).OfType<string>().Distinct(StringComparer.Ordinal)];

    public bool IsMailDomain(string domain) => NormalizedDomains.Contains(domain, StringComparer.Ordinal);
}

internal sealed class MailboxOptionsValidator : IValidateOptions<MailboxOptions>
{
    public ValidateOptionsResult Validate(string? name, MailboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var domain in options.Domains)
        {
            if (DkimKeyAdmin.NormalizeDomain(domain) is null)
            {
                return ValidateOptionsResult.Fail("Veil:Mail:Domains holds a value that is not a domain name (env Veil__Mail__Domains__0).");
            }
        }

        if (options.MaxAddressesPerAccount is < 1 or > 1000)
        {
            return ValidateOptionsResult.Fail("Veil:Mail:MaxAddressesPerAccount must be from 1 to 1000.");
        }

        if (options.ConfidentialJobInterval < TimeSpan.FromSeconds(1) || options.ConfidentialJobInterval > TimeSpan.FromHours(1))
        {
            return ValidateOptionsResult.Fail("Veil:Mail:ConfidentialJobInterval must be from 00:00:01 to 01:00:00.");
        }

        if (options.SearchIndexMaxBytes is < 1024 or > 1L << 31)
        {
            return ValidateOptionsResult.Fail("Veil:Mail:SearchIndexMaxBytes must be from 1024 bytes to 2 GiB.");
        }

        if (options.MaxAttachmentSize < 1024 || options.AttachmentQuotaBytes < options.MaxAttachmentSize)
        {
            return ValidateOptionsResult.Fail("Veil:Mail:MaxAttachmentSize must be at least 1024 bytes and Veil:Mail:AttachmentQuotaBytes at least Veil:Mail:MaxAttachmentSize.");
        }

        if (options.AttachmentOrphanAfter < TimeSpan.FromMinutes(1) || options.AttachmentViewGrace < TimeSpan.Zero || options.AttachmentViewGrace > TimeSpan.FromDays(1)
            || options.AttachmentJobInterval < TimeSpan.FromSeconds(1) || options.AttachmentJobInterval > TimeSpan.FromHours(1))
        {
            return ValidateOptionsResult.Fail("Veil:Mail:AttachmentOrphanAfter must be at least 00:01:00, Veil:Mail:AttachmentViewGrace at most 1.00:00:00, Veil:Mail:AttachmentJobInterval from 00:00:01 to 01:00:00.");
        }

        return options.MaxMessageSize is < 1024 or > 1L << 31
            ? ValidateOptionsResult.Fail("Veil:Mail:MaxMessageSize must be from 1024 bytes to 2 GiB.")
            : ValidateOptionsResult.Success;
    }
}
