// Parsing from a stream: the same tree and defects as parsing from memory, byte-identical write-back, and bounded
// managed memory for a message far larger than anything the parser may hold.
using System.Security.Cryptography;
using System.Text;
using Veil.Mail.Mime;

namespace Veil.Mail.Tests.Mime;

public sealed class MimeStreamingTests
{
    public static TheoryData<string> Messages() => [.. MimeCorpus.Messages()];

    [Theory]
    [MemberData(nameof(Messages))]
    public void ParseStream_CorpusMessage_SameTreeAsMemoryAndWritesBackIdentical(string name)
    {
        var bytes = MimeCorpus.Bytes(name);

        var fromMemory = MimeMessage.Parse(bytes);
        using var stream = new MemoryStream(bytes, writable: false);
        var fromStream = MimeMessage.Parse(stream);

        Assert.True(fromStream.IsStreamed);
        Assert.Equal(Describe(fromMemory), Describe(fromStream));
        Assert.Equal(bytes, WriteToArray(new MimeRewriter(fromStream)));
        Assert.All(fromStream.Root.DescendantsAndSelf(), e => Assert.Equal(bytes.AsSpan(e.BodyStart, e.End - e.BodyStart).ToArray(), ReadAll(e.OpenRawBody())));
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void ParseStream_CorpusMessageWithEditedHeader_WritesWhatMemoryWrites(string name)
    {
        var bytes = MimeCorpus.Bytes(name);
        var fromMemory = MimeMessage.Parse(bytes);
        using var stream = new MemoryStream(bytes, writable: false);
        var fromStream = MimeMessage.Parse(stream);
        var memoryRewriter = new MimeRewriter(fromMemory);
        var streamRewriter = new MimeRewriter(fromStream);

        memoryRewriter.SetHeader(fromMemory.Root, "Subject", "réécrit");
        streamRewriter.SetHeader(fromStream.Root, "Subject", "réécrit");

        Assert.Equal(memoryRewriter.ToArray(), WriteToArray(streamRewriter));
    }

    [Fact]
    public void ParseStream_MutatedCorpus_SameTreeAsMemory()
    {
        var random = new Random(20261123);
        var limits = new MimeLimits { MaxDepth = 8, MaxParts = 200, MaxHeaderCount = 200, MaxHeaderLineLength = 4096 };
        var corpus = MimeCorpus.Messages().Select(MimeCorpus.Bytes).ToArray();
        for (var iteration = 0; iteration < 400; iteration++)
        {
            var bytes = corpus[random.Next(corpus.Length)].ToArray();
            for (var m = random.Next(1, 12); m > 0; m--)
            {
                const string Noise = "\r\n-: =\t\0\u00ffa";
                bytes[random.Next(bytes.Length)] = (byte)Noise[random.Next(Noise.Length)];
            }

            using var stream = new MemoryStream(bytes, writable: false);
            var fromStream = MimeMessage.Parse(stream, limits);

            Assert.Equal(Describe(MimeMessage.Parse(bytes, limits)), Describe(fromStream));
            Assert.Equal(bytes, WriteToArray(new MimeRewriter(fromStream)));
        }
    }

    [Fact]
    public void ParseStream_DelimiterAndBareLineFeedAcrossTheReadWindow_SameTreeAsMemory()
    {
        // The parser searches a stream for delimiters window by window (64 KiB); a delimiter, its leading line break
        // or a bare LF may straddle the edge of a window at any offset. Slide them across the first edge.
        const int window = 64 * 1024;
        for (var shift = -40; shift <= 8; shift++)
        {
            var head = "Content-Type: multipart/mixed; boundary=\"edge-of-window\"\r\n\r\n--edge-of-window\r\n\r\n";
            var filler = new string('x', window + shift - head.Length - 2);
            var text = head + filler + (shift % 3 == 0 ? "\n" : "\r\n") + "--edge-of-window\r\nContent-Type: text/html\r\n\r\n<p>x --edge-of-window</p>\r\n--edge-of-window--\r\n";
            var bytes = Encoding.ASCII.GetBytes(text);

            var fromMemory = MimeMessage.Parse(bytes);
            using var stream = new MemoryStream(bytes, writable: false);
            var fromStream = MimeMessage.Parse(stream);

            Assert.Equal(2, fromMemory.Root.Children.Count);
            Assert.Equal("text/html", fromMemory.Root.Children[1].ContentType.Value);
            Assert.Equal(Describe(fromMemory), Describe(fromStream));
            Assert.Equal(fromMemory.Defects, fromStream.Defects);
        }
    }

    [Fact]
    public void Parse_BareLineFeedAtAnyOffset_ReportedAtItsOffset_FromMemoryAndStream()
    {
        // The bare-LF scan compares 16 bytes at a time; a bare LF (or a CRLF split over lanes) can sit anywhere.
        var random = new Random(1504);
        var seen = new HashSet<int>();
        for (var round = 0; round < 300; round++)
        {
            var length = random.Next(1, 200) + (round % 10 == 0 ? 64 * 1024 : 0);
            var bytes = new byte[length];
            for (var i = 0; i < length; i++)
            {
                bytes[i] = (byte)(i % 2 == 0 ? '\r' : '\n');
            }

            // CRLF pairs throughout; usually one LF turned bare by changing the CR before it, sometimes a leading LF.
            if (length >= 2 && random.Next(4) > 0)
            {
                bytes[2 * random.Next(length / 2)] = (byte)'x';
            }

            if (random.Next(8) == 0)
            {
                bytes[0] = (byte)'\n';
            }
            var expected = -1;
            for (var i = 0; i < length && expected < 0; i++)
            {
                if (bytes[i] == (byte)'\n' && (i == 0 || bytes[i - 1] != (byte)'\r'))
                {
                    expected = i;
                }
            }

            seen.Add(expected);
            using var stream = new MemoryStream(bytes, writable: false);
            foreach (var message in new[] { MimeMessage.Parse(bytes), MimeMessage.Parse(stream) })
            {
                var bare = message.Defects.Where(d => d.Kind == MimeDefectKind.BareLineFeed).Select(d => d.Offset).ToList();
                Assert.Equal(expected < 0 ? [] : [expected], bare);
            }
        }

        Assert.True(seen.Count(o => o > 16) > 50, "bare LFs were generated at many offsets past the first vector");
    }

    [Fact]
    public void Parse_DelimiterNotAtLineStart_IsBodyText()
    {
        var bytes = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none --b\r\n --b\r\n--bx\r\n--b--\r\n"u8.ToArray();

        var message = MimeMessage.Parse(bytes);

        var part = Assert.Single(message.Root.Children);
        Assert.Equal("one --b\r\n --b\r\n--bx", part.GetText());
    }

    [Fact]
    public void ParseStream_NotSeekable_ThrowsArgumentException()
    {
        using var pipe = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.In);

        Assert.Throws<ArgumentException>(() => MimeMessage.Parse(pipe));
    }

    [Fact]
    public void Source_OfStreamParsedMessage_ThrowsInvalidOperation()
    {
        using var stream = new MemoryStream("Subject: x\r\n\r\nbody\r\n"u8.ToArray());

        var message = MimeMessage.Parse(stream);

        Assert.Throws<InvalidOperationException>(() => message.Source);
    }

    [Fact]
    public void ParseStream_200MiBMessage_AllocatesFarLessThanItsSizeAndWritesBackIdentical()
    {
        const int TextParts = 400;
        var path = Path.Combine(Path.GetTempPath(), "veil-mime-" + Guid.NewGuid().ToString("N") + ".eml");
        try
        {
            var (fileHash, attachmentBodyLength) = WriteBigMessage(path, TextParts, attachmentBytes: 200L * 1024 * 1024);
            var length = new FileInfo(path).Length;
            Assert.True(length > 200L * 1024 * 1024);
            var limits = new MimeLimits { MaxTotalSize = 512L * 1024 * 1024 };
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);

            var before = GC.GetAllocatedBytesForCurrentThread();
            var message = MimeMessage.Parse(file, limits);
            var parseAllocated = GC.GetAllocatedBytesForCurrentThread() - before;

            using var hash = new HashingStream();
            before = GC.GetAllocatedBytesForCurrentThread();
            new MimeRewriter(message).WriteTo(hash);
            var writeAllocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Empty(message.Defects);
            var parts = message.Root.DescendantsAndSelf().ToList();
            Assert.Equal(1 + 1 + TextParts + 1, parts.Count);
            var attachment = Assert.Single(message.GetBodyStructure().Attachments);
            Assert.Equal("big.bin", attachment.FileName);
            Assert.Equal(attachmentBodyLength, attachment.End - attachment.BodyStart);
            Assert.Equal(TextParts, message.GetBodyStructure().TextBody.Count);
            Assert.Equal("text part 399\r\n", message.Root.Children[0].Children[TextParts - 1].GetText());
            Assert.InRange(parseAllocated, 0, 4L * 1024 * 1024);
            Assert.InRange(writeAllocated, 0, 1L * 1024 * 1024);
            Assert.Equal(length, hash.Length);
            Assert.Equal(fileHash, hash.Hash());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ParseStream_BigMessageWithEditedSubject_ChangesOnlyThatField()
    {
        var path = Path.Combine(Path.GetTempPath(), "veil-mime-" + Guid.NewGuid().ToString("N") + ".eml");
        try
        {
            WriteBigMessage(path, textParts: 3, attachmentBytes: 4L * 1024 * 1024);
            var original = File.ReadAllBytes(path);
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
            var message = MimeMessage.Parse(file);
            var rewriter = new MimeRewriter(message);

            rewriter.SetHeader(message.Root, "Subject", "edited");
            var written = WriteToArray(rewriter);

            var expected = Encoding.ASCII.GetString(original).Replace("Subject: big message\r\n", "Subject: edited\r\n", StringComparison.Ordinal);
            Assert.Equal(expected, Encoding.ASCII.GetString(written));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// multipart/mixed { multipart/alternative-free text parts in a multipart/mixed, then one base64 attachment }.
    /// Written line by line from two constant buffers, so the test never holds the message either.
    /// </summary>
    private static (byte[] Hash, long AttachmentBodyLength) WriteBigMessage(string path, int textParts, long attachmentBytes)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        void Write(ReadOnlySpan<byte> bytes)
        {
            file.Write(bytes);
            sha.AppendData(bytes);
        }

        void Text(string text) => Write(Encoding.ASCII.GetBytes(text));

        Text("From: a@example.org\r\nTo: b@example.org\r\nSubject: big message\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\npreamble\r\n--outer\r\n"
            + "Content-Type: multipart/mixed; boundary=\"inner\"\r\n\r\n");
        for (var i = 0; i < textParts; i++)
        {
            Text($"--inner\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\ntext part {i}\r\n\r\n");
        }

        Text("--inner--\r\n\r\n--outer\r\nContent-Type: application/octet-stream\r\n"
            + "Content-Disposition: attachment; filename=\"big.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        var line = Encoding.ASCII.GetBytes(Convert.ToBase64String(Enumerable.Range(0, 57).Select(i => (byte)(i * 7)).ToArray()) + "\r\n");
        var block = Enumerable.Repeat(line, 1024).SelectMany(l => l).ToArray();
        long body = 0;
        while (body < attachmentBytes)
        {
            Write(block);
            body += block.Length;
        }

        // The last line break belongs to the close delimiter.
        Text("--outer--\r\n");
        file.Flush(flushToDisk: false);
        return (sha.GetHashAndReset(), body - 2);
    }

    private static string Describe(MimeMessage message)
    {
        var sb = new StringBuilder();
        foreach (var e in message.Root.DescendantsAndSelf())
        {
            sb.Append(e.Start).Append(' ').Append(e.HeaderEnd).Append(' ').Append(e.BodyStart).Append(' ').Append(e.End).Append(' ')
                .Append(e.ContentType.Value).Append(' ').Append(e.TransferEncoding).Append(' ').Append(e.Children.Count).Append(' ')
                .Append(e.EncapsulatedMessage is not null).Append(' ').Append(e.LineEnding.Length);
            foreach (var h in e.Headers)
            {
                sb.Append(" | ").Append(h.Offset).Append(':').Append(h.Length).Append(':').Append(h.Name).Append('=').Append(h.Value);
            }

            sb.Append('\n');
        }

        foreach (var d in message.Defects)
        {
            sb.Append(d.Kind).Append('@').Append(d.Offset).Append('\n');
        }

        return sb.ToString();
    }

    private static byte[] WriteToArray(MimeRewriter rewriter)
    {
        using var output = new MemoryStream();
        rewriter.WriteTo(output);
        return output.ToArray();
    }

    private static byte[] ReadAll(Stream stream)
    {
        using (stream)
        {
            using var output = new MemoryStream();
            stream.CopyTo(output);
            return output.ToArray();
        }
    }

    /// <summary>A write-only stream that hashes and counts what it is given.</summary>
    private sealed class HashingStream : Stream
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public byte[] Hash() => _sha.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _sha.AppendData(buffer);
            _length += buffer.Length;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _sha.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
