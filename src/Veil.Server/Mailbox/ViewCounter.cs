// Counting views of a limited copy (a confidential message, a password-mail package) so that of any number of
// parallel fetches at most the limit succeed, and each knows which view it is.
using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;

namespace Veil.Server.Mailbox;

/// <summary>A row whose body may be fetched a limited number of times, then destroyed.</summary>
internal interface IViewLimited
{
    int Views { get; }

    DateTimeOffset? DestroyedAt { get; }
}

internal static class ViewCounter
{
    /// <summary>
    /// Counts one view of the row <paramref name="which"/> selects, by compare-and-set on its count, and returns which
    /// view it was (1-based), or null if the row is gone, destroyed or out of views. Each failed attempt means another
    /// fetch counted, so the loop ends within <paramref name="max"/> + 1 rounds. A null <paramref name="max"/> counts without limit.
    /// </summary>
    public static async Task<int?> CountOneAsync<T>(DbSet<T> rows, Expression<Func<T, bool>> which, int? max, CancellationToken ct)
        where T : class, IViewLimited
    {
        for (var attempt = 0; attempt <= (max ?? int.MaxValue - 1); attempt++)
        {
            var seen = await rows.AsNoTracking().Where(which).Select(r => new { r.Views, r.DestroyedAt }).FirstOrDefaultAsync(ct);
            if (seen is null || seen.DestroyedAt is not null || seen.Views >= max)
            {
                return null;
            }

            var before = seen.Views;
            var counted = await rows.Where(which).Where(r => r.DestroyedAt == null && r.Views == before)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Views, before + 1), ct);
            if (counted == 1)
            {
                return before + 1;
            }
        }

        return null;
    }
}
