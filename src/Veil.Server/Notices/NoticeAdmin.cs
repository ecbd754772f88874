// `veil admin notify`: the operator writes a breach notice and Veil mails it to every account's primary and verified
// recovery address, once per distinct address, through the one outbox (development .eml files or the durable outbound
// queue to the smarthost), paced at Veil:Notify:MessagesPerSecond. Like the other admin services it runs in the
// operator's process over the server's database and keyring: there is no admin HTTP API.
//
// Exactly once per address, across crashes: the recipients are written with the notice in one transaction, then sent
// in batches. A batch is first marked Claimed (committed), then each mail is handed to the outbox under an id derived
// from the notice and the address's place in it, then the batch is marked Sent (committed). A kill leaves at most
// one batch Claimed; resuming hands those again under the same ids, and the outbox writes an id it already holds
// idempotently (the .eml file is replaced; the queue keeps the message it already has, or its record that it was
// delivered), so nobody is mailed twice and nobody is skipped.
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Audit;
using Veil.Server.Platform.Outbox;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Notices;

/// <summary>A notice as the operator sees it: how far its mailing has come and how many accounts acknowledged it.</summary>
public sealed record NoticeSummary(Guid Id, string Subject, DateTimeOffset CreatedAt, int Recipients, int Sent, int Claimed, int Pending, int Acknowledged)
{
    /// <summary>Every address has been handed to the outbox.</summary>
    public bool Finished => Sent == Recipients;
}

/// <summary>What <see cref="NoticeAdmin.CreateAsync"/> did: a new notice, or the unfinished one with the same text (resumed).</summary>
public sealed record NoticeCreated(NoticeSummary Notice, int Accounts, bool Resumed);

/// <summary>How many accounts and distinct addresses a notice written now would go to.</summary>
public sealed record NoticeAudience(int Accounts, int Addresses);

/// <summary>Progress of <see cref="NoticeAdmin.SendAsync"/>: addresses handed to the outbox so far, of all.</summary>
public readonly record struct NoticeProgress(int Sent, int Total);

/// <summary>What one run of <see cref="NoticeAdmin.SendAsync"/> did.</summary>
public sealed record NoticeSendReport(NoticeSummary Notice, int SentNow, int ResentClaims, TimeSpan Elapsed);

/// <summary>Operator actions on breach notices (<c>veil admin notify …</c>).</summary>
public sealed class NoticeAdmin
{
    /// <summary>Claims per batch: after a kill at most this many are handed to the outbox a second time (idempotently).</summary>
    internal const int BatchSize = 50;
    private const int InsertChunk = 1000;

    private readonly VeilDbContext _db;
    private readonly IMailOutbox _outbox;
    private readonly AdminAudit _audit;
    private readonly NoticeOptions _options;
    private readonly TimeProvider _time;

    internal NoticeAdmin(VeilDbContext db, IMailOutbox outbox, AdminAudit audit, NoticeOptions options, TimeProvider time)
    {
        _db = db;
        _outbox = outbox;
        _audit = audit;
        _options = options;
        _time = time;
    }

    /// <summary>The configured pace (Veil:Notify:MessagesPerSecond).</summary>
    public double DefaultMessagesPerSecond => _options.MessagesPerSecond;

    /// <summary>Why <paramref name="subject"/> and <paramref name="body"/> cannot be a notice, or null when they can.</summary>
    public static string? Validate(string subject, string body)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(body);
        if (string.IsNullOrWhiteSpace(subject) || subject.Length > Notice.MaxSubjectLength || subject.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            return $"the subject must be one line of 1 to {Notice.MaxSubjectLength} characters";
        }

        return string.IsNullOrWhiteSpace(body) || body.Length > Notice.MaxBodyLength
            ? $"the body must be 1 to {Notice.MaxBodyLength} characters of text"
            : null;
    }

    /// <summary>The audience of a notice written now (for <c>--dry-run</c>); writes nothing.</summary>
    public async Task<NoticeAudience> AudienceAsync(CancellationToken cancellationToken)
    {
        var (accounts, addresses) = await AddressesAsync(cancellationToken);
        return new NoticeAudience(accounts, addresses.Count);
    }

    /// <summary>
    /// Writes the notice and its recipients in one transaction (with its audit row), or — when an unfinished notice with
    /// the same subject and body exists — returns that one, so re-running the same command resumes instead of mailing again.
    /// </summary>
    public async Task<NoticeCreated> CreateAsync(string subject, string body, CancellationToken cancellationToken)
    {
        if (Validate(subject, body) is { } problem)
        {
            throw new ArgumentException(problem, nameof(subject));
        }

        body = body.ReplaceLineEndings("\n");
        var same = await _db.Set<Notice>().AsNoTracking().Where(n => n.Subject == subject && n.Body == body).OrderByDescending(n => n.CreatedAt).Select(n => n.Id).ToListAsync(cancellationToken);
        foreach (var id in same)
        {
            if (await StatusAsync(id, cancellationToken) is { Finished: false } unfinished)
            {
                return new NoticeCreated(unfinished, 0, Resumed: true);
            }
        }

        var (accounts, addresses) = await AddressesAsync(cancellationToken);
        var noticeId = Guid.NewGuid();
        await using (var transaction = await _db.Database.BeginTransactionAsync(cancellationToken))
        {
            _db.Add(Notice.Create(noticeId, subject, body, _time.GetUtcNow(), addresses.Count));
            _audit.Add("notify-create", noticeId.ToString());
            await _db.SaveChangesAsync(cancellationToken);
            for (var start = 0; start < addresses.Count; start += InsertChunk)
            {
                for (var seq = start; seq < Math.Min(start + InsertChunk, addresses.Count); seq++)
                {
                    _db.Add(NoticeRecipient.Create(noticeId, seq, addresses[seq]));
                }

                await _db.SaveChangesAsync(cancellationToken);
                _db.ChangeTracker.Clear();
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return new NoticeCreated((await StatusAsync(noticeId, cancellationToken))!, accounts, Resumed: false);
    }

    /// <summary>
    /// Hands every address of the notice not yet sent to the outbox, at most <paramref name="messagesPerSecond"/> a second
    /// (0: no pace). Claimed addresses (a run that was killed) go first, under the same outbox ids.
    /// </summary>
    public async Task<NoticeSendReport?> SendAsync(Guid noticeId, double messagesPerSecond, IProgress<NoticeProgress>? progress, CancellationToken cancellationToken)
    {
        var notice = await _db.Set<Notice>().AsNoTracking().FirstOrDefaultAsync(n => n.Id == noticeId, cancellationToken);
        if (notice is null)
        {
            return null;
        }

        var clock = Stopwatch.StartNew();
        var pace = new Pace(messagesPerSecond, _time);
        var recipients = _db.Set<NoticeRecipient>();
        var sent = await recipients.CountAsync(r => r.NoticeId == noticeId && r.State == NoticeRecipientState.Sent, cancellationToken);
        progress?.Report(new NoticeProgress(sent, notice.Recipients));

        var resent = 0;
        var sentNow = 0;
        var resuming = true;
        while (true)
        {
            List<NoticeRecipient> batch;
            if (resuming)
            {
                // What a killed run claimed and may or may not have handed over: again, under the same ids.
                batch = await recipients.AsNoTracking().Where(r => r.NoticeId == noticeId && r.State == NoticeRecipientState.Claimed)
                    .OrderBy(r => r.Seq).Take(BatchSize).ToListAsync(cancellationToken);
                if (batch.Count == 0)
                {
                    resuming = false;
                    continue;
                }

                resent += batch.Count;
            }
            else
            {
                batch = await ClaimAsync(noticeId, cancellationToken);
                if (batch.Count == 0)
                {
                    break;
                }
            }

            foreach (var recipient in batch)
            {
                await pace.WaitAsync(cancellationToken);
                await _outbox.SendAsync(Message(notice, recipient), cancellationToken);
            }

            var ids = batch.Select(r => r.Id).ToList();
            var now = _time.GetUtcNow();
            await recipients.Where(r => ids.Contains(r.Id) && r.State == NoticeRecipientState.Claimed)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, NoticeRecipientState.Sent).SetProperty(r => r.SentAt, now), cancellationToken);
            sent += batch.Count;
            sentNow += batch.Count;
            progress?.Report(new NoticeProgress(sent, notice.Recipients));
        }

        var summary = (await StatusAsync(noticeId, cancellationToken))!;
        if (summary.Finished)
        {
            // Every address is Sent: no id of this notice will be handed over again.
            _outbox.Forget(NoticeRecipient.OutboxId(noticeId, 0)[..^1]);
        }

        if (sentNow > 0)
        {
            await _audit.AppendAsync(resent > 0 || sentNow < notice.Recipients ? "notify-resume" : "notify-send", noticeId.ToString(), cancellationToken);
        }

        return new NoticeSendReport(summary, sentNow, resent, clock.Elapsed);
    }

    /// <summary>Every notice, newest first, with its progress.</summary>
    public async Task<IReadOnlyList<NoticeSummary>> ListAsync(CancellationToken cancellationToken)
    {
        var ids = await _db.Set<Notice>().AsNoTracking().OrderByDescending(n => n.CreatedAt).Select(n => n.Id).ToListAsync(cancellationToken);
        var list = new List<NoticeSummary>(ids.Count);
        foreach (var id in ids)
        {
            list.Add((await StatusAsync(id, cancellationToken))!);
        }

        return list;
    }

    /// <summary>One notice's progress, or null when there is no such notice.</summary>
    public async Task<NoticeSummary?> StatusAsync(Guid noticeId, CancellationToken cancellationToken)
    {
        var notice = await _db.Set<Notice>().AsNoTracking().FirstOrDefaultAsync(n => n.Id == noticeId, cancellationToken);
        if (notice is null)
        {
            return null;
        }

        var states = await _db.Set<NoticeRecipient>().AsNoTracking().Where(r => r.NoticeId == noticeId)
            .GroupBy(r => r.State).Select(g => new { State = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var acks = await _db.Set<NoticeAck>().CountAsync(a => a.NoticeId == noticeId, cancellationToken);
        int Count(NoticeRecipientState state) => states.FirstOrDefault(s => s.State == state)?.Count ?? 0;
        return new NoticeSummary(notice.Id, notice.Subject, notice.CreatedAt, notice.Recipients,
            Count(NoticeRecipientState.Sent), Count(NoticeRecipientState.Claimed), Count(NoticeRecipientState.Pending), acks);
    }

    /// <summary>The newest notice whose mailing is not finished, if any (what <c>veil admin notify resume</c> picks without an id).</summary>
    public async Task<NoticeSummary?> LatestUnfinishedAsync(CancellationToken cancellationToken)
    {
        var id = await _db.Set<NoticeRecipient>().AsNoTracking().Where(r => r.State != NoticeRecipientState.Sent)
            .Join(_db.Set<Notice>(), r => r.NoticeId, n => n.Id, (r, n) => new { n.Id, n.CreatedAt })
            .OrderByDescending(x => x.CreatedAt).Select(x => (Guid?)x.Id).FirstOrDefaultAsync(cancellationToken);
        return id is { } noticeId ? await StatusAsync(noticeId, cancellationToken) : null;
    }

    /// <summary>Claims the next pending batch (committed before any of it is handed to the outbox).</summary>
    private async Task<List<NoticeRecipient>> ClaimAsync(Guid noticeId, CancellationToken cancellationToken)
    {
        var recipients = _db.Set<NoticeRecipient>();
        var next = await recipients.AsNoTracking().Where(r => r.NoticeId == noticeId && r.State == NoticeRecipientState.Pending)
            .OrderBy(r => r.Seq).Take(BatchSize).Select(r => r.Id).ToListAsync(cancellationToken);
        if (next.Count == 0)
        {
            return [];
        }

        // Conditional on Pending: a second run claiming at the same time gets disjoint rows.
        await recipients.Where(r => next.Contains(r.Id) && r.State == NoticeRecipientState.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, NoticeRecipientState.Claimed), cancellationToken);
        return await recipients.AsNoTracking().Where(r => next.Contains(r.Id) && r.State == NoticeRecipientState.Claimed).OrderBy(r => r.Seq).ToListAsync(cancellationToken);
    }

    /// <summary>Every account's primary address and verified recovery address, de-duplicated (case-insensitively).</summary>
    private async Task<(int Accounts, List<string> Addresses)> AddressesAsync(CancellationToken cancellationToken)
    {
        // An unverified recovery address was never proved to be the account holder's: mailing it could tell a
        // stranger that someone has an account here.
        var accounts = await _db.Set<Account>().AsNoTracking().OrderBy(a => a.CreatedAt).ThenBy(a => a.Id).ToListAsync(cancellationToken);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var addresses = new List<string>(accounts.Count * 2);
        foreach (var account in accounts)
        {
            foreach (var address in account.RecoveryEmailVerified ? new[] { account.Email, account.RecoveryEmail } : [account.Email])
            {
                if (!string.IsNullOrWhiteSpace(address) && seen.Add(address.Trim()))
                {
                    addresses.Add(address.Trim());
                }
            }
        }

        return (accounts.Count, addresses);
    }

    private static OutboxMessage Message(Notice notice, NoticeRecipient recipient) =>
        new(recipient.Address, notice.Subject,
            notice.Body.TrimEnd() + "\n\n-- \nYou receive this notice because this address belongs to a Veil account. It is also shown when you sign in, until you mark it as read.\n")
        {
            OutboxId = NoticeRecipient.OutboxId(notice.Id, recipient.Seq),
            Headers = new Dictionary<string, string> { ["Auto-Submitted"] = "auto-generated" },
        };

    /// <summary>At most <c>perSecond</c> hand-overs a second, on the injected clock (0: no pace).</summary>
    private sealed class Pace(double perSecond, TimeProvider time)
    {
        private readonly long _start = time.GetTimestamp();
        private long _count;

        public async Task WaitAsync(CancellationToken cancellationToken)
        {
            if (perSecond <= 0)
            {
                return;
            }

            var due = TimeSpan.FromSeconds(_count++ / perSecond);
            var wait = due - time.GetElapsedTime(_start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken);
            }
        }
    }
}

/// <summary>Notice settings (Veil:Notify).</summary>
internal sealed record NoticeOptions(double MessagesPerSecond);
