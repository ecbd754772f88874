// Reading the mailbox: the server hands out what it holds — sealed summaries, sealed raw messages and the
// delivery metadata — and the client decrypts. Every lookup is by (id, owner): another account's message
// answers exactly like a missing one.
using Microsoft.EntityFrameworkCore;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox;

/// <summary>One message as listed: metadata in clear, the summary sealed to the address key (base64).</summary>
internal sealed record MailMessageDto(Guid Id, Guid AddressId, string EnvelopeFrom, long Size, long SealedSize, DateTimeOffset ReceivedAt, string? ThreadId, string Summary);

internal sealed class MailboxMessageCommands(VeilDbContext db, IBlobStore blobs)
{
    /// <summary>Most messages listed at once.</summary>
    public const int MaxPage = 500;

    public async Task<IReadOnlyList<MailMessageDto>> ListAsync(Guid accountId, DateTimeOffset? before, int? limit, CancellationToken ct)
    {
        var take = Math.Clamp(limit ?? 100, 1, MaxPage);
        var query = db.Set<MailMessage>().AsNoTracking().Where(m => m.AccountId == accountId);
        if (before is { } b)
        {
            query = query.Where(m => m.ReceivedAt < b);
        }

        var rows = await query.OrderByDescending(m => m.ReceivedAt).ThenBy(m => m.Id).Take(take).ToListAsync(ct);
        return [.. rows.Select(ToDto)];
    }

    public async Task<Result<MailMessageDto>> GetAsync(Guid id, Guid accountId, CancellationToken ct) =>
        await db.Set<MailMessage>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == id && m.AccountId == accountId, ct) is { } row
            ? ToDto(row)
            : MailboxErrors.MessageNotFound;

    public async Task<Result<Stream>> OpenSealedAsync(Guid id, Guid accountId, CancellationToken ct)
    {
        var row = await db.Set<MailMessage>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == id && m.AccountId == accountId, ct);
        if (row is null || await blobs.OpenReadAsync(row.BlobKey, ct) is not { } stream)
        {
            return MailboxErrors.MessageNotFound;
        }

        return stream;
    }

    public async Task<Result<bool>> DeleteAsync(Guid id, Guid accountId, CancellationToken ct)
    {
        var row = await db.Set<MailMessage>().FirstOrDefaultAsync(m => m.Id == id && m.AccountId == accountId, ct);
        if (row is null)
        {
            return MailboxErrors.MessageNotFound;
        }

        // Row first: a crash between the two leaves an orphan blob nobody can list, never a row without its message.
        db.Remove(row);
        await db.SaveChangesAsync(ct);
        await blobs.DeletePrefixAsync(MailMessage.BlobFolderOf(accountId, id), ct);
        return true;
    }

    private static MailMessageDto ToDto(MailMessage m) =>
        new(m.Id, m.AddressId, m.EnvelopeFrom, m.Size, m.SealedSize, m.ReceivedAt,
            m.ThreadIndex is null ? null : Convert.ToHexStringLower(m.ThreadIndex.AsSpan(0, Math.Min(16, m.ThreadIndex.Length))),
            m.SealedSummary);
}
