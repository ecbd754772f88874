using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using Perfolizer.Metrology;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using Veil.Crypto.Streams;

namespace Veil.Bench;

/// <summary>
/// Cobblestone-256 streaming encryption and decryption of a 256 MiB message, memory stream in, null stream out,
/// so the number is the cipher plus the chunking, not the disk. Compared with `openssl speed -evp aes-256-gcm
/// -bytes 16384` by bench/cobblestone.sh.
/// </summary>
[Config(typeof(Config))]
public class CobblestoneBenchmarks
{
    private const int Length = 256 << 20;

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(Cobblestone256.KeySize);
    private readonly byte[] _context = "drop:bench"u8.ToArray();
    private byte[] _plaintext = [];
    private byte[] _ciphertext = [];

    [GlobalSetup]
    public void Setup()
    {
        _plaintext = new byte[Length];
        new Random(1).NextBytes(_plaintext);
        _ciphertext = new byte[Cobblestone256.GetCiphertextLength(Length)];
        Cobblestone256.Encrypt(_key, _context, _plaintext, _ciphertext);
    }

    [Benchmark(Description = "Cobblestone256_Encrypt_256MiB")]
    public Task Encrypt() =>
        Cobblestone256.EncryptAsync(_key, _context, new MemoryStream(_plaintext, writable: false), Stream.Null);

    [Benchmark(Description = "Cobblestone256_Decrypt_256MiB")]
    public async Task Decrypt()
    {
        if (!await Cobblestone256.DecryptAsync(_key, _context, new MemoryStream(_ciphertext, writable: false), Stream.Null))
        {
            throw new InvalidOperationException("benchmark ciphertext did not authenticate");
        }
    }

    /// <summary>
    /// The .NET ceiling, shaped like `openssl speed`: raw AesGcm.Encrypt over one hot 16 KiB buffer, 16,384 times
    /// (256 MiB), no streams, no copies. The gap between this and Encrypt is Cobblestone's own cost.
    /// </summary>
    [Benchmark(Description = "AesGcmRaw_HotBuffer_256MiB")]
    public void AesGcmRaw()
    {
        using var aead = new AesGcm(_key, Cobblestone256.TagSize);
        Span<byte> nonce = stackalloc byte[12];
        Span<byte> tag = stackalloc byte[16];
        Span<byte> chunk = _plaintext.AsSpan(0, Cobblestone256.ChunkSize);
        for (int i = 0; i < Length / Cobblestone256.ChunkSize; i++)
        {
            nonce[11] = (byte)i;
            aead.Encrypt(nonce, chunk, chunk, tag);
        }
    }

    /// <summary>Allocated bytes of one 256 MiB encrypt and one decrypt, measured on this thread (all streams complete synchronously).</summary>
    public async Task<(long Encrypt, long Decrypt)> MeasureAllocationsAsync()
    {
        await Encrypt();
        await Decrypt();
        long start = GC.GetAllocatedBytesForCurrentThread();
        await Encrypt();
        long middle = GC.GetAllocatedBytesForCurrentThread();
        await Decrypt();
        long end = GC.GetAllocatedBytesForCurrentThread();
        return (middle - start, end - middle);
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // Short job: 256 MiB per op is long enough for stable numbers; in-process avoids rebuilding a generated
            // project (which would inherit this repo's warnings-as-errors analyzers).
            AddJob(Job.Default
                .WithWarmupCount(1)
                .WithIterationCount(7)
                .WithInvocationCount(1)
                .WithUnrollFactor(1)
                .WithToolchain(InProcessEmitToolchain.Instance));
            AddDiagnoser(MemoryDiagnoser.Default);
            AddColumn(StatisticColumn.Median);
            SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Millisecond).WithSizeUnit(SizeUnit.B);
        }
    }
}
