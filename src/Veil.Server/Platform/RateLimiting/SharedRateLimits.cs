// Rate limits shared by every node on one PostgreSQL database (issue 22): with several nodes behind a load balancer,
// a counter in each process would let a flood spread over N nodes get N times the limit. On PostgreSQL each policy's
// fixed window is one row per partition, counted by one atomic upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING),
// so every node sees the same count. The row's key is a blind index (keyed HMAC) of policy and partition: the table
// holds no address or IP, and without the keyring nobody can tell whose window a row is. SQLite is one node: the
// in-process limiters stay (VeilRateLimiting), and so does their cost of zero round trips.
using System.Data.Common;
using System.Threading.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.Keys;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Platform.RateLimiting;

/// <summary>One partition's current window of one policy.</summary>
public sealed class RateLimitWindow
{
    public RateLimitWindow(byte[] key, long window, int count, long expiresAtUnixSeconds)
    {
        Key = key;
        Window = window;
        Count = count;
        ExpiresAtUnixSeconds = expiresAtUnixSeconds;
    }

    /// <summary>BlindIndex of "policy NUL partition" (purpose <c>rate-limit</c>).</summary>
    public byte[] Key { get; private set; }

    /// <summary>The window's number: time since the epoch divided by the policy's window length.</summary>
    public long Window { get; private set; }

    public int Count { get; private set; }

    /// <summary>When the window ends (the purge job deletes rows past it).</summary>
    public long ExpiresAtUnixSeconds { get; private set; }
}

internal sealed class RateLimitWindowConfiguration : IEntityTypeConfiguration<RateLimitWindow>
{
    public void Configure(EntityTypeBuilder<RateLimitWindow> builder)
    {
        builder.ToTable("RateLimitWindows");
        builder.HasKey(x => x.Key);
        builder.Property(x => x.Key).HasMaxLength(BlindIndex.Length);
        builder.HasIndex(x => x.ExpiresAtUnixSeconds);
    }
}

/// <summary>Takes permits from the shared windows on PostgreSQL.</summary>
internal sealed class SharedRateLimitCounter(IServiceScopeFactory scopes, Keyring keyring, TimeProvider time)
{
    private const string Purpose = "rate-limit";

    private const string Upsert = """
        INSERT INTO "RateLimitWindows" ("Key", "Window", "Count", "ExpiresAtUnixSeconds") VALUES (@key, @window, 1, @expires)
        ON CONFLICT ("Key") DO UPDATE SET
            "Count" = CASE WHEN "RateLimitWindows"."Window" >= excluded."Window" THEN "RateLimitWindows"."Count" + 1 ELSE 1 END,
            "Window" = GREATEST("RateLimitWindows"."Window", excluded."Window"),
            "ExpiresAtUnixSeconds" = GREATEST("RateLimitWindows"."ExpiresAtUnixSeconds", excluded."ExpiresAtUnixSeconds")
        RETURNING "Count"
        """;

    /// <summary>Counts one request in the partition's current window; null if it is within the limit, else when to retry.</summary>
    public async ValueTask<TimeSpan?> TakeAsync(string policy, string partition, RateLimitPolicyOptions options, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var length = Math.Max(1, (long)options.Window.TotalSeconds);
        var seconds = now.ToUnixTimeSeconds();
        var window = seconds / length;
        var ends = (window + 1) * length;
        var key = BlindIndex.Compute(keyring, Purpose, policy + "\0" + partition);

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = Upsert;
        Add(command, "key", key);
        Add(command, "window", window);
        Add(command, "expires", ends);
        var count = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        return count <= options.PermitLimit ? null : TimeSpan.FromSeconds(Math.Max(1, ends - seconds));
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

/// <summary>Target and account policies counted in the shared windows (PostgreSQL).</summary>
internal sealed class SharedTargetRateLimiter(SharedRateLimitCounter counter, Microsoft.Extensions.Options.IOptionsMonitor<RateLimitPolicyOptions> options) : ITargetRateLimiter
{
    public async ValueTask<RateLimitedError?> AcquireAsync(string policy, string target, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(policy);
        ArgumentNullException.ThrowIfNull(target);
        var settings = TargetRateLimiter.Declared(options, policy);
        return await counter.TakeAsync(policy, target, settings, cancellationToken) is { } retryAfter ? new RateLimitedError(retryAfter) : null;
    }
}

/// <summary>
/// An IP policy's partition as a <see cref="RateLimiter"/> for ASP.NET's middleware, counted in the shared windows. The
/// middleware first tries a synchronous acquire and, when that fails, awaits an asynchronous one: the synchronous try
/// always declines (a database round trip cannot be synchronous) and the asynchronous one counts.
/// </summary>
internal sealed class SharedWindowRateLimiter(SharedRateLimitCounter counter, string policy, string partition, RateLimitPolicyOptions options) : RateLimiter
{
    private long _lastUsed = Environment.TickCount64;

    public override TimeSpan? IdleDuration => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) => SharedLease.Declined;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _lastUsed, Environment.TickCount64);
        if (permitCount == 0)
        {
            return SharedLease.Granted;
        }

        return await counter.TakeAsync(policy, partition, options, cancellationToken) is { } retryAfter ? new SharedLease(false, retryAfter) : SharedLease.Granted;
    }

    private sealed class SharedLease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly SharedLease Granted = new(true, null);
        public static readonly SharedLease Declined = new(false, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}

/// <summary>Deletes the windows that have ended (every node may run it; the lease picks one).</summary>
internal sealed class RateLimitPurgeJob(TimeProvider time) : IPeriodicJob
{
    public string Name => "rate-limit-purge";

    public TimeSpan Interval => TimeSpan.FromMinutes(10);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        await services.GetRequiredService<VeilDbContext>().Set<RateLimitWindow>().Where(w => w.ExpiresAtUnixSeconds < now).ExecuteDeleteAsync(cancellationToken);
    }
}
