// spec/vectors/vault-v1.json: the Vault format v1 reproduced by Veil.Crypto.Vault. The outputs were produced by this
// code (VEIL_WRITE_VAULT_VECTORS=<path> regenerates them, and the rejects list, for the same inputs) and are recomputed
// without Veil code by spec/vectors/check-vault.py (Python + pyca/cryptography AES-GCM).
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Veil.Crypto.Memory;
using Veil.Crypto.Tests.Drop;
using Veil.Crypto.Vault;
using Xunit.Abstractions;

namespace Veil.Crypto.Tests.Vault;

public sealed class VaultVectors(ITestOutputHelper output)
{
    private const string File = "vault-v1.json";
    private static readonly string? WriteTarget = Environment.GetEnvironmentVariable("VEIL_WRITE_VAULT_VECTORS") is { Length: > 0 } t ? t : null;

    [Fact]
    public async Task VaultV1_AllCasesReproduce()
    {
        JsonNode root = JsonNode.Parse(await System.IO.File.ReadAllTextAsync(VectorFiles.SpecPath(File)))!;
        int passed = 0;
        foreach (JsonNode? v in root["vault_keys"]!.AsArray())
        {
            VaultKeyCase(v!);
            passed++;
        }

        foreach (JsonNode? v in root["fields"]!.AsArray())
        {
            FieldCase(v!);
            passed++;
        }

        foreach (JsonNode? v in root["file_keys"]!.AsArray())
        {
            FileKeyCase(v!);
            passed++;
        }

        foreach (JsonNode? v in root["files"]!.AsArray())
        {
            await FileCaseAsync(v!);
            passed++;
        }

        foreach (JsonNode? v in root["escrows"]!.AsArray())
        {
            EscrowCase(v!, root);
            passed++;
        }

        if (WriteTarget is not null)
        {
            root["rejects"] = MakeRejects(root);
            await System.IO.File.WriteAllTextAsync(WriteTarget, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
            return;
        }

        JsonArray rejects = root["rejects"]!.AsArray();
        Assert.True(rejects.Count >= 10, "the rejects list is missing");
        foreach (JsonNode? r in rejects)
        {
            Assert.False(Opens(r!), $"reject '{r!["name"]}' opened");
            passed++;
        }

        VectorFiles.Report(output, "spec/vectors/" + File, passed, 0);
    }

    private static void VaultKeyCase(JsonNode v)
    {
        using SecretBytes userKey = Key(v, "user_key"), vaultKey = Key(v, "vault_key");
        string vaultId = S(v, "vault_id");
        var actual = new Dictionary<string, string>
        {
            ["aad"] = Convert.ToHexStringLower(VaultCipher.VaultKeyAad(vaultId)),
            ["wrapped"] = VaultCipher.SealKey(userKey, VaultCipher.VaultKeyAad(vaultId), vaultKey, Hex(v, "nonce")),
        };
        if (Check(v, actual))
        {
            using SecretBytes? opened = VaultCipher.TryUnwrapVaultKey(userKey, vaultId, S(v, "wrapped"));
            Assert.Equal(S(v, "vault_key"), HexOf(opened));
        }
    }

    private static void FieldCase(JsonNode v)
    {
        using SecretBytes vaultKey = Key(v, "vault_key");
        string vaultId = S(v, "vault_id"), itemId = S(v, "item_id"), path = S(v, "path"), value = S(v, "value");
        var actual = new Dictionary<string, string>
        {
            ["aad"] = Convert.ToHexStringLower(VaultCipher.FieldAad(vaultId, itemId, path)),
            ["ciphertext"] = VaultCipher.SealField(vaultKey, vaultId, itemId, path, value, Hex(v, "nonce")),
        };
        if (Check(v, actual))
        {
            Assert.True(VaultCipher.TryOpenField(vaultKey, vaultId, itemId, path, S(v, "ciphertext"), out string opened));
            Assert.Equal(value, opened);
        }
    }

    private static void FileKeyCase(JsonNode v)
    {
        using SecretBytes vaultKey = Key(v, "vault_key"), fileKey = Key(v, "file_key");
        string vaultId = S(v, "vault_id"), itemId = S(v, "item_id"), fileId = S(v, "file_id");
        byte[] aad = VaultCipher.FieldAad(vaultId, itemId, VaultCipher.FileKeyPath(fileId));
        var actual = new Dictionary<string, string>
        {
            ["aad"] = Convert.ToHexStringLower(aad),
            ["wrapped"] = VaultCipher.SealKey(vaultKey, aad, fileKey, Hex(v, "nonce")),
        };
        if (Check(v, actual))
        {
            using SecretBytes? opened = VaultCipher.TryUnwrapFileKey(vaultKey, vaultId, itemId, fileId, S(v, "wrapped"));
            Assert.Equal(S(v, "file_key"), HexOf(opened));
        }
    }

    private static async Task FileCaseAsync(JsonNode v)
    {
        using SecretBytes fileKey = Key(v, "file_key");
        string fileId = S(v, "file_id");
        byte[] content = DropVectors.Content(v["content"]!);
        var ciphertext = new MemoryStream();
        await using (var encryptor = VaultCipher.CreateFileEncryptor(ciphertext, fileKey, fileId, Hex(v, "salt"), leaveOpen: true))
        {
            await encryptor.WriteAsync(content);
            await encryptor.CompleteAsync();
        }

        byte[] ct = ciphertext.ToArray();
        var actual = new Dictionary<string, string>
        {
            ["context"] = Convert.ToHexStringLower(VaultCipher.FileContext(fileId)),
            ["ciphertext_sha256"] = Convert.ToHexStringLower(SHA256.HashData(ct)),
        };
        if (ct.Length <= 1024)
        {
            actual["ciphertext"] = Convert.ToHexStringLower(ct);
        }

        if (Check(v, actual))
        {
            var plain = new MemoryStream();
            Assert.True(await VaultCipher.DecryptFileAsync(fileKey, fileId, new MemoryStream(ct), plain));
            Assert.Equal(content, plain.ToArray());
        }
    }

    private static void EscrowCase(JsonNode v, JsonNode root)
    {
        using SecretBytes deliveryKey = Key(v, "delivery_key"), vaultKey = Key(v, "vault_key");
        string vaultId = S(v, "vault_id"), recipientId = S(v, "recipient_id");
        var actual = new Dictionary<string, string>
        {
            ["delivery_key_base64url"] = System.Buffers.Text.Base64Url.EncodeToString(Hex(v, "delivery_key")),
            ["aad"] = Convert.ToHexStringLower(VaultCipher.EscrowAad(vaultId, recipientId)),
            ["escrow"] = VaultCipher.SealKey(deliveryKey, VaultCipher.EscrowAad(vaultId, recipientId), vaultKey, Hex(v, "nonce")),
        };
        if (!Check(v, actual))
        {
            return;
        }

        // The recipient's rebuild: escrow + delivery key → vault key → every field and file key of that vault.
        using SecretBytes? rebuilt = VaultCipher.TryOpenEscrow(deliveryKey, vaultId, recipientId, S(v, "escrow"));
        Assert.NotNull(rebuilt);
        foreach (JsonNode? f in root["fields"]!.AsArray())
        {
            Assert.True(VaultCipher.TryOpenField(rebuilt, vaultId, S(f!, "item_id"), S(f!, "path"), S(f!, "ciphertext"), out string value));
            Assert.Equal(S(f!, "value"), value);
        }

        foreach (JsonNode? f in root["file_keys"]!.AsArray())
        {
            using SecretBytes? fileKey = VaultCipher.TryUnwrapFileKey(rebuilt, vaultId, S(f!, "item_id"), S(f!, "file_id"), S(f!, "wrapped"));
            Assert.Equal(S(f!, "file_key"), HexOf(fileKey));
        }
    }

    /// <summary>Tampered, moved and malformed ciphertexts made from the valid cases: each must fail to open.</summary>
    private static JsonArray MakeRejects(JsonNode root)
    {
        JsonNode title = root["fields"]!.AsArray().First(f => S(f!, "path") == "title")!;
        JsonNode tag = root["fields"]!.AsArray().First(f => S(f!, "path") == "tags/0")!;
        JsonNode wrap = root["vault_keys"]![0]!;
        JsonNode escrow = root["escrows"]![0]!;
        string ct = S(title, "ciphertext");
        byte[] sealedBytes = System.Buffers.Text.Base64Url.DecodeFromChars(ct.AsSpan(3));

        string Flip(int index)
        {
            byte[] copy = (byte[])sealedBytes.Clone();
            copy[index] ^= 0x01;
            return "v1." + System.Buffers.Text.Base64Url.EncodeToString(copy);
        }

        JsonObject Field(string name, string ciphertext, string? itemId = null, string? path = null, string? vaultId = null, JsonNode? from = null) => new()
        {
            ["name"] = name,
            ["kind"] = "field",
            ["vault_key"] = S(from ?? title, "vault_key"),
            ["vault_id"] = vaultId ?? S(from ?? title, "vault_id"),
            ["item_id"] = itemId ?? S(from ?? title, "item_id"),
            ["path"] = path ?? S(from ?? title, "path"),
            ["ciphertext"] = ciphertext,
        };

        string tagCt = S(tag, "ciphertext");
        char last = tagCt[^1];
        string nonCanonical = tagCt[..^1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".IndexOf(last, StringComparison.Ordinal) + 1) % 64];
        return
        [
            Field("tag bit flipped", Flip(sealedBytes.Length - 1)),
            Field("ciphertext bit flipped", Flip(12)),
            Field("nonce bit flipped", Flip(0)),
            Field("moved to another item", ct, itemId: "ffffffff-ffff-4fff-bfff-ffffffffffff"),
            Field("moved to another path (title as notes)", ct, path: "notes"),
            Field("moved to another vault", ct, vaultId: "ffffffff-ffff-4fff-bfff-ffffffffffff"),
            Field("item title presented as the vault name", ct, itemId: string.Empty, path: "name"),
            Field("unknown version prefix", "v2." + ct[3..]),
            Field("no version prefix", ct[3..]),
            Field("padded base64url", tagCt + "==", from: tag),
            Field("non-canonical base64url (unused bits set)", nonCanonical, from: tag),
            Field("standard base64 alphabet", ct.Replace('-', '+').Replace('_', '/') + (ct.Contains('-', StringComparison.Ordinal) || ct.Contains('_', StringComparison.Ordinal) ? string.Empty : "+"), from: title),
            Field("truncated by 3 bytes", ct[..^4]),
            Field("shorter than nonce and tag", "v1." + System.Buffers.Text.Base64Url.EncodeToString(sealedBytes.AsSpan(0, 27))),
            new JsonObject
            {
                ["name"] = "wrapped vault key presented for another vault",
                ["kind"] = "vault_key",
                ["key"] = S(wrap, "user_key"),
                ["vault_id"] = "ffffffff-ffff-4fff-bfff-ffffffffffff",
                ["ciphertext"] = S(wrap, "wrapped"),
            },
            new JsonObject
            {
                ["name"] = "escrow presented for another recipient",
                ["kind"] = "escrow",
                ["key"] = S(escrow, "delivery_key"),
                ["vault_id"] = S(escrow, "vault_id"),
                ["recipient_id"] = "ffffffff-ffff-4fff-bfff-ffffffffffff",
                ["ciphertext"] = S(escrow, "escrow"),
            },
            new JsonObject
            {
                ["name"] = "escrow opened as a wrapped vault key under the delivery key",
                ["kind"] = "vault_key",
                ["key"] = S(escrow, "delivery_key"),
                ["vault_id"] = S(escrow, "vault_id"),
                ["ciphertext"] = S(escrow, "escrow"),
            },
        ];
    }

    private static bool Opens(JsonNode r)
    {
        string kind = S(r, "kind");
        using SecretBytes key = Key(r, kind == "field" ? "vault_key" : "key");
        switch (kind)
        {
            case "field":
                return VaultCipher.TryOpenField(key, S(r, "vault_id"), S(r, "item_id"), S(r, "path"), S(r, "ciphertext"), out _);
            case "vault_key":
                using (SecretBytes? opened = VaultCipher.TryUnwrapVaultKey(key, S(r, "vault_id"), S(r, "ciphertext")))
                {
                    return opened is not null;
                }

            case "escrow":
                using (SecretBytes? opened = VaultCipher.TryOpenEscrow(key, S(r, "vault_id"), S(r, "recipient_id"), S(r, "ciphertext")))
                {
                    return opened is not null;
                }

            default:
                throw new InvalidDataException($"unknown reject kind {kind}");
        }
    }

    /// <summary>In write mode stores the outputs and returns false; otherwise asserts them and returns true.</summary>
    private static bool Check(JsonNode v, Dictionary<string, string> actual)
    {
        if (WriteTarget is not null)
        {
            foreach (var (field, value) in actual)
            {
                v[field] = value;
            }

            return false;
        }

        foreach (var (field, value) in actual)
        {
            Assert.True(v[field]?.GetValue<string>() == value, $"{v["name"]}: {field} differs");
        }

        return true;
    }

    private static string S(JsonNode v, string field) => v[field]!.GetValue<string>();

    private static byte[] Hex(JsonNode v, string field) => Convert.FromHexString(S(v, field));

    private static SecretBytes Key(JsonNode v, string field) => SecretBytes.Copy(Hex(v, field));

    private static string? HexOf(SecretBytes? key)
    {
        if (key is null)
        {
            return null;
        }

        using var lease = key.Acquire();
        return Convert.ToHexStringLower(lease.Span);
    }
}
