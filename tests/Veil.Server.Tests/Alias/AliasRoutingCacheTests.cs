// The RCPT cache for live aliases (Alias/AliasRoutingCache.cs): every change made in this process is
// seen by the very next RCPT, counter-only saves keep the cache, changes from outside are seen within
// 30 s and the quota answer within 1 s of the (manual) clock. RCPT goes through real SMTP (swaks).
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.Keys;
using Veil.Server.Alias;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

#pragma warning disable CA1716 // "Alias" is a Visual Basic keyword; the folder and module are named Alias on purpose.
namespace Veil.Server.Tests.Alias;
#pragma warning restore CA1716

public sealed class AliasRoutingCacheTests
{
    private const string Sender = "jane@sender.test";

    [Fact]
    public async Task Rcpt_AliasDisabledThenReEnabled_TheVeryNextRcptFollowsEachChange()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var (id, address) = await CreateAliasAsync(h, user);

        var live = await h.RcptAsync(Sender, address);
        Assert.True(Cache(h).TryGetRouting(address, out _), "the accepted alias is cached");
        await AliasForwardingTests.PatchAsync(h, user, $"/api/v1/alias/aliases/{id}", new { enabled = false, disabledAction = "reject" });
        var rejected = await h.RcptAsync(Sender, address);
        await AliasForwardingTests.PatchAsync(h, user, $"/api/v1/alias/aliases/{id}", new { disabledAction = "discard" });
        var discarded = await h.RcptAsync(Sender, address);
        await AliasForwardingTests.PatchAsync(h, user, $"/api/v1/alias/aliases/{id}", new { enabled = true });
        var enabledAgain = await h.RcptAsync(Sender, address);

        Assert.True(live.ExitCode == 0, live.Output);
        Assert.Contains("<** 550 5.1.1", rejected.Output, StringComparison.Ordinal);
        Assert.True(discarded.ExitCode == 0, discarded.Output);
        Assert.True(enabledAgain.ExitCode == 0, enabledAgain.Output);
    }

    [Fact]
    public async Task Rcpt_CachedAliasDeleted_TheVeryNextRcptIsRefused550()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var (id, address) = await CreateAliasAsync(h, user);
        Assert.Equal(0, (await h.RcptAsync(Sender, address)).ExitCode);
        Assert.True(Cache(h).TryGetRouting(address, out _));

        using (var deleted = await h.Server.SendAsync(HttpMethod.Delete, $"/api/v1/alias/aliases/{id}", bearer: user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var after = await h.RcptAsync(Sender, address);

        Assert.Contains("<** 550 5.1.1", after.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rcpt_AccountDeleted_ItsCachedAliasIsRefusedAtOnce()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var (_, address) = await CreateAliasAsync(h, user);
        Assert.Equal(0, (await h.RcptAsync(Sender, address)).ExitCode);
        Assert.True(Cache(h).TryGetRouting(address, out _));

        using (var deleted = await h.Server.SendAsync(HttpMethod.Delete, "/api/v1/account", bearer: user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var after = await h.RcptAsync(Sender, address);

        Assert.Contains("<** 550 5.1.1", after.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forwarding_SinkSavesOnlyCounters_TheCacheKeepsItsGeneration()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var (id, address) = await CreateAliasAsync(h, user);
        Assert.Equal(0, (await h.RcptAsync(Sender, address)).ExitCode);
        var generation = Cache(h).Generation;

        Assert.Equal(0, (await h.SwaksAsync(Sender, address, AliasForwardingTests.Message(address, "counted"))).ExitCode);
        await h.WaitForAsync(user, $"/api/v1/alias/aliases/{id}", a => a.GetProperty("counters").GetProperty("forwarded").GetInt64() == 1);

        Assert.Equal(generation, Cache(h).Generation);
        Assert.True(Cache(h).TryGetRouting(address, out _), "the alias is still cached after the sink's save");
    }

    [Fact]
    public async Task Interceptor_CounterSaveKeepsTheGeneration_RoutingSavesAndAdditionsBumpIt()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var (id, _) = await CreateAliasAsync(h, user);
        var cache = Cache(h);

        var counters = await SaveAliasAsync(h, id, a =>
        {
            a.Received++;
            a.Forwarded++;
            a.Blocked++;
            a.Replied++;
            a.Bounced++;
            a.LastEmailAt = h.Server.Time.GetUtcNow();
        });
        var enabled = await SaveAliasAsync(h, id, a => a.Enabled = false);
        var action = await SaveAliasAsync(h, id, a => a.DisabledAction = AliasDisabledActions.Discard);
        var recipients = await SaveAliasAsync(h, id, a => a.RecipientIds = []);
        var before = cache.Generation;
        await CreateAliasAsync(h, user);
        var created = cache.Generation - before;

        Assert.Equal(0, counters);
        Assert.Equal(1, enabled);
        Assert.Equal(1, action);
        Assert.Equal(1, recipients);
        Assert.Equal(1, created);
    }

    [Fact]
    public async Task Interceptor_ChangeInsideATransaction_BumpsOnlyOnceCommitted()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var (id, _) = await CreateAliasAsync(h, user);
        var cache = Cache(h);
        await using var scope = h.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        var start = cache.Generation;

        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            (await db.Set<AliasRecord>().SingleAsync(a => a.Id == id)).Enabled = false;
            await db.SaveChangesAsync();
            var saved = cache.Generation;
            await transaction.CommitAsync();

            // A lookup between the save and the commit reads the old row; only a bump after the commit makes
            // the next lookup read the new one.
            Assert.Equal(start, saved);
            Assert.Equal(start + 1, cache.Generation);
        }
    }

    [Fact]
    public async Task Rcpt_ChangeFromAnotherProcess_IsSeenOnlyAfterTheRoutingLifetime()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var (id, address) = await CreateAliasAsync(h, user);
        Assert.Equal(0, (await h.RcptAsync(Sender, address)).ExitCode);

        // A context built like another process's (veil admin): same database and keyring, not this server's interceptors.
        await using (var outside = OutsideContext(h.Server))
        {
            (await outside.Set<AliasRecord>().SingleAsync(a => a.Id == id)).Enabled = false;
            await outside.SaveChangesAsync();
        }

        h.Server.Time.Advance(AliasRoutingCache.RoutingLifetime - TimeSpan.FromSeconds(1));
        var stillCached = await h.RcptAsync(Sender, address);
        h.Server.Time.Advance(TimeSpan.FromSeconds(1));
        var expired = await h.RcptAsync(Sender, address);

        Assert.True(stillCached.ExitCode == 0, stillCached.Output);
        Assert.Contains("<** 550 5.1.1", expired.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rcpt_QuotaReached_RcptFollowsTheUsageWithinOneSecond()
    {
        await using var h = await AliasHarness.StartAsync(o => o.Settings["Veil:Alias:DailyForwardLimit"] = "1");
        var (user, _) = await h.UserWithRecipientAsync("me@mailbox.test");
        var (id, address) = await CreateAliasAsync(h, user);
        Assert.Equal(0, (await h.SwaksAsync(Sender, address, AliasForwardingTests.Message(address, "the one allowed"))).ExitCode);
        await h.WaitForAsync(user, $"/api/v1/alias/aliases/{id}", a => a.GetProperty("counters").GetProperty("forwarded").GetInt64() == 1);

        var withinTheSecond = await h.RcptAsync(Sender, address);
        h.Server.Time.Advance(AliasRoutingCache.QuotaLifetime);
        var afterTheSecond = await h.RcptAsync(Sender, address);

        // Advisory at RCPT (the sink enforces the quota exactly): the answer may lag the usage, by at most a second.
        Assert.True(withinTheSecond.ExitCode == 0, withinTheSecond.Output);
        Assert.Contains("<** 451 4.3.0", afterTheSecond.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("live@alias.test", true)]
    [InlineData("LIVE@Alias.Test.", true)]
    [InlineData("discard@alias.test", true)]
    [InlineData("reject@alias.test", false)] // refusing writes a routing-log entry: the database path does it
    [InlineData("noquota@alias.test", false)]
    [InlineData("stalequota@alias.test", false)]
    [InlineData("unknown@alias.test", false)]
    [InlineData("live@elsewhere.test", false)]
    [InlineData("srs0=live@alias.test", false)]
    public void FastPath_AcceptsOnlyWhatMemoryAloneAccepts(string recipient, bool accepted)
    {
        var time = new ManualTimeProvider();
        var cache = new AliasRoutingCache(time);
        var options = new AliasOptions();
        options.Domains.Add("alias.test");
        Guid ok = Guid.NewGuid(), exhausted = Guid.NewGuid(), stale = Guid.NewGuid();
        cache.StoreQuotaLeft(stale, true);
        time.Advance(AliasRoutingCache.QuotaLifetime);
        cache.StoreQuotaLeft(ok, true);
        cache.StoreQuotaLeft(exhausted, false);
        foreach (var (address, routing) in new[]
        {
            ("live@alias.test", new AliasRouting(Guid.NewGuid(), ok, true, AliasDisabledActions.Reject)),
            ("srs0=live@alias.test", new AliasRouting(Guid.NewGuid(), ok, true, AliasDisabledActions.Reject)),
            ("discard@alias.test", new AliasRouting(Guid.NewGuid(), exhausted, false, AliasDisabledActions.Discard)),
            ("reject@alias.test", new AliasRouting(Guid.NewGuid(), ok, false, AliasDisabledActions.Reject)),
            ("noquota@alias.test", new AliasRouting(Guid.NewGuid(), exhausted, true, AliasDisabledActions.Reject)),
            ("stalequota@alias.test", new AliasRouting(Guid.NewGuid(), stale, true, AliasDisabledActions.Reject)),
        })
        {
            cache.StoreRouting(address, routing, cache.Generation);
        }

        var fastPath = new AliasRecipientFastPath(cache, Microsoft.Extensions.Options.Options.Create(options), new Veil.Server.Mailbox.Domains.VerifiedDomains(null!));

        Assert.Equal(accepted, fastPath.Accepts(new Veil.Mail.Smtp.RecipientQuery(recipient, Sender, null)));
    }

    [Fact]
    public void Cache_RoutingReadBeforeAnInvalidation_IsNotStored()
    {
        var cache = new AliasRoutingCache(new ManualTimeProvider());
        var routing = new AliasRouting(Guid.NewGuid(), Guid.NewGuid(), true, AliasDisabledActions.Reject);
        var readAt = cache.Generation;

        cache.Invalidate();
        cache.StoreRouting("live@alias.test", routing, readAt);

        Assert.False(cache.TryGetRouting("live@alias.test", out _));
    }

    private static AliasRoutingCache Cache(AliasHarness h) => h.Server.Services.GetRequiredService<AliasRoutingCache>();

    private static async Task<(Guid Id, string Address)> CreateAliasAsync(AliasHarness h, TestUser user)
    {
        JsonElement alias = await h.CreateAliasAsync(user);
        return (alias.GetProperty("id").GetGuid(), alias.GetProperty("address").GetString()!);
    }

    /// <summary>Changes the alias through the server's own DbContext; returns how far the cache generation moved.</summary>
    private static async Task<long> SaveAliasAsync(AliasHarness h, Guid id, Action<AliasRecord> change)
    {
        var cache = Cache(h);
        await using var scope = h.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        change(await db.Set<AliasRecord>().SingleAsync(a => a.Id == id));
        var before = cache.Generation;
        Assert.True(await db.SaveChangesAsync() > 0, "the change was written");
        return cache.Generation - before;
    }

    private static VeilDbContext OutsideContext(VeilTestServer server)
    {
        var keyring = server.Services.GetRequiredService<Keyring>();
        if (server.Database == "postgres")
        {
            var postgres = new DbContextOptionsBuilder<PostgresVeilDbContext>();
            VeilDatabase.ConfigurePostgres(postgres, server.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Postgres"]!);
            return new PostgresVeilDbContext(postgres.Options, keyring, server.Time);
        }

        var sqlite = new DbContextOptionsBuilder<SqliteVeilDbContext>();
        VeilDatabase.ConfigureSqlite(sqlite, VeilDatabase.SqliteConnectionString(server.DataDirectory));
        return new SqliteVeilDbContext(sqlite.Options, keyring, server.Time);
    }
}
