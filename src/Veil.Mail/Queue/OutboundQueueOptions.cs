namespace Veil.Mail.Queue;

/// <summary>Retry policy and bounce identity of the <see cref="OutboundQueue"/>.</summary>
public sealed class OutboundQueueOptions
{
    /// <summary>Wait after the first failed attempt; each later wait doubles (5 min, 10, 20, …).</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Upper bound of one wait, so a late retry is not days away.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Age after which a message still pending is given up and bounced (a last attempt is made at exactly this age).</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(5);

    /// <summary>This host's name, for <c>Reporting-MTA</c> and the <c>From</c> of DSNs (<c>MAILER-DAEMON@…</c>).</summary>
    public string ReportingMta { get; set; } = "localhost";

    /// <summary>Bytes of the original header block quoted in a DSN's text/rfc822-headers part.</summary>
    public int MaxQuotedHeaderBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Deliveries in flight at once, each on its own smarthost connection (reused for the next due message when the
    /// transport supports sessions). 1 delivers strictly one message after the other, oldest first.
    /// </summary>
    public int MaxConcurrentDeliveries { get; set; } = 8;

    /// <summary>How long an idle smarthost connection stays open waiting for the next message before it is closed (QUIT).</summary>
    public TimeSpan IdleConnectionTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After <see cref="OutboundQueue.SendAsync"/> found the smarthost unreachable or busy, how long fresh messages go
    /// straight to the queue (whose backoff then paces the retries) instead of being tried inline first.
    /// </summary>
    public TimeSpan DirectPause { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest the delivery loop sleeps without looking at the queue directory again. An enqueue in this process
    /// wakes it at once; a message another process enqueued (`veil admin notify` writing a breach notice to the queue of
    /// a running `veil serve`) is found at the next rescan.
    /// </summary>
    public TimeSpan RescanInterval { get; set; } = TimeSpan.FromMinutes(1);

    internal void Validate()
    {
        if (RescanInterval <= TimeSpan.Zero) throw new ArgumentException("RescanInterval must be positive.", nameof(RescanInterval));
        if (DirectPause < TimeSpan.Zero) throw new ArgumentException("DirectPause cannot be negative.", nameof(DirectPause));
        if (MaxConcurrentDeliveries is < 1 or > 256) throw new ArgumentException("MaxConcurrentDeliveries must be between 1 and 256.", nameof(MaxConcurrentDeliveries));
        if (IdleConnectionTimeout < TimeSpan.Zero) throw new ArgumentException("IdleConnectionTimeout cannot be negative.", nameof(IdleConnectionTimeout));
        if (FirstRetryDelay <= TimeSpan.Zero) throw new ArgumentException("FirstRetryDelay must be positive.", nameof(FirstRetryDelay));
        if (MaxRetryDelay < FirstRetryDelay) throw new ArgumentException("MaxRetryDelay must be at least FirstRetryDelay.", nameof(MaxRetryDelay));
        if (MaxAge <= TimeSpan.Zero) throw new ArgumentException("MaxAge must be positive.", nameof(MaxAge));
        if (string.IsNullOrWhiteSpace(ReportingMta) || ReportingMta.Any(c => c is <= ' ' or > '~' or '<' or '>' or '@'))
            throw new ArgumentException("ReportingMta must be a host name.", nameof(ReportingMta));
    }
}
