// The Alias pipeline: every spooled message, for each envelope recipient, is forwarded (alias), sent on
// as a reply (reverse address), read as a bounce (SRS address) or dropped and counted (blocked contact,
// disabled alias with "discard", quota). Content lives only in the spool and the outbound queue: the
// database gets counters, contacts and a routing log with reason codes.
//
// Delivery is at-least-once. For each (message, recipient) the order is: build → enqueue to the durable
// outbound queue (fsynced) → one database transaction with the counters, the log entry and a "handled"
// marker. A crash between the enqueue and the commit re-forwards that recipient after restart (a
// duplicate the receiver may see, never a loss), but counters move only with the marker, so nothing is
// counted twice. A message is Done only when every recipient is handled.
//
// The spool dispatcher calls this sink for several messages at once. The database part of each recipient runs
// under one sink-wide turn (_dbTurn), so lookups, contact creation and the final save never interleave; the CPU
// part (tracker stripping, DKIM) and the fsynced enqueue run outside it whenever the recipient's unit of work
// creates no row (a new contact or day row is created under the turn to avoid duplicates). Counter columns
// loaded before such a pause are re-read under the turn and the increments re-applied to the current values
// (MergeCountersAsync), so concurrent messages to one alias never lose a count. The daily quota is checked
// before the pause, so concurrent messages may pass it by at most the dispatcher's concurrency.
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
    TimeProvider time,
    ILogger<AliasMessageSink> logger) : IMessageSink, IDisposable
{
    private const string UnknownSender = "mailer-daemon@unknown.invalid";

    private readonly SemaphoreSlim _dbTurn = new(1, 1);

    public void Dispose() => _dbTurn.Dispose();

    private OutboundQueue Queue => services.GetService<OutboundQueue>() ?? throw new NoSmarthostException();

    public async ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(content);
        var settings = options.Value;
        byte[]? raw = null;
        if (message.Size <= settings.MaxMessageSize)
        {
            using var buffer = new MemoryStream((int)Math.Min(message.Size, int.MaxValue));
            await content.CopyToAsync(buffer, cancellationToken);
            raw = buffer.ToArray();
        }

        var recipients = message.Envelope.Recipients;
        for (var index = 0; index < recipients.Count; index++)
        {
            var turn = new DbTurn(_dbTurn);
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var directory = scope.ServiceProvider.GetRequiredService<AliasDirectory>();
                var key = HandledKey(message.Id, index);
                // A read outside the turn: only one dispatcher call handles a given spooled message at a time.
                if (await directory.Db.Set<AliasHandledMessage>().AnyAsync(h => h.Key == key, cancellationToken))
                {
                    continue;
                }

                await turn.EnterAsync(cancellationToken);
                try
                {
                    var outcome = await RouteAsync(scope.ServiceProvider, directory, turn, message.Envelope, recipients[index], raw, cancellationToken);
                    directory.Db.Add(new AliasHandledMessage { Key = key, At = time.GetUtcNow() });
                    if (turn.Paused)
                    {
                        await MergeCountersAsync(directory.Db, cancellationToken);
                    }

                    await directory.Db.SaveChangesAsync(cancellationToken);
                    AliasLog.Routed(logger, message.Id.Value, index, outcome.Event, outcome.Reason ?? "-");
                }
                finally
                {
                    turn.Exit();
                }
            }
            catch (Exception e) when (e is DbException or DbUpdateException or IOException)
            {
                // The database or the queue is unavailable: keep the message and try again later.
                AliasLog.RetryLater(logger, message.Id.Value, e.GetType().Name);
                return SinkResult.RetryLater;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Anything else is about this message, not the moment: offered again, it would fail again
                // forever. It is dropped (only its type is logged: the message may quote the content).
                AliasLog.Unprocessable(logger, message.Id.Value, index, e.GetType().Name);
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AliasDirectory>().Db;
                db.Add(new AliasHandledMessage { Key = HandledKey(message.Id, index), At = time.GetUtcNow() });
                await db.SaveChangesAsync(cancellationToken);
            }
        }

        return SinkResult.Done;
    }

    private async Task<(string Event, string? Reason)> RouteAsync(
        IServiceProvider scope, AliasDirectory directory, DbTurn turn, SmtpEnvelope envelope, string rcpt, byte[]? raw, CancellationToken ct)
    {
        var settings = options.Value;
        if (!AliasAddresses.TrySplit(rcpt, out var local, out var domain) || !settings.IsAliasDomain(domain))
        {
            return ("ignored", "not-alias-domain");
        }

        var address = local + "@" + domain;
        if (AliasAddresses.IsSrsLocalPart(local))
        {
            return raw is null ? ("ignored", "too-large") : await BounceAsync(scope, directory, raw, ct);
        }

        if (await directory.FindAliasAsync(address, ct) is { } alias)
        {
            return await ForwardAsync(directory, turn, alias, envelope, raw, ct);
        }

        if (AliasAddresses.IsReverseLocalPart(local) && await directory.FindContactByReverseAsync(address, ct) is { } contact)
        {
            return await ReplyAsync(directory, turn, contact, envelope, raw, ct);
        }

        if (settings.CatchAllOwner(domain) is { } owner && AliasAddresses.IsCatchAllLocalPart(local) && !await directory.IsTombstonedAsync(address, ct))
        {
            var created = await scope.GetRequiredService<AliasCreator>().CreateAsync(owner, null, domain, null, null, null, address, ct);
            if (!created.IsSuccess)
            {
                var reason = created.Error.Code == AliasErrors.DailyLimit.Code ? "quota-exceeded" : "no-recipient";
                directory.Log(owner, null, AliasEvents.Failed, reason);
                return (AliasEvents.Failed, reason);
            }

            return await ForwardAsync(directory, turn, created.Value, envelope, raw, ct);
        }

        // Deleted between RCPT and now: nothing to deliver to, and nobody to tell.
        return ("ignored", "no-alias");
    }

    private async Task<(string, string?)> ForwardAsync(AliasDirectory directory, DbTurn turn, AliasRecord alias, SmtpEnvelope envelope, byte[]? raw, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        alias.Received++;
        alias.LastEmailAt = now;
        if (raw is null)
        {
            return Fail(directory, alias, "too-large");
        }

        if (!alias.Enabled)
        {
            if (alias.DisabledAction == AliasDisabledActions.Discard)
            {
                alias.Blocked++;
                directory.Log(alias.AccountId, alias.Id, AliasEvents.Discarded, "alias-disabled");
                return (AliasEvents.Discarded, "alias-disabled");
            }

            directory.Log(alias.AccountId, alias.Id, AliasEvents.Rejected, "alias-disabled");
            return (AliasEvents.Rejected, "alias-disabled");
        }

        var senders = AliasForwarder.ReadSenders(raw);
        var fromAddress = AliasAddresses.NormalizeMailbox(senders.From?.Address) ?? AliasAddresses.NormalizeMailbox(envelope.ReversePath) ?? UnknownSender;
        var contact = await directory.EnsureContactAsync(alias, fromAddress, ct);
        contact.LastEmailAt = now;
        if (contact.IsBlocked)
        {
            alias.Blocked++;
            contact.BlockedCount++;
            directory.Log(alias.AccountId, alias.Id, AliasEvents.Blocked, "contact-blocked");
            return (AliasEvents.Blocked, "contact-blocked");
        }

        var ids = alias.RecipientIds.ToArray();
        var mailboxes = await directory.Db.Set<AliasRecipient>().Where(r => r.AccountId == alias.AccountId && ids.Contains(r.Id)).ToListAsync(ct);
        var deliverable = mailboxes.Where(r => r.Deliverable).Select(r => r.Email).ToList();
        if (deliverable.Count == 0)
        {
            return Fail(directory, alias, mailboxes.Any(r => r.PausedAt is not null) ? "recipient-paused" : "no-recipient");
        }

        var usage = await directory.UsageAsync(alias.AccountId, ct);
        if (usage.Forwarded >= (await plans.LimitsAsync(alias.AccountId, ct)).AliasDailyForwards)
        {
            return Fail(directory, alias, "quota-exceeded");
        }

        var replyTo = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mailbox in senders.ReplyTo)
        {
            if (AliasAddresses.NormalizeMailbox(mailbox.Address) is { } replyAddress && !replyTo.ContainsKey(replyAddress))
            {
                replyTo[replyAddress] = (await directory.EnsureContactAsync(alias, replyAddress, ct)).ReverseAddress;
            }
        }

        var sender = srs.Forward(envelope.ReversePath, alias.Domain);
        var utf8 = envelope.SmtpUtf8 || deliverable.Any(a => a.Any(c => c > '~'));
        await turn.OutsideAsync(directory.Db, async () =>
        {
            var forwarded = AliasForwarder.Forward(raw, new ForwardOptions(contact.ReverseAddress, replyTo));
            var signed = await SignAsync(alias.Domain, forwarded.Message, ct);
            await Queue.EnqueueAsync(new SmtpEnvelope(sender, deliverable, envelope.EightBitMime, utf8, now), signed, ct);
        }, ct);

        alias.Forwarded++;
        contact.Forwarded++;
        usage.Forwarded++;
        directory.Log(alias.AccountId, alias.Id, AliasEvents.Forwarded, null);
        return (AliasEvents.Forwarded, null);
    }

    private async Task<(string, string?)> ReplyAsync(AliasDirectory directory, DbTurn turn, AliasContact contact, SmtpEnvelope envelope, byte[]? raw, CancellationToken ct)
    {
        var alias = await directory.Db.Set<AliasRecord>().FirstAsync(a => a.Id == contact.AliasId, ct);
        var now = time.GetUtcNow();
        if (raw is null)
        {
            return Fail(directory, alias, "too-large");
        }

        // RCPT already checked this; checked again because the recipient may have been removed since.
        var sender = AliasAddresses.NormalizeMailbox(envelope.ReversePath);
        if (sender is null || await directory.FindVerifiedRecipientAsync(contact.AccountId, sender, ct) is null)
        {
            directory.Log(alias.AccountId, alias.Id, AliasEvents.Rejected, "recipient-not-verified");
            return (AliasEvents.Rejected, "recipient-not-verified");
        }

        var usage = await directory.UsageAsync(alias.AccountId, ct);
        if (usage.Forwarded >= (await plans.LimitsAsync(alias.AccountId, ct)).AliasDailyForwards)
        {
            return Fail(directory, alias, "quota-exceeded");
        }

        var own = (await directory.RecipientsOfAsync(alias.AccountId, ct)).Select(r => r.Email).Append(sender).Distinct(StringComparer.Ordinal).ToList();
        var utf8 = envelope.SmtpUtf8 || contact.Address.Any(c => c > '~');
        await turn.OutsideAsync(directory.Db, async () =>
        {
            var reply = AliasReplier.Reply(raw, new ReplyOptions(alias.Address, contact.ReverseAddress, contact.Address, null, own));
            var signed = await SignAsync(alias.Domain, reply, ct);
            // The envelope sender is the alias itself: SPF for the alias domain passes, and a bounce comes back
            // to the alias, which forwards it to the user like any other mail.
            await Queue.EnqueueAsync(new SmtpEnvelope(alias.Address, [contact.Address], envelope.EightBitMime, utf8, now), signed, ct);
        }, ct);

        alias.Replied++;
        alias.LastEmailAt = now;
        contact.Replied++;
        contact.LastEmailAt = now;
        usage.Forwarded++;
        directory.Log(alias.AccountId, alias.Id, AliasEvents.Replied, null);
        return (AliasEvents.Replied, null);
    }

    private async Task<(string, string?)> BounceAsync(IServiceProvider scope, AliasDirectory directory, byte[] raw, CancellationToken ct)
    {
        var report = BounceParser.Parse(raw);
        if (report is null || report.Recipients.Count == 0)
        {
            return ("ignored", "not-a-dsn");
        }

        // The returned headers name the reverse address the forwarded copy came From: that identifies the alias.
        AliasRecord? alias = null;
        foreach (var reverse in AliasAddresses.FindReverseAddresses(Encoding.Latin1.GetString(raw), options.Value.NormalizedDomains))
        {
            if (await directory.FindContactByReverseAsync(reverse, ct) is { } contact)
            {
                alias = await directory.Db.Set<AliasRecord>().FirstOrDefaultAsync(a => a.Id == contact.AliasId, ct);
                break;
            }
        }

        var now = time.GetUtcNow();
        var settings = options.Value;
        var hard = false;
        foreach (var bounced in report.Recipients)
        {
            if (AliasAddresses.NormalizeMailbox(bounced.Recipient) is not { } email)
            {
                continue;
            }

            var query = directory.Db.Set<AliasRecipient>().WhereBlindIndexMatches(r => r.EmailIndex, email);
            if (alias is not null)
            {
                query = query.Where(r => r.AccountId == alias.AccountId);
            }

            foreach (var recipient in await query.ToListAsync(ct))
            {
                var isHard = bounced.Kind == BounceKind.Hard;
                hard |= isHard;
                directory.Db.Add(new AliasBounce { Id = Guid.NewGuid(), RecipientId = recipient.Id, At = now, Hard = isHard, Status = Truncate(bounced.Status, 16) });
                directory.Log(recipient.AccountId, alias?.Id, AliasEvents.Bounced, isHard ? "hard-bounce" : "soft-bounce");
                if (!isHard || recipient.PausedAt is not null)
                {
                    continue;
                }

                var since = now - settings.HardBounceWindow;
                var earlier = await directory.Db.Set<AliasBounce>().CountAsync(b => b.RecipientId == recipient.Id && b.Hard && b.At > since, ct);
                if (earlier + 1 >= settings.HardBounceThreshold)
                {
                    recipient.Pause("hard-bounces", now);
                    AliasLog.RecipientPaused(logger, recipient.Id, earlier + 1);
                    await NotifyPausedAsync(scope, directory, recipient.AccountId, ct);
                }
            }
        }

        if (alias is not null)
        {
            alias.Bounced++;
        }

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

    private static (string, string?) Fail(AliasDirectory directory, AliasRecord alias, string reason)
    {
        directory.Log(alias.AccountId, alias.Id, AliasEvents.Failed, reason);
        return (AliasEvents.Failed, reason);
    }

    /// <summary>
    /// Re-reads the counter columns of the alias, contact and usage rows this unit of work changed and applies its
    /// increments to the values as they stand now: another message may have saved its own increments while this
    /// one was outside the turn. Called under the turn, right before the save.
    /// </summary>
    private static async Task MergeCountersAsync(DbContext db, CancellationToken ct)
    {
        var modified = db.ChangeTracker.Entries()
            .Where(e => e.State == EntityState.Modified && e.Entity is AliasRecord or AliasContact or AliasDailyUsage)
            .ToList();
        foreach (var entry in modified)
        {
            var counters = entry.Properties.Where(p => p.IsModified && (p.Metadata.ClrType == typeof(long) || p.Metadata.ClrType == typeof(int))).ToList();
            if (counters.Count == 0 || await entry.GetDatabaseValuesAsync(ct) is not { } stored)
            {
                continue;
            }

            foreach (var counter in counters)
            {
                if (counter.Metadata.ClrType == typeof(long))
                {
                    var delta = (long)counter.CurrentValue! - (long)counter.OriginalValue!;
                    var now = stored.GetValue<long>(counter.Metadata);
                    counter.OriginalValue = now;
                    counter.CurrentValue = now + delta;
                }
                else
                {
                    var delta = (int)counter.CurrentValue! - (int)counter.OriginalValue!;
                    var now = stored.GetValue<int>(counter.Metadata);
                    counter.OriginalValue = now;
                    counter.CurrentValue = now + delta;
                }

                counter.IsModified = true;
            }
        }
    }

    /// <summary>One recipient's hold on the sink-wide database turn (see the file header).</summary>
    private sealed class DbTurn(SemaphoreSlim gate)
    {
        private bool _held;

        /// <summary>True once the work left the turn and came back: counters loaded before are stale.</summary>
        public bool Paused { get; private set; }

        public async Task EnterAsync(CancellationToken ct)
        {
            await gate.WaitAsync(ct);
            _held = true;
        }

        public void Exit()
        {
            if (_held)
            {
                _held = false;
                gate.Release();
            }
        }

        /// <summary>
        /// Runs database-free <paramref name="work"/> outside the turn, unless the unit of work adds a row (a new
        /// contact or usage row must be saved before another message looks for it, so that work keeps the turn).
        /// </summary>
        public async Task OutsideAsync(DbContext db, Func<Task> work, CancellationToken ct)
        {
            if (!_held || db.ChangeTracker.Entries().Any(e => e.State == EntityState.Added))
            {
                await work();
                return;
            }

            Exit();
            Paused = true;
            await work();
            await EnterAsync(ct);
        }
    }

    private static string HandledKey(SpoolId id, int index) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id.Value + ":" + index.ToString(System.Globalization.CultureInfo.InvariantCulture))));

    /// <summary>Forwarding needs the outbound queue, which exists only with <c>Veil:Mail:Smarthost</c>: without it mail stays spooled.</summary>
    private sealed class NoSmarthostException() : IOException("Veil:Mail:Smarthost is not configured.");

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];
}
