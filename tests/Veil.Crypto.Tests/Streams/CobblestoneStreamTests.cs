using System.Security.Cryptography;
using Veil.Crypto.Streams;

namespace Veil.Crypto.Tests.Streams;

/// <summary>
/// Failure modes ported from the C2SP CCTV age STREAM catalogue (tests/vectors/cctv/age/README.md), adapted to
/// Cobblestone: there is no final-chunk flag, the final chunk is the short one, so "drop the final flag" becomes
/// "remove the short final chunk" and "a final chunk that is full" becomes "a message ending on a chunk boundary".
/// </summary>
public sealed class CobblestoneStreamTests
{
    private const int Chunk = Cobblestone256.ChunkSize;
    private const int EChunk = Cobblestone256.EncryptedChunkSize;
    private const int Header = Cobblestone256.HeaderSize;

    private static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private static readonly byte[] Context = "drop:0001"u8.ToArray();

    public static TheoryData<int> BoundaryLengths => new() { 0, 1, Chunk - 1, Chunk, Chunk + 1, 2 * Chunk - 1, 2 * Chunk, 2 * Chunk + 1, 3 * Chunk + 100 };

    [Theory]
    [MemberData(nameof(BoundaryLengths))]
    public async Task RoundTrip_BoundaryLength_AllApisAgree(int length)
    {
        byte[] plaintext = Message(length);
        byte[] ct = Seal(plaintext);

        Assert.Equal(Cobblestone256.GetCiphertextLength(length), ct.Length);
        Assert.True(Cobblestone256.TryGetPlaintextLength(ct.Length, out long parsed));
        Assert.Equal(length, parsed);
        Assert.Equal(plaintext, Open(ct));
        Assert.Equal(plaintext, await DecryptAsync(ct));
        Assert.Equal(plaintext, ReadThrough(ct, 4096));
    }

    [Fact]
    public void Encrypt_EmptyPlaintext_IsHeaderAndOneEmptyChunk()
    {
        byte[] ct = Seal([]);

        Assert.Equal(Header + Cobblestone256.TagSize, ct.Length);
        Assert.Empty(Open(ct)!);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Encrypt_ExactMultipleOfChunkSize_EndsWithEmptyFinalChunk(int chunks)
    {
        byte[] ct = Seal(Message(chunks * Chunk));

        Assert.Equal(Header + chunks * EChunk + Cobblestone256.TagSize, ct.Length);
        Assert.Equal(chunks * Chunk, Open(ct)!.Length);
    }

    [Fact]
    public void Decrypt_TruncatedAtAnyChunkBoundaryOrNearIt_IsRejected()
    {
        byte[] ct = Seal(Message(3 * Chunk + 100));
        var cuts = new SortedSet<int>();
        for (int k = 0; Header + k * EChunk <= ct.Length; k++)
        {
            int boundary = Header + k * EChunk;
            foreach (int d in new[] { -17, -16, -15, -1, 0, 1, 15, 16, 17 })
            {
                if (boundary + d >= 0 && boundary + d < ct.Length)
                {
                    cuts.Add(boundary + d);
                }
            }
        }

        for (int cut = 0; cut < Header + 2; cut++)
        {
            cuts.Add(cut);
        }

        cuts.Add(ct.Length - 1);

        foreach (int cut in cuts)
        {
            Assert.Null(Open(ct[..cut]));
        }
    }

    [Fact]
    public async Task Decrypt_TruncatedAtEveryByte_IsRejectedByStreamingApi()
    {
        byte[] ct = Seal(Message(Chunk + 10));

        for (int cut = 0; cut < ct.Length; cut += 7)
        {
            Assert.Null(await DecryptAsync(ct[..cut]));
        }
    }

    [Fact]
    public void Decrypt_ReorderedChunks_IsRejected()
    {
        byte[] ct = Seal(Message(3 * Chunk + 5));
        byte[] swapped = [.. ct[..Header], .. ChunkAt(ct, 1), .. ChunkAt(ct, 0), .. ct[(Header + 2 * EChunk)..]];

        Assert.Null(Open(swapped));
    }

    [Fact]
    public void Decrypt_FinalChunkDuplicated_IsRejected()
    {
        byte[] ct = Seal(Message(Chunk + 5));
        byte[] final = ct[(Header + EChunk)..];

        Assert.Null(Open([.. ct, .. final]));
    }

    [Fact]
    public void Decrypt_FinalChunkRemoved_IsRejectedAsTruncated()
    {
        // The analogue of dropping age's final flag: the message now ends on a full chunk.
        byte[] ct = Seal(Message(2 * Chunk));

        Assert.Null(Open(ct[..(Header + 2 * EChunk)]));
    }

    [Fact]
    public void Decrypt_ShortFinalChunkMovedEarlier_IsRejected()
    {
        byte[] ct = Seal(Message(2 * Chunk + 5));
        byte[] final = ct[(Header + 2 * EChunk)..];

        Assert.Null(Open([.. ct[..Header], .. final]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(EChunk)]
    public async Task Decrypt_TrailingGarbage_IsRejected(int garbage)
    {
        byte[] ct = Seal(Message(Chunk + 5));
        byte[] extended = [.. ct, .. new byte[garbage]];

        Assert.Null(Open(extended));
        Assert.Null(await DecryptAsync(extended));
        Assert.Throws<CobblestoneAuthenticationException>(() => ReadThrough(extended, 100));
    }

    [Fact]
    public void Decrypt_AnyFlippedBit_IsRejected()
    {
        byte[] ct = Seal(Message(Chunk + 40));
        int[] positions = [0, 23, 24, 55, 56, Header + Chunk, Header + EChunk - 1, Header + EChunk, ct.Length - 1];

        foreach (int position in positions)
        {
            byte[] tampered = (byte[])ct.Clone();
            tampered[position] ^= 0x01;
            Assert.Null(Open(tampered));
        }
    }

    [Fact]
    public void Decrypt_WrongContext_IsRejected()
    {
        byte[] ct = Seal(Message(100));
        byte[] plaintext = new byte[100];

        Assert.False(Cobblestone256.TryDecrypt(Key, "drop:0002"u8, ct, plaintext, out _));
        Assert.Null(CobblestoneDecryptStream.Open(new MemoryStream(ct), Key, "drop:0002"u8));
    }

    [Fact]
    public void Decrypt_WrongKey_IsRejected()
    {
        byte[] ct = Seal(Message(100));
        byte[] otherKey = (byte[])Key.Clone();
        otherKey[0] ^= 1;

        Assert.False(Cobblestone256.TryDecrypt(otherKey, Context, ct, new byte[100], out _));
    }

    [Fact]
    public void Encrypt_WrongKeySize_Throws()
    {
        Assert.Throws<ArgumentException>(() => Cobblestone256.Encrypt(new byte[16], Context, [], new byte[72]));
        Assert.Throws<ArgumentException>(() => new CobblestoneEncryptStream(Stream.Null, new byte[33], Context));
    }

    [Fact]
    public void Encrypt_SameInputTwice_UsesFreshSalt()
    {
        byte[] plaintext = Message(10);

        Assert.NotEqual(Seal(plaintext), Seal(plaintext));
    }

    [Fact]
    public void EncryptStream_DisposedWithoutComplete_LeavesUndecryptableMessage()
    {
        using var ct = new MemoryStream();
        using (var writer = new CobblestoneEncryptStream(ct, Key, Context, leaveOpen: true))
        {
            writer.Write(Message(2 * Chunk + 3));
        }

        Assert.Null(Open(ct.ToArray()));
    }

    [Fact]
    public void EncryptStream_WriteAfterComplete_Throws()
    {
        using var writer = new CobblestoneEncryptStream(new MemoryStream(), Key, Context);
        writer.Complete();

        Assert.Throws<InvalidOperationException>(() => writer.Write([1]));
    }

    [Fact]
    public void DecryptStream_AfterFailure_KeepsThrowing()
    {
        byte[] ct = Seal(Message(2 * Chunk + 5));
        ct[^1] ^= 1;
        using CobblestoneDecryptStream stream = CobblestoneDecryptStream.Open(new MemoryStream(ct), Key, Context)!;
        byte[] buffer = new byte[Chunk];

        Assert.Equal(Chunk, stream.ReadAtLeast(buffer, Chunk));
        Assert.Equal(Chunk, stream.ReadAtLeast(buffer, Chunk));
        Assert.Throws<CobblestoneAuthenticationException>(() => stream.Read(buffer));
        Assert.Throws<CobblestoneAuthenticationException>(() => stream.Read(buffer));
    }

    [Fact]
    public async Task RoundTrip_ManyLengthsAndWriteSizes_ReproducesPlaintext()
    {
        var random = new Random(20261122);
        var lengths = new List<int>();
        for (int k = 0; k <= 5; k++)
        {
            lengths.AddRange([k * Chunk - 1, k * Chunk, k * Chunk + 1]);
        }

        for (int i = 0; i < 120; i++)
        {
            lengths.Add(random.Next(0, 6 * Chunk));
        }

        foreach (int length in lengths.Where(l => l >= 0))
        {
            byte[] plaintext = new byte[length];
            random.NextBytes(plaintext);

            // Write-through with irregular write sizes, then read-through with irregular read sizes.
            using var ct = new MemoryStream();
            await using (var writer = new CobblestoneEncryptStream(ct, Key, Context, leaveOpen: true))
            {
                for (int offset = 0; offset < length;)
                {
                    int n = Math.Min(length - offset, random.Next(1, 3 * Chunk));
                    await writer.WriteAsync(plaintext.AsMemory(offset, n));
                    offset += n;
                }

                await writer.CompleteAsync();
            }

            byte[] ciphertext = ct.ToArray();
            Assert.Equal(Cobblestone256.GetCiphertextLength(length), ciphertext.Length);
            Assert.Equal(plaintext, Open(ciphertext));
            Assert.Equal(plaintext, await ReadThroughAsync(ciphertext, random.Next(1, 2 * Chunk)));

            // And the async helpers agree.
            using var ct2 = new MemoryStream();
            await Cobblestone256.EncryptAsync(Key, Context, new MemoryStream(plaintext), ct2);
            Assert.Equal(plaintext, await DecryptAsync(ct2.ToArray()));
        }
    }

    internal static byte[] Message(int length)
    {
        byte[] message = new byte[length];
        for (int i = 0; i < length; i++)
        {
            message[i] = (byte)(i * 31 + (i >> 8));
        }

        return message;
    }

    private static byte[] Seal(byte[] plaintext)
    {
        byte[] ct = new byte[Cobblestone256.GetCiphertextLength(plaintext.Length)];
        Cobblestone256.Encrypt(Key, Context, plaintext, ct);
        return ct;
    }

    private static byte[]? Open(byte[] ct)
    {
        byte[] plaintext = new byte[ct.Length];
        return Cobblestone256.TryDecrypt(Key, Context, ct, plaintext, out int written) ? plaintext[..written] : null;
    }

    private static async Task<byte[]?> DecryptAsync(byte[] ct)
    {
        using var plaintext = new MemoryStream();
        return await Cobblestone256.DecryptAsync(Key, Context, new MemoryStream(ct), plaintext) ? plaintext.ToArray() : null;
    }

    private static byte[] ReadThrough(byte[] ct, int readSize)
    {
        using CobblestoneDecryptStream stream = CobblestoneDecryptStream.Open(new MemoryStream(ct), Key, Context)
            ?? throw new CobblestoneAuthenticationException("header");
        using var plaintext = new MemoryStream();
        byte[] buffer = new byte[readSize];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            plaintext.Write(buffer, 0, n);
        }

        Assert.True(stream.IsCompleted);
        return plaintext.ToArray();
    }

    private static async Task<byte[]> ReadThroughAsync(byte[] ct, int readSize)
    {
        await using CobblestoneDecryptStream stream = await CobblestoneDecryptStream.OpenAsync(new MemoryStream(ct), Key, Context)
            ?? throw new CobblestoneAuthenticationException("header");
        using var plaintext = new MemoryStream();
        byte[] buffer = new byte[readSize];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            plaintext.Write(buffer, 0, n);
        }

        return plaintext.ToArray();
    }

    private static byte[] ChunkAt(byte[] ct, int index) => ct[(Header + index * EChunk)..(Header + (index + 1) * EChunk)];
}
