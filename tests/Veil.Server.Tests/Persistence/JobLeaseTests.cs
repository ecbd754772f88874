using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Tests.Persistence;

/// <summary>Time values through the real, migrated model: UTC, exact to the microsecond, ordered and compared in SQL.</summary>
public sealed class JobLeaseTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private async Task<T> WithContextAsync<T>(Func<VeilDbContext, Task<T>> action)
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        await using var services = database.BuildServices(keyring, new ManualClock(Start));
        await using var scope = services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<VeilDbContext>());
    }

    [Fact]
    public async Task Timestamps_RoundTrip_AsUtc_ToTheMicrosecond()
    {
        var name = "round-trip-" + Guid.NewGuid().ToString("N");
        var acquired = new DateTimeOffset(2026, 11, 22, 12, 30, 15, TimeSpan.FromHours(2)).AddTicks(1_234_567);
        await WithContextAsync(db =>
        {
            db.JobLeases.Add(new JobLease(name, "node-a", acquired, acquired.AddMinutes(5)));
            return db.SaveChangesAsync();
        });

        var read = await WithContextAsync(db => db.JobLeases.AsNoTracking().SingleAsync(x => x.Name == name));

        Assert.Equal(TimeSpan.Zero, read.AcquiredAt.Offset);
        Assert.Equal(acquired.UtcDateTime.AddTicks(-7), read.AcquiredAt.UtcDateTime);
    }

    [Fact]
    public async Task Timestamps_CompareAndOrder_InTheDatabase()
    {
        var prefix = "order-" + Guid.NewGuid().ToString("N") + "-";
        await WithContextAsync(db =>
        {
            // Offsets differ on purpose: order must follow the instant, not the local clock reading.
            db.JobLeases.Add(new JobLease(prefix + "late", "n", Start, new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.FromHours(-5))));
            db.JobLeases.Add(new JobLease(prefix + "early", "n", Start, new DateTimeOffset(2026, 11, 22, 14, 0, 0, TimeSpan.FromHours(5))));
            db.JobLeases.Add(new JobLease(prefix + "middle", "n", Start, new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero)));
            return db.SaveChangesAsync();
        });
        var cutoff = new DateTimeOffset(2026, 11, 22, 13, 0, 0, TimeSpan.Zero);

        var ordered = await WithContextAsync(db => db.JobLeases.Where(x => x.Name.StartsWith(prefix)).OrderBy(x => x.ExpiresAt).Select(x => x.Name).ToListAsync());
        var expiredBefore = await WithContextAsync(db => db.JobLeases.Where(x => x.Name.StartsWith(prefix) && x.ExpiresAt < cutoff).Select(x => x.Name).ToListAsync());

        Assert.Equal([prefix + "early", prefix + "middle", prefix + "late"], ordered);
        Assert.Equal([prefix + "early", prefix + "middle"], expiredBefore.Order(StringComparer.Ordinal));
    }
}
