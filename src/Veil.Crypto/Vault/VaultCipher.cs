// Vault format v1 (spec/vault.md): every ciphertext a Veil vault client makes before the server sees anything.
//
//   wrappedKey = "v1." || base64url(nonce(12) || AES-256-GCM(user key,     nonce, vault key(32), ASCII("veil/v1/vault-key|" || vaultId)))
//   field CT   = "v1." || base64url(nonce(12) || AES-256-GCM(vault key,    nonce, UTF-8(value),  ASCII("veil/v1/vault-field|" || vaultId || "|" || itemId || "|" || path)))
//   fileKey    = "v1." || base64url(nonce(12) || AES-256-GCM(vault key,    nonce, file key(32),  the field AAD with path "files/<fileId>/key"))
//   escrow     = "v1." || base64url(nonce(12) || AES-256-GCM(delivery key, nonce, vault key(32), ASCII("veil/v1/vault-escrow|" || vaultId || "|" || recipientId)))
//   file       = Cobblestone-256(key = file key, context = ASCII(fileId), file bytes)
//
// The client chooses every id (lowercase canonical UUID v4), so the AAD binds a ciphertext to its vault, item and
// path before the server stores it: a server that moves a title into another item, swaps a label with a value or
// hands one vault's wrapped key to another makes the open fail, and the client reports "tampered". Nonces are 96
// random bits, fresh per encryption; a vault key seals far fewer than 2^32 values in its life (SP 800-38D §8.3).
// Base64url is unpadded and must be canonical (re-encoding gives the same text), so a ciphertext has one spelling.
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;
using Veil.Crypto.Streams;

namespace Veil.Crypto.Vault;

/// <summary>The ciphertexts of a Veil vault (spec/vault.md, v1): key wraps, fields, file keys, file streams and escrows.</summary>
public static class VaultCipher
{
    /// <summary>The version prefix of every v1 ciphertext string.</summary>
    public const string Prefix = "v1.";

    /// <summary>The length of every vault, file, user and delivery key: 32 bytes.</summary>
    public const int KeyLength = 32;

    /// <summary>The bytes a sealed value adds to its plaintext: a 12-byte nonce and a 16-byte tag.</summary>
    public const int Overhead = Aes256Gcm.NonceLength + Aes256Gcm.TagLength;

    /// <summary>
    /// The longest field plaintext, in UTF-8 bytes (64 KiB): the server accepts a sealed value of at most
    /// 65,536 + 28 bytes (spec/vault-api.md).
    /// </summary>
    public const int MaxFieldBytes = 64 * 1024;

    /// <summary>The longest field path, in characters.</summary>
    public const int MaxPathLength = 128;

    /// <summary>The AAD label of a wrapped vault key (ASCII).</summary>
    public const string VaultKeyLabel = "veil/v1/vault-key|";

    /// <summary>The AAD label of a field ciphertext (ASCII).</summary>
    public const string FieldLabel = "veil/v1/vault-field|";

    /// <summary>The AAD label of an escrow (ASCII).</summary>
    public const string EscrowLabel = "veil/v1/vault-escrow|";

    /// <summary>The field path of the vault's name (with the empty item id).</summary>
    public const string NamePath = "name";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // ------------------------------------------------------------------ AAD

    /// <summary>The associated data of a vault's wrapped key.</summary>
    /// <exception cref="ArgumentException">The vault id is not a lowercase canonical UUID v4.</exception>
    public static byte[] VaultKeyAad(string vaultId)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        return Encoding.ASCII.GetBytes(VaultKeyLabel + vaultId);
    }

    /// <summary>The associated data of a field: binds the vault, the item (empty for the vault's own name) and the path.</summary>
    /// <exception cref="ArgumentException">An id is not a lowercase canonical UUID v4, or the path is invalid (see <see cref="IsValidPath"/>).</exception>
    public static byte[] FieldAad(string vaultId, string itemId, string path)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        ArgumentNullException.ThrowIfNull(itemId);
        if (itemId.Length != 0)
        {
            VaultIds.Check(itemId, nameof(itemId));
        }

        if (!IsValidPath(path))
        {
            throw new ArgumentException("A field path is 1 to 128 characters of a-z 0-9 - and /, e.g. fields/2/value.", nameof(path));
        }

        return Encoding.ASCII.GetBytes(FieldLabel + vaultId + "|" + itemId + "|" + path);
    }

    /// <summary>The field path of a file's wrapped key: <c>files/&lt;fileId&gt;/key</c>.</summary>
    /// <exception cref="ArgumentException">The file id is not a lowercase canonical UUID v4.</exception>
    public static string FileKeyPath(string fileId)
    {
        VaultIds.Check(fileId, nameof(fileId));
        return "files/" + fileId + "/key";
    }

    /// <summary>The field path of a file's name: <c>files/&lt;fileId&gt;/name</c>.</summary>
    /// <exception cref="ArgumentException">The file id is not a lowercase canonical UUID v4.</exception>
    public static string FileNamePath(string fileId)
    {
        VaultIds.Check(fileId, nameof(fileId));
        return "files/" + fileId + "/name";
    }

    /// <summary>The associated data of an escrow: binds the vault and the recipient.</summary>
    /// <exception cref="ArgumentException">An id is not a lowercase canonical UUID v4.</exception>
    public static byte[] EscrowAad(string vaultId, string recipientId)
    {
        VaultIds.Check(vaultId, nameof(vaultId));
        VaultIds.Check(recipientId, nameof(recipientId));
        return Encoding.ASCII.GetBytes(EscrowLabel + vaultId + "|" + recipientId);
    }

    /// <summary>The Cobblestone-256 context of a file: the ASCII bytes of its id.</summary>
    /// <exception cref="ArgumentException">The file id is not a lowercase canonical UUID v4.</exception>
    public static byte[] FileContext(string fileId)
    {
        VaultIds.Check(fileId, nameof(fileId));
        return Encoding.ASCII.GetBytes(fileId);
    }

    /// <summary>True for 1 to 128 characters of <c>a–z 0–9 - /</c> (no <c>|</c>, so the AAD parses one way).</summary>
    public static bool IsValidPath(string? path) =>
        path is { Length: > 0 and <= MaxPathLength } && path.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '/');

    // ------------------------------------------------------------------ vault key

    /// <summary>Makes a new random vault key (in secure memory).</summary>
    public static SecretBytes NewKey() => SecretBytes.Random(KeyLength);

    /// <summary>Wraps <paramref name="vaultKey"/> under the account's user key, bound to <paramref name="vaultId"/>.</summary>
    /// <exception cref="ArgumentException">A key is not 32 bytes or the id is invalid.</exception>
    public static string WrapVaultKey(SecretBytes userKey, string vaultId, SecretBytes vaultKey) =>
        SealKey(userKey, VaultKeyAad(vaultId), vaultKey, RandomNonce());

    /// <summary>Opens a wrapped vault key; <see langword="null"/> when it does not authenticate (tampered, moved or malformed).</summary>
    /// <exception cref="ArgumentException">The user key is not 32 bytes or the id is invalid.</exception>
    public static SecretBytes? TryUnwrapVaultKey(SecretBytes userKey, string vaultId, string? wrappedKey) =>
        TryOpenKey(userKey, VaultKeyAad(vaultId), wrappedKey);

    // ------------------------------------------------------------------ fields

    /// <summary>Seals one string field of a vault under its vault key, with a fresh random nonce.</summary>
    /// <param name="vaultKey">The 32-byte vault key.</param>
    /// <param name="vaultId">The vault id.</param>
    /// <param name="itemId">The item id, or the empty string for the vault's own fields (its name).</param>
    /// <param name="path">The field path (<c>title</c>, <c>notes</c>, <c>tags/0</c>, <c>fields/2/value</c>, <c>files/&lt;id&gt;/name</c>, <c>name</c>).</param>
    /// <param name="value">The plaintext, at most <see cref="MaxFieldBytes"/> UTF-8 bytes; may be empty.</param>
    /// <returns>The ciphertext string.</returns>
    /// <exception cref="ArgumentException">A bad key, id or path, a value over the limit, or a lone surrogate in it.</exception>
    public static string SealField(SecretBytes vaultKey, string vaultId, string itemId, string path, string value) =>
        SealField(vaultKey, vaultId, itemId, path, value, RandomNonce());

    /// <summary>Deterministic variant for known-answer tests only: never reuse a nonce under one key.</summary>
    internal static string SealField(SecretBytes vaultKey, string vaultId, string itemId, string path, string value, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(value);
        byte[] plaintext;
        try
        {
            plaintext = StrictUtf8.GetBytes(value);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("The value is not valid Unicode (a lone surrogate).", nameof(value), e);
        }

        try
        {
            if (plaintext.Length > MaxFieldBytes)
            {
                throw new ArgumentException($"A field holds at most {MaxFieldBytes} UTF-8 bytes.", nameof(value));
            }

            return Seal(vaultKey, FieldAad(vaultId, itemId, path), plaintext, nonce);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>
    /// Opens a field ciphertext. Returns <see langword="false"/> (and an empty <paramref name="value"/>) when it does not
    /// authenticate under this vault key, vault, item and path, is malformed, or is not valid UTF-8: the field was tampered with.
    /// </summary>
    /// <exception cref="ArgumentException">A bad key, id or path.</exception>
    public static bool TryOpenField(SecretBytes vaultKey, string vaultId, string itemId, string path, string? ciphertext, out string value)
    {
        value = string.Empty;
        byte[] aad = FieldAad(vaultId, itemId, path);
        byte[]? plaintext = TryOpen(vaultKey, aad, ciphertext, MaxFieldBytes);
        if (plaintext is null)
        {
            return false;
        }

        try
        {
            value = StrictUtf8.GetString(plaintext);
            return true;
        }
        catch (DecoderFallbackException)
        {
            // Authentic bytes that are not UTF-8 were sealed by something other than a v1 writer: not a field.
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    // ------------------------------------------------------------------ files

    /// <summary>Wraps a file key under the vault key, bound to its vault, item and file (path <c>files/&lt;fileId&gt;/key</c>).</summary>
    /// <exception cref="ArgumentException">A key is not 32 bytes or an id is invalid.</exception>
    public static string WrapFileKey(SecretBytes vaultKey, string vaultId, string itemId, string fileId, SecretBytes fileKey) =>
        SealKey(vaultKey, FieldAad(vaultId, itemId, FileKeyPath(fileId)), fileKey, RandomNonce());

    /// <summary>Opens a wrapped file key; <see langword="null"/> when it does not authenticate.</summary>
    /// <exception cref="ArgumentException">The vault key is not 32 bytes or an id is invalid.</exception>
    public static SecretBytes? TryUnwrapFileKey(SecretBytes vaultKey, string vaultId, string itemId, string fileId, string? wrappedKey) =>
        TryOpenKey(vaultKey, FieldAad(vaultId, itemId, FileKeyPath(fileId)), wrappedKey);

    /// <summary>
    /// Starts encrypting a file's bytes into <paramref name="ciphertext"/> with a fresh random salt. Write the file, then
    /// call <see cref="CobblestoneEncryptStream.CompleteAsync"/>: without it the stream is truncated and will not decrypt.
    /// </summary>
    /// <exception cref="ArgumentException">The key is not 32 bytes or the file id is invalid.</exception>
    public static CobblestoneEncryptStream CreateFileEncryptor(Stream ciphertext, SecretBytes fileKey, string fileId, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(fileKey);
        byte[] context = FileContext(fileId);
        using var key = AcquireKey(fileKey, nameof(fileKey));
        return new CobblestoneEncryptStream(ciphertext, key.Span, context, leaveOpen);
    }

    /// <summary>Deterministic variant for known-answer tests only.</summary>
    internal static CobblestoneEncryptStream CreateFileEncryptor(Stream ciphertext, SecretBytes fileKey, string fileId, ReadOnlySpan<byte> salt, bool leaveOpen)
    {
        byte[] context = FileContext(fileId);
        using var key = AcquireKey(fileKey, nameof(fileKey));
        return new CobblestoneEncryptStream(ciphertext, key.Span, context, salt, leaveOpen);
    }

    /// <summary>
    /// Decrypts a file stream into <paramref name="plaintext"/>. Returns <see langword="false"/> when it does not
    /// authenticate as a whole; the destination may then hold a prefix, which the caller MUST discard.
    /// </summary>
    /// <exception cref="ArgumentException">The key is not 32 bytes or the file id is invalid.</exception>
    public static async Task<bool> DecryptFileAsync(SecretBytes fileKey, string fileId, Stream ciphertext, Stream plaintext, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fileKey);
        byte[] context = FileContext(fileId);
        if (fileKey.Length != KeyLength)
        {
            throw new ArgumentException($"A vault file key is {KeyLength} bytes.", nameof(fileKey));
        }

        // The streaming decryptor takes the key as memory across awaits; a pinned array that is wiped at the end
        // is the shortest-lived copy possible.
        byte[] key = GC.AllocateArray<byte>(KeyLength, pinned: true);
        try
        {
            using (var lease = fileKey.Acquire())
            {
                lease.Span.CopyTo(key);
            }

            return await Cobblestone256.DecryptAsync(key, context, ciphertext, plaintext, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    // ------------------------------------------------------------------ escrow

    /// <summary>Wraps the vault key under a recipient's delivery key, bound to the vault and the recipient.</summary>
    /// <exception cref="ArgumentException">A key is not 32 bytes or an id is invalid.</exception>
    public static string CreateEscrow(SecretBytes deliveryKey, string vaultId, string recipientId, SecretBytes vaultKey) =>
        SealKey(deliveryKey, EscrowAad(vaultId, recipientId), vaultKey, RandomNonce());

    /// <summary>Opens an escrow with the delivery key: the vault key, or <see langword="null"/> when it does not authenticate.</summary>
    /// <exception cref="ArgumentException">The delivery key is not 32 bytes or an id is invalid.</exception>
    public static SecretBytes? TryOpenEscrow(SecretBytes deliveryKey, string vaultId, string recipientId, string? escrow) =>
        TryOpenKey(deliveryKey, EscrowAad(vaultId, recipientId), escrow);

    // ------------------------------------------------------------------ the one seal and open

    /// <summary>Deterministic key wrap for known-answer tests only.</summary>
    internal static string SealKey(SecretBytes wrappingKey, byte[] aad, SecretBytes key, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(key);
        using var plain = AcquireKey(key, nameof(key));
        return Seal(wrappingKey, aad, plain.Span, nonce);
    }

    private static SecretBytes? TryOpenKey(SecretBytes wrappingKey, byte[] aad, string? ciphertext)
    {
        byte[]? plaintext = TryOpen(wrappingKey, aad, ciphertext, KeyLength);
        if (plaintext is null)
        {
            return null;
        }

        try
        {
            return plaintext.Length == KeyLength ? SecretBytes.Copy(plaintext) : null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static string Seal(SecretBytes key, byte[] aad, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (nonce.Length != Aes256Gcm.NonceLength)
        {
            throw new ArgumentException($"A nonce is {Aes256Gcm.NonceLength} bytes.", nameof(nonce));
        }

        var sealedBytes = new byte[Aes256Gcm.NonceLength + plaintext.Length + Aes256Gcm.TagLength];
        nonce.CopyTo(sealedBytes);
        using (var lease = AcquireKey(key, nameof(key)))
        using (var aes = new Aes256Gcm(lease.Span))
        {
            aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(Aes256Gcm.NonceLength), aad);
        }

        return Prefix + Base64Url.EncodeToString(sealedBytes);
    }

    /// <summary>The plaintext (caller wipes it), or null for anything that does not authenticate or is not canonical v1.</summary>
    private static byte[]? TryOpen(SecretBytes key, byte[] aad, string? ciphertext, int maxPlaintext)
    {
        ArgumentNullException.ThrowIfNull(key);
        using var lease = AcquireKey(key, nameof(key));
        if (ciphertext is null || !ciphertext.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var body = ciphertext.AsSpan(Prefix.Length);
        if (body.Length > Base64Url.GetEncodedLength(Overhead + maxPlaintext) || !Base64Url.IsValid(body, out int length) || length < Overhead)
        {
            return null;
        }

        var sealedBytes = new byte[length];
        if (!Base64Url.TryDecodeFromChars(body, sealedBytes, out int written) || written != length)
        {
            return null;
        }

        // One spelling per ciphertext: refuse padding, whitespace and non-zero unused bits.
        if (!body.SequenceEqual(Base64Url.EncodeToString(sealedBytes)))
        {
            return null;
        }

        var plaintext = new byte[length - Overhead];
        using var aes = new Aes256Gcm(lease.Span);
        if (!aes.TryDecrypt(sealedBytes.AsSpan(0, Aes256Gcm.NonceLength), sealedBytes.AsSpan(Aes256Gcm.NonceLength), plaintext, aad))
        {
            return null;
        }

        return plaintext;
    }

    private static SecretLease AcquireKey(SecretBytes key, string name)
    {
        ArgumentNullException.ThrowIfNull(key, name);
        if (key.Length != KeyLength)
        {
            throw new ArgumentException($"A vault format key is {KeyLength} bytes.", name);
        }

        return key.Acquire();
    }

    private static byte[] RandomNonce() => CryptoRandom.Bytes(Aes256Gcm.NonceLength);
}
