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
    public async Task AcceptedMessage_EnvelopeKeepsTheClientAddressAndHeloName_ForTheInboundSpfCheck()
    {
        var dir = SmtpTestHost.NewTempDir();
        var first = SmtpTestHost.Start(dataDir: dir);
        await SendOneAsync(first, "Subject: who sent it\r\n\r\nbody\r\n");

        await using var second = SmtpTestHost.Start(dataDir: dir); // read back from disk by a fresh spool
        var envelope = Assert.Single(await second.Spool.PendingAsync(CancellationToken.None)).Envelope;

        Assert.Equal("127.0.0.1", envelope.ClientAddress);
        Assert.Equal("c.test", envelope.HeloName);
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

    private static string SpoolText(string dir) =>
        string.Concat(Directory.EnumerateFiles(Path.Combine(dir, "spool"), "*", SearchOption.AllDirectories).Select(f => System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(f))));

    private static string[] Segments(string dir) => Directory.GetFiles(Path.Combine(dir, "spool"), "seg-*.log");

    [Fact]
    public async Task Complete_EmptiesTheMessageAtOnce_AndItNeverComesBack()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        var first = await CommitAsync(spool, "Subject: first secret\r\n\r\nbody\r\n");
        var second = await CommitAsync(spool, "Subject: second\r\n\r\nbody\r\n");
        Assert.Contains("first secret", SpoolText(dir), StringComparison.Ordinal);

        await spool.CompleteAsync(first, CancellationToken.None);
        await spool.CompleteAsync(first, CancellationToken.None); // completing twice does nothing

        Assert.DoesNotContain("first secret", SpoolText(dir), StringComparison.Ordinal); // nothing of it left on disk
        Assert.Single(Segments(dir)); // both went into one shared segment
        Assert.Equal(1, FileSpool.CountPending(dir));
        var reopened = new FileSpool(dir);
        Assert.Equal(second, Assert.Single(await reopened.PendingAsync(CancellationToken.None)).Id);
        Assert.Equal("Subject: second\r\n\r\nbody\r\n"u8.ToArray(), await ReadAllAsync(reopened, second));
    }

    [Fact]
    public async Task Segments_EmptiedOnesBeyondTheSparesAreDeleted_AndAStartRemovesEveryEmptyOne()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        var filler = new string('x', 8_000);
        var ids = new List<SpoolId>();
        for (int i = 0; i < 1_600; i++) ids.Add(await CommitAsync(spool, $"message {i:D4} {filler}\r\n")); // ~13 MiB, ~510 a segment: four
        Assert.Equal(4, Segments(dir).Length);
        Assert.Equal(1_600, FileSpool.CountPending(dir));

        foreach (var id in ids.Take(1_550)) await spool.CompleteAsync(id, CancellationToken.None);
        // Three full segments emptied: two are kept for reuse, the third deleted; the current one holds the rest.
        Assert.Equal(1 + FileSpool.MaxSpareSegments, Segments(dir).Length);
        Assert.Equal(50, FileSpool.CountPending(dir));

        foreach (var id in ids.Skip(1_550)) await spool.CompleteAsync(id, CancellationToken.None);
        Assert.Equal(0, FileSpool.CountPending(dir));
        Assert.DoesNotContain("message 1570", SpoolText(dir), StringComparison.Ordinal);
        Assert.DoesNotContain("message 0010", SpoolText(dir), StringComparison.Ordinal);
        Assert.Empty(await new FileSpool(dir).PendingAsync(CancellationToken.None));
        Assert.Empty(Segments(dir)); // a start removes every segment with nothing pending
    }

    [Fact]
    public async Task Segments_AnEmptiedFullOneIsWrittenOverAgain_AndItsOldRecordsNeverComeBack()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        var filler = new string('x', 8_000);
        string Text(int i) => $"message {i:D4} {filler}\r\n"; // every record the same length
        var first = new List<SpoolId>();
        while (Segments(dir).Length < 2) first.Add(await CommitAsync(spool, Text(first.Count)));
        var reused = Segments(dir).Order(StringComparer.Ordinal).First();
        var original = await File.ReadAllBytesAsync(reused);
        int perSegment = first.Count - 1; // the last one opened the second segment
        int recordLength = original.Length / perSegment;

        foreach (var id in first) await spool.CompleteAsync(id, CancellationToken.None);
        Assert.Equal(2, Segments(dir).Length); // the emptied full segment is kept for reuse...
        Assert.DoesNotContain("message 0001", SpoolText(dir), StringComparison.Ordinal); // ...holding nothing of its messages

        var second = new List<SpoolId>();
        for (int i = 0; i < perSegment; i++) second.Add(await CommitAsync(spool, Text(1000 + i)));
        Assert.Equal(2, Segments(dir).Length); // the second one filled up and the first took the next message
        Assert.Contains($"message {1000 + perSegment - 1:D4}", System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(reused)), StringComparison.Ordinal);

        // As if the zeros of the first use never reached the disk before a crash: the old records are back after the
        // new one, whole, each at a record boundary of the new use. Their generation ends the walk.
        await using (var file = new FileStream(reused, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.Position = recordLength;
            await file.WriteAsync(original.AsMemory(recordLength));
        }

        var pending = (await new FileSpool(dir).PendingAsync(CancellationToken.None)).Select(p => p.Id).ToHashSet();
        Assert.Equal(second.ToHashSet(), pending);
    }

    [Fact]
    public async Task Recovery_SkipsATornRecord_AndStopsAtATornTail_KeepingEveryWholeMessage()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        var one = await CommitAsync(spool, "Subject: one\r\n\r\n1\r\n");
        var two = await CommitAsync(spool, "Subject: two\r\n\r\n2\r\n");
        var three = await CommitAsync(spool, "Subject: three\r\n\r\n3\r\n");
        var segment = Assert.Single(Segments(dir));
        var bytes = await File.ReadAllBytesAsync(segment);

        // A record the crash cut short in the middle (its header whole): skipped, the walk goes on after it.
        var at = System.Text.Encoding.Latin1.GetString(bytes).IndexOf("Subject: two", StringComparison.Ordinal);
        bytes[at] = (byte)'X';
        // A crash while appending: the start of a header, then half of one.
        var torn = bytes.Concat("VEILREC2"u8.ToArray()).Concat(bytes.AsSpan(0, FileSpool.HeaderLength / 2).ToArray()).ToArray();
        await File.WriteAllBytesAsync(segment, torn);

        var reopened = new FileSpool(dir);
        var pending = (await reopened.PendingAsync(CancellationToken.None)).Select(p => p.Id).ToList();
        Assert.Equal(new[] { one, three }.Select(i => i.Value).Order(StringComparer.Ordinal), pending.Select(i => i.Value).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(two, pending);
        Assert.Equal("Subject: three\r\n\r\n3\r\n"u8.ToArray(), await ReadAllAsync(reopened, three));
        Assert.Equal(2, FileSpool.CountPending(dir));
    }

    [Fact]
    public async Task Recovery_AHeaderThatDoesNotCheck_EndsTheWalk()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spool = new FileSpool(dir);
        var one = await CommitAsync(spool, "Subject: one\r\n\r\n1\r\n");
        await CommitAsync(spool, "Subject: two\r\n\r\n2\r\n");
        var segment = Assert.Single(Segments(dir));
        var bytes = await File.ReadAllBytesAsync(segment);
        var second = System.Text.Encoding.Latin1.GetString(bytes).IndexOf("VEILREC2", 8, StringComparison.Ordinal);
        bytes[second + 20] ^= 1; // the second record's length, changed: its header check fails
        await File.WriteAllBytesAsync(segment, bytes);

        Assert.Equal(one, Assert.Single(await new FileSpool(dir).PendingAsync(CancellationToken.None)).Id);
    }

    [Fact]
    public async Task Recovery_ReadsAndCompletesAVersion1File()
    {
        var dir = SmtpTestHost.NewTempDir();
        var spoolDir = Path.Combine(dir, "spool");
        Directory.CreateDirectory(spoolDir);
        var json = """{"from":"old@b.test","to":["r@veil.test"],"8bitmime":true,"smtputf8":false,"received":"2026-01-02T03:04:05+00:00"}"""u8.ToArray();
        var length = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, json.Length);
        var id = SpoolId.New();
        var file = Path.Combine(spoolDir, id.Value + ".msg");
        await File.WriteAllBytesAsync(file, [.. "VEILSPOOL1"u8, .. length, .. json, .. "Subject: old\r\n\r\nbody\r\n"u8]);

        var spool = new FileSpool(dir);
        var pending = Assert.Single(await spool.PendingAsync(CancellationToken.None));
        Assert.Equal(id, pending.Id);
        Assert.Equal("old@b.test", pending.Envelope.ReversePath);
        Assert.Equal(1, FileSpool.CountPending(dir));
        Assert.Equal("Subject: old\r\n\r\nbody\r\n"u8.ToArray(), await ReadAllAsync(spool, id));

        await spool.CompleteAsync(id, CancellationToken.None);
        Assert.False(File.Exists(file));
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
