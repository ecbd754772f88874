// Background jobs: a job is a class implementing IPeriodicJob, registered with AddPeriodicJob<T>().
// One hosted runner ticks every job on its own interval (a timer from the injected TimeProvider),
// creates a DI scope per tick (so the job gets a fresh DbContext), and takes the job's row in
// JobLeases first, so when several nodes share one PostgreSQL database only one runs a tick.
// A failing tick is logged (type and stack, no message) and the job runs again next tick.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Platform.Jobs;

/// <summary>A job run periodically in a fresh DI scope.</summary>
internal interface IPeriodicJob
{
    /// <summary>The stable name (also the lease name), e.g. <c>drop-purge</c>.</summary>
    string Name { get; }

    /// <summary>Time between ticks.</summary>
    TimeSpan Interval { get; }

    /// <summary>Runs one tick. <paramref name="services"/> is the tick's scope.</summary>
    Task RunAsync(IServiceProvider services, CancellationToken cancellationToken);
}

internal static class PeriodicJobsSetup
{
    /// <summary>Registers a job (singleton) and the one runner that ticks every job.</summary>
    public static IServiceCollection AddPeriodicJob<TJob>(this IServiceCollection services)
        where TJob : class, IPeriodicJob
    {
        services.TryAddSingleton<TJob>();
        services.AddSingleton<IPeriodicJob>(sp => sp.GetRequiredService<TJob>());
        services.TryAddSingleton<PeriodicJobRunner>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PeriodicJobRunner>(sp => sp.GetRequiredService<PeriodicJobRunner>()));
        return services;
    }
}

/// <summary>Ticks every registered <see cref="IPeriodicJob"/>; <see cref="RunNowAsync"/> runs one at once (operators, tests).</summary>
internal sealed partial class PeriodicJobRunner(
    IEnumerable<IPeriodicJob> jobs,
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<PeriodicJobRunner> logger) : BackgroundService
{
    // Who holds a lease: random per process, so two nodes never mistake each other's lease for their own.
    private readonly string _holder = "node-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(jobs.Select(job => LoopAsync(job, stoppingToken)));

    /// <summary>Runs one tick of the named job now, if this node can take its lease. Returns false if another node holds it.</summary>
    public async Task<bool> RunNowAsync(string name, CancellationToken cancellationToken)
    {
        var job = jobs.FirstOrDefault(j => j.Name == name) ?? throw new ArgumentException("No job with that name.", nameof(name));
        return await TickAsync(job, cancellationToken);
    }

    private async Task LoopAsync(IPeriodicJob job, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(job.Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await TickAsync(job, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The message is withheld (it can quote data); the next tick retries.
                    LogTickFailed(logger, job.Name, e.GetType().FullName ?? "exception", e.StackTrace ?? "");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    private async Task<bool> TickAsync(IPeriodicJob job, CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope)
        {
            var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
            var leaseFor = job.Interval * 2 + TimeSpan.FromMinutes(1);
            if (!await TryTakeLeaseAsync(db, job.Name, leaseFor, cancellationToken))
            {
                return false;
            }

            try
            {
                await job.RunAsync(scope.ServiceProvider, cancellationToken);
            }
            finally
            {
                // Release early so another node (or the next tick here) need not wait for expiry.
                await db.JobLeases.Where(l => l.Name == job.Name && l.Holder == _holder)
                    .ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, time.GetUtcNow()), CancellationToken.None);
            }

            LogTicked(logger, job.Name);
            return true;
        }
    }

    // A lease is one row per job. Taking it is one conditional UPDATE (free or expired or already
    // ours), and if the row does not exist yet, an INSERT that loses cleanly to a concurrent one.
    private async Task<bool> TryTakeLeaseAsync(VeilDbContext db, string name, TimeSpan duration, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expires = now + duration;
        var taken = await db.JobLeases
            .Where(l => l.Name == name && (l.ExpiresAt <= now || l.Holder == _holder))
            .ExecuteUpdateAsync(s => s
                .SetProperty(l => l.Holder, _holder)
                .SetProperty(l => l.AcquiredAt, now)
                .SetProperty(l => l.ExpiresAt, expires), cancellationToken);
        if (taken == 1)
        {
            return true;
        }

        if (await db.JobLeases.AnyAsync(l => l.Name == name, cancellationToken))
        {
            return false;
        }

        db.JobLeases.Add(new JobLease(name, _holder, now, expires));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            return false; // another node inserted it first
        }
    }

    [LoggerMessage(EventId = 1700, Level = LogLevel.Debug, Message = "Job {Job} ran")]
    private static partial void LogTicked(ILogger logger, string job);

    [LoggerMessage(EventId = 1701, Level = LogLevel.Error, Message = "Job {Job} failed with {ExceptionType}; message withheld. Stack: {StackTrace}")]
    private static partial void LogTickFailed(ILogger logger, string job, string exceptionType, string stackTrace);
}
