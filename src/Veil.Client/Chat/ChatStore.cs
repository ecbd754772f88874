// The chat client's own store (spec/chat-client.md §2): this device's keys, its sessions, the peers it pinned and
// the conversation history, in one file per account under the CLI's config directory, mode 0600:
//
//   chat-<account id, 32 hex>.store = JSON { format: "veil-chat-store", version: 1, account, storageKey, records }
//   storageKey  = "v1." wrap (SealedKey: XChaCha20-Poly1305) of a random 32-byte device storage key under the
//                 user key, AAD "veil/v1/chat-store-key/" || account id
//   records     = { tag: base64url(0x01 || nonce (24) || XChaCha20-Poly1305(storage key, nonce, plaintext,
//                       AAD "veil/v1/chat-store/record" 0x00 account id 0x00 name)) }
//   tag         = base64url(HMAC-SHA256(name key, name)[0:16]), name key = HKDF-SHA256(storage key, info
//                 "veil/v1/chat-store/names"), so the file does not list whom the user talks to
//
// Every record is sealed on its own and bound to its name and account by the AAD, so a record moved to another
// slot or another store does not open. The file is replaced atomically (0600 temporary file, rename) and guarded
// by an exclusive lock file, so `listen` in one terminal and `send` in another never lose each other's writes.
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Veil.Client.Crypto;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;

namespace Veil.Client.Chat;

/// <summary>The store could not be opened (wrong user key, damaged or tampered file).</summary>
public sealed class ChatStoreException(string message) : Exception(message);

internal sealed record ChatStoreFile(string Format, int Version, Guid Account, string StorageKey, Dictionary<string, string> Records);

/// <summary>One open, locked chat store; writes are kept in memory until <see cref="Save"/>.</summary>
public sealed class ChatStore : IDisposable
{
    public const string Format = "veil-chat-store";
    public const int Version = 1;
    private const byte RecordVersion = 1;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _path;
    private readonly Guid _account;
    private readonly SecretBytes _storageKey;
    private readonly byte[] _nameKey = new byte[32];
    private readonly string _wrappedKey;
    private readonly Dictionary<string, string> _records;
    private readonly FileStream _lock;

    private ChatStore(string path, Guid account, SecretBytes storageKey, string wrappedKey, Dictionary<string, string> records, FileStream fileLock)
    {
        _path = path;
        _account = account;
        _storageKey = storageKey;
        _wrappedKey = wrappedKey;
        _records = records;
        _lock = fileLock;
        using var key = storageKey.Acquire();
        Hkdf.DeriveSha256(key.Span, [], "veil/v1/chat-store/names"u8, _nameKey);
    }

    /// <summary>Whether the store file existed before this open.</summary>
    public bool Existed { get; private init; }

    /// <summary>The store file for <paramref name="account"/> in <paramref name="directory"/>.</summary>
    public static string PathFor(string directory, Guid account) => System.IO.Path.Combine(directory, $"chat-{account:N}.store");

    /// <summary>
    /// Locks and opens the store at <paramref name="path"/>, or starts a new one (with a new device storage key)
    /// when there is no file. Nothing is written until <see cref="Save"/>.
    /// </summary>
    /// <exception cref="ChatStoreException">The file does not open under <paramref name="userKey"/>.</exception>
    public static ChatStore Open(string path, Guid account, SecretBytes userKey)
    {
        ArgumentNullException.ThrowIfNull(userKey);
        var fileLock = Lock(path + ".lock", TimeSpan.FromSeconds(30));
        try
        {
            if (!File.Exists(path))
            {
                var storageKey = SecretBytes.Random(SealedKey.KeyLength);
                string wrapped;
                using (var lease = storageKey.Acquire())
                {
                    wrapped = SealedKey.Wrap(userKey, lease.Span, KeyAad(account), nameof(userKey));
                }

                return new ChatStore(path, account, storageKey, wrapped, [], fileLock) { Existed = false };
            }

            ChatStoreFile? file;
            try
            {
                file = JsonSerializer.Deserialize<ChatStoreFile>(File.ReadAllBytes(path), Json);
            }
            catch (JsonException)
            {
                file = null;
            }

            if (file is not { Format: Format, Version: Version, StorageKey: not null, Records: not null } || file.Account != account)
            {
                throw new ChatStoreException($"the chat store {path} is damaged or belongs to another account");
            }

            var key = SealedKey.TryUnwrap(userKey, file.StorageKey, KeyAad(account))
                ?? throw new ChatStoreException($"the chat store {path} does not open with this account's key (damaged or tampered)");
            return new ChatStore(path, account, key, file.StorageKey, file.Records, fileLock) { Existed = true };
        }
        catch
        {
            fileLock.Dispose();
            throw;
        }
    }

    /// <summary>The plaintext of record <paramref name="name"/>, or null when there is none.</summary>
    /// <exception cref="ChatStoreException">The record does not authenticate.</exception>
    public byte[]? Read(string name)
    {
        if (!_records.TryGetValue(Tag(name), out var text))
        {
            return null;
        }

        var sealedBytes = Base64Url.DecodeFromChars(text);
        const int header = 1 + XChaCha20Poly1305.NonceSize;
        if (sealedBytes.Length < header + SodiumAead.TagLength || sealedBytes[0] != RecordVersion)
        {
            throw new ChatStoreException("a chat store record is damaged");
        }

        using var key = _storageKey.Acquire();
        using var aead = new XChaCha20Poly1305(key.Span);
        return aead.Decrypt(sealedBytes.AsSpan(1, XChaCha20Poly1305.NonceSize), sealedBytes.AsSpan(header), RecordAad(name))
            ?? throw new ChatStoreException("a chat store record does not authenticate (damaged or tampered)");
    }

    /// <summary>Seals <paramref name="plaintext"/> as record <paramref name="name"/> (replacing it).</summary>
    public void Write(string name, ReadOnlySpan<byte> plaintext)
    {
        var sealedBytes = new byte[1 + XChaCha20Poly1305.NonceSize + plaintext.Length + SodiumAead.TagLength];
        sealedBytes[0] = RecordVersion;
        var nonce = sealedBytes.AsSpan(1, XChaCha20Poly1305.NonceSize);
        CryptoRandom.Fill(nonce);
        using (var key = _storageKey.Acquire())
        using (var aead = new XChaCha20Poly1305(key.Span))
        {
            aead.Encrypt(nonce, plaintext, sealedBytes.AsSpan(1 + XChaCha20Poly1305.NonceSize), RecordAad(name));
        }

        _records[Tag(name)] = Base64Url.EncodeToString(sealedBytes);
    }

    public void Delete(string name) => _records.Remove(Tag(name));

    public T? ReadJson<T>(string name)
        where T : class
    {
        var bytes = Read(name);
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(bytes, Json);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    public void WriteJson<T>(string name, T value)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, Json);
        try
        {
            Write(name, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Writes the store: a 0600 temporary file beside it, flushed, then renamed over it.</summary>
    public void Save()
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path))!;
        Directory.CreateDirectory(directory);
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(_path)}.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var file = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(file, new ChatStoreFile(Format, Version, _account, _wrappedKey, _records), Json);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, _path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Deletes the store file (the device was removed).</summary>
    public void DeleteFile() => File.Delete(_path);

    public void Dispose()
    {
        _storageKey.Dispose();
        CryptographicOperations.ZeroMemory(_nameKey);
        _lock.Dispose();
    }

    private string Tag(string name)
    {
        Span<byte> mac = stackalloc byte[HmacSha256.TagLength];
        HmacSha256.Compute(_nameKey, Encoding.UTF8.GetBytes(name), mac);
        return Base64Url.EncodeToString(mac[..16]);
    }

    private byte[] RecordAad(string name) => Encoding.UTF8.GetBytes($"veil/v1/chat-store/record\0{_account:D}\0{name}");

    private static string KeyAad(Guid account) => $"veil/v1/chat-store-key/{account:D}";

    private static FileStream Lock(string path, TimeSpan timeout)
    {
        try
        {
            return PrivateFileLock.Acquire(path, timeout, TimeSpan.FromMilliseconds(50));
        }
        catch (TimeoutException e)
        {
            throw new ChatStoreException($"another veil process has held the chat store for {timeout.TotalSeconds:0} s ({e.InnerException?.Message})");
        }
    }
}
