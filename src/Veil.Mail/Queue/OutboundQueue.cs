// The durable outbound queue under <data>/queue. Each message is two files:
//   <id>.eml    the raw bytes, exactly as enqueued, never rewritten;
//   <id>.state  JSON: envelope, per-recipient state, attempts, next attempt time (rewritten after each attempt).
// Every write goes to queue/tmp, is fsynced, renamed into place, and the directory is fsynced, so a file in
// queue/ is complete or absent. The .state file is the commit record: enqueue writes the .eml first and the
// .state second; removal deletes the .state first. An .eml without a .state is therefore an enqueue that never
// returned (or a removal half done) and is deleted at start once older than LeftoverAge (another process may be
// enqueueing into the same directory right now).
// Delivery is at-least-once: a crash after the smarthost said 250 and before the state was updated delivers
// again after restart; a message leaves the queue only after every recipient is delivered or bounced.
// Delivery runs MaxConcurrentDeliveries messages at once, each worker on its own smarthost connection, which it
// keeps for the next due message (RSET between transactions) and closes after IdleConnectionTimeout without work.
// Each message is attempted by one worker at a time (one pass at a time, each due message once per pass).
// SendAsync is the fast path for fresh mail whose source is itself durable (the Alias sink, fed by the spool): it
// tries the smarthost at once on a pooled connection and writes nothing when every recipient is accepted; only what
// is not accepted is enqueued (and then retried or bounced like any queued message). The caller keeps its own copy
// until SendAsync returns, so a crash during the attempt loses nothing (the caller sends again: at-least-once).
// Retries (RFC 5321 §4.5.4.1): FirstRetryDelay, doubling, capped at MaxRetryDelay; a last attempt at MaxAge,
// then a DSN (RFC 3464) for every recipient not delivered, unless the reverse path is null (RFC 5321 §6.1).
// The queue holds message content in clear while it waits: the directory is created mode 0700.
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;

namespace Veil.Mail.Queue;

/// <summary>Where one recipient of a queued message stands.</summary>
public enum QueuedRecipientState
{
    /// <summary>Not yet accepted by the smarthost; will be retried.</summary>
    Pending,

    /// <summary>Accepted by the smarthost.</summary>
    Delivered,

    /// <summary>Refused permanently, or given up after <see cref="OutboundQueueOptions.MaxAge"/>.</summary>
    Failed,
}

/// <summary>One recipient of a queued message.</summary>
/// <param name="Address">The RCPT TO mailbox.</param>
/// <param name="State">Where it stands.</param>
/// <param name="LastReply">The last server reply (or local error) for it, if any.</param>
public sealed record QueuedRecipient(string Address, QueuedRecipientState State, string? LastReply);

/// <summary>A message waiting in the queue.</summary>
/// <param name="Id">Queue id (file name stem).</param>
/// <param name="ReversePath">MAIL FROM; empty for the null reverse path.</param>
/// <param name="CreatedAt">When it was enqueued.</param>
/// <param name="Attempts">Delivery attempts made so far.</param>
/// <param name="NextAttemptAt">When it is due next.</param>
/// <param name="Recipients">Per-recipient state.</param>
public sealed record QueuedMessage(string Id, string ReversePath, DateTimeOffset CreatedAt, int Attempts, DateTimeOffset NextAttemptAt, IReadOnlyList<QueuedRecipient> Recipients);

/// <summary>What one pass of <see cref="OutboundQueue.RunOnceAsync"/> did.</summary>
/// <param name="Attempted">Messages that were due and attempted.</param>
/// <param name="Completed">Messages removed from the queue (all recipients delivered or bounced).</param>
/// <param name="BouncesQueued">DSNs enqueued to senders.</param>
/// <param name="NextDueAt">When the earliest remaining message is due; null when the queue is empty.</param>
public sealed record OutboundRunResult(int Attempted, int Completed, int BouncesQueued, DateTimeOffset? NextDueAt);

/// <summary>What <see cref="OutboundQueue.SendAndReportAsync"/> did with one message.</summary>
/// <param name="QueueId">The queue id when some recipient failed temporarily and was queued for retries; null otherwise.</param>
/// <param name="Delivered">Recipients the smarthost accepted.</param>
/// <param name="Refused">Recipients the smarthost refused permanently, with its reply; not queued.</param>
public sealed record SendReport(string? QueueId, IReadOnlyList<string> Delivered, IReadOnlyList<QueuedRecipient> Refused);

/// <summary>A tagged message the queue has finished with: every recipient delivered or failed.</summary>
/// <param name="QueueId">Its queue id.</param>
/// <param name="Tag">The tag given to <see cref="OutboundQueue.SendAndReportAsync"/>.</param>
/// <param name="Recipients">Each recipient's final state and last reply.</param>
/// <param name="Headers">The message's header block (bounded like a DSN's quoted headers).</param>
public sealed record QueuedDeliveryOutcome(string QueueId, string Tag, IReadOnlyList<QueuedRecipient> Recipients, byte[] Headers);

/// <summary>
/// Learns the outcome of tagged messages that could not be delivered at once, so that what the owner sees follows
/// what the next hop did. When it returns, the queue removes the message and sends no DSN of its own: the observer
/// has told the original sender where that is due. When it throws, the queue bounces to the reverse path as usual.
/// </summary>
public interface IQueuedDeliveryObserver
{
    /// <summary>Records the outcome of <paramref name="outcome"/>; called at least once per finished message (again after a crash).</summary>
    Task CompletedAsync(QueuedDeliveryOutcome outcome, CancellationToken cancellationToken);
}

/// <summary>Durable file-backed outbound queue with retries, backoff and DSNs. See the file header for the format.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a mail queue; 'queue' is the MTA term.")]
public sealed class OutboundQueue : IDisposable, IAsyncDisposable
{
    private const string MessageExtension = ".eml";
    private const string StateExtension = ".state";

    /// <summary>How old an uncommitted file must be before a starting queue treats it as a crash's leftover.</summary>
    internal static readonly TimeSpan LeftoverAge = TimeSpan.FromMinutes(10);
    private readonly string _dir;
    private readonly string _tmp;
    private readonly IDeliveryTransport _transport;
    private readonly TimeProvider _time;
    private readonly OutboundQueueOptions _options;
    private readonly SemaphoreSlim _runLock = new(1, 1);
    private readonly Microsoft.Extensions.Logging.ILogger _logger;
    private readonly System.Collections.Concurrent.ConcurrentStack<IDeliverySession> _idleSessions = new();
    private readonly SemaphoreSlim _connections;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _directPausedUntilTicks;
    private readonly IQueuedDeliveryObserver? _observer;

    /// <summary>Opens (creating if needed) the queue under <paramref name="dataDirectory"/>/queue and removes half-written leftovers.</summary>
    /// <param name="dataDirectory">Veil's data directory.</param>
    /// <param name="transport">How messages leave (the smarthost client).</param>
    /// <param name="time">Clock for enqueue times and the delivery loop.</param>
    /// <param name="options">Retry policy; defaults when null.</param>
    /// <param name="logger">Enqueue, attempt (reply code only), deferral and bounce lines with queue ids and counts; none when null.</param>
    /// <param name="observer">Told when a message queued with a tag (<see cref="SendAndReportAsync"/>) is finished; none when null.</param>
    public OutboundQueue(string dataDirectory, IDeliveryTransport transport, TimeProvider time, OutboundQueueOptions? options = null, Microsoft.Extensions.Logging.ILogger? logger = null, IQueuedDeliveryObserver? observer = null)
    {
        _observer = observer;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(time);
        _options = options ?? new OutboundQueueOptions();
        _options.Validate();
        _connections = new SemaphoreSlim(_options.MaxConcurrentDeliveries, _options.MaxConcurrentDeliveries);
        _transport = transport;
        _time = time;
        _dir = Path.GetFullPath(Path.Combine(dataDirectory, "queue"));
        _tmp = Path.Combine(_dir, "tmp");
        CreatePrivateDirectory(_dir);
        CreatePrivateDirectory(_tmp);
        // Another process may share the directory (`veil admin notify` enqueueing beside a running `veil serve`): a
        // leftover is a crashed enqueue only once it is older than any enqueue takes; a fresher one may be in flight,
        // and deleting its .eml before its .state lands would commit a message without content. File times, not the
        // injected clock: they are compared with the file system's own.
        var staleBefore = DateTime.UtcNow - LeftoverAge;
        foreach (var stale in Directory.EnumerateFiles(_tmp))
        {
            if (File.GetLastWriteTimeUtc(stale) < staleBefore) File.Delete(stale);
        }
        foreach (var message in Directory.EnumerateFiles(_dir, "*" + MessageExtension))
        {
            if (!File.Exists(Path.ChangeExtension(message, StateExtension)) && File.GetLastWriteTimeUtc(message) < staleBefore) File.Delete(message);
        }
    }

    /// <summary>The queue directory (<c>&lt;data&gt;/queue</c>).</summary>
    public string DirectoryPath => _dir;

    /// <summary>
    /// Stores a message durably (fsynced and renamed before this returns) and wakes <see cref="RunAsync"/>.
    /// The message is due at once.
    /// </summary>
    /// <param name="envelope">Reverse path (empty for <c>&lt;&gt;</c>) and at least one recipient.</param>
    /// <param name="content">The raw message; delivered byte for byte.</param>
    /// <param name="cancellationToken">Cancels before the message is committed.</param>
    /// <returns>The queue id.</returns>
    public async Task<string> EnqueueAsync(SmtpEnvelope envelope, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        CheckMessage(envelope, content);
        return await EnqueueCoreAsync(envelope, content, envelope.Recipients.Select(r => new RecipientEntry { Address = r }).ToList(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores a message like <see cref="EnqueueAsync"/> unless one was already stored under the caller's
    /// <paramref name="onceId"/>: then nothing is written, whether that message still waits, was delivered or bounced.
    /// A crash at any point of either call leaves exactly one message for the id after the caller retries.
    /// </summary>
    /// <remarks>
    /// How: <c>once/&lt;onceId&gt;</c> names the queue id, written before the message; finishing that message writes
    /// <c>once/&lt;onceId&gt;.done</c> before the message is removed. A marker whose message is neither stored nor done
    /// is an enqueue that never committed, and is done again under the same queue id. Markers stay until
    /// <see cref="ForgetOnce"/>.
    /// </remarks>
    /// <returns>True when the message was stored now; false when the id was already handed over.</returns>
    public async Task<bool> EnqueueOnceAsync(string onceId, SmtpEnvelope envelope, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        CheckMessage(envelope, content);
        CheckOnceId(onceId);
        var once = Path.Combine(_dir, "once");
        CreatePrivateDirectory(once);
        var marker = Path.Combine(once, onceId);
        if (File.Exists(marker + ".done")) return false;
        string id;
        if (File.Exists(marker) && await File.ReadAllTextAsync(marker, cancellationToken).ConfigureAwait(false) is var stored && IsValidId(stored))
        {
            if (File.Exists(Path.Combine(_dir, stored + StateExtension))) return false;
            id = stored;
        }
        else
        {
            id = NewId();
            await WriteFileAsync(marker, System.Text.Encoding.ASCII.GetBytes(id), cancellationToken, once).ConfigureAwait(false);
        }

        await EnqueueCoreAsync(envelope, content, envelope.Recipients.Select(r => new RecipientEntry { Address = r }).ToList(), cancellationToken, id: id, onceId: onceId).ConfigureAwait(false);
        return true;
    }

    /// <summary>Deletes the markers of <see cref="EnqueueOnceAsync"/> ids starting with <paramref name="prefix"/> (when the caller no longer retries them).</summary>
    public void ForgetOnce(string prefix)
    {
        CheckOnceId(prefix);
        var once = Path.Combine(_dir, "once");
        if (!Directory.Exists(once)) return;
        foreach (var marker in Directory.EnumerateFiles(once, prefix + "*")) File.Delete(marker);
    }

    private static void CheckOnceId(string onceId)
    {
        ArgumentNullException.ThrowIfNull(onceId);
        if (onceId.Length is 0 or > 64 || !onceId.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            throw new ArgumentException("A once id is 1 to 64 characters of a-z, 0-9 and '-'.", nameof(onceId));
    }

    private string NewId() =>
        string.Create(CultureInfo.InvariantCulture, $"{_time.GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmmssfff}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");

    private async Task<string> EnqueueCoreAsync(SmtpEnvelope envelope, ReadOnlyMemory<byte> content, List<RecipientEntry> recipients, CancellationToken cancellationToken, string? tag = null, DateTimeOffset? due = null, string? id = null, string? onceId = null)
    {
        var now = _time.GetUtcNow();
        id ??= NewId();
        var state = new QueueState
        {
            ReversePath = envelope.ReversePath,
            EightBitMime = envelope.EightBitMime,
            SmtpUtf8 = envelope.SmtpUtf8,
            CreatedAt = now,
            NextAttemptAt = due ?? now,
            Recipients = recipients,
            Tag = tag,
            OnceId = onceId,
        };
        await WriteFileAsync(Path.Combine(_dir, id + MessageExtension), content, cancellationToken).ConfigureAwait(false);
        await WriteStateAsync(id, state, cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        MailEngineLog.Enqueued(_logger, id, content.Length, envelope.Recipients.Count);
        return id;
    }

    /// <summary>
    /// Delivers a message to the smarthost now, on a pooled connection (waiting for one of the
    /// <see cref="OutboundQueueOptions.MaxConcurrentDeliveries"/> to be free), and stores durably — like
    /// <see cref="EnqueueAsync"/> — only the recipients the smarthost did not accept, to be retried or bounced.
    /// After a failed attempt (the smarthost unreachable or answering 4xx to the whole message) the direct path
    /// rests for <see cref="OutboundQueueOptions.DirectPause"/> and messages go straight to the queue.
    /// </summary>
    /// <remarks>
    /// Nothing is written when every recipient is accepted: the caller must keep its own durable copy until this
    /// returns (a crash during the attempt leaves the caller to send again, so delivery stays at-least-once).
    /// </remarks>
    /// <param name="envelope">Reverse path (empty for <c>&lt;&gt;</c>) and at least one recipient.</param>
    /// <param name="content">The raw message; delivered byte for byte.</param>
    /// <param name="cancellationToken">Stops the attempt; the message is then neither known delivered nor queued.</param>
    /// <returns>The queue id when some recipient was queued; null when every one was delivered now.</returns>
    public async Task<string?> SendAsync(SmtpEnvelope envelope, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        (await SendCoreAsync(envelope, content, queueRefused: true, null, cancellationToken).ConfigureAwait(false)).QueueId;

    /// <summary>
    /// Like <see cref="SendAsync"/>, but the recipients the smarthost refuses permanently (5xx at RCPT or at the end
    /// of data) are handed back instead of being queued to be bounced: the caller records the failure where its
    /// owner sees it and tells the original sender (<see cref="EnqueueDeliveryReportAsync"/>). Recipients that
    /// failed temporarily are queued as with <see cref="SendAsync"/>.
    /// </summary>
    /// <param name="envelope">Reverse path (empty for <c>&lt;&gt;</c>) and at least one recipient.</param>
    /// <param name="content">The raw message; delivered byte for byte.</param>
    /// <param name="tag">
    /// The caller's own reference, kept with a queued message and handed to the <see cref="IQueuedDeliveryObserver"/>
    /// when it is finished (delivered, refused or given up), so the caller can record the outcome; null for none.
    /// A tagged message is first retried after <see cref="OutboundQueueOptions.FirstRetryDelay"/> (or when the direct
    /// path's pause ends), never at once, so the caller has recorded the deferral before the observer can be called.
    /// </param>
    /// <param name="cancellationToken">Stops the attempt; the message is then neither known delivered nor queued.</param>
    /// <returns>Which recipients were accepted, refused or queued.</returns>
    public Task<SendReport> SendAndReportAsync(SmtpEnvelope envelope, ReadOnlyMemory<byte> content, string? tag, CancellationToken cancellationToken) =>
        SendCoreAsync(envelope, content, queueRefused: false, tag, cancellationToken);

    private async Task<SendReport> SendCoreAsync(SmtpEnvelope envelope, ReadOnlyMemory<byte> content, bool queueRefused, string? tag, CancellationToken cancellationToken)
    {
        CheckMessage(envelope, content);
        if (_time.GetUtcNow().UtcTicks < Interlocked.Read(ref _directPausedUntilTicks))
        {
            // A tagged message is first due when the pause ends: by then its sender has recorded that it waits.
            var pausedUntil = new DateTimeOffset(Interlocked.Read(ref _directPausedUntilTicks), TimeSpan.Zero);
            var queued = await EnqueueCoreAsync(envelope, content, envelope.Recipients.Select(r => new RecipientEntry { Address = r }).ToList(), cancellationToken, tag, tag is null ? null : pausedUntil).ConfigureAwait(false);
            return new SendReport(queued, [], []);
        }

        SmtpDeliveryResult result;
        await _connections.WaitAsync(cancellationToken).ConfigureAwait(false);
        var session = RentSession();
        try
        {
            // Read in place when the bytes are an array (a signed message always is): no copy of the message.
            using var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(content, out var bytes)
                ? new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false)
                : new MemoryStream(content.ToArray(), writable: false);
            result = await session.DeliverAsync(envelope, stream, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _idleSessions.Push(session);
            _connections.Release();
        }

        var pending = envelope.Recipients.Select(r => new RecipientEntry { Address = r }).ToList();
        Apply(result, pending);
        var delivered = pending.Where(r => r.State == QueuedRecipientState.Delivered).Select(r => r.Address).ToList();
        var refused = queueRefused ? [] : pending.Where(r => r.State == QueuedRecipientState.Failed).Select(r => new QueuedRecipient(r.Address, r.State, r.LastReply)).ToList();
        var left = pending.Where(r => r.State == QueuedRecipientState.Pending || (queueRefused && r.State == QueuedRecipientState.Failed)).ToList();
        var (code, _) = MailEngineLog.CodeOf(result.Reply);
        if (left.Count == 0)
        {
            MailEngineLog.SentDirect(_logger, content.Length, envelope.Recipients.Count, code);
            return new SendReport(null, delivered, refused);
        }

        if (!result.Success && !result.DataAccepted && !result.Permanent)
        {
            // The smarthost is unreachable or busy: stop trying it inline for a while, the queue's backoff takes over.
            Interlocked.Exchange(ref _directPausedUntilTicks, (_time.GetUtcNow() + _options.DirectPause).UtcTicks);
        }

        // Refused recipients are queued as failed: the next pass bounces them with a DSN without trying again.
        // A tagged message that just failed is next due after the first retry delay, not at once: retrying at once
        // rarely helps, and the observer must not hear of the outcome before the caller recorded that it waits.
        var id = await EnqueueCoreAsync(envelope, content, left, cancellationToken, tag, tag is null ? null : _time.GetUtcNow() + _options.FirstRetryDelay).ConfigureAwait(false);
        MailEngineLog.DirectFellBack(_logger, id, code, left.Count);
        return new SendReport(id, delivered, refused);
    }

    /// <summary>
    /// Queues a delivery status notification (RFC 3464, null reverse path) to <paramref name="sender"/> for a message
    /// this host accepted and then could not deliver: used by a caller that forwards mail and learned of the
    /// refusal from <see cref="SendAndReportAsync"/>. Nothing is queued for the null reverse path (RFC 5321 §6.1).
    /// </summary>
    /// <param name="sender">The original envelope sender, who gets the notification.</param>
    /// <param name="arrivedAt">When the original message was accepted.</param>
    /// <param name="failed">The recipients, as the sender addressed them, with the reply to state for each.</param>
    /// <param name="original">The original message; only its header block is quoted.</param>
    /// <param name="cancellationToken">Cancels before the notification is committed.</param>
    /// <returns>The queue id of the notification, or null when none is due.</returns>
    public async Task<string?> EnqueueDeliveryReportAsync(string sender, DateTimeOffset arrivedAt, IReadOnlyList<QueuedRecipient> failed, ReadOnlyMemory<byte> original, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(failed);
        if (sender.Length == 0 || failed.Count == 0)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        var headers = DeliveryStatusNotification.HeaderBlock(original.Span[..Math.Min(original.Length, _options.MaxQuotedHeaderBytes)]);
        var dsn = DeliveryStatusNotification.Build(new DeliveryStatusNotification.Report(
            _options.ReportingMta, sender, arrivedAt, now,
            failed.Select(r => new DeliveryStatusNotification.FailedRecipient(r.Address, r.LastReply ?? "", false)).ToList(), headers));
        var envelope = new SmtpEnvelope("", [sender], EightBitMime: dsn.Any(b => b > 127), SmtpUtf8: sender.Any(c => c > '~'), now);
        return await EnqueueAsync(envelope, dsn, cancellationToken).ConfigureAwait(false);
    }

    private static void CheckMessage(SmtpEnvelope envelope, ReadOnlyMemory<byte> content)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (envelope.Recipients.Count == 0 || envelope.Recipients.Any(string.IsNullOrEmpty))
            throw new ArgumentException("A queued message needs at least one non-empty recipient.", nameof(envelope));
        if (content.IsEmpty) throw new ArgumentException("A queued message cannot be empty.", nameof(content));
    }

    /// <summary>The messages in the queue, oldest first (unreadable state files are skipped).</summary>
    /// <param name="cancellationToken">Stops the listing.</param>
    public async Task<IReadOnlyList<QueuedMessage>> PendingAsync(CancellationToken cancellationToken)
    {
        var list = new List<QueuedMessage>();
        foreach (var id in Ids())
        {
            var state = await TryReadStateAsync(id, cancellationToken).ConfigureAwait(false);
            if (state is null) continue;
            list.Add(new QueuedMessage(id, state.ReversePath, state.CreatedAt, state.Attempts, state.NextAttemptAt,
                state.Recipients.Select(r => new QueuedRecipient(r.Address, r.State, r.LastReply)).ToList()));
        }
        return list;
    }

    /// <summary>The raw bytes of a queued message.</summary>
    /// <param name="id">Queue id from <see cref="EnqueueAsync"/> or <see cref="PendingAsync"/>.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    public Task<byte[]> ReadContentAsync(string id, CancellationToken cancellationToken)
    {
        if (!IsValidId(id)) throw new ArgumentException("Not a queue id.", nameof(id));
        return File.ReadAllBytesAsync(Path.Combine(_dir, id + MessageExtension), cancellationToken);
    }

    /// <summary>
    /// Attempts every message due at <paramref name="now"/> once, oldest first, up to
    /// <see cref="OutboundQueueOptions.MaxConcurrentDeliveries"/> at a time, and updates each one's state durably:
    /// delivered and bounced recipients are final, the rest wait for the next backoff step.
    /// </summary>
    /// <param name="now">The time to judge due-ness and schedule retries by (tests pass a manual clock's time).</param>
    /// <param name="cancellationToken">Stops between and during attempts; an interrupted attempt is retried later.</param>
    public async Task<OutboundRunResult> RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _runLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int attempted = 0, completed = 0, bounces = 0;
            DateTimeOffset? nextDue = null;
            var due = new List<(string Id, QueueState State)>();
            foreach (var id in Ids())
            {
                var state = await TryReadStateAsync(id, cancellationToken).ConfigureAwait(false);
                if (state is null) continue; // unreadable: left in place for the operator, never deleted silently
                if (state.NextAttemptAt > now)
                {
                    nextDue = Min(nextDue, state.NextAttemptAt);
                    continue;
                }
                due.Add((id, state));
            }
            var gate = new Lock();
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentDeliveries, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(due, parallel, async (item, ct) =>
            {
                var (id, state) = item;
                await _connections.WaitAsync(ct).ConfigureAwait(false);
                var session = RentSession();
                try
                {
                    await AttemptAsync(session, id, state, now, ct).ConfigureAwait(false);
                }
                finally
                {
                    _idleSessions.Push(session);
                    _connections.Release();
                }
                if (state.Recipients.Any(r => r.State == QueuedRecipientState.Pending))
                {
                    await WriteStateAsync(id, state, ct).ConfigureAwait(false);
                    lock (gate)
                    {
                        attempted++;
                        nextDue = Min(nextDue, state.NextAttemptAt);
                    }
                    return;
                }
                // The DSN is committed before the original is removed: a crash in between may bounce twice, never zero times.
                // A tagged message's sender is told by the observer, which also records the outcome for its owner.
                var observed = await ObserveAsync(id, state, ct).ConfigureAwait(false);
                var bounced = !observed && await BounceAsync(id, state, now, ct).ConfigureAwait(false);
                Remove(id, state);
                lock (gate)
                {
                    attempted++;
                    completed++;
                    if (bounced) bounces++;
                }
            }).ConfigureAwait(false);
            return new OutboundRunResult(attempted, completed, bounces, nextDue);
        }
        finally
        {
            _runLock.Release();
        }
    }

    /// <summary>
    /// Delivers due messages until cancelled, sleeping on the injected clock until the next is due or a message is
    /// enqueued (an enqueue wakes the loop at once). Idle smarthost connections are closed after
    /// <see cref="OutboundQueueOptions.IdleConnectionTimeout"/> and when the loop ends.
    /// </summary>
    /// <param name="cancellationToken">Stops the loop; pending messages stay queued for the next start.</param>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var wake = Volatile.Read(ref _wake).Task; // taken before the pass, so an enqueue during it is not missed
                OutboundRunResult result;
                try
                {
                    result = await RunOnceAsync(_time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                var delay = result.NextDueAt is { } due ? due - _time.GetUtcNow() : _options.RescanInterval;
                if (delay <= TimeSpan.Zero) continue;
                if (delay > _options.RescanInterval) delay = _options.RescanInterval; // another process may have enqueued
                if (!_idleSessions.IsEmpty && delay > _options.IdleConnectionTimeout)
                {
                    // Keep the connections a little while for the next message, then let them go.
                    var idle = Task.Delay(_options.IdleConnectionTimeout, _time, cancellationToken);
                    if (await Task.WhenAny(idle, wake).ConfigureAwait(false) == wake) continue;
                    await CloseIdleSessionsAsync().ConfigureAwait(false);
                    if (cancellationToken.IsCancellationRequested) return;
                    delay -= _options.IdleConnectionTimeout;
                }
                await Task.WhenAny(Task.Delay(delay, _time, cancellationToken), wake).ConfigureAwait(false);
            }
        }
        finally
        {
            await CloseIdleSessionsAsync().ConfigureAwait(false);
        }
    }

    private IDeliverySession RentSession() =>
        _idleSessions.TryPop(out var session) ? session
        : _transport is ISessionDeliveryTransport sessions ? sessions.OpenSession()
        : new OneShotSession(_transport);

    private async Task CloseIdleSessionsAsync()
    {
        while (_idleSessions.TryPop(out var session)) await session.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A transport without sessions: each delivery is its own attempt.</summary>
    private sealed class OneShotSession(IDeliveryTransport transport) : IDeliverySession
    {
        public Task<SmtpDeliveryResult> DeliverAsync(SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken) =>
            transport.DeliverAsync(envelope, content, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private async Task AttemptAsync(IDeliverySession session, string id, QueueState state, DateTimeOffset now, CancellationToken ct)
    {
        var pending = state.Recipients.Where(r => r.State == QueuedRecipientState.Pending).ToList();
        if (pending.Count > 0)
        {
            var envelope = new SmtpEnvelope(state.ReversePath, pending.Select(r => r.Address).ToList(), state.EightBitMime, state.SmtpUtf8, state.CreatedAt);
            SmtpDeliveryResult result;
            try
            {
                var content = new FileStream(Path.Combine(_dir, id + MessageExtension), FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
                await using (content.ConfigureAwait(false))
                {
                    result = await session.DeliverAsync(envelope, content, ct).ConfigureAwait(false);
                }
            }
            catch (IOException e)
            {
                // A local read error is treated like a temporary failure: retried, and bounced at MaxAge.
                result = new SmtpDeliveryResult(false, false, "Local error: " + e.GetType().Name, []);
            }
            Apply(result, pending);
            if (_logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Information))
            {
                var delivered = state.Recipients.Count(r => r.State == QueuedRecipientState.Delivered);
                var failed = state.Recipients.Count(r => r.State == QueuedRecipientState.Failed);
                var stillPending = state.Recipients.Count(r => r.State == QueuedRecipientState.Pending);
                var outcome = result.Success ? "delivered" : result.DataAccepted ? "partly delivered" : result.Permanent ? "permanent failure" : "temporary failure";
                var (code, _) = MailEngineLog.CodeOf(result.Reply);
                MailEngineLog.Attempted(_logger, id, state.Attempts + 1, outcome, code, delivered, failed, stillPending);
            }
        }
        state.Attempts++;
        state.LastAttemptAt = now;
        if (!state.Recipients.Any(r => r.State == QueuedRecipientState.Pending)) return;
        var deadline = state.CreatedAt + _options.MaxAge;
        if (now >= deadline)
        {
            foreach (var r in state.Recipients.Where(r => r.State == QueuedRecipientState.Pending))
            {
                r.State = QueuedRecipientState.Failed;
                r.GaveUp = true;
            }
            return;
        }
        var wait = _options.FirstRetryDelay * Math.Pow(2, Math.Min(state.Attempts - 1, 30));
        if (wait > _options.MaxRetryDelay) wait = _options.MaxRetryDelay;
        state.NextAttemptAt = now + wait > deadline ? deadline : now + wait;
        MailEngineLog.Deferred(_logger, id, state.NextAttemptAt);
    }

    private static void Apply(SmtpDeliveryResult result, List<RecipientEntry> pending)
    {
        var rejected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (address, reply) in result.RejectedRecipients) rejected.TryAdd(address, reply);
        foreach (var r in pending)
        {
            if (rejected.TryGetValue(r.Address, out var reply))
            {
                r.LastReply = reply;
                if (reply.StartsWith('5')) r.State = QueuedRecipientState.Failed;
            }
            else
            {
                r.LastReply = result.Reply;
                if (result.Success || result.DataAccepted) r.State = QueuedRecipientState.Delivered;
                else if (result.Permanent) r.State = QueuedRecipientState.Failed;
            }
        }
    }

    /// <summary>Hands a finished tagged message to the observer; false when there is none or it failed (the queue then bounces as usual).</summary>
    private async Task<bool> ObserveAsync(string id, QueueState state, CancellationToken ct)
    {
        if (_observer is null || state.Tag is null) return false;
        try
        {
            var headers = await ReadHeaderBlockAsync(id, ct).ConfigureAwait(false);
            var outcome = new QueuedDeliveryOutcome(id, state.Tag, state.Recipients.Select(r => new QueuedRecipient(r.Address, r.State, r.LastReply)).ToList(), headers);
            await _observer.CompletedAsync(outcome, ct).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            MailEngineLog.ObserverFailed(_logger, id, e.GetType().Name);
            return false;
        }
    }

    private async Task<bool> BounceAsync(string id, QueueState state, DateTimeOffset now, CancellationToken ct)
    {
        var failed = state.Recipients.Where(r => r.State == QueuedRecipientState.Failed).ToList();
        // RFC 5321 §6.1 / RFC 3464 §2: never bounce a message with a null reverse path (that is how bounce loops start).
        if (failed.Count == 0) return false;
        if (state.ReversePath.Length == 0)
        {
            MailEngineLog.FailedWithoutBounce(_logger, id, failed.Count);
            return false;
        }

        byte[] headers = await ReadHeaderBlockAsync(id, ct).ConfigureAwait(false);
        var dsn = DeliveryStatusNotification.Build(new DeliveryStatusNotification.Report(
            _options.ReportingMta,
            state.ReversePath,
            state.CreatedAt,
            now,
            failed.Select(r => new DeliveryStatusNotification.FailedRecipient(r.Address, r.LastReply ?? "", r.GaveUp)).ToList(),
            headers));
        bool utf8Sender = state.ReversePath.Any(c => c > '~');
        var envelope = new SmtpEnvelope("", [state.ReversePath], EightBitMime: dsn.Any(b => b > 127), SmtpUtf8: utf8Sender, now);
        var dsnId = await EnqueueAsync(envelope, dsn, ct).ConfigureAwait(false);
        MailEngineLog.Bounced(_logger, id, failed.Count, failed.Count(r => r.GaveUp), dsnId);
        return true;
    }

    private async Task<byte[]> ReadHeaderBlockAsync(string id, CancellationToken ct)
    {
        var buffer = new byte[_options.MaxQuotedHeaderBytes];
        int n = 0;
        var file = new FileStream(Path.Combine(_dir, id + MessageExtension), FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.Asynchronous);
        await using (file.ConfigureAwait(false))
        {
            int read;
            while (n < buffer.Length && (read = await file.ReadAsync(buffer.AsMemory(n), ct).ConfigureAwait(false)) > 0) n += read;
        }
        return DeliveryStatusNotification.HeaderBlock(buffer.AsSpan(0, n));
    }

    private void Remove(string id, QueueState? state = null)
    {
        if (state?.OnceId is { } onceId)
        {
            // Before the message goes: a retry of EnqueueOnceAsync must learn it was handed over.
            var done = Path.Combine(_dir, "once", onceId + ".done");
            using (File.Create(done)) { }
            DirectorySync.Fsync(Path.Combine(_dir, "once"));
        }

        File.Delete(Path.Combine(_dir, id + StateExtension));
        DirectorySync.Fsync(_dir);
        File.Delete(Path.Combine(_dir, id + MessageExtension));
    }

    private List<string> Ids() =>
        Directory.EnumerateFiles(_dir, "*" + StateExtension)
            .Select(p => Path.GetFileNameWithoutExtension(p))
            .Where(IsValidId)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Releases the run lock; files stay for the next start.</summary>
    public void Dispose()
    {
        _runLock.Dispose();
        _connections.Dispose();
    }

    /// <summary>Closes the pooled smarthost connections (QUIT), then releases like <see cref="Dispose"/>; files stay for the next start.</summary>
    public async ValueTask DisposeAsync()
    {
        await CloseIdleSessionsAsync().ConfigureAwait(false);
        Dispose();
    }

    private static bool IsValidId(string? id) =>
        id is { Length: 35 } && id[8] == 'T' && id[18] == '-' && id.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f' or 'T' or '-');

    private async Task<QueueState?> TryReadStateAsync(string id, CancellationToken ct)
    {
        try
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(_dir, id + StateExtension), ct).ConfigureAwait(false);
            var state = JsonSerializer.Deserialize(bytes, QueueJsonContext.Default.QueueState);
            return state is { Version: 1, Recipients.Count: > 0 } ? state : null;
        }
        catch (Exception e) when (e is JsonException or FileNotFoundException)
        {
            return null;
        }
    }

    private Task WriteStateAsync(string id, QueueState state, CancellationToken ct) =>
        WriteFileAsync(Path.Combine(_dir, id + StateExtension), JsonSerializer.SerializeToUtf8Bytes(state, QueueJsonContext.Default.QueueState), ct);

    /// <summary>temp + fsync + rename + directory fsync: the file at <paramref name="path"/> is complete or absent.</summary>
    private async Task WriteFileAsync(string path, ReadOnlyMemory<byte> content, CancellationToken ct, string? directory = null)
    {
        var tmpPath = Path.Combine(_tmp, Path.GetFileName(path) + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)) + ".tmp");
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows()) fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            var stream = new FileStream(tmpPath, fileOptions);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(content, ct).ConfigureAwait(false);
                await stream.FlushAsync(ct).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmpPath, path, overwrite: true);
        }
        finally
        {
            File.Delete(tmpPath); // no-op after the rename
        }
        DirectorySync.Fsync(directory ?? _dir);
    }

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x <= b ? x : b;

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}

/// <summary>The .state file (version 1).</summary>
internal sealed class QueueState
{
    public int Version { get; set; } = 1;
    public string ReversePath { get; set; } = "";
    public bool EightBitMime { get; set; }
    public bool SmtpUtf8 { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public int Attempts { get; set; }
    public List<RecipientEntry> Recipients { get; set; } = [];
    public string? Tag { get; set; }
    public string? OnceId { get; set; }
}

internal sealed class RecipientEntry
{
    public string Address { get; set; } = "";
    public QueuedRecipientState State { get; set; }
    public string? LastReply { get; set; }
    public bool GaveUp { get; set; }
}

[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[JsonSerializable(typeof(QueueState))]
internal sealed partial class QueueJsonContext : JsonSerializerContext;
