using System.Net;
using System.Net.Sockets;
using System.Text;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Mail.Tests.Dkim;
using Veil.Mail.Tests.Smtp;
using Sink = Veil.Mail.Tests.Smtp.SmtpDeliveryClientTests.Sink;

namespace Veil.Mail.Tests.Queue;

/// <summary>
/// <see cref="OutboundQueue.SendAsync"/>, the fast path: straight to the smarthost (aiosmtpd), the queue written only
/// for what the smarthost did not take. Clock: a manual one, so the direct-path pause is judged without waiting.
/// </summary>
public sealed class OutboundSendTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private const string Sender = "sender@veil.test";
    private readonly string _data = SmtpTestHost.NewTempDir();
    private readonly FixedTimeProvider _clock = new(T0);
    private static readonly byte[] Message = Encoding.UTF8.GetBytes("From: sender@veil.test\r\nSubject: direct\r\n\r\n.leading dot\r\nbody\r\n");

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private OutboundQueue Queue(int port) =>
        new(_data, new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = port, Tls = SmtpTlsMode.None, HeloName = "veil.test", ReplyTimeout = TimeSpan.FromSeconds(30) }),
            _clock, new OutboundQueueOptions { ReportingMta = "mx.veil.test", MaxConcurrentDeliveries = 2 });

    private static SmtpEnvelope Envelope(params string[] to) => new(Sender, to, true, false, T0);

    private int QueueFiles() => Directory.EnumerateFiles(Path.Combine(_data, "queue")).Count();

    [Fact]
    public async Task Send_SmarthostAcceptsEveryone_DeliversTheBytesAndWritesNothing()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = Queue(sink.Port);

        var ids = new List<string?>();
        for (var i = 0; i < 5; i++) ids.Add(await queue.SendAsync(Envelope("x@example.test"), Message, CancellationToken.None));

        Assert.All(ids, Assert.Null);
        Assert.Equal(5, sink.Files().Length);
        Assert.All(sink.Files(), f => Assert.Equal(Message, File.ReadAllBytes(f)));
        Assert.Equal(0, QueueFiles());
        Assert.Empty(await queue.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Send_OneRecipient4xx_QueuesOnlyThatOneAndDeliversTheOther()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = Queue(sink.Port);

        var id = await queue.SendAsync(Envelope("busy@example.test", "x@example.test"), Message, CancellationToken.None);

        Assert.NotNull(id);
        var queued = Assert.Single(await queue.PendingAsync(CancellationToken.None));
        var recipient = Assert.Single(queued.Recipients);
        Assert.Equal(("busy@example.test", QueuedRecipientState.Pending), (recipient.Address, recipient.State));
        Assert.Equal(Message, await queue.ReadContentAsync(id!, CancellationToken.None));
        Assert.Equal(Message, sink.Single());
    }

    [Fact]
    public async Task Send_Permanent5xx_IsQueuedAsFailedAndTheNextPassBouncesWithoutTryingAgain()
    {
        if (!SmtpDeliveryClientTests.Available()) return;
        using var sink = new Sink();
        using var queue = Queue(sink.Port);

        var id = await queue.SendAsync(Envelope("unknown@example.test"), Message, CancellationToken.None);
        var queued = Assert.Single(await queue.PendingAsync(CancellationToken.None));
        Assert.Equal(id, queued.Id);
        Assert.Equal(QueuedRecipientState.Failed, Assert.Single(queued.Recipients).State);

        var pass = await queue.RunOnceAsync(T0, CancellationToken.None);

        Assert.Equal((1, 1), (pass.Completed, pass.BouncesQueued));
        Assert.Empty(sink.Files()); // refused once, never offered again
        var dsn = Assert.Single(await queue.PendingAsync(CancellationToken.None));
        Assert.Equal(Sender, Assert.Single(dsn.Recipients).Address);
    }

    [Fact]
    public async Task Send_NothingListening_QueuesAndThenSkipsTheDirectAttemptUntilThePauseEnds()
    {
        using var queue = Queue(OutboundQueueTests.ClosedPort());

        var first = await queue.SendAsync(Envelope("x@example.test"), Message, CancellationToken.None);
        var second = await queue.SendAsync(Envelope("y@example.test"), Message, CancellationToken.None);

        Assert.NotNull(first);
        Assert.NotNull(second);
        var pending = await queue.PendingAsync(CancellationToken.None);
        Assert.Equal(2, pending.Count);
        Assert.All(pending, m => Assert.Equal(QueuedRecipientState.Pending, Assert.Single(m.Recipients).State));
        // The failed attempt paused the direct path: the second message went straight to the queue, untried.
        Assert.Equal(0, pending.Single(m => m.Id == second).Attempts);
        Assert.Equal(T0, pending.Single(m => m.Id == second).NextAttemptAt);
    }

    [Fact]
    public async Task Send_EmptyRecipients_IsRefusedBeforeAnythingHappens()
    {
        using var queue = Queue(OutboundQueueTests.ClosedPort());

        await Assert.ThrowsAsync<ArgumentException>(() => queue.SendAsync(Envelope(), Message, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => queue.SendAsync(Envelope("x@example.test"), ReadOnlyMemory<byte>.Empty, CancellationToken.None));
        Assert.Equal(0, QueueFiles());
    }
}

/// <summary>The queue's pooled connections are closed with QUIT when it is disposed asynchronously.</summary>
public sealed class OutboundQueueDisposeTests
{
    [Fact]
    public async Task DisposeAsync_AfterASend_SaysQuitOnThePooledConnection()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = ServeOneSessionAsync(listener);
        var data = SmtpTestHost.NewTempDir();
        try
        {
            var queue = new OutboundQueue(data, new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = port, Tls = SmtpTlsMode.None, HeloName = "veil.test" }),
                TimeProvider.System, new OutboundQueueOptions { ReportingMta = "mx.veil.test" });
            Assert.Null(await queue.SendAsync(new SmtpEnvelope("s@veil.test", ["r@example.test"], false, false, DateTimeOffset.UnixEpoch), "Subject: q\r\n\r\nbody\r\n"u8.ToArray(), CancellationToken.None));

            await queue.DisposeAsync();

            var commands = await server.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("QUIT", commands[^1]);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>A minimal SMTP server for one session: 250 to everything, 354 to DATA; returns the commands it saw.</summary>
    private static async Task<List<string>> ServeOneSessionAsync(TcpListener listener)
    {
        using var client = await listener.AcceptTcpClientAsync();
        using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        var commands = new List<string>();
        await writer.WriteLineAsync("220 test");
        while (await reader.ReadLineAsync() is { } line)
        {
            var verb = line.Split(' ', ':')[0].ToUpperInvariant();
            commands.Add(verb);
            switch (verb)
            {
                case "DATA":
                    await writer.WriteLineAsync("354 go");
                    while (await reader.ReadLineAsync() is { } body && body != ".")
                    {
                    }

                    await writer.WriteLineAsync("250 ok");
                    break;
                case "QUIT":
                    await writer.WriteLineAsync("221 bye");
                    return commands;
                default:
                    await writer.WriteLineAsync("250 ok");
                    break;
            }
        }

        return commands;
    }
}
