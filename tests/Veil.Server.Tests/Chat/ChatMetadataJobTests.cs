// The metadata job under the injected clock: hour 24, day 8, day 31, day 91.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Chat;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Chat;

public sealed class ChatMetadataJobTests
{
    [Fact]
    public async Task Job_AtHour24_HashesIdleParticipants_CutsTimesToTheDay_AndCoarsensDeviceActivity_AndRunningTwiceChangesNothing()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        await ConversationAsync(server);

        server.Time.Advance(TimeSpan.FromHours(23));
        await RunJobAsync(server);
        var early = await ReadAsync(server, db => db.Set<ChatConversation>().SingleAsync());
        Assert.NotNull(early.ParticipantLow);

        server.Time.Advance(TimeSpan.FromHours(1));
        await RunJobAsync(server);
        await RunJobAsync(server);
        var conversation = await ReadAsync(server, db => db.Set<ChatConversation>().SingleAsync());
        Assert.Null(conversation.ParticipantLow);
        Assert.Null(conversation.ParticipantHigh);
        Assert.True(conversation.Hashed);
        Assert.Equal(TimeSpan.Zero, conversation.LastActivityAt.TimeOfDay);
        var devices = await ReadAsync(server, db => db.Set<ChatDevice>().ToListAsync());
        Assert.All(devices, d => Assert.Equal(TimeSpan.Zero, d.LastSeenAt.TimeOfDay));
        Assert.All(devices, d => Assert.Equal(TimeSpan.Zero, d.CreatedAt.TimeOfDay));
    }

    [Fact]
    public async Task Job_AtDays8_31_91_PurgesUsedPreKeys_ExpiresMailboxRows_AndDropsAuditRows()
    {
        await using var server = await ChatKit.StartChatServerAsync();
        await ConversationAsync(server);
        var bob = await server.NewChatUserAsync();
        await server.AddDeviceAsync(bob, 1, oneTimeKeys: 3);
        using (var claim = await server.PostAsync($"/api/v1/chat/accounts/{bob.Id}/bundles", null, bob.Token))
        {
            claim.EnsureSuccessStatusCode();
        }

        server.Time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        await RunJobAsync(server);
        Assert.Equal(3, await ReadAsync(server, db => db.Set<ChatOneTimePreKey>().CountAsync(k => k.AccountId == bob.Id)));

        server.Time.Advance(TimeSpan.FromDays(1));
        await RunJobAsync(server);
        Assert.Equal(2, await ReadAsync(server, db => db.Set<ChatOneTimePreKey>().CountAsync(k => k.AccountId == bob.Id)));
        Assert.Equal(1, await ReadAsync(server, db => db.Set<ChatMailboxEntry>().CountAsync()));

        server.Time.Advance(TimeSpan.FromDays(23)); // day 31
        await RunJobAsync(server);
        Assert.Equal(0, await ReadAsync(server, db => db.Set<ChatMailboxEntry>().CountAsync()));
        Assert.NotEqual(0, await ReadAsync(server, db => db.Set<ChatAuditEntry>().CountAsync()));

        server.Time.Advance(TimeSpan.FromDays(60)); // day 91
        await RunJobAsync(server);
        Assert.Equal(0, await ReadAsync(server, db => db.Set<ChatAuditEntry>().CountAsync()));
        Assert.Equal(2, await ReadAsync(server, db => db.Set<ChatOneTimePreKey>().CountAsync(k => k.AccountId == bob.Id)));
    }

    private static async Task<(ChatUser Alice, ChatUser Bob)> ConversationAsync(VeilTestServer server)
    {
        var (alice, bob, a1, b1) = await server.PairAsync();
        await using var sender = await server.ConnectAsync(a1);
        await sender.SendAsync(ChatKit.SendFrame(Guid.NewGuid(), bob.Id, [b1], "hi"));
        Assert.Equal("sent", (await sender.ReceiveAsync()).GetProperty("type").GetString());
        return (alice, bob);
    }

    private static async Task RunJobAsync(VeilTestServer server) =>
        Assert.True(await server.Services.GetRequiredService<PeriodicJobRunner>().RunNowAsync(ChatMetadataJob.JobName, CancellationToken.None));

    private static async Task<T> ReadAsync<T>(VeilTestServer server, Func<VeilDbContext, Task<T>> read)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<VeilDbContext>());
    }
}
