using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Veil.Crypto.Streams;
using Xunit.Abstractions;

namespace Veil.Crypto.Tests.Streams;

/// <summary>
/// Runs every case of Wycheproof's c2sp_chunked_encryption_aes_256_gcm_test.json (Cobblestone-256) through the
/// one-shot, streaming and read-through APIs, per tests/vectors/wycheproof/doc/c2sp_chunked_encryption.md.
/// </summary>
public sealed class CobblestoneVectorsTests(ITestOutputHelper output)
{
    private const string FileName = "c2sp_chunked_encryption_aes_256_gcm_test.json";

    [Fact]
    public async Task Vectors_AllCases_BehaveAsSpecified()
    {
        using JsonDocument doc = JsonDocument.Parse(await File.ReadAllBytesAsync(VectorPath()));
        int passed = 0, unsupported = 0, total = 0;
        var failures = new List<string>();
        foreach (JsonElement group in doc.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            bool supported = group.GetProperty("aead").GetString() == "AEAD_AES_256_GCM" && group.GetProperty("sha").GetString() == "SHA-512";
            foreach (JsonElement test in group.GetProperty("tests").EnumerateArray())
            {
                total++;
                if (!supported)
                {
                    unsupported++;
                    continue;
                }

                int id = test.GetProperty("tcId").GetInt32();
                try
                {
                    string? failure = await RunCaseAsync(test);
                    if (failure is null)
                    {
                        passed++;
                    }
                    else
                    {
                        failures.Add($"tcId {id}: {failure}");
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    failures.Add($"tcId {id}: unexpected {ex.GetType().Name}: {ex.Message}");
                }
            }
        }

        string summary = $"Vectors {FileName}: {passed} passed, {unsupported} unsupported";
        output.WriteLine(summary);
        Console.WriteLine(summary);
        foreach (string failure in failures)
        {
            output.WriteLine(failure);
        }

        Assert.Empty(failures);
        Assert.Equal(doc.RootElement.GetProperty("numberOfTests").GetInt32(), total);
        Assert.Equal(total, passed + unsupported);
    }

    private static async Task<string?> RunCaseAsync(JsonElement test)
    {
        byte[] key = Convert.FromHexString(test.GetProperty("key").GetString()!);
        byte[] ctx = Convert.FromHexString(test.GetProperty("ctx").GetString()!);
        byte[] ct = Inflate(Convert.FromHexString(test.GetProperty("ct").GetString()!));
        string result = test.GetProperty("result").GetString()!;
        string[] flags = [.. test.GetProperty("flags").EnumerateArray().Select(f => f.GetString()!)];
        long? msgLength = test.TryGetProperty("msgLength", out JsonElement l) ? l.GetInt64() : null;
        byte[]? msgSha512 = test.TryGetProperty("msgSha512", out JsonElement h) ? Convert.FromHexString(h.GetString()!) : null;

        if (flags.Contains("InvalidKeySize"))
        {
            // Misuse: the key is rejected when provided, by every API.
            bool all = Throws<ArgumentException>(() => Cobblestone256.TryDecrypt(key, ctx, ct, new byte[ct.Length], out _))
                && await ThrowsAsync<ArgumentException>(() => Cobblestone256.DecryptAsync(key, ctx, new MemoryStream(ct), Stream.Null))
                && Throws<ArgumentException>(() => CobblestoneDecryptStream.Open(new MemoryStream(ct), key, ctx));
            return all ? null : "an invalid key size was accepted";
        }

        // Streaming, value-returning API.
        using var streamed = new MemoryStream();
        bool streamOk = await Cobblestone256.DecryptAsync(key, ctx, new MemoryStream(ct), streamed);

        // One-shot span API.
        byte[] oneShot = new byte[ct.Length];
        bool spanOk = Cobblestone256.TryDecrypt(key, ctx, ct, oneShot, out int written);

        // Read-through stream.
        (bool readOk, byte[] read, string? readProblem) = ReadThrough(key, ctx, ct, flags.Contains("HeaderFailure"));
        if (readProblem is not null)
        {
            return readProblem;
        }

        if (result == "valid")
        {
            if (!streamOk || !spanOk || !readOk)
            {
                return $"valid message rejected (stream {streamOk}, span {spanOk}, read {readOk})";
            }

            byte[] message = streamed.ToArray();
            if (message.Length != msgLength || !SHA512.HashData(message).AsSpan().SequenceEqual(msgSha512))
            {
                return "decrypted message does not match msgLength/msgSha512";
            }

            if (!oneShot.AsSpan(0, written).SequenceEqual(message) || !read.AsSpan().SequenceEqual(message))
            {
                return "the APIs disagree on the plaintext";
            }

            // Encryption is deterministic once the salt (the first 24 bytes) is injected: it must reproduce ct exactly.
            byte[] salt = ct[..Cobblestone256.SaltSize];
            byte[] again = new byte[Cobblestone256.GetCiphertextLength(message.Length)];
            Cobblestone256.Encrypt(key, ctx, salt, message, again);
            using var encrypted = new MemoryStream();
            await Cobblestone256.EncryptAsync(key, ctx, salt, new MemoryStream(message), encrypted, CancellationToken.None);
            using var written2 = new MemoryStream();
            using (var writer = new CobblestoneEncryptStream(written2, key, ctx, salt, leaveOpen: true))
            {
                writer.Write(message);
                writer.Complete();
            }

            if (!again.AsSpan().SequenceEqual(ct) || !encrypted.ToArray().AsSpan().SequenceEqual(ct) || !written2.ToArray().AsSpan().SequenceEqual(ct))
            {
                return "re-encryption with the vector's salt does not reproduce ct";
            }

            return null;
        }

        if (result == "invalid")
        {
            if (streamOk || spanOk || readOk)
            {
                return $"invalid message accepted (stream {streamOk}, span {spanOk}, read {readOk})";
            }

            if (written != 0 || oneShot.Any(b => b != 0))
            {
                return "one-shot decryption left plaintext behind after failing";
            }

            // Released plaintext may be at most the valid prefix the vector describes (PartialPlaintext), else nothing.
            byte[] expectedPrefixHash = msgSha512 ?? SHA512.HashData([]);
            long expectedPrefix = flags.Contains("PartialPlaintext") ? msgLength!.Value : 0;
            foreach (byte[] released in new[] { streamed.ToArray(), read })
            {
                if (released.Length > expectedPrefix)
                {
                    return $"released {released.Length} bytes, beyond the valid prefix of {expectedPrefix}";
                }

                if (released.Length == expectedPrefix && expectedPrefix > 0 && !SHA512.HashData(released).AsSpan().SequenceEqual(expectedPrefixHash))
                {
                    return "released plaintext is not the valid prefix";
                }
            }

            return null;
        }

        // "acceptable": no such case in this file today; either outcome is allowed, but it must not crash.
        return null;
    }

    private static (bool Ok, byte[] Read, string? Problem) ReadThrough(byte[] key, byte[] ctx, byte[] ct, bool headerFailure)
    {
        using CobblestoneDecryptStream? stream = CobblestoneDecryptStream.Open(new MemoryStream(ct), key, ctx);
        if (stream is null)
        {
            return (false, [], null);
        }

        if (headerFailure)
        {
            return (false, [], "a HeaderFailure vector passed the header check");
        }

        using var sink = new MemoryStream();
        byte[] small = new byte[1000];
        try
        {
            int n;
            while ((n = stream.Read(small)) > 0)
            {
                sink.Write(small, 0, n);
            }

            return (true, sink.ToArray(), null);
        }
        catch (CobblestoneAuthenticationException)
        {
            // Must keep failing, never turn into a clean end of message.
            try
            {
                _ = stream.Read(small);
                return (false, sink.ToArray(), "a read after an authentication failure did not throw");
            }
            catch (CobblestoneAuthenticationException)
            {
                return (false, sink.ToArray(), null);
            }
        }
    }

    private static bool Throws<T>(Action action)
        where T : Exception
    {
        try
        {
            action();
            return false;
        }
        catch (T)
        {
            return true;
        }
    }

    private static async Task<bool> ThrowsAsync<T>(Func<Task> action)
        where T : Exception
    {
        try
        {
            await action();
            return false;
        }
        catch (T)
        {
            return true;
        }
    }

    private static byte[] Inflate(byte[] compressed)
    {
        using var zlib = new ZLibStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        zlib.CopyTo(plain);
        return plain.ToArray();
    }

    internal static string VectorPath()
    {
        // Vectors live in the repo, not in the build output: walk up to the folder holding tests/vectors.
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "vectors", "wycheproof", "testvectors_v1", FileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"tests/vectors/wycheproof/testvectors_v1/{FileName} not found above {AppContext.BaseDirectory}");
    }
}
