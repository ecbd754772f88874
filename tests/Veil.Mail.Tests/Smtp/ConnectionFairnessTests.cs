// Issue 14, point 7: idle connections must cost the attacker, not everyone. A few addresses holding many idle
// connections each used to fill every slot (25 × 20 = 500) so that every other sender heard 421. Real sockets on
// loopback; each simulated client host is its own 127.0.0.x source address; the caps are small on purpose.
using System.Net;
using Veil.Mail.Smtp;

namespace Veil.Mail.Tests.Smtp;

public sealed class ConnectionFairnessTests
{
    private static IPAddress Host(int n) => IPAddress.Parse("127.0.0." + n.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task IdleFloodFromFewAddresses_LeavesTheReservedSlotsToNewAddresses_And421GoesToTheFlooders()
    {
        await using var host = SmtpTestHost.Start(o =>
        {
            o.MaxConnections = 10;
            o.MaxConnectionsPerIp = 4;
            o.ReservedConnectionsPercent = 20; // 2 slots
            o.PressurePercent = 100;
        });
        var open = new List<SmtpTestClient>();
        try
        {
            // Two flooding addresses take 4 idle connections each: 8 of 10 slots, the 2 left are the reserve.
            foreach (var flooder in new[] { Host(2), Host(3) })
            {
                for (var i = 0; i < 4; i++)
                {
                    open.Add(await host.ConnectFromAsync(flooder));
                    Assert.StartsWith("220", await open[^1].ReadReplyAsync());
                }
            }

            // A third address gets its first connection, but not a second one out of the reserve.
            open.Add(await host.ConnectFromAsync(Host(4)));
            Assert.StartsWith("220", await open[^1].ReadReplyAsync());
            open.Add(await host.ConnectFromAsync(Host(4)));
            Assert.StartsWith("421 4.7.0", await open[^1].ReadReplyAsync());
            open.Add(await host.ConnectFromAsync(Host(2)));
            Assert.StartsWith("421 4.7.0", await open[^1].ReadReplyAsync());

            // A new sender still gets in and can deliver.
            var newcomer = await host.ConnectFromAsync(Host(50));
            open.Add(newcomer);
            Assert.StartsWith("220", await newcomer.ReadReplyAsync());
            Assert.StartsWith("250", await newcomer.CommandAsync("EHLO newcomer.test"));
        }
        finally
        {
            open.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task UnderPressure_AnIdleSessionIsClosedAfterTheShortTimeout_NotTheUsualFiveMinutes()
    {
        await using var host = SmtpTestHost.Start(o =>
        {
            o.MaxConnections = 4;
            o.MaxConnectionsPerIp = 4;
            o.PressurePercent = 50; // 2 of 4 connections
            o.PressureCommandTimeout = TimeSpan.FromMilliseconds(300);
            // CommandTimeout stays at RFC 5321's 5 minutes: without pressure an idle session is kept that long.
        });
        using var idle = await host.ConnectFromAsync(Host(7));
        Assert.StartsWith("220", await idle.ReadReplyAsync());
        Assert.StartsWith("250", await idle.CommandAsync("EHLO idle.test"));

        using var second = await host.ConnectFromAsync(Host(8));
        Assert.StartsWith("220", await second.ReadReplyAsync());

        // The already-waiting session is tightened when the pressure starts; the client reads with a 60 s budget.
        Assert.StartsWith("421 4.4.2", await idle.ReadReplyAsync());
    }

    [Fact]
    public void Options_ReservedOrPressureOutOfRange_AreRefusedNamingTheSetting()
    {
        var reserved = Assert.Throws<ArgumentException>(() => new SmtpServerOptions { ReservedConnectionsPercent = 95 }.Validate());
        Assert.Contains("ReservedConnectionsPercent", reserved.Message, StringComparison.Ordinal);
        var pressure = Assert.Throws<ArgumentException>(() => new SmtpServerOptions { PressurePercent = 0 }.Validate());
        Assert.Contains("PressurePercent", pressure.Message, StringComparison.Ordinal);
    }
}
