// A 25 MiB message must cost flat memory: encrypt and decrypt stream through fixed buffers, never the whole message.
using System.Security.Cryptography;
using Veil.Crypto.OpenPgp;
using Xunit.Abstractions;
using static Veil.Crypto.Tests.OpenPgp.OpenPgpRoundTripTests;

namespace Veil.Crypto.Tests.OpenPgp;

public sealed class OpenPgpMemoryTests(ITestOutputHelper output)
{
    private const long Size = 25L * 1024 * 1024;

    // BouncyCastle allocates short-lived arrays as it goes (about 1 byte per byte encrypting, 5 decrypting, measured
    // 2026-12-07), so the total allocated says little; what must stay flat is the live heap. Every 4 MiB of the
    // message a full collection measures what is really held; the bound is far below one copy of the message
    // (25 MiB), so a change that buffers the message fails here.
    private const long PeakBound = 4L * 1024 * 1024;

    private const long SampleEvery = 4L * 1024 * 1024;

    [Fact]
    public void EncryptThenDecrypt_25MiB_LiveHeapStaysFarBelowTheMessageSize()
    {
        (_, OpenPgpSecretKey alice) = NewKey("Alice");
        (_, OpenPgpSecretKey bob) = NewKey("Bob");
        string file = Path.Combine(Path.GetTempPath(), $"veil-pgp-{Guid.NewGuid():N}.pgp");
        try
        {
            byte[] expected;
            long encryptPeak;
            using (var source = new PatternStream(Size))
            using (FileStream target = File.Create(file))
            {
                expected = PatternStream.Hash(Size);
                long before = GC.GetTotalMemory(forceFullCollection: true);
                OpenPgpMessage.Encrypt(source, target, [bob.PublicKey], new OpenPgpEncryptOptions(DateTimeOffset.UtcNow, alice));
                encryptPeak = source.PeakHeap - before;
            }

            long decryptPeak;
            OpenPgpDecryptResult result;
            using (FileStream message = File.OpenRead(file))
            using (var sink = new HashingSink())
            {
                long before = GC.GetTotalMemory(forceFullCollection: true);
                result = OpenPgpMessage.Decrypt(message, sink, bob, [alice.PublicKey]);
                decryptPeak = sink.PeakHeap - before;
                Assert.Equal(expected, sink.Hash());
            }

            output.WriteLine($"25 MiB: live heap peak above baseline: encrypt {encryptPeak / 1024} KiB, decrypt {decryptPeak / 1024} KiB");
            Assert.Equal(OpenPgpDecryptStatus.Ok, result.Status);
            Assert.Equal(OpenPgpSignatureStatus.Valid, result.Signature);
            Assert.InRange(encryptPeak, long.MinValue, PeakBound);
            Assert.InRange(decryptPeak, long.MinValue, PeakBound);
        }
        finally
        {
            File.Delete(file);
        }
    }

    // A deterministic byte source of a given length that holds nothing in memory.
    private sealed class PatternStream(long length) : Stream
    {
        private long _position;

        public long PeakHeap { get; private set; }

        public static byte[] Hash(long length)
        {
            using var source = new PatternStream(length);
            return SHA256.HashData(source);
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position / SampleEvery != (_position + count) / SampleEvery)
            {
                PeakHeap = Math.Max(PeakHeap, GC.GetTotalMemory(forceFullCollection: true));
            }

            int n = (int)Math.Min(count, length - _position);
            for (int i = 0; i < n; i++)
            {
                buffer[offset + i] = (byte)((_position + i) * 131 >> 3);
            }

            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class HashingSink : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _written;

        public long PeakHeap { get; private set; }

        public byte[] Hash() => _hash.GetHashAndReset();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_written / SampleEvery != (_written + count) / SampleEvery)
            {
                PeakHeap = Math.Max(PeakHeap, GC.GetTotalMemory(forceFullCollection: true));
            }

            _written += count;
            _hash.AppendData(buffer, offset, count);
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
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
