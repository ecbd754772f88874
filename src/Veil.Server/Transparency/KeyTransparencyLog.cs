// Writing key events: a command that changes a public key calls Record before its SaveChanges, so the entry
// commits (or rolls back) with the change — there is no moment when a key is served that the log will never
// show. Sequencing into the tree happens later (KtSequencer); until then lookups return the entry as pending.
using Veil.Crypto.Transparency;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Transparency;

internal sealed class KeyTransparencyLog(VeilDbContext db)
{
    /// <summary>The authoriser of a change made by a signed-in account holder.</summary>
    public static string BySession(Guid accountId) => "session:" + accountId.ToString("D");

    /// <summary>Adds the event's entry to the caller's unit of work; the caller saves (in its transaction).</summary>
    public void Record(KeyEvent keyEvent, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(keyEvent);
        db.Add(new KtEntry { Subject = keyEvent.Subject, Body = keyEvent.ToBytes(), CreatedAt = at });
    }
}
