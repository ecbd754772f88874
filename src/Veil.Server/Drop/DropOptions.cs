using Microsoft.Extensions.Options;

namespace Veil.Server.Drop;

/// <summary>Fixed limits of the Drop format and API (spec/drop-api.md).</summary>
internal static class DropLimits
{
    public const int MinExpirySeconds = 5 * 60;
    public const int MaxExpirySeconds = 30 * 24 * 60 * 60;
    public const int MaxDownloadLimit = 1_000_000;
    public const int MaxMetadataBytes = 4096;
    public const int PasswordSaltBytes = 32;
    public const int MinWrappedKeyBytes = 16;
    public const int MaxWrappedKeyBytes = 256;
    public const int DropKeyBytes = 32;

    /// <summary>The owner's wrapped name key (spec/drop.md §8): 99 characters in v1; room for a later version.</summary>
    public const int MaxOwnerNameKeyChars = 256;
    public const int MaxReportCommentLength = 2000;
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromHours(24);
    public static readonly TimeSpan TicketLifetime = TimeSpan.FromHours(24);
    public static readonly TimeSpan ReportDedupWindow = TimeSpan.FromHours(24);
    public static readonly TimeSpan TombstoneLifetime = TimeSpan.FromDays(30);
}

/// <summary>Drop settings (section <c>Veil:Drop</c>).</summary>
internal sealed class DropOptions
{
    public const string Section = "Veil:Drop";

    /// <summary>Largest drop (content ciphertext bytes) for signed-in owners. Default 5 GiB.</summary>
    public long MaxDropBytes { get; set; } = 5L * 1024 * 1024 * 1024;

    /// <summary>Upload part size the server hands out. Default 8 MiB.</summary>
    public int PartSizeBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Per-user quota: ciphertext bytes of a signed-in owner's drops not yet purged. Default 50 GiB.</summary>
    public long UserQuotaBytes { get; set; } = 50L * 1024 * 1024 * 1024;

    /// <summary>Upheld abuse reports after which an owner loses the upload capability.</summary>
    public int StrikesForUploadBan { get; set; } = 3;

    /// <summary>How often the purge job runs.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(5);

    public AnonymousDropOptions Anonymous { get; set; } = new();
}

/// <summary>Limits for drops created without signing in (section <c>Veil:Drop:Anonymous</c>).</summary>
internal sealed class AnonymousDropOptions
{
    /// <summary>Allow drops without an account (default on).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Largest anonymous drop. Default 1 GiB.</summary>
    public long MaxDropBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Longest anonymous expiry. Default 7 days.</summary>
    public TimeSpan MaxExpiry { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Per-IP quota: ciphertext bytes of anonymous drops from one IP not yet purged. Default 10 GiB.</summary>
    public long IpQuotaBytes { get; set; } = 10L * 1024 * 1024 * 1024;
}

internal sealed class DropOptionsValidator : IValidateOptions<DropOptions>
{
    public ValidateOptionsResult Validate(string? name, DropOptions options)
    {
        var failures = new List<string>();
        void Require(bool ok, string setting, string rule)
        {
            if (!ok)
            {
                failures.Add($"Veil:Drop:{setting} (env Veil__Drop__{setting.Replace(":", "__", StringComparison.Ordinal)}): {rule}");
            }
        }

        Require(options.MaxDropBytes is >= 1 and <= 1L << 40, "MaxDropBytes", "must be between 1 and 1 TiB");
        Require(options.PartSizeBytes is >= 1024 and <= 256 * 1024 * 1024, "PartSizeBytes", "must be between 1024 and 268435456");
        Require(options.MaxDropBytes / Math.Max(1, options.PartSizeBytes) < 1_000_000, "PartSizeBytes", "is too small for MaxDropBytes (at most 1000000 parts)");
        Require(options.UserQuotaBytes >= 1, "UserQuotaBytes", "must be at least 1");
        Require(options.StrikesForUploadBan is >= 1 and <= 100, "StrikesForUploadBan", "must be between 1 and 100");
        Require(options.PurgeInterval >= TimeSpan.FromSeconds(1) && options.PurgeInterval <= TimeSpan.FromDays(1), "PurgeInterval", "must be between 00:00:01 and 1.00:00:00");
        Require(options.Anonymous.MaxDropBytes is >= 1 && options.Anonymous.MaxDropBytes <= options.MaxDropBytes, "Anonymous:MaxDropBytes", "must be between 1 and Veil:Drop:MaxDropBytes");
        Require(options.Anonymous.MaxExpiry >= TimeSpan.FromSeconds(DropLimits.MinExpirySeconds) && options.Anonymous.MaxExpiry <= TimeSpan.FromSeconds(DropLimits.MaxExpirySeconds),
            "Anonymous:MaxExpiry", "must be between 00:05:00 and 30.00:00:00");
        Require(options.Anonymous.IpQuotaBytes >= 1, "Anonymous:IpQuotaBytes", "must be at least 1");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
