using Veil.Mail.Spool;

namespace Veil.Mail.Tests.Smtp;

public sealed class SpoolTests
{
    private static async Task SendOneAsync(SmtpTestHost host, string body)
    {
        using var c = await host.ConnectAsync();
        await c.ReadReplyAsync();
        await c.CommandAsync("EHLO c.test");
        await c.CommandAsync("MAIL FROM:<a@b.test>");
        await c.CommandAsync("RCPT TO:<alias@veil.test>");
        await c.CommandAsync("DATA");
        await c.SendAsync(body + ".\r\n");
        Assert.StartsWith("250 2.0.0", await c.ReadReplyAsync());
    }

    [Fact]
    public async Task AcceptedMessage_IsPendingExactlyOnce_InANewEngineOnTheSameDirectory()
    {
        var dir = SmtpTestHost.NewTempDir();
        var first = SmtpTestHost.Start(dataDir: dir);
        await SendOneAsync(first, "Subject: survive\r\n\r\nbody\r\n");
        // Simulate a crash after 250: no completion, no cleanup, a fresh engine and spool on the same dir.
        await using var second = SmtpTestHost.Start(dataDir: dir);
        var pending = await second.Spool.PendingAsync(CancellationToken.None);
        Assert.Single(pending);
        Assert.Equal("a@b.test", pending[0].Envelope.ReversePath);
        Assert.Equal("Subject: survive\r\n\r\nbody\r\n"u8.ToArray(), await second.SingleSpooledBytesAsync());
    }

    [Fact]
    public async Task Commit_MessageLargerThanTheWriteBuffer_ReadsBackByteForByte()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        var bytes = new byte[300_001];
        new Random(5).NextBytes(bytes);
        var envelope = new Veil.Mail.Smtp.SmtpEnvelope("a@veil.test", ["b@veil.test"], true, false, DateTimeOffset.UnixEpoch);

        SpoolId id;
        var writer = await spool.BeginAsync(envelope, CancellationToken.None);
        await using (writer)
        {
            for (var offset = 0; offset < bytes.Length; offset += 7_777)
            {
                await writer.WriteAsync(bytes.AsMemory(offset, Math.Min(7_777, bytes.Length - offset)), CancellationToken.None);
            }

            id = await writer.CommitAsync(CancellationToken.None);
        }

        using var read = new MemoryStream();
        await using (var content = new FileSpool(dir).OpenContent(id))
        {
            await content.CopyToAsync(read);
        }

        Assert.Equal(bytes, read.ToArray());
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "spool", "tmp")));
        Directory.Delete(dir, recursive: true);
    }

    [Theory]
    [InlineData(5_000)] // kept in memory between commit and completion
    [InlineData(FileSpool.CachedMessageMaxBytes + 1)] // read from the file
    public async Task OpenContent_SmallOrLarge_GivesTheFileBytes_AndNothingOnceCompleted(int size)
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        var envelope = new Veil.Mail.Smtp.SmtpEnvelope("a@veil.test", ["b@veil.test"], true, false, DateTimeOffset.UnixEpoch);
        SpoolId id;
        var writer = await spool.BeginAsync(envelope, CancellationToken.None);
        await using (writer)
        {
            await writer.WriteAsync(bytes, CancellationToken.None);
            id = await writer.CommitAsync(CancellationToken.None);
        }

        async Task<byte[]> ReadAsync(FileSpool from)
        {
            using var read = new MemoryStream();
            await using (var content = from.OpenContent(id)) await content.CopyToAsync(read);
            return read.ToArray();
        }

        Assert.Equal(bytes, await ReadAsync(spool));
        Assert.Equal(bytes, await ReadAsync(new FileSpool(dir))); // the durable copy, as after a restart
        await spool.CompleteAsync(id, CancellationToken.None);
        Assert.Throws<FileNotFoundException>(() => spool.OpenContent(id));
    }

    private static async Task<SpoolId> CommitAsync(FileSpool spool, string text)
    {
        var writer = await spool.BeginAsync(new("a@b.test", ["r@veil.test"], false, false, DateTimeOffset.UnixEpoch), CancellationToken.None);
        await using (writer)
        {
            await writer.WriteAsync(System.Text.Encoding.ASCII.GetBytes(text), CancellationToken.None);
            return await writer.CommitAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Complete_EmptiesTheFileAtOnce_AndTheNextMessageReusesIt()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        var tmp = Path.Combine(dir, "spool", "tmp");
        var first = await CommitAsync(spool, "Subject: first secret\r\n\r\nbody\r\n");

        await spool.CompleteAsync(first, CancellationToken.None);

        var recycled = Assert.Single(Directory.GetFiles(tmp));
        Assert.Equal(0, new FileInfo(recycled).Length); // nothing of the message is left on disk under any name
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "spool"), "*.msg"));

        var second = await CommitAsync(spool, "Subject: second\r\n\r\nbody\r\n");

        Assert.Empty(Directory.GetFiles(tmp)); // the emptied file took the second message
        Assert.Equal("Subject: second\r\n\r\nbody\r\n"u8.ToArray(), await ReadAllAsync(new FileSpool(dir), second));
    }

    [Fact]
    public async Task Complete_ManyMessages_KeepsAtMostTheRecyclingLimit_AllEmpty()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        var ids = new List<SpoolId>();
        for (int i = 0; i < FileSpool.MaxRecycledFiles + 20; i++) ids.Add(await CommitAsync(spool, $"message {i}\r\n"));

        foreach (var id in ids) await spool.CompleteAsync(id, CancellationToken.None);
        await spool.CompleteAsync(ids[0], CancellationToken.None); // completing twice does nothing

        var left = Directory.GetFiles(Path.Combine(dir, "spool", "tmp"));
        Assert.Equal(FileSpool.MaxRecycledFiles, left.Length);
        Assert.All(left, f => Assert.Equal(0, new FileInfo(f).Length));
        Assert.Empty(await new FileSpool(dir).PendingAsync(CancellationToken.None));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "spool", "tmp"))); // a fresh start clears them
    }

    private static async Task<byte[]> ReadAllAsync(FileSpool spool, SpoolId id)
    {
        using var read = new MemoryStream();
        await using (var content = spool.OpenContent(id)) await content.CopyToAsync(read);
        return read.ToArray();
    }

    [Fact]
    public async Task Dispose_WithoutCommit_LeavesNothingBehind()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        var envelope = new Veil.Mail.Smtp.SmtpEnvelope("a@veil.test", ["b@veil.test"], false, false, DateTimeOffset.UnixEpoch);

        await using (var writer = await spool.BeginAsync(envelope, CancellationToken.None))
        {
            await writer.WriteAsync(new byte[100_000], CancellationToken.None);
        }

        Assert.Empty(await spool.PendingAsync(CancellationToken.None));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "spool", "tmp")));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task ConcurrentCommits_ShareDirectorySyncs_AndEveryOneIsPendingWithItsOwnBytes()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        const int n = 64;
        var ids = await Task.WhenAll(Enumerable.Range(0, n).Select(i => Task.Run(async () =>
        {
            var writer = await spool.BeginAsync(new("a@b.test", [$"r{i}@veil.test"], false, false, DateTimeOffset.UnixEpoch), CancellationToken.None);
            await using (writer)
            {
                await writer.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"message {i}\r\n"), CancellationToken.None);
                return (i, id: await writer.CommitAsync(CancellationToken.None));
            }
        })));
        // A fresh spool on the same directory, as after a crash right after the 250s.
        var reopened = new FileSpool(dir);
        var pending = await reopened.PendingAsync(CancellationToken.None);
        Assert.Equal(n, pending.Count);
        foreach (var (i, id) in ids)
        {
            await using var content = reopened.OpenContent(id);
            using var reader = new StreamReader(content);
            Assert.Equal($"message {i}\r\n", await reader.ReadToEndAsync());
            Assert.Equal($"r{i}@veil.test", pending.Single(p => p.Id == id).Envelope.Recipients.Single());
        }
    }

    [Fact]
    public async Task UncommittedWrite_IsNeverPending_AndIsCleanedAtStart()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        var writer = await spool.BeginAsync(new("a@b.test", ["x@veil.test"], false, false, DateTimeOffset.UnixEpoch), CancellationToken.None);
        await writer.WriteAsync("partial"u8.ToArray(), CancellationToken.None);
        Assert.Empty(await spool.PendingAsync(CancellationToken.None));
        // A crash leaves the temp file; the next start removes it.
        var reopened = new FileSpool(dir);
        Assert.Empty(Directory.GetFiles(Path.Combine(reopened.DirectoryPath, "tmp")));
        Assert.Empty(await reopened.PendingAsync(CancellationToken.None));
        await writer.DisposeAsync();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Dispatcher_RemovesOnlyWhatTheSinkAcknowledged()
    {
        await using var host = SmtpTestHost.Start();
        await SendOneAsync(host, "Subject: one\r\n\r\n1\r\n");
        var sink = new RecordingSink { Result = SinkResult.RetryLater };
        using var dispatcher = new SpoolDispatcher(host.Spool, sink, TimeProvider.System, TimeSpan.FromMinutes(1));

        Assert.Equal(0, await dispatcher.DrainOnceAsync(CancellationToken.None));
        Assert.Single(await host.Spool.PendingAsync(CancellationToken.None));

        sink.Result = SinkResult.Done;
        Assert.Equal(1, await dispatcher.DrainOnceAsync(CancellationToken.None));
        Assert.Empty(await host.Spool.PendingAsync(CancellationToken.None));
        Assert.Equal(2, sink.Seen.Count);
        Assert.Equal("Subject: one\r\n\r\n1\r\n"u8.ToArray(), sink.Seen[1]);
    }

    private sealed class RecordingSink : IMessageSink
    {
        public SinkResult Result { get; set; }
        public List<byte[]> Seen { get; } = [];

        public async ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken)
        {
            using var ms = new MemoryStream();
            await content.CopyToAsync(ms, cancellationToken);
            Seen.Add(ms.ToArray());
            return Result;
        }
    }
}
