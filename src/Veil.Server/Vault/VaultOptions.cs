using Microsoft.Extensions.Options;

namespace Veil.Server.Vault;

/// <summary>Fixed Vault limits (spec/vault-api.md).</summary>
internal static class VaultLimits
{
    public const int MinIntervalSeconds = 24 * 3600;
    public const int MaxIntervalSeconds = 365 * 24 * 3600;
    public const int MinGraceSeconds = 3600;
    public const int MaxGraceSeconds = 90 * 24 * 3600;
    public const int MaxAttempts = 5;
    public const int CodesPerWindow = 5;
    public static readonly TimeSpan CodeWindow = TimeSpan.FromHours(1);
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan DownloadLifetime = TimeSpan.FromHours(1);
}

/// <summary>Vault settings (section <c>Veil:Vault</c>).</summary>
internal sealed class VaultOptions
{
    public const string Section = "Veil:Vault";

    /// <summary>Per-user quota in stored encrypted bytes. Default 1 GiB.</summary>
    public long QuotaBytes { get; set; } = 1024L * 1024 * 1024;

    public int MaxVaults { get; set; } = 100;

    public int MaxRecipients { get; set; } = 10;

    /// <summary>Largest item PUT body. Default 4 MiB.</summary>
    public long MaxItemBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>Largest file ciphertext. Default 256 MiB.</summary>
    public long MaxFileBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long a release (or rehearsal) link works. Default 72 h.</summary>
    public TimeSpan ClaimLinkLifetime { get; set; } = TimeSpan.FromHours(72);

    /// <summary>Switches the scheduler handles per query.</summary>
    public int SchedulerBatchSize { get; set; } = 500;

    /// <summary>How often the scheduler runs.</summary>
    public TimeSpan SchedulerInterval { get; set; } = TimeSpan.FromMinutes(1);
}

internal sealed class VaultOptionsValidator : IValidateOptions<VaultOptions>
{
    public ValidateOptionsResult Validate(string? name, VaultOptions options)
    {
        var failures = new List<string>();
        void Require(bool ok, string setting, string rule)
        {
            if (!ok)
            {
                failures.Add($"Veil:Vault:{setting} (env Veil__Vault__{setting}): {rule}");
            }
        }

        Require(options.QuotaBytes >= 1024, "QuotaBytes", "must be at least 1024");
        Require(options.MaxVaults is >= 1 and <= 100_000, "MaxVaults", "must be between 1 and 100000");
        Require(options.MaxRecipients is >= 1 and <= 100, "MaxRecipients", "must be between 1 and 100");
        Require(options.MaxItemBytes is >= 64 * 1024 and <= 64L * 1024 * 1024, "MaxItemBytes", "must be between 65536 and 67108864");
        Require(options.MaxFileBytes is >= 1024 and <= 1L << 40, "MaxFileBytes", "must be between 1024 and 1 TiB");
        Require(options.ClaimLinkLifetime >= TimeSpan.FromHours(1) && options.ClaimLinkLifetime <= TimeSpan.FromDays(30), "ClaimLinkLifetime", "must be between 01:00:00 and 30.00:00:00");
        Require(options.SchedulerBatchSize is >= 1 and <= 100_000, "SchedulerBatchSize", "must be between 1 and 100000");
        Require(options.SchedulerInterval >= TimeSpan.FromSeconds(1) && options.SchedulerInterval <= TimeSpan.FromHours(1), "SchedulerInterval", "must be between 00:00:01 and 01:00:00");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
