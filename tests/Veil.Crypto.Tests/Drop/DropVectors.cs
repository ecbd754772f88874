// spec/vectors/drop-v1.json: the Drop format v1 reproduced by Veil.Crypto.Drop. The outputs were produced by
// this code (VEIL_WRITE_DROP_VECTORS=<path> regenerates them for the same inputs) and are cross-checked without
// Veil code by spec/vectors/check-drop.py (Python hmac/hashlib + pyca/cryptography AES-GCM + the argon2 CLI).
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Veil.Crypto.Drop;
using Veil.Crypto.Streams;
using Xunit.Abstractions;

namespace Veil.Crypto.Tests.Drop;

public sealed class DropVectors(ITestOutputHelper output)
{
    private const string File = "drop-v1.json";
    private static readonly string? WriteTarget = Environment.GetEnvironmentVariable("VEIL_WRITE_DROP_VECTORS") is { Length: > 0 } t ? t : null;

    [Fact]
    public async Task DropV1_AllCasesReproduce()
    {
        JsonNode root = JsonNode.Parse(await System.IO.File.ReadAllTextAsync(VectorFiles.SpecPath(File)))!;
        int passed = 0;
        foreach (JsonNode? vector in root["cases"]!.AsArray())
        {
            await RunStreamCaseAsync(vector!);
            passed++;
        }

        foreach (JsonNode? vector in root["password_cases"]!.AsArray())
        {
            RunPasswordCase(vector!);
            passed++;
        }

        foreach (JsonNode? vector in root["metadata_records"]!.AsArray())
        {
            RunMetadataRecord(vector!);
            passed++;
        }

        if (WriteTarget is not null)
        {
            await System.IO.File.WriteAllTextAsync(WriteTarget, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
            return;
        }

        VectorFiles.Report(output, "spec/vectors/" + File, passed, 0);
        Assert.True(passed >= 10);
    }

    private static async Task RunStreamCaseAsync(JsonNode vector)
    {
        string name = vector["name"]!.GetValue<string>();
        string id = vector["drop_id"]!.GetValue<string>();
        using DropKey key = DropKey.FromBytes(Hex(vector, "drop_key"));
        JsonNode meta = vector["metadata"]!;
        var metadata = new DropMetadata(meta["name"]!.GetValue<string>(), meta["type"]!.GetValue<string>(), meta["size"]!.GetValue<long>());
        byte[] content = Content(vector["content"]!);
        Assert.Equal(metadata.Size, content.Length);

        byte[] contentKey = new byte[32], metadataKey = new byte[32];
        DropCipher.DeriveContentKey(key, contentKey);
        DropCipher.DeriveMetadataKey(key, metadataKey);
        byte[] metadataCiphertext = DropCipher.EncryptMetadata(key, id, metadata, Hex(vector, "metadata_salt"));
        var contentCiphertext = new MemoryStream();
        await using (CobblestoneEncryptStream encryptor = DropCipher.CreateContentEncryptor(contentCiphertext, key, id, Hex(vector, "content_salt"), leaveOpen: true))
        {
            await encryptor.WriteAsync(content);
            await encryptor.CompleteAsync();
        }

        var actual = new Dictionary<string, string>
        {
            ["link"] = DropLink.Format(vector["origin"]!.GetValue<string>(), id, key),
            ["content_key"] = Convert.ToHexStringLower(contentKey),
            ["metadata_key"] = Convert.ToHexStringLower(metadataKey),
            ["context"] = Convert.ToHexStringLower(DropCipher.Context(id)),
            ["metadata_plaintext"] = Convert.ToHexStringLower(metadata.Encode()),
            ["metadata_ciphertext"] = Convert.ToHexStringLower(metadataCiphertext),
            ["content_ciphertext"] = Convert.ToHexStringLower(contentCiphertext.ToArray()),
            ["content_ciphertext_sha256"] = Convert.ToHexStringLower(SHA256.HashData(contentCiphertext.ToArray())),
        };
        if (Write(vector, actual))
        {
            return;
        }

        foreach (var (field, value) in actual)
        {
            Assert.True(vector[field]!.GetValue<string>() == value, $"{name}: {field} differs");
        }

        // And the other way: the stored ciphertexts open to the stored inputs.
        var (status, opened) = DropCipher.DecryptMetadata(key, id, Hex(vector, "metadata_ciphertext"));
        Assert.Equal(DropOpenStatus.Ok, status);
        Assert.Equal(metadata, opened);
        await using CobblestoneDecryptStream? decryptor = await DropCipher.OpenContentAsync(new MemoryStream(Hex(vector, "content_ciphertext")), key, id);
        Assert.NotNull(decryptor);
        var plain = new MemoryStream();
        await decryptor.CopyToAsync(plain);
        Assert.Equal(content, plain.ToArray());

        DropLink link = DropLink.TryParse(vector["link"]!.GetValue<string>())!;
        Assert.Equal(id, link.Id);
        Assert.Equal(vector["origin"]!.GetValue<string>().TrimEnd('/'), link.Origin);
    }

    private static void RunPasswordCase(JsonNode vector)
    {
        string password = vector["password"]!.GetValue<string>();
        byte[] salt = Hex(vector, "salt");
        using DropKey key = DropKey.FromBytes(Hex(vector, "drop_key"));
        byte[] wrappingKey = new byte[32];
        DropPassword.DeriveWrappingKey(password, salt, wrappingKey, throwOnEmpty: true);
        var actual = new Dictionary<string, string>
        {
            ["password_utf8"] = Convert.ToHexStringLower(Encoding.UTF8.GetBytes(password)),
            ["aad"] = Convert.ToHexStringLower(DropPassword.Aad()),
            ["wrapping_key"] = Convert.ToHexStringLower(wrappingKey),
            ["wrapped_key"] = Convert.ToHexStringLower(DropPassword.Wrap(key, password, salt, Hex(vector, "nonce"))),
        };
        if (Write(vector, actual))
        {
            return;
        }

        foreach (var (field, value) in actual)
        {
            Assert.True(vector[field]!.GetValue<string>() == value, $"{vector["name"]}: {field} differs");
        }

        using DropKey? unwrapped = DropPassword.TryUnwrap(Hex(vector, "wrapped_key"), password, salt);
        Assert.NotNull(unwrapped);
        Assert.Equal(key.ToBase64Url(), unwrapped.ToBase64Url());
    }

    private static void RunMetadataRecord(JsonNode vector)
    {
        string name = vector["name"]!.GetValue<string>();
        DropMetadata? decoded = DropMetadata.TryDecode(Encoding.UTF8.GetBytes(vector["utf8"]!.GetValue<string>()));
        if (!vector["valid"]!.GetValue<bool>())
        {
            Assert.True(decoded is null, $"{name}: accepted an invalid record");
            return;
        }

        Assert.True(decoded is not null, $"{name}: refused a valid record");
        JsonNode expect = vector["expect"]!;
        Assert.Equal(new DropMetadata(expect["name"]!.GetValue<string>(), expect["type"]!.GetValue<string>(), expect["size"]!.GetValue<long>()), decoded);
    }

    private static bool Write(JsonNode vector, Dictionary<string, string> actual)
    {
        if (WriteTarget is null)
        {
            return false;
        }

        foreach (var (field, value) in actual)
        {
            vector[field] = value;
        }

        return true;
    }

    internal static byte[] Content(JsonNode content)
    {
        if (content["utf8"] is { } text)
        {
            return Encoding.UTF8.GetBytes(text.GetValue<string>());
        }

        int length = content["pattern_length"]!.GetValue<int>();
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(i % 251);
        }

        return bytes;
    }

    private static byte[] Hex(JsonNode vector, string field) => Convert.FromHexString(vector[field]!.GetValue<string>());
}
