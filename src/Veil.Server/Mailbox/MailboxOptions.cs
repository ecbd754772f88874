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

        return options.MaxMessageSize is < 1024 or > 1L << 31
            ? ValidateOptionsResult.Fail("Veil:Mail:MaxMessageSize must be from 1024 bytes to 2 GiB.")
            : ValidateOptionsResult.Success;
    }
}
