using Microsoft.Extensions.Options;

namespace Veil.Server.Identity;

/// <summary>Identity settings (section <c>Veil:Identity</c>); see docs/OPERATIONS.md, Identity.</summary>
internal sealed class IdentityOptions
{
    public const string Section = "Veil:Identity";

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    public TimeSpan MagicLinkLifetime { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan VerificationLinkLifetime { get; set; } = TimeSpan.FromHours(24);

    public TimeSpan TwoFactorChallengeLifetime { get; set; } = TimeSpan.FromMinutes(5);

    public int TwoFactorChallengeMaxAttempts { get; set; } = 5;

    public LockoutOptions Lockout { get; set; } = new();

    public HashingOptions Hashing { get; set; } = new();
}

internal sealed class LockoutOptions
{
    /// <summary>Failed password attempts for one address from one source (IP) before that pair is throttled (see SignInThrottle).</summary>
    public int MaxFailedAttempts { get; set; } = 10;

    /// <summary>How long the first throttling of a pair lasts (each further one doubles, up to a day) unless a magic link ends it first.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(15);
}

internal sealed class HashingOptions
{
    /// <summary>Argon2 hashes computed at once (each takes 19 MiB). Default: the processor count.</summary>
    public int MaxConcurrent { get; set; } = Environment.ProcessorCount;

    /// <summary>Requests allowed to wait for a hashing slot; beyond that the answer is 503 at once.</summary>
    public int MaxQueued { get; set; } = Environment.ProcessorCount * 8;

    /// <summary>The longest a queued request waits for a slot before 503.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(10);
}

internal sealed class IdentityOptionsValidator : IValidateOptions<IdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, IdentityOptions options)
    {
        var failures = new List<string>();
        Check(options.AccessTokenLifetime >= TimeSpan.FromMinutes(1) && options.AccessTokenLifetime <= TimeSpan.FromHours(1), "AccessTokenLifetime", "between 00:01:00 and 01:00:00");
        Check(options.RefreshTokenLifetime >= TimeSpan.FromHours(1) && options.RefreshTokenLifetime <= TimeSpan.FromDays(365), "RefreshTokenLifetime", "between 01:00:00 and 365.00:00:00");
        Check(options.MagicLinkLifetime >= TimeSpan.FromMinutes(1) && options.MagicLinkLifetime <= TimeSpan.FromHours(1), "MagicLinkLifetime", "between 00:01:00 and 01:00:00");
        Check(options.VerificationLinkLifetime >= TimeSpan.FromMinutes(10) && options.VerificationLinkLifetime <= TimeSpan.FromDays(7), "VerificationLinkLifetime", "between 00:10:00 and 7.00:00:00");
        Check(options.TwoFactorChallengeLifetime >= TimeSpan.FromMinutes(1) && options.TwoFactorChallengeLifetime <= TimeSpan.FromMinutes(30), "TwoFactorChallengeLifetime", "between 00:01:00 and 00:30:00");
        Check(options.TwoFactorChallengeMaxAttempts is >= 1 and <= 20, "TwoFactorChallengeMaxAttempts", "between 1 and 20");
        Check(options.Lockout.MaxFailedAttempts is >= 3 and <= 1000, "Lockout:MaxFailedAttempts", "between 3 and 1000");
        Check(options.Lockout.Duration >= TimeSpan.FromMinutes(1) && options.Lockout.Duration <= TimeSpan.FromDays(1), "Lockout:Duration", "between 00:01:00 and 1.00:00:00");
        Check(options.Hashing.MaxConcurrent is >= 1 and <= 256, "Hashing:MaxConcurrent", "between 1 and 256");
        Check(options.Hashing.MaxQueued is >= 0 and <= 10_000, "Hashing:MaxQueued", "between 0 and 10000");
        Check(options.Hashing.MaxWait >= TimeSpan.Zero && options.Hashing.MaxWait <= TimeSpan.FromSeconds(30), "Hashing:MaxWait", "between 00:00:00 and 00:00:30");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(bool ok, string setting, string rule)
        {
            if (!ok)
            {
                var path = $"{IdentityOptions.Section}:{setting}";
                failures.Add($"{path} (env {path.Replace(":", "__", StringComparison.Ordinal)}): must be {rule}");
            }
        }
    }
}
