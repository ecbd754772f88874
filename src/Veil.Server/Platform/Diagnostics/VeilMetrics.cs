namespace Veil.Server.Platform.Diagnostics;

/// <summary>Process-wide counters served at /diagnostics/metrics. Counts only: no labels that could name a user.</summary>
internal sealed class VeilMetrics(TimeProvider time)
{
    private readonly DateTimeOffset _started = time.GetUtcNow();
    private long _requests;
    private long _status2xx;
    private long _status3xx;
    private long _status4xx;
    private long _status5xx;
    private long _rateLimited;
    private long _unhandledExceptions;
    private long _outboxMessages;

    public void RequestStarted() => Interlocked.Increment(ref _requests);

    public void RequestCompleted(int status)
    {
        switch (status / 100)
        {
            case 2: Interlocked.Increment(ref _status2xx); break;
            case 3: Interlocked.Increment(ref _status3xx); break;
            case 4: Interlocked.Increment(ref _status4xx); break;
            case 5: Interlocked.Increment(ref _status5xx); break;
            default: break;
        }
    }

    public void RateLimited() => Interlocked.Increment(ref _rateLimited);

    public void UnhandledException() => Interlocked.Increment(ref _unhandledExceptions);

    public void OutboxMessage() => Interlocked.Increment(ref _outboxMessages);

    public MetricsSnapshot Snapshot() => new(
        (long)(time.GetUtcNow() - _started).TotalSeconds,
        Interlocked.Read(ref _requests),
        Interlocked.Read(ref _status2xx),
        Interlocked.Read(ref _status3xx),
        Interlocked.Read(ref _status4xx),
        Interlocked.Read(ref _status5xx),
        Interlocked.Read(ref _rateLimited),
        Interlocked.Read(ref _unhandledExceptions),
        Interlocked.Read(ref _outboxMessages));
}

internal sealed record MetricsSnapshot(
    long UptimeSeconds,
    long Requests,
    long Responses2xx,
    long Responses3xx,
    long Responses4xx,
    long Responses5xx,
    long RateLimited,
    long UnhandledExceptions,
    long OutboxMessages);
