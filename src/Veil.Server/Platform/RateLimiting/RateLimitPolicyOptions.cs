using Microsoft.Extensions.Options;

namespace Veil.Server.Platform.RateLimiting;

/// <summary>What a policy partitions its requests by.</summary>
internal enum RateLimitKey
{
    /// <summary>The client's IP address.</summary>
    Ip,

    /// <summary>The authenticated account; applied after authentication with <c>RequireAccountRateLimit</c>, never in the middleware.</summary>
    Account,

    /// <summary>A value the endpoint supplies, such as the address a magic link is sent to (see <see cref="ITargetRateLimiter"/>).</summary>
    Target,
}

/// <summary>One named policy's limits (section <c>Veil:RateLimits:&lt;policy&gt;</c>): a fixed window.</summary>
internal sealed class RateLimitPolicyOptions
{
    public RateLimitKey Key { get; set; }

    /// <summary>Requests allowed per partition per window.</summary>
    public int PermitLimit { get; set; }

    /// <summary>The window length (configuration: <c>00:01:00</c>).</summary>
    public TimeSpan Window { get; set; }
}

internal sealed class RateLimitPolicyOptionsValidator : IValidateOptions<RateLimitPolicyOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitPolicyOptions options)
    {
        var failures = new List<string>();
        var path = $"Veil:RateLimits:{name}";
        if (options.PermitLimit < 1)
        {
            failures.Add($"{path}:PermitLimit (env {path.Replace(":", "__", StringComparison.Ordinal)}__PermitLimit): must be at least 1");
        }

        if (options.Window < TimeSpan.FromMilliseconds(1) || options.Window > TimeSpan.FromDays(1))
        {
            failures.Add($"{path}:Window (env {path.Replace(":", "__", StringComparison.Ordinal)}__Window): must be between 00:00:00.001 and 1.00:00:00");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
