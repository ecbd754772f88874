// Per-device mailboxes (spec/chat-api.md, Mailboxes). A send stores one row per recipient device, in
// one transaction, only after the device list matches exactly (Signal's 409 missing/extra, 410 stale).
// Each device's rows carry a sequence from its device row, so delivery is in order per mailbox; a
// resend with the same message id is not stored twice; a row is deleted when acked or after 30 days.
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Veil.Crypto.Keys;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Chat;

internal sealed record OutgoingMessage(int Device, int RegistrationId, byte[]? Body);

internal sealed record SendOutcome(int Status, IReadOnlyList<int> Missing, IReadOnlyList<int> Extra, IReadOnlyList<int> Stale)
{
    public static readonly SendOutcome Stored = new(200, [], [], []);
}

internal sealed record DeliveredMessage(string Type, Guid Id, Guid MessageId, Guid? From, int? FromDevice, bool Sealed, byte[]? Body, DateTimeOffset At)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public long Sequence { get; init; }
}

internal sealed class ChatMailbox(VeilDbContext db, TimeProvider time)
{
    public const int DeliveryBatch = 100;
    private const string PairPurpose = "chat-pair";

    /// <summary>
    /// Stores <paramref name="messages"/> for the devices of <paramref name="to"/>. <paramref name="sender"/> is null for a
    /// sealed send (no sender is stored); a send to one's own account covers every device but the sending one.
    /// </summary>
    public async Task<SendOutcome> StoreAsync((Guid Account, int Device)? sender, Guid to, Guid messageId, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var devices = await db.Set<ChatDevice>().Where(d => d.AccountId == to).ToListAsync(cancellationToken);
        if (sender is { } self && self.Account == to)
        {
            devices.RemoveAll(d => d.DeviceId == self.Device);
        }

        var targets = devices.Select(d => d.DeviceId).ToHashSet();
        var sent = messages.Select(m => m.Device).ToHashSet();
        var missing = targets.Except(sent).Order().ToList();
        var extra = sent.Except(targets).Order().ToList();
        if (missing.Count > 0 || extra.Count > 0 || sent.Count != messages.Count)
        {
            return new SendOutcome(409, missing, extra, []);
        }

        var stale = messages.Where(m => devices.First(d => d.DeviceId == m.Device).RegistrationId != m.RegistrationId).Select(m => m.Device).Order().ToList();
        if (stale.Count > 0)
        {
            return new SendOutcome(410, [], [], stale);
        }

        var mailbox = db.Set<ChatMailboxEntry>();
        foreach (var message in messages)
        {
            if (await mailbox.AnyAsync(m => m.AccountId == to && m.DeviceId == message.Device && m.MessageId == messageId, cancellationToken))
            {
                continue; // a resend of a message still waiting: stored once
            }

            var device = devices.First(d => d.DeviceId == message.Device);
            device.LastSequence++;
            mailbox.Add(new ChatMailboxEntry
            {
                Id = Guid.NewGuid(),
                AccountId = to,
                DeviceId = device.DeviceId,
                Sequence = device.LastSequence,
                MessageId = messageId,
                SenderAccountId = sender?.Account,
                SenderDeviceId = sender?.Device,
                Sealed = sender is null,
                Body = message.Body,
                CreatedAt = now,
            });
        }

        if (sender is { } from && from.Account != to)
        {
            await TouchConversationAsync(from.Account, to, now, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return SendOutcome.Stored;
    }

    public async Task<IReadOnlyList<DeliveredMessage>> NextAsync(Guid accountId, int deviceId, long after, CancellationToken cancellationToken)
    {
        var rows = await db.Set<ChatMailboxEntry>().AsNoTracking()
            .Where(m => m.AccountId == accountId && m.DeviceId == deviceId && m.Sequence > after)
            .OrderBy(m => m.Sequence).Take(DeliveryBatch).ToListAsync(cancellationToken);
        return [.. rows.Select(m => new DeliveredMessage("msg", m.Id, m.MessageId, m.SenderAccountId, m.SenderDeviceId, m.Sealed, m.Body, m.CreatedAt) { Sequence = m.Sequence })];
    }

    public Task<int> AckAsync(Guid accountId, int deviceId, IReadOnlyList<Guid> ids, CancellationToken cancellationToken) =>
        db.Set<ChatMailboxEntry>().Where(m => m.AccountId == accountId && m.DeviceId == deviceId && ids.Contains(m.Id)).ExecuteDeleteAsync(cancellationToken);

    public async Task TouchDeviceAsync(Guid accountId, int deviceId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await db.Set<ChatDevice>().Where(d => d.AccountId == accountId && d.DeviceId == deviceId)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LastSeenAt, now).SetProperty(d => d.ActivityCoarse, false), cancellationToken);
    }

    public Task<bool> DeviceExistsAsync(Guid accountId, int deviceId, CancellationToken cancellationToken) =>
        db.Set<ChatDevice>().AnyAsync(d => d.AccountId == accountId && d.DeviceId == deviceId, cancellationToken);

    /// <summary>Whether <paramref name="accessKey"/> is the recipient's delivery access key (compared as SHA-256, in fixed time).</summary>
    public async Task<bool> AccessKeyMatchesAsync(Guid to, byte[]? accessKey, CancellationToken cancellationToken)
    {
        if (accessKey is not { Length: ChatLimits.AccessKeyBytes })
        {
            return false;
        }

        var stored = await db.Set<ChatAccount>().AsNoTracking().Where(a => a.AccountId == to).Select(a => a.AccessKeyHash).FirstOrDefaultAsync(cancellationToken);
        return stored is not null && CryptographicOperations.FixedTimeEquals(stored, SHA256.HashData(accessKey));
    }

    private async Task TouchConversationAsync(Guid a, Guid b, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (low, high) = a.CompareTo(b) < 0 ? (a, b) : (b, a);
        var hashes = BlindIndex.ComputeAll(db.Keyring, PairPurpose, $"{low:N}{high:N}");
        var conversations = db.Set<ChatConversation>();
        var existing = await conversations.Where(c => hashes.Contains(c.PairHash)).FirstOrDefaultAsync(cancellationToken);
        if (existing is null)
        {
            conversations.Add(new ChatConversation { Id = Guid.NewGuid(), PairHash = hashes[0], ParticipantLow = low, ParticipantHigh = high, LastActivityAt = now });
        }
        else
        {
            existing.LastActivityAt = now;
        }
    }
}
