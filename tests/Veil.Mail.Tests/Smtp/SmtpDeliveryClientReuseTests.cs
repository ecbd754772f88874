using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;

namespace Veil.Mail.Tests.Smtp;

/// <summary>
/// How a delivery session reuses its connection: no RSET after a transaction that ended, RSET after one that stopped
/// half-way, and a reused connection the smarthost had dropped (closed, or 421) costs a reconnect, not a failed attempt.
/// The smarthost is a scripted loopback server that records every command line per connection.
/// </summary>
public sealed class SmtpDeliveryClientReuseTests
{
    /// <summary>What the scripted server does once a connection has taken this many messages.</summary>
    public enum AfterMessages { KeepGoing, Close, Answer421 }

    private sealed class ScriptedSmarthost : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private readonly int _dropAfter;
        private readonly AfterMessages _drop;

        /// <summary>Every command line, per connection in accept order.</summary>
        public ConcurrentDictionary<int, List<string>> Commands { get; } = new();

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public ScriptedSmarthost(AfterMessages drop = AfterMessages.KeepGoing, int dropAfter = int.MaxValue)
        {
            (_drop, _dropAfter) = (drop, dropAfter);
            _listener.Start();
            _accepting = AcceptAsync();
        }

        private async Task AcceptAsync()
        {
            var serving = new List<Task>();
            try
            {
                for (int n = 0; ; n++)
                {
                    var tcp = await _listener.AcceptTcpClientAsync(_stop.Token);
                    serving.Add(ServeAsync(tcp, n));
                }
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
            await Task.WhenAll(serving);
        }

        private async Task ServeAsync(TcpClient tcp, int connection)
        {
            var seen = Commands.GetOrAdd(connection, _ => []);
            using (tcp)
            {
                var stream = tcp.GetStream();
                using var reader = new StreamReader(stream, Encoding.ASCII);
                async Task Say(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
                int messages = 0, accepted = 0;
                try
                {
                    await Say("220 scripted ESMTP");
                    while (await reader.ReadLineAsync(_stop.Token) is { } line)
                    {
                        if (messages >= _dropAfter && _drop == AfterMessages.Close) return;
                        lock (seen) seen.Add(line);
                        if (messages >= _dropAfter && _drop == AfterMessages.Answer421)
                        {
                            await Say("421 4.4.2 idle too long, closing");
                            return;
                        }
                        var verb = line.Split(' ')[0].ToUpperInvariant();
                        switch (verb)
                        {
                            case "EHLO": await Say("250-scripted"); await Say("250 PIPELINING"); break;
                            case "DATA" when accepted == 0: await Say("554 5.5.1 no valid recipients"); break;
                            case "DATA":
                                accepted = 0;
                                await Say("354 go ahead");
                                while (await reader.ReadLineAsync(_stop.Token) is { } data && data != ".") { }
                                messages++;
                                await Say("250 2.0.0 queued");
                                break;
                            case "QUIT": await Say("221 bye"); return;
                            default:
                                // RCPT to unknown@ is refused; everything else is accepted.
                                bool refuse = line.Contains("<unknown@", StringComparison.Ordinal);
                                if (verb == "RCPT" && !refuse) accepted++;
                                if (verb == "RSET") accepted = 0;
                                await Say(refuse ? "550 5.1.1 no such user" : "250 ok");
                                break;
                        }
                    }
                }
                catch (Exception e) when (e is IOException or OperationCanceledException)
                {
                    // The client went away, or the test is over.
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            await _accepting;
            _stop.Dispose();
        }
    }

    private static SmtpEnvelope Envelope(string to) => new("sender@veil.test", [to], false, false, DateTimeOffset.UnixEpoch);

    private static MemoryStream Message(int i) => new(Encoding.ASCII.GetBytes($"Subject: {i}\r\n\r\nbody {i}\r\n"));

    private static SmtpDeliveryClient Client(ScriptedSmarthost host) =>
        new(new SmtpClientOptions { Host = "127.0.0.1", Port = host.Port, Tls = SmtpTlsMode.None, HeloName = "veil.test" });

    [Fact]
    public async Task Session_AfterADeliveredMessage_SendsTheNextWithoutRset()
    {
        SmtpDeliveryResult[] results = new SmtpDeliveryResult[3];
        List<string> commands;
        await using (var host = new ScriptedSmarthost())
        {
            await using (var session = Client(host).OpenSession())
            {
                for (int i = 0; i < 3; i++)
                {
                    using var content = Message(i);
                    results[i] = await session.DeliverAsync(Envelope("a@example.test"), content, CancellationToken.None);
                }
            }
            commands = host.Commands.Single().Value;
        }

        Assert.All(results, r => Assert.True(r.Success, r.Reply));
        Assert.DoesNotContain("RSET", commands);
        Assert.Equal(3, commands.Count(c => c.StartsWith("MAIL FROM:", StringComparison.Ordinal)));
        Assert.Equal("QUIT", commands[^1]);
    }

    [Fact]
    public async Task Session_AfterATransactionThatStoppedHalfWay_SendsRsetFirst()
    {
        SmtpDeliveryResult refused, delivered;
        List<string> commands;
        await using (var host = new ScriptedSmarthost())
        {
            await using (var session = Client(host).OpenSession())
            {
                using (var first = Message(1))
                    refused = await session.DeliverAsync(Envelope("unknown@example.test"), first, CancellationToken.None);
                using var second = Message(2);
                delivered = await session.DeliverAsync(Envelope("a@example.test"), second, CancellationToken.None);
            }
            commands = host.Commands.Single().Value;
        }

        Assert.True(refused.Permanent);
        Assert.True(delivered.Success, delivered.Reply);
        int rset = commands.IndexOf("RSET");
        Assert.True(rset > 0, string.Join(" | ", commands));
        Assert.StartsWith("MAIL FROM:", commands[rset + 1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(AfterMessages.Close)]
    [InlineData(AfterMessages.Answer421)]
    public async Task Session_ReusedConnectionDroppedByTheSmarthost_ReconnectsAndDelivers(AfterMessages drop)
    {
        SmtpDeliveryResult first, second;
        int connections;
        await using (var host = new ScriptedSmarthost(drop, dropAfter: 1))
        {
            await using (var session = Client(host).OpenSession())
            {
                using (var one = Message(1))
                    first = await session.DeliverAsync(Envelope("a@example.test"), one, CancellationToken.None);
                using var two = Message(2);
                second = await session.DeliverAsync(Envelope("a@example.test"), two, CancellationToken.None);
            }
            connections = host.Commands.Count;
        }

        Assert.True(first.Success, first.Reply);
        Assert.True(second.Success, second.Reply);
        Assert.Equal(2, connections);
    }
}
