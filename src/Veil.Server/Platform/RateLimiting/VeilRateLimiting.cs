// Rate limiting: named fixed-window policies from System.Threading.RateLimiting, partitioned per IP,
// per account or per target. IP policies run in ASP.NET's rate limiter middleware and attach to a
// route group with `.RequireRateLimiting(name)`. Account policies cannot: the middleware runs before
// authentication (Platform/Auth: a filter), where every caller is still anonymous, so an account
// policy there silently became a per-IP one (issue 14, finding 3). They attach with
// `.RequireAccountRateLimit(name)` after `RequireVeilUser` and count per authenticated account.
// Target policies need a value the middleware cannot see (it is usually in the body), so the command
// asks ITargetRateLimiter, which also holds the account policies' counters.
//
// A module declares its own policy with its defaults; operators override them in configuration:
//   services.AddVeilRateLimitPolicy("magic-link", RateLimitKey.Target, permitLimit: 5, TimeSpan.FromHours(1));
//   Veil__RateLimits__magic-link__PermitLimit=10
//
// The limiters keep their own clock (they cannot take a TimeProvider), so tests count requests in a
// long window instead of advancing time.
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Diagnostics;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.Redaction;
using Veil.Server.Platform.Results;

namespace Veil.Server.Platform.RateLimiting;

internal static partial class VeilRateLimiting
{
    /// <summary>General per-IP limit for anonymous endpoints.</summary>
    public const string PerIp = "ip";

    /// <summary>General per-account limit for signed-in endpoints.</summary>
    public const string PerAccount = "account";

    /// <summary>General per-target limit (e.g. mail sent to one address).</summary>
    public const string PerTarget = "target";

    public static IServiceCollection AddVeilRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton<IValidateOptions<RateLimitPolicyOptions>, RateLimitPolicyOptionsValidator>();
        if (!string.IsNullOrWhiteSpace(configuration["ConnectionStrings:Postgres"]))
        {
            // Several nodes may share this database: every limit is counted there (SharedRateLimits.cs).
            services.TryAddSingleton<SharedRateLimitCounter>();
            services.TryAddSingleton<ITargetRateLimiter, SharedTargetRateLimiter>();
            services.AddPeriodicJob<RateLimitPurgeJob>();
        }

        services.TryAddSingleton<ITargetRateLimiter, TargetRateLimiter>();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = OnRejectedAsync;
        });
        services.AddVeilRateLimitPolicy(PerIp, RateLimitKey.Ip, permitLimit: 300, TimeSpan.FromMinutes(1));
        services.AddVeilRateLimitPolicy(PerAccount, RateLimitKey.Account, permitLimit: 600, TimeSpan.FromMinutes(1));
        services.AddVeilRateLimitPolicy(PerTarget, RateLimitKey.Target, permitLimit: 10, TimeSpan.FromHours(1));
        return services;
    }

    /// <summary>Declares a named policy with its default limits; <c>Veil:RateLimits:&lt;name&gt;</c> overrides them.</summary>
    public static IServiceCollection AddVeilRateLimitPolicy(this IServiceCollection services, string name, RateLimitKey key, int permitLimit, TimeSpan window)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        services.AddOptions<RateLimitPolicyOptions>(name)
            .Configure(o =>
            {
                o.Key = key;
                o.PermitLimit = permitLimit;
                o.Window = window;
            })
            .Configure<IConfiguration>((o, configuration) =>
            {
                configuration.GetSection($"Veil:RateLimits:{name}").Bind(o);
                o.Key = key; // the partition key is the endpoint's design, not an operator setting
            })
            .ValidateOnStart();

        if (key == RateLimitKey.Ip)
        {
            services.AddOptions<RateLimiterOptions>().Configure<IOptionsMonitor<RateLimitPolicyOptions>>((limiter, monitor) =>
                limiter.AddPolicy(name, context =>
                {
                    var options = monitor.Get(name);
                    var partition = PartitionKey(key, context);
                    return context.RequestServices.GetService<SharedRateLimitCounter>() is { } shared
                        ? RateLimitPartition.Get(partition, p => new SharedWindowRateLimiter(shared, name, p, options))
                        : RateLimitPartition.GetFixedWindowLimiter(partition, _ => WindowOptions(options));
                }));
        }

        return services;
    }

    internal static FixedWindowRateLimiterOptions WindowOptions(RateLimitPolicyOptions options) => new()
    {
        PermitLimit = options.PermitLimit,
        Window = options.Window,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    // Partition keys stay in memory only; they are never logged.
    private static string PartitionKey(RateLimitKey key, HttpContext context)
    {
        System.Diagnostics.Debug.Assert(key == RateLimitKey.Ip, "only IP policies run in the middleware");
        return "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var services = context.HttpContext.RequestServices;
        services.GetRequiredService<VeilMetrics>().RateLimited();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(VeilRateLimiting).FullName!);
        if (logger.IsEnabled(LogLevel.Information))
        {
            LogRejected(logger, (context.HttpContext.GetEndpoint() as Microsoft.AspNetCore.Routing.RouteEndpoint)?.RoutePattern.RawText ?? "(no route)");
        }
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        await new RateLimitedError(retryAfter).ToProblem().ExecuteAsync(context.HttpContext);
    }

    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "Rate limit reached on {Route}")]
    private static partial void LogRejected(ILogger logger, string route);
}

/// <summary>Rate limits keyed by a value the endpoint supplies (an address, an account being recovered, ...).</summary>
internal interface ITargetRateLimiter
{
    /// <summary>
    /// Takes one permit for <paramref name="target"/> under the named target policy: null when granted, else the
    /// error to return (429 with Retry-After). On PostgreSQL the count is shared by every node (SharedRateLimits.cs).
    /// </summary>
    ValueTask<RateLimitedError?> AcquireAsync(string policy, string target, CancellationToken cancellationToken);
}

internal sealed class TargetRateLimiter(IOptionsMonitor<RateLimitPolicyOptions> options) : ITargetRateLimiter, IDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, PartitionedRateLimiter<string>> _limiters = new(StringComparer.Ordinal);

    public ValueTask<RateLimitedError?> AcquireAsync(string policy, string target, CancellationToken cancellationToken) =>
        ValueTask.FromResult(TryAcquire(policy, target, out var error) ? null : error);

    /// <summary>The options of a declared target or account policy; anything else is a programming error.</summary>
    internal static RateLimitPolicyOptions Declared(IOptionsMonitor<RateLimitPolicyOptions> options, string name)
    {
        var settings = options.Get(name);
        if (settings.Key is not (RateLimitKey.Target or RateLimitKey.Account) || settings.PermitLimit < 1)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"'{name}' is not a declared target or account rate-limit policy."));
        }

        return settings;
    }

    private bool TryAcquire(string policy, string target, out RateLimitedError? error)
    {
        ArgumentException.ThrowIfNullOrEmpty(policy);
        ArgumentNullException.ThrowIfNull(target);
        var limiter = _limiters.GetOrAdd(policy, name =>
        {
            var settings = Declared(options, name);
            return PartitionedRateLimiter.Create<string, string>(key =>
                RateLimitPartition.GetFixedWindowLimiter(key, _ => VeilRateLimiting.WindowOptions(settings)));
        });

        // The limiter keys on a keyed fingerprint, so the process does not hold a table of addresses.
        using var lease = limiter.AttemptAcquire(Redact.Fingerprint("rate-limit/" + policy, target));
        if (lease.IsAcquired)
        {
            error = null;
            return true;
        }

        error = new RateLimitedError(lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1));
        return false;
    }

    public void Dispose()
    {
        foreach (var limiter in _limiters.Values)
        {
            limiter.Dispose();
        }
    }
}
