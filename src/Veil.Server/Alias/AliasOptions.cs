using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Veil.Server.Mail;

namespace Veil.Server.Alias;

/// <summary>Alias settings (section <c>Veil:Alias</c>, spec/alias-api.md, Configuration).</summary>
internal sealed class AliasOptions
{
    public const string Section = "Veil:Alias";

    /// <summary>The alias domains (<c>Veil:Alias:Domains:0</c>…). None: Alias accepts no mail.</summary>
    public List<string> Domains { get; } = [];

    /// <summary>Catch-all domains and the account that owns each.</summary>
    public List<AliasCatchAllOptions> CatchAll { get; } = [];

    public int DailyCreateLimit { get; set; } = 50;

    public int DailyForwardLimit { get; set; } = 1000;

    public long MaxMessageSize { get; set; } = 25 * 1024 * 1024;

    public int HardBounceThreshold { get; set; } = 3;

    public TimeSpan HardBounceWindow { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan LogRetention { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);

    public int MaxRecipientsPerAccount { get; set; } = 20;

    private DomainSnapshot? _normalized;

    /// <summary>The configured domains, lowercased A-labels (invalid ones are refused at start).</summary>
    public IReadOnlyList<string> NormalizedDomains
    {
        get
        {
            // Asked on every RCPT: IDNA-map the list once, again only if someone changed it.
            var snapshot = _normalized;
            if (snapshot is null || !snapshot.Source.AsSpan().SequenceEqual(CollectionsMarshal.AsSpan(Domains)))
            {
                snapshot = new DomainSnapshot([.. Domains], [.. Domains.Select(DkimKeyAdmin.NormalizeDomain).OfType<string>().Distinct(StringComparer.Ordinal)]);
                _normalized = snapshot;
            }

            return snapshot.Normalized;
        }
    }

    private sealed record DomainSnapshot(string[] Source, string[] Normalized);

    public bool Enabled => Domains.Count > 0;

    public bool IsAliasDomain(string domain) => NormalizedDomains.Contains(domain, StringComparer.Ordinal);

    /// <summary>The owner of <paramref name="domain"/>'s catch-all, or null.</summary>
    public Guid? CatchAllOwner(string domain) =>
        CatchAll.FirstOrDefault(c => DkimKeyAdmin.NormalizeDomain(c.Domain) == domain) is { } c && Guid.TryParse(c.Account, out var id) ? id : null;
}

internal sealed class AliasCatchAllOptions
{
    public string Domain { get; set; } = "";

    /// <summary>The owning account id (GUID).</summary>
    public string Account { get; set; } = "";
}

internal sealed class AliasOptionsValidator : IValidateOptions<AliasOptions>
{
    public ValidateOptionsResult Validate(string? name, AliasOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.Domains.Count; i++)
        {
            if (DkimKeyAdmin.NormalizeDomain(options.Domains[i]) is null)
            {
                failures.Add($"Veil:Alias:Domains:{i} (env Veil__Alias__Domains__{i}): not a domain name");
            }
        }

        for (var i = 0; i < options.CatchAll.Count; i++)
        {
            var c = options.CatchAll[i];
            if (DkimKeyAdmin.NormalizeDomain(c.Domain) is not { } d || !options.IsAliasDomain(d))
            {
                failures.Add($"Veil:Alias:CatchAll:{i}:Domain (env Veil__Alias__CatchAll__{i}__Domain): must be one of Veil:Alias:Domains");
            }

            if (!Guid.TryParse(c.Account, out _))
            {
                failures.Add($"Veil:Alias:CatchAll:{i}:Account (env Veil__Alias__CatchAll__{i}__Account): must be an account id (GUID)");
            }
        }

        if (options.DailyCreateLimit < 1) failures.Add("Veil:Alias:DailyCreateLimit (env Veil__Alias__DailyCreateLimit): must be at least 1");
        if (options.DailyForwardLimit < 1) failures.Add("Veil:Alias:DailyForwardLimit (env Veil__Alias__DailyForwardLimit): must be at least 1");
        if (options.MaxMessageSize < 1024) failures.Add("Veil:Alias:MaxMessageSize (env Veil__Alias__MaxMessageSize): must be at least 1024 bytes");
        if (options.HardBounceThreshold < 1) failures.Add("Veil:Alias:HardBounceThreshold (env Veil__Alias__HardBounceThreshold): must be at least 1");
        if (options.HardBounceWindow <= TimeSpan.Zero) failures.Add("Veil:Alias:HardBounceWindow (env Veil__Alias__HardBounceWindow): must be positive");
        if (options.LogRetention <= TimeSpan.Zero || options.LogRetention > TimeSpan.FromDays(30))
        {
            failures.Add("Veil:Alias:LogRetention (env Veil__Alias__LogRetention): must be positive and at most 30 days");
        }

        if (options.PurgeInterval < TimeSpan.FromSeconds(1)) failures.Add("Veil:Alias:PurgeInterval (env Veil__Alias__PurgeInterval): must be at least one second");

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
