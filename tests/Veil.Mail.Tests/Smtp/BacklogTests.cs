using Veil.Mail.Smtp;
using Veil.Mail.Spool;

namespace Veil.Mail.Tests.Smtp;

/// <summary>Backpressure: with <see cref="SmtpServerOptions.MaxSpoolBacklog"/> messages waiting, DATA waits for room, then defers.</summary>
public sealed class BacklogTests
{
    private static async Task<SmtpTestClient> ReadyForDataAsync(SmtpTestHost host)
    {
        var c = await host.ConnectAsync();
        await c.ReadReplyAsync();
        await c.CommandAsync("EHLO c.test");
        await c.CommandAsync("MAIL FROM:<a@b.test>");
        await c.CommandAsync("RCPT TO:<alias@veil.test>");
        return c;
    }

    private static async Task SendOneAsync(SmtpTestHost host)
    {
        using var c = await ReadyForDataAsync(host);
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0", await c.CommandAsync("Subject: x\r\n\r\nbody\r\n."));
    }

    [Fact]
    public async Task Data_SpoolFullAndNoWait_Answers451AndSpoolsNothing()
    {
        await using var host = SmtpTestHost.Start(o => { o.MaxSpoolBacklog = 2; o.BacklogWait = TimeSpan.Zero; });
        await SendOneAsync(host);
        await SendOneAsync(host);
        Assert.Equal(2, host.Spool.Pending);

        using var c = await ReadyForDataAsync(host);
        Assert.StartsWith("451 4.3.1", await c.CommandAsync("DATA"));

        Assert.Equal(2, (await host.Spool.PendingAsync(CancellationToken.None)).Count);
        // The transaction was reset: the client starts over, and with room again the message is taken.
        var first = (await host.Spool.PendingAsync(CancellationToken.None))[0];
        await host.Spool.CompleteAsync(first.Id, CancellationToken.None);
        Assert.StartsWith("503", await c.CommandAsync("DATA"));
        await c.CommandAsync("MAIL FROM:<a@b.test>");
        await c.CommandAsync("RCPT TO:<alias@veil.test>");
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0", await c.CommandAsync("Subject: y\r\n\r\nbody\r\n."));
        Assert.Equal(2, host.Spool.Pending);
    }

    [Fact]
    public async Task Data_SpoolFull_WaitsAndAnswers354OnceAMessageIsCompleted()
    {
        await using var host = SmtpTestHost.Start(o => { o.MaxSpoolBacklog = 1; o.BacklogWait = TimeSpan.FromMinutes(5); });
        await SendOneAsync(host);
        using var c = await ReadyForDataAsync(host);

        var reply = c.CommandAsync("DATA");
        var waiting = (await host.Spool.PendingAsync(CancellationToken.None))[0];
        Assert.False(reply.IsCompleted); // nothing completed yet: no room, no answer
        await host.Spool.CompleteAsync(waiting.Id, CancellationToken.None);

        Assert.StartsWith("354", await reply);
        Assert.StartsWith("250 2.0.0", await c.CommandAsync("Subject: z\r\n\r\nbody\r\n."));
    }

    [Fact]
    public async Task WaitBelow_EmptySpool_HasRoomAtOnce_AFullOneNotWithoutWaiting()
    {
        await using var host = SmtpTestHost.Start();
        Assert.Equal(0, host.Spool.Pending);
        Assert.True(await host.Spool.WaitBelowAsync(1, TimeSpan.Zero, TimeProvider.System, CancellationToken.None));
        await SendOneAsync(host);
        Assert.False(await host.Spool.WaitBelowAsync(1, TimeSpan.Zero, TimeProvider.System, CancellationToken.None));
    }

    [Theory]
    [InlineData(-1, 60)]
    [InlineData(10, 600)]
    public void Options_BadBacklogSettings_AreRefusedNamingTheSetting(int backlog, int waitSeconds)
    {
        var options = new SmtpServerOptions { MaxSpoolBacklog = backlog, BacklogWait = TimeSpan.FromSeconds(waitSeconds) };
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(backlog < 0 ? "MaxSpoolBacklog" : "BacklogWait", e.Message, StringComparison.Ordinal);
    }
}
