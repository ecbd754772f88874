// The Alias pipeline: every spooled message, for each envelope recipient, is forwarded (alias), sent on
// as a reply (reverse address), read as a bounce (SRS address) or dropped and counted (blocked contact,
// disabled alias with "discard", quota). Content lives only in the spool and the outbound queue: the
// database gets counters, contacts and a routing log with reason codes.
//
// Group commit. The spool dispatcher hands many messages at once; each call only queues its message for the one
// batch worker here and waits. The worker takes whatever is waiting (up to MaxBatch messages) and, for the batch:
//   1. reads which (message, recipient) units were already handled (one query);
//   2. routes every unit in order, reading what it needs (alias, contact, mailboxes, today's usage) through one
//      DbContext; counter changes are not applied yet but kept as the unit's effect;
//   3. builds, DKIM-signs and sends the units that leave (OutboundQueue.SendAsync: straight to the smarthost on a
//      pooled connection, durably queued only when the smarthost does not take it), in parallel;
//   4. applies the effects of every unit that finished and adds its "handled" marker, then saves once.
// Only then are the messages answered Done (and removed from the spool). Delivery is at-least-once: a crash, or a
// failed save after step 3, sends those units again later (a duplicate the receiver may see, never a loss), but
// counters move only with the markers, in the same transaction, so nothing is counted twice. A unit whose send
// failed for a reason of the moment (queue disk, database) gets no marker: its message is answered RetryLater and
// only that unit runs again. One worker means no two batches interleave, so counters need no merging, and the
// daily quota counts the forwards planned earlier in the same batch.
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Crypto.OpenPgp;
using Veil.Mail.Forwarding;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Identity.Data;
using Veil.Server.Mail;
using Veil.Server.Platform.Persistence.Encryption;
using Veil.Server.Platform.Plans;

namespace Veil.Server.Alias;

internal sealed class AliasMessageSink(
    IServiceScopeFactory scopes,
    IServiceProvider services,
    AliasSrs srs,
    OutgoingDkim dkim,
    IOptions<AliasOptions> options,
    AccountPlans plans,
    Mailbox.Domains.VerifiedDomains customDomains,
    TimeProvider time,
    ILogger<AliasMessageSink> logger) : IMessageSink, IDisposable
{
    private const string UnknownSender = "mailer-daemon@unknown.invalid";

    /// <summary>Messages routed and committed together.</summary>
    public const int MaxBatch = 64;

    /// <summary>Sends of one batch in flight at once (each waits for one of the smarthost connections).</summary>
    private const int SendConcurrency = 32;

    /// <summary>Message bytes held in memory by calls waiting for or in a batch (a larger message waits until it is alone).</summary>
    private const long MemoryBudget = 64L * 1024 * 1024;

    private readonly Channel<Job> _jobs = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly MemoryGate _memory = new(MemoryBudget);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _startLock = new();
    private Task? _worker;

    public void Dispose()
    {
        _jobs.Writer.TryComplete();
        _stop.Cancel();
        _stop.Dispose();
        _memory.Dispose();
    }

    private OutboundQueue Queue => services.GetService<OutboundQueue>() ?? throw new NoSmarthostException();

    public async ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(content);
        var settings = options.Value;
        var held = message.Size <= settings.MaxMessageSize ? Math.Min(message.Size, MemoryBudget) : 0;
        await _memory.TakeAsync(held, cancellationToken);
        try
        {
            byte[]? raw = null;
            if (message.Size <= settings.MaxMessageSize && content is MemoryStream { Position: 0 } memory
                && memory.TryGetBuffer(out var whole) && whole.Offset == 0 && whole.Count == whole.Array!.Length)
            {
                raw = whole.Array; // the spool's own copy, read only from here on
            }
            else if (message.Size <= settings.MaxMessageSize)
            {
                using var buffer = new MemoryStream((int)Math.Min(message.Size, int.MaxValue));
                await content.CopyToAsync(buffer, cancellationToken);
                raw = buffer.ToArray();
            }

            var job = new Job(message, raw);
            EnsureWorker();
            await _jobs.Writer.WriteAsync(job, cancellationToken);
            return await job.Result.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            _memory.Give(held);
        }
    }

    private void EnsureWorker()
    {
        lock (_startLock)
        {
            if (_worker is null || _worker.IsCompleted)
            {
                _worker = Task.Run(WorkAsync);
            }
        }
    }

    private async Task WorkAsync()
    {
        var reader = _jobs.Reader;
        var ct = _stop.Token;
        try
        {
            while (await reader.WaitToReadAsync(ct))
            {
                var batch = new List<Job>(MaxBatch);
                while (batch.Count < MaxBatch && reader.TryRead(out var job))
                {
                    if (!job.Result.Task.IsCompleted)
                    {
                        batch.Add(job);
                    }
                }

                try
                {
                    await ProcessBatchAsync(batch, ct);
                }
                catch (Exception e) when (e is DbException or DbUpdateException or IOException)
                {
                    // The database or the queue is unavailable: keep every message and try again later.
                    foreach (var job in batch)
                    {
                        AliasLog.RetryLater(logger, job.Message.Id.Value, e.GetType().Name);
                        job.Result.TrySetResult(SinkResult.RetryLater);
                    }
                }
                catch (Exception e)
                {
                    foreach (var job in batch)
                    {
                        job.Result.TrySetException(e);
                    }

                    if (e is OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: callers still waiting are cancelled through their own tokens.
        }
        catch (ObjectDisposedException)
        {
            // Disposed while waiting.
        }
    }

    private async Task ProcessBatchAsync(List<Job> batch, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var directory = scope.ServiceProvider.GetRequiredService<AliasDirectory>();
        var db = directory.Db;

        var units = new List<Unit>();
        foreach (var job in batch)
        {
            var recipients = job.Message.Envelope.Recipients;
            for (var index = 0; index < recipients.Count; index++)
            {
                units.Add(new Unit(job, index, recipients[index], HandledKey(job.Message.Id, index)));
            }
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        // 1. Units a previous attempt finished (a crash after the save, before the spool removal).
        var keys = units.Select(u => u.Key).ToList();
        var handled = (await db.Set<AliasHandledMessage>().Where(h => keys.Contains(h.Key)).Select(h => h.Key).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);

        var tMark = clock.Elapsed.TotalMilliseconds;
        // 2. Route in order: reads and decisions; effects wait.
        var state = new BatchState(directory);
        foreach (var unit in units)
        {
            if (handled.Contains(unit.Key))
            {
                unit.State = UnitState.AlreadyHandled;
                continue;
            }

            try
            {
                unit.Route = await RouteAsync(scope.ServiceProvider, directory, state, unit.Job.Message.Envelope, unit.Rcpt, unit.Job.Raw, ct);
                unit.State = unit.Route.Send is null ? UnitState.Finished : UnitState.ToSend;
            }
            catch (Exception e) when (e is not (OperationCanceledException or DbException or DbUpdateException or IOException))
            {
                // About this message, not the moment: offered again, it would fail again forever. It is dropped
                // (only its type is logged: the message may quote the content).
                AliasLog.Unprocessable(logger, unit.Job.Message.Id.Value, unit.Index, e.GetType().Name);
                unit.State = UnitState.Finished;
            }
        }

        var tRoute = clock.Elapsed.TotalMilliseconds;
        long buildTicks = 0, signTicks = 0, sendTicks = 0;
        // 3. Build, sign and send what leaves; the CPU work spreads over the cores, the sends over the connections.
        var toSend = units.Where(u => u.State == UnitState.ToSend).ToList();
        await Parallel.ForEachAsync(toSend, new ParallelOptions { MaxDegreeOfParallelism = SendConcurrency, CancellationToken = ct }, async (unit, token) =>
        {
            var send = unit.Route!.Send!;
            try
            {
                long built = 0, signed = 0;
                var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                var refused = new List<QueuedRecipient>();
                var queuedOnly = true;
                // One copy per PGP recipient (each encrypted to its own key) and one for the others.
                foreach (var copy in send.Copies)
                {
                    var b0 = System.Diagnostics.Stopwatch.GetTimestamp();
                    var message = copy.Build();
                    var b1 = System.Diagnostics.Stopwatch.GetTimestamp();
                    var dkimSigned = await SignAsync(send.Domain, message, token);
                    built += b1 - b0;
                    signed += System.Diagnostics.Stopwatch.GetTimestamp() - b1;
                    var report = await Queue.SendAndReportAsync(copy.Envelope, dkimSigned, send.Tag(AliasDeliveryTag.DeferralMarker(unit.Key)), token);
                    queuedOnly &= report is { QueueId: not null, Delivered.Count: 0, Refused.Count: 0 };
                    refused.AddRange(report.Refused);
                }

                var t2 = t0 + built + signed;
                var t1 = t0 + built;
                unit.QueuedOnly = queuedOnly;
                if (refused.Count > 0)
                {
                    // The next hop refused it for good: the owner sees the failure (step 4) and the original sender, to
                    // whom this server said 250, gets a DSN (RFC 5321 §6.1). The DSN names the address the sender used
                    // and only the reply codes: the next hop's text may name the real mailbox.
                    unit.Refused = refused;
                    var reply = NextHopReplies.Of(refused[0].LastReply);
                    await Queue.EnqueueDeliveryReportAsync(
                        unit.Job.Message.Envelope.ReversePath, unit.Job.Message.Envelope.ReceivedAt,
                        [new QueuedRecipient(unit.Rcpt, QueuedRecipientState.Failed, reply.Text)], unit.Job.Raw, token);
                }

                var t3 = System.Diagnostics.Stopwatch.GetTimestamp();
                Interlocked.Add(ref buildTicks, t1 - t0);
                Interlocked.Add(ref signTicks, t2 - t1);
                Interlocked.Add(ref sendTicks, t3 - t2);
                unit.State = UnitState.Finished;
            }
            catch (Exception e) when (e is DbException or IOException)
            {
                AliasLog.RetryLater(logger, unit.Job.Message.Id.Value, e.GetType().Name);
                unit.State = UnitState.Deferred;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                AliasLog.Unprocessable(logger, unit.Job.Message.Id.Value, unit.Index, e.GetType().Name);
                unit.Route = null;
                unit.State = UnitState.Finished;
            }
        });

        var tSend = clock.Elapsed.TotalMilliseconds;
        // 4. Effects and markers of every finished unit, in one transaction.
        var now = time.GetUtcNow();
        foreach (var unit in units.Where(u => u.State == UnitState.Finished))
        {
            if (unit.Refused is { Count: > 0 } refused && unit.Route?.Send is { } sent)
            {
                // Counted as forwarded only for the mailboxes that took it; the refusal goes to the log and the counter.
                var someDelivered = refused.Count < sent.RecipientCount;
                if (someDelivered)
                {
                    unit.Route.Apply?.Invoke();
                }

                var reason = NextHopReplies.Of(refused[0].LastReply).Reason;
                sent.Refused(someDelivered, reason);
                unit.Route = unit.Route with { Event = someDelivered ? unit.Route.Event : AliasEvents.Failed, Reason = reason };
                db.Add(new AliasHandledMessage { Key = unit.Key, At = now });
                continue;
            }

            if (unit.QueuedOnly && unit.Route?.Send is { } queued)
            {
                // Not accepted yet: "forwarded" is logged (and counted) only when the queue reports the next hop took it.
                // The deferral marker commits with the log entry: only then does the observer count the outcome, so a
                // crash before this save (the spool then offers the message again, and that send is what counts)
                // never counts it twice.
                queued.Queued("next-hop-deferred");
                unit.Route = unit.Route with { Event = AliasEvents.Deferred, Reason = "next-hop-deferred" };
                db.Add(new AliasHandledMessage { Key = unit.Key, At = now });
                db.Add(new AliasHandledMessage { Key = AliasDeliveryTag.DeferralMarker(unit.Key), At = now });
                continue;
            }

            unit.Route?.Apply?.Invoke();
            db.Add(new AliasHandledMessage { Key = unit.Key, At = now });
        }

        await db.SaveChangesAsync(ct);
        var tSave = clock.Elapsed.TotalMilliseconds;
        if (logger.IsEnabled(LogLevel.Debug))
        {
            var perMs = System.Diagnostics.Stopwatch.Frequency / 1000.0;
            double build = buildTicks / perMs, sign = signTicks / perMs, smarthost = sendTicks / perMs;
            AliasLog.Batch(logger, batch.Count, units.Count, tMark, tRoute - tMark, tSend - tRoute, build, sign, smarthost, tSave - tSend);
        }

        foreach (var unit in units.Where(u => u.State == UnitState.Finished && u.Route is not null))
        {
            AliasLog.Routed(logger, unit.Job.Message.Id.Value, unit.Index, unit.Route!.Event, unit.Route.Reason ?? "-");
        }

        foreach (var job in batch)
        {
            job.Result.TrySetResult(units.Any(u => u.Job == job && u.State == UnitState.Deferred) ? SinkResult.RetryLater : SinkResult.Done);
        }
    }

    private async Task<Routed> RouteAsync(
        IServiceProvider scope, AliasDirectory directory, BatchState batch, SmtpEnvelope envelope, string rcpt, byte[]? raw, CancellationToken ct)
    {
        var settings = options.Value;
        if (!AliasAddresses.TrySplit(rcpt, out var local, out var domain) || !(settings.IsAliasDomain(domain) || customDomains.TryGetHolder(domain, out _)))
        {
            return new Routed("ignored", "not-alias-domain");
        }

        var address = local + "@" + domain;
        if (AliasAddresses.IsSrsLocalPart(local))
        {
            if (raw is null)
            {
                return new Routed("ignored", "too-large");
            }

            var (bounceEvent, bounceReason) = await BounceAsync(scope, directory, address, raw, ct);
            return new Routed(bounceEvent, bounceReason);
        }

        if (await batch.AliasAsync(address, ct) is { } alias && AliasRecipientResolver.HeldBy(customDomains, domain, alias.AccountId))
        {
            return await ForwardAsync(directory, batch, alias, envelope, raw, ct);
        }

        if (AliasAddresses.IsReverseLocalPart(local) && await directory.FindContactByReverseAsync(address, ct) is { } contact)
        {
            return await ReplyAsync(directory, batch, contact, envelope, raw, ct);
        }

        if (settings.CatchAllOwner(domain) is { } owner && AliasAddresses.IsCatchAllLocalPart(local) && !await directory.IsTombstonedAsync(address, ct))
        {
            // Created through its own scope: the creator saves (and on a race clears) its own context, not the batch's.
            await using (var creation = scopes.CreateAsyncScope())
            {
                var created = await creation.ServiceProvider.GetRequiredService<AliasCreator>().CreateAsync(owner, null, domain, null, null, null, address, ct);
                if (!created.IsSuccess)
                {
                    var reason = created.Error.Code == AliasErrors.DailyLimit.Code ? "quota-exceeded" : "no-recipient";
                    return new Routed(AliasEvents.Failed, reason, () => directory.Log(owner, null, AliasEvents.Failed, reason));
                }
            }

            if (await batch.AliasAsync(address, ct) is { } fresh)
            {
                return await ForwardAsync(directory, batch, fresh, envelope, raw, ct);
            }
        }

        // Deleted between RCPT and now: nothing to deliver to, and nobody to tell.
        return new Routed("ignored", "no-alias");
    }

    private async Task<Routed> ForwardAsync(AliasDirectory directory, BatchState batch, AliasRecord alias, SmtpEnvelope envelope, byte[]? raw, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        void Received()
        {
            alias.Received++;
            alias.LastEmailAt = now;
        }

        if (raw is null)
        {
            return Fail(directory, alias, "too-large", Received);
        }

        if (!alias.Enabled)
        {
            if (alias.DisabledAction == AliasDisabledActions.Discard)
            {
                return new Routed(AliasEvents.Discarded, "alias-disabled", () =>
                {
                    Received();
                    alias.Blocked++;
                    directory.Log(alias.AccountId, alias.Id, AliasEvents.Discarded, "alias-disabled");
                });
            }

            return new Routed(AliasEvents.Rejected, "alias-disabled", () =>
            {
                Received();
                directory.Log(alias.AccountId, alias.Id, AliasEvents.Rejected, "alias-disabled");
            });
        }

        var senders = AliasForwarder.ReadSenders(raw);
        var fromAddress = AliasAddresses.NormalizeMailbox(senders.From?.Address) ?? AliasAddresses.NormalizeMailbox(envelope.ReversePath) ?? UnknownSender;
        var contact = await batch.ContactAsync(alias, fromAddress, ct);
        if (contact.IsBlocked)
        {
            return new Routed(AliasEvents.Blocked, "contact-blocked", () =>
            {
                Received();
                contact.LastEmailAt = now;
                alias.Blocked++;
                contact.BlockedCount++;
                directory.Log(alias.AccountId, alias.Id, AliasEvents.Blocked, "contact-blocked");
            });
        }

        var mailboxes = await batch.MailboxesAsync(alias, ct);
        var deliverable = mailboxes.Where(r => r.Deliverable).ToList();
        if (deliverable.Count == 0)
        {
            return Fail(directory, alias, mailboxes.Any(r => r.PausedAt is not null) ? "recipient-paused" : "no-recipient", Received);
        }

        var plain = deliverable.Where(r => r.PgpPublicKey is null).Select(r => r.Email).ToList();
        var encrypted = new List<(string Email, OpenPgpPublicKey Key)>();
        foreach (var mailbox in deliverable.Where(r => r.PgpPublicKey is not null))
        {
            // Checked again at each forward: a key valid at upload may have expired since. Its owner asked never to get
            // this mail in clear, so such a mailbox gets no copy (and the alias log says why) rather than a plain one.
            if (OpenPgpPublicKey.Parse(mailbox.PgpPublicKey!, now).Key is { } key)
            {
                encrypted.Add((mailbox.Email, key));
            }
        }

        if (plain.Count == 0 && encrypted.Count == 0)
        {
            return Fail(directory, alias, "recipient-pgp-key-unusable", Received);
        }

        var usage = await batch.UsageAsync(alias.AccountId, ct);
        if (!TakeQuota(batch, usage, alias.AccountId, (await plans.LimitsAsync(alias.AccountId, ct)).AliasDailyForwards))
        {
            return Fail(directory, alias, "quota-exceeded", Received);
        }

        var replyTo = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mailbox in senders.ReplyTo)
        {
            if (AliasAddresses.NormalizeMailbox(mailbox.Address) is { } replyAddress && !replyTo.ContainsKey(replyAddress))
            {
                replyTo[replyAddress] = (await batch.ContactAsync(alias, replyAddress, ct)).ReverseAddress;
            }
        }

        // A mailto: unsubscribe address becomes a contact too: unsubscribing by mail then goes out as a reply from the alias.
        var unsubscribe = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var address in senders.UnsubscribeMailboxes)
        {
            if (AliasAddresses.NormalizeMailbox(address) is { } mailbox)
            {
                unsubscribe[address] = (await batch.ContactAsync(alias, mailbox, ct)).ReverseAddress;
            }
        }

        var sender = srs.Forward(envelope.ReversePath, alias.Domain, alias.Id);
        var reverse = contact.ReverseAddress;
        SmtpEnvelope EnvelopeTo(List<string> to) =>
            new(sender, to, envelope.EightBitMime, envelope.SmtpUtf8 || to.Any(a => a.Any(c => c > '~')), now);
        byte[] Forwarded() => AliasForwarder.Forward(raw, new ForwardOptions(reverse, replyTo, ReverseUnsubscribe: unsubscribe)).Message;
        var copies = new List<Copy>();
        if (plain.Count > 0)
        {
            copies.Add(new Copy(EnvelopeTo(plain), Forwarded));
        }

        foreach (var (email, key) in encrypted)
        {
            // Encrypted after the alias rewrote the headers and before DKIM signs: the signature covers the PGP/MIME form.
            copies.Add(new Copy(EnvelopeTo([email]), () => PgpMime.Encrypt(Forwarded(), key, now)));
        }

        var send = new Send(
            alias.Domain,
            copies,
            key => AliasDeliveryTag.Format(AliasEvents.Forwarded, alias.Id, alias.Address, envelope.ReversePath, envelope.ReceivedAt, key),
            reason =>
            {
                Received();
                contact.LastEmailAt = now;
                usage.Forwarded++;
                directory.Log(alias.AccountId, alias.Id, AliasEvents.Deferred, reason);
            },
            (someDelivered, reason) =>
            {
                if (!someDelivered)
                {
                    Received();
                    contact.LastEmailAt = now;
                }

                alias.Bounced++;
                directory.Log(alias.AccountId, alias.Id, AliasEvents.Failed, reason);
            });
        return new Routed(AliasEvents.Forwarded, null, () =>
        {
            Received();
            contact.LastEmailAt = now;
            alias.Forwarded++;
            contact.Forwarded++;
            usage.Forwarded++;
            directory.Log(alias.AccountId, alias.Id, AliasEvents.Forwarded, null);
        }, send);
    }

    private async Task<Routed> ReplyAsync(AliasDirectory directory, BatchState batch, AliasContact contact, SmtpEnvelope envelope, byte[]? raw, CancellationToken ct)
    {
        var alias = await directory.Db.Set<AliasRecord>().FirstAsync(a => a.Id == contact.AliasId, ct);
        var now = time.GetUtcNow();
        if (raw is null)
        {
            return Fail(directory, alias, "too-large", null);
        }

        // RCPT already checked this; checked again because the recipient may have been removed since.
        var sender = AliasAddresses.NormalizeMailbox(envelope.ReversePath);
        if (sender is null || await directory.FindVerifiedRecipientAsync(contact.AccountId, sender, ct) is null)
        {
            return new Routed(AliasEvents.Rejected, "recipient-not-verified", () => directory.Log(alias.AccountId, alias.Id, AliasEvents.Rejected, "recipient-not-verified"));
        }

        var usage = await batch.UsageAsync(alias.AccountId, ct);
        if (!TakeQuota(batch, usage, alias.AccountId, (await plans.LimitsAsync(alias.AccountId, ct)).AliasDailyForwards))
        {
            return Fail(directory, alias, "quota-exceeded", null);
        }

        var own = (await directory.RecipientsOfAsync(alias.AccountId, ct)).Select(r => r.Email).Append(sender).Distinct(StringComparer.Ordinal).ToList();
        var utf8 = envelope.SmtpUtf8 || contact.Address.Any(c => c > '~');
        var options = new ReplyOptions(alias.Address, contact.ReverseAddress, contact.Address, null, own);
        // The envelope sender is the alias itself: SPF for the alias domain passes, and a bounce comes back
        // to the alias, which forwards it to the user like any other mail.
        var send = new Send(alias.Domain, new SmtpEnvelope(alias.Address, [contact.Address], envelope.EightBitMime, utf8, now), () => AliasReplier.Reply(raw, options),
            key => AliasDeliveryTag.Format(AliasEvents.Replied, alias.Id, contact.ReverseAddress, envelope.ReversePath, envelope.ReceivedAt, key),
            reason =>
            {
                alias.LastEmailAt = now;
                usage.Forwarded++;
                directory.Log(alias.AccountId, alias.Id, AliasEvents.Deferred, reason);
            },
            (_, reason) =>
            {
                alias.Bounced++;
                directory.Log(alias.AccountId, alias.Id, AliasEvents.Failed, reason);
            });
        return new Routed(AliasEvents.Replied, null, () =>
        {
            alias.Replied++;
            alias.LastEmailAt = now;
            contact.Replied++;
            contact.LastEmailAt = now;
            usage.Forwarded++;
            directory.Log(alias.AccountId, alias.Id, AliasEvents.Replied, null);
        }, send);
    }

    /// <summary>Whether the account may send one more today under its plan's <paramref name="limit"/>, counting the sends planned earlier in this batch.</summary>
    private static bool TakeQuota(BatchState batch, AliasDailyUsage usage, Guid accountId, int limit)
    {
        var earlier = batch.Planned.GetValueOrDefault(accountId);
        if (usage.Forwarded + earlier >= limit)
        {
            return false;
        }

        batch.Planned[accountId] = earlier + 1;
        return true;
    }

    /// <summary>
    /// What one batch has read and planned: the forwards counted against each account's quota so far, and the rows
    /// looked up (one batch is one snapshot: many messages to one alias read it once). Only rows that exist are
    /// remembered, so an alias created by a catch-all during the batch is found afterwards.
    /// </summary>
    private sealed class BatchState(AliasDirectory directory)
    {
        private readonly Dictionary<string, AliasRecord> _aliases = new(StringComparer.Ordinal);
        private readonly Dictionary<(Guid, string), AliasContact> _contacts = [];
        private readonly Dictionary<Guid, List<AliasRecipient>> _mailboxes = [];
        private readonly Dictionary<Guid, AliasDailyUsage> _usage = [];

        public Dictionary<Guid, int> Planned { get; } = [];

        public async Task<AliasRecord?> AliasAsync(string address, CancellationToken ct)
        {
            if (_aliases.TryGetValue(address, out var known))
            {
                return known;
            }

            var found = await directory.FindAliasAsync(address, ct);
            if (found is not null)
            {
                _aliases[address] = found;
            }

            return found;
        }

        public async Task<AliasContact> ContactAsync(AliasRecord alias, string address, CancellationToken ct)
        {
            if (!_contacts.TryGetValue((alias.Id, address), out var contact))
            {
                contact = await directory.EnsureContactAsync(alias, address, ct);
                _contacts[(alias.Id, address)] = contact;
            }

            return contact;
        }

        /// <summary>The account's usage row of the day, looked up once per batch (a lookup scans the tracked entities).</summary>
        public async Task<AliasDailyUsage> UsageAsync(Guid accountId, CancellationToken ct)
        {
            if (!_usage.TryGetValue(accountId, out var usage) || usage.Day != directory.Today)
            {
                usage = await directory.UsageAsync(accountId, ct);
                _usage[accountId] = usage;
            }

            return usage;
        }

        public async Task<List<AliasRecipient>> MailboxesAsync(AliasRecord alias, CancellationToken ct)
        {
            if (!_mailboxes.TryGetValue(alias.Id, out var mailboxes))
            {
                var ids = alias.RecipientIds.ToArray();
                mailboxes = await directory.Db.Set<AliasRecipient>().Where(r => r.AccountId == alias.AccountId && ids.Contains(r.Id)).ToListAsync(ct);
                _mailboxes[alias.Id] = mailboxes;
            }

            return mailboxes;
        }
    }

    /// <summary>Reverse addresses read from one bounce's text at most (each costs a lookup; the text is the sender's).</summary>
    private const int MaxBounceCandidates = 8;

    private async Task<(string, string?)> BounceAsync(IServiceProvider scope, AliasDirectory directory, string srsAddress, byte[] raw, CancellationToken ct)
    {
        var report = BounceParser.Parse(raw);
        if (report is null || report.Recipients.Count == 0)
        {
            return ("ignored", "not-a-dsn");
        }

        // The returned headers name the reverse address the forwarded copy came From: that proposes the alias. Anyone
        // can write any reverse address there, so the alias counts only when the SRS address the bounce came to
        // carries that alias's tag (issued when Veil forwarded through it). Without a proven alias the bounce counts
        // for nothing: it must never reach another account's mailboxes (issue 14, point 2).
        AliasRecord? alias = null;
        foreach (var reverse in AliasAddresses.FindReverseAddresses(Encoding.Latin1.GetString(raw), options.Value.NormalizedDomains).Distinct(StringComparer.Ordinal).Take(MaxBounceCandidates))
        {
            if (await directory.FindContactByReverseAsync(reverse, ct) is { } contact && srs.IsBoundTo(srsAddress, contact.AliasId))
            {
                alias = await directory.Db.Set<AliasRecord>().FirstOrDefaultAsync(a => a.Id == contact.AliasId, ct);
                break;
            }
        }

        if (alias is null)
        {
            return ("ignored", "unbound-bounce");
        }

        // Only the mailboxes this alias forwards to, of the account that owns it.
        var own = alias.RecipientIds.ToArray();
        var now = time.GetUtcNow();
        var settings = options.Value;
        var hard = false;
        foreach (var bounced in report.Recipients)
        {
            if (AliasAddresses.NormalizeMailbox(bounced.Recipient) is not { } email)
            {
                continue;
            }

            var query = directory.Db.Set<AliasRecipient>().WhereBlindIndexMatches(r => r.EmailIndex, email)
                .Where(r => r.AccountId == alias.AccountId && own.Contains(r.Id));

            foreach (var recipient in await query.ToListAsync(ct))
            {
                var isHard = bounced.Kind == BounceKind.Hard;
                hard |= isHard;
                directory.Db.Add(new AliasBounce { Id = Guid.NewGuid(), RecipientId = recipient.Id, At = now, Hard = isHard, Status = Truncate(bounced.Status, 16) });
                directory.Log(recipient.AccountId, alias.Id, AliasEvents.Bounced, isHard ? "hard-bounce" : "soft-bounce");
                if (!isHard || recipient.PausedAt is not null)
                {
                    continue;
                }

                var since = now - settings.HardBounceWindow;
                var earlier = await directory.Db.Set<AliasBounce>().CountAsync(b => b.RecipientId == recipient.Id && b.Hard && b.At > since, ct);
                // This bounce and others of the same batch are added but not saved yet.
                var unsaved = directory.Db.ChangeTracker.Entries<AliasBounce>().Count(e => e.State == EntityState.Added && e.Entity.RecipientId == recipient.Id && e.Entity.Hard);
                if (earlier + unsaved >= settings.HardBounceThreshold)
                {
                    recipient.Pause("hard-bounces", now);
                    AliasLog.RecipientPaused(logger, recipient.Id, earlier + unsaved);
                    await NotifyPausedAsync(scope, directory, recipient.AccountId, ct);
                }
            }
        }

        alias.Bounced++;
        return (AliasEvents.Bounced, hard ? "hard-bounce" : "soft-bounce");
    }

    private static async Task NotifyPausedAsync(IServiceProvider scope, AliasDirectory directory, Guid accountId, CancellationToken ct)
    {
        var account = await directory.Db.Set<Account>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == accountId, ct);
        if (account is null)
        {
            return;
        }

        // The recovery address first: the paused mailbox may well be the account's own address.
        var to = account.RecoveryEmailVerified && !string.IsNullOrEmpty(account.RecoveryEmail) ? account.RecoveryEmail : account.Email;
        await scope.GetRequiredService<RecipientMail>().SendPausedAsync(to, ct);
    }

    private async Task<byte[]> SignAsync(string domain, byte[] message, CancellationToken ct)
    {
        byte[] result;
        bool signed;
        try
        {
            (result, signed) = await dkim.SignAsync(domain, message, ct);
        }
        catch (ArgumentException)
        {
            // A header section beyond the DKIM limits: it still goes out, unsigned, like mail of a domain without a key.
            (result, signed) = (message, false);
        }

        if (!signed)
        {
            AliasLog.NoDkimKey(logger);
        }

        return result;
    }

    private static Routed Fail(AliasDirectory directory, AliasRecord alias, string reason, Action? also) =>
        new(AliasEvents.Failed, reason, () =>
        {
            also?.Invoke();
            directory.Log(alias.AccountId, alias.Id, AliasEvents.Failed, reason);
        });

    private static string HandledKey(SpoolId id, int index) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id.Value + ":" + index.ToString(System.Globalization.CultureInfo.InvariantCulture))));

    /// <summary>
    /// Forwarding needs the outbound queue: with <c>Veil:Mail:Smarthost</c>, or in development the .eml outbox
    /// (DevelopmentOutboxTransport); production refuses to start without either. Kept for a host that registers
    /// neither: mail then stays spooled.
    /// </summary>
    private sealed class NoSmarthostException() : IOException("Veil:Mail:Smarthost is not configured.");

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];

    /// <summary>One spooled message waiting for (or in) a batch.</summary>
    private sealed record Job(SpooledMessage Message, byte[]? Raw)
    {
        public TaskCompletionSource<SinkResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private enum UnitState
    {
        Routing,
        AlreadyHandled,
        ToSend,
        Finished,
        Deferred,
    }

    /// <summary>One (message, envelope recipient) pair: the grain of the "handled" markers.</summary>
    private sealed class Unit(Job job, int index, string rcpt, string key)
    {
        public Job Job { get; } = job;

        public int Index { get; } = index;

        public string Rcpt { get; } = rcpt;

        public string Key { get; } = key;

        public UnitState State { get; set; } = UnitState.Routing;

        public Routed? Route { get; set; }

        /// <summary>The mailboxes the next hop refused for good, with its replies; null when none was.</summary>
        public IReadOnlyList<QueuedRecipient>? Refused { get; set; }

        /// <summary>Nothing was accepted or refused yet: the whole message waits in the outbound queue.</summary>
        public bool QueuedOnly { get; set; }
    }

    /// <summary>A routing decision: the log event, the counters to move once it is done, and what to send, if anything.</summary>
    private sealed record Routed(string Event, string? Reason, Action? Apply = null, Send? Send = null);

    /// <summary>
    /// A message to build, sign with the alias domain's key and send, and what to record when the next hop refuses
    /// it for good (whether some other mailbox took it, and the reason code for the log).
    /// </summary>
    private sealed record Send(string Domain, IReadOnlyList<Copy> Copies, Func<string, string> Tag, Action<string> Queued, Action<bool, string> Refused)
    {
        public Send(string domain, SmtpEnvelope envelope, Func<byte[]> build, Func<string, string> tag, Action<string> queued, Action<bool, string> refused)
            : this(domain, [new Copy(envelope, build)], tag, queued, refused)
        {
        }

        public int RecipientCount => Copies.Sum(c => c.Envelope.Recipients.Count);
    }

    /// <summary>One message that leaves: its envelope and how to build its bytes (built late, on the send workers).</summary>
    private sealed record Copy(SmtpEnvelope Envelope, Func<byte[]> Build);


    /// <summary>Bounds the message bytes the waiting calls hold in memory; one message larger than the budget holds all of it.</summary>
    private sealed class MemoryGate(long budget) : IDisposable
    {
        private readonly SemaphoreSlim _turn = new(1, 1);
        private readonly SemaphoreSlim _released = new(0, int.MaxValue);
        private readonly Lock _gate = new();
        private long _free = budget;

        public async Task TakeAsync(long bytes, CancellationToken ct)
        {
            if (bytes <= 0)
            {
                return;
            }

            // One taker at a time, so two large messages never each hold half of what both need.
            await _turn.WaitAsync(ct);
            try
            {
                while (true)
                {
                    lock (_gate)
                    {
                        if (_free >= bytes)
                        {
                            _free -= bytes;
                            return;
                        }
                    }

                    await _released.WaitAsync(ct);
                }
            }
            finally
            {
                _turn.Release();
            }
        }

        public void Give(long bytes)
        {
            if (bytes <= 0)
            {
                return;
            }

            lock (_gate)
            {
                _free += bytes;
            }

            _released.Release();
        }

        public void Dispose()
        {
            _turn.Dispose();
            _released.Dispose();
        }
    }
}
