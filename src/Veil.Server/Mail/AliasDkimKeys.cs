// Every configured alias domain signs what it forwards from the first start on. A forwarded copy carries a From in
// the alias domain (AliasForwarder), so without Veil's own signature a receiver applying DMARC to that domain judges
// it unauthenticated; before this, a copy left unsigned until the operator happened to run `veil admin dkim create`,
// and nothing said so. At start, a domain with no key gets one (RSA 2048: every verifier knows it; selector
// veilYYYYMM, as DkimKeyAdmin names it), and the newest key of each domain is kept here so `veil serve` can print
// the DNS record to publish (`veil admin dkim show DOMAIN` prints the same). A domain that already has keys is left
// as the operator made it. Only the domain and selector are logged: both are public DNS names.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Dkim;
using Veil.Server.Alias;

namespace Veil.Server.Mail;

internal sealed partial class AliasDkimKeys
{
    /// <summary>The newest key of each alias domain, as of the last start.</summary>
    public IReadOnlyList<DkimKeyView> Records { get; set; } = [];

    /// <summary>Creates a key for each alias domain that has none; returns each domain's newest key.</summary>
    public static async Task<IReadOnlyList<DkimKeyView>> EnsureAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var domains = services.GetRequiredService<IOptions<AliasOptions>>().Value.NormalizedDomains;
        if (domains.Count == 0)
        {
            return [];
        }

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<AliasDkimKeys>();
        await using var scope = services.CreateAsyncScope();
        var admin = scope.ServiceProvider.GetRequiredService<DkimKeyAdmin>();
        var records = new List<DkimKeyView>(domains.Count);
        foreach (var domain in domains)
        {
            var keys = await admin.ShowAsync(domain, cancellationToken);
            if (keys.Count == 0)
            {
                var created = await admin.CreateAsync(domain, null, DkimAlgorithm.RsaSha256, cancellationToken);
                if (created.Key is { } key)
                {
                    LogCreated(logger, key.Domain, key.Selector);
                    records.Add(key);
                    continue;
                }

                // Another instance on the same database created it a moment ago.
                keys = await admin.ShowAsync(domain, cancellationToken);
            }

            if (keys.Count > 0)
            {
                records.Add(keys[0]);
            }
        }

        return records;
    }

    [LoggerMessage(EventId = 2407, Level = LogLevel.Warning,
        Message = "DKIM key created for alias domain {Domain} (selector {Selector}): publish its DNS TXT record (veil admin dkim show {Domain}) or receivers cannot verify forwarded mail")]
    private static partial void LogCreated(ILogger logger, string domain, string selector);
}
