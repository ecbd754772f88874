// Drop format v1 (spec/drop.md): the two Cobblestone-256 streams of a drop.
//
//   content key  = HKDF-SHA256(IKM = drop key, salt = empty, info = "veil/drop/v1/content",  L = 32)
//   metadata key = HKDF-SHA256(IKM = drop key, salt = empty, info = "veil/drop/v1/metadata", L = 32)
//   context      = ASCII(drop id)        (Cobblestone binds it through its key derivation)
//   content blob  = Cobblestone-256(content key,  context, file bytes)
//   metadata blob = Cobblestone-256(metadata key, context, DropMetadata.Encode())
//
// Distinct HKDF labels make the two streams independent (a metadata blob can never be decrypted as content or
// the reverse); the context makes a blob decrypt only under the drop id it was made for, so a server cannot move
// ciphertext between drops. Cobblestone's key commitment makes a wrong key fail at the 56-byte header, before
// any chunk. The server never sees the drop key, so it sees neither the file name, its type, nor its bytes;
// it does see blob sizes (the metadata blob is padded to hide the exact name length; see DropMetadata).
//
// Resuming an upload re-encrypts the same file with the same content salt, which reproduces the identical
// ciphertext (Cobblestone is deterministic given key, context and salt). That is the ONLY permitted reuse of a
// salt: with different plaintext it would reuse AES-GCM nonces. Callers must check the file is unchanged.
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;
using Veil.Crypto.Streams;

namespace Veil.Crypto.Drop;

/// <summary>The streams of a drop (spec/drop.md, v1): subkeys, context, content and metadata encryption.</summary>
public static class DropCipher
{
    /// <summary>HKDF-SHA256 info label of the content key (ASCII).</summary>
    public const string ContentInfo = "veil/drop/v1/content";

    /// <summary>HKDF-SHA256 info label of the metadata key (ASCII).</summary>
    public const string MetadataInfo = "veil/drop/v1/metadata";

    /// <summary>The longest drop id accepted, in characters.</summary>
    public const int MaxDropIdLength = 64;

    /// <summary>The longest metadata ciphertext accepted: the ciphertext of <see cref="DropMetadata.MaxEncodedLength"/> bytes.</summary>
    public static readonly int MaxMetadataCiphertextLength = (int)Cobblestone256.GetCiphertextLength(DropMetadata.MaxEncodedLength);

    /// <summary>Whether <paramref name="dropId"/> is a valid drop id: 1 to 64 characters of the base64url alphabet (A–Z a–z 0–9 - _).</summary>
    /// <param name="dropId">The id as it appears in the link.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValidDropId(ReadOnlySpan<char> dropId)
    {
        if (dropId.IsEmpty || dropId.Length > MaxDropIdLength)
        {
            return false;
        }

        foreach (char c in dropId)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The Cobblestone context of a drop's streams: the ASCII bytes of its id.</summary>
    /// <param name="dropId">A valid drop id.</param>
    /// <returns>The context bytes.</returns>
    /// <exception cref="ArgumentException">The id is not valid (see <see cref="IsValidDropId"/>).</exception>
    public static byte[] Context(string dropId)
    {
        CheckDropId(dropId);
        return Encoding.ASCII.GetBytes(dropId);
    }

    /// <summary>Derives the 32-byte content key from the drop key.</summary>
    /// <param name="key">The drop key.</param>
    /// <param name="output">Receives 32 bytes; the caller wipes it.</param>
    /// <exception cref="ArgumentException"><paramref name="output"/> is not 32 bytes.</exception>
    public static void DeriveContentKey(DropKey key, Span<byte> output) => Derive(key, ContentInfo, output);

    /// <summary>Derives the 32-byte metadata key from the drop key.</summary>
    /// <param name="key">The drop key.</param>
    /// <param name="output">Receives 32 bytes; the caller wipes it.</param>
    /// <exception cref="ArgumentException"><paramref name="output"/> is not 32 bytes.</exception>
    public static void DeriveMetadataKey(DropKey key, Span<byte> output) => Derive(key, MetadataInfo, output);

    /// <summary>A fresh random content salt (24 bytes), to be kept with a resumable upload's state.</summary>
    /// <returns>24 random bytes.</returns>
    public static byte[] NewContentSalt() => CryptoRandom.Bytes(Cobblestone256.SaltSize);

    /// <summary>
    /// Starts encrypting a drop's content into <paramref name="ciphertext"/>. Write the file, then call
    /// <see cref="CobblestoneEncryptStream.CompleteAsync"/>: without it the message is truncated and will not decrypt.
    /// </summary>
    /// <param name="ciphertext">Writable destination of the content blob.</param>
    /// <param name="key">The drop key.</param>
    /// <param name="dropId">The drop id (bound as the context).</param>
    /// <param name="salt">
    /// 24 bytes from <see cref="NewContentSalt"/>. Reuse a salt ONLY to reproduce the identical ciphertext of the
    /// identical file (resuming an upload): a reused salt with other plaintext reuses AES-GCM nonces.
    /// </param>
    /// <param name="leaveOpen">True to leave <paramref name="ciphertext"/> open when the returned stream is disposed.</param>
    /// <returns>The encrypting stream.</returns>
    /// <exception cref="ArgumentException">Invalid drop id or salt length.</exception>
    public static CobblestoneEncryptStream CreateContentEncryptor(Stream ciphertext, DropKey key, string dropId, ReadOnlySpan<byte> salt, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (salt.Length != Cobblestone256.SaltSize)
        {
            throw new ArgumentException($"A content salt is {Cobblestone256.SaltSize} bytes.", nameof(salt));
        }

        byte[] context = Context(dropId);
        Span<byte> contentKey = stackalloc byte[Cobblestone256.KeySize];
        try
        {
            DeriveContentKey(key, contentKey);
            return new CobblestoneEncryptStream(ciphertext, contentKey, context, salt, leaveOpen);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }

    /// <summary>
    /// Opens a drop's content blob for decryption. Returns null when the header does not authenticate (a wrong
    /// key, another drop's blob, or a tampered or truncated header).
    /// </summary>
    /// <remarks>
    /// Reads release plaintext one authenticated 16 KiB chunk at a time; the content is authentic only when a read
    /// returns 0. A read that throws <see cref="CobblestoneAuthenticationException"/> means tampering or truncation:
    /// everything read before must be discarded (write to a temporary file, delete it on failure).
    /// </remarks>
    /// <param name="ciphertext">Readable source positioned at the start of the content blob.</param>
    /// <param name="key">The drop key.</param>
    /// <param name="dropId">The drop id.</param>
    /// <param name="leaveOpen">True to leave <paramref name="ciphertext"/> open on dispose (and on a null result).</param>
    /// <param name="cancellationToken">Cancels reading the header.</param>
    /// <returns>The decrypting stream, or null.</returns>
    /// <exception cref="ArgumentException">Invalid drop id.</exception>
    public static async Task<CobblestoneDecryptStream?> OpenContentAsync(Stream ciphertext, DropKey key, string dropId, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] context = Context(dropId);
        byte[] contentKey = new byte[Cobblestone256.KeySize];
        try
        {
            DeriveContentKey(key, contentKey);
            return await CobblestoneDecryptStream.OpenAsync(ciphertext, contentKey, context, leaveOpen, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }

    /// <summary>Encrypts the metadata record of a drop (one shot, fresh random salt).</summary>
    /// <param name="key">The drop key.</param>
    /// <param name="dropId">The drop id.</param>
    /// <param name="metadata">Name, media type and size.</param>
    /// <returns>The metadata blob.</returns>
    /// <exception cref="ArgumentException">Invalid drop id or metadata (see <see cref="DropMetadata.Encode"/>).</exception>
    public static byte[] EncryptMetadata(DropKey key, string dropId, DropMetadata metadata)
    {
        Span<byte> salt = stackalloc byte[Cobblestone256.SaltSize];
        CryptoRandom.Fill(salt);
        return EncryptMetadata(key, dropId, metadata, salt);
    }

    /// <summary>Deterministic metadata encryption with a caller-chosen salt: for known-answer tests only.</summary>
    internal static byte[] EncryptMetadata(DropKey key, string dropId, DropMetadata metadata, ReadOnlySpan<byte> salt)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(metadata);
        byte[] context = Context(dropId);
        byte[] plaintext = metadata.Encode();
        byte[] ciphertext = new byte[Cobblestone256.GetCiphertextLength(plaintext.Length)];
        Span<byte> metadataKey = stackalloc byte[Cobblestone256.KeySize];
        try
        {
            DeriveMetadataKey(key, metadataKey);
            Cobblestone256.Encrypt(metadataKey, context, salt, plaintext, ciphertext);
            return ciphertext;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(metadataKey);
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Decrypts and parses a drop's metadata blob.</summary>
    /// <param name="key">The drop key.</param>
    /// <param name="dropId">The drop id.</param>
    /// <param name="ciphertext">The metadata blob, at most <see cref="MaxMetadataCiphertextLength"/> bytes.</param>
    /// <returns>
    /// <see cref="DropOpenStatus.Ok"/> with the metadata; <see cref="DropOpenStatus.NotAuthentic"/> when the blob does not
    /// authenticate (wrong key, another drop's blob, tampering, truncation, a blob too long);
    /// <see cref="DropOpenStatus.Malformed"/> when it authenticates but is not a v1 record (an unsupported version or a broken sender).
    /// </returns>
    /// <exception cref="ArgumentException">Invalid drop id.</exception>
    public static (DropOpenStatus Status, DropMetadata? Metadata) DecryptMetadata(DropKey key, string dropId, ReadOnlySpan<byte> ciphertext)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> metadataKey = stackalloc byte[Cobblestone256.KeySize];
        try
        {
            DeriveMetadataKey(key, metadataKey);
            return DecryptMetadataWithMetadataKey(metadataKey, dropId, ciphertext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(metadataKey);
        }
    }

    /// <summary>
    /// As <see cref="DecryptMetadata(DropKey, string, ReadOnlySpan{byte})"/>, given the metadata key itself: what the
    /// owner's name key (spec/drop.md §8) carries, without the drop key.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid drop id, or a metadata key that is not 32 bytes.</exception>
    public static (DropOpenStatus Status, DropMetadata? Metadata) DecryptMetadataWithMetadataKey(ReadOnlySpan<byte> metadataKey, string dropId, ReadOnlySpan<byte> ciphertext)
    {
        if (metadataKey.Length != Cobblestone256.KeySize)
        {
            throw new ArgumentException($"A drop subkey is {Cobblestone256.KeySize} bytes.", nameof(metadataKey));
        }

        byte[] context = Context(dropId);
        if (ciphertext.Length > MaxMetadataCiphertextLength || !Cobblestone256.TryGetPlaintextLength(ciphertext.Length, out long length))
        {
            return (DropOpenStatus.NotAuthentic, null);
        }

        byte[] plaintext = new byte[length];
        try
        {
            if (!Cobblestone256.TryDecrypt(metadataKey, context, ciphertext, plaintext, out int written))
            {
                return (DropOpenStatus.NotAuthentic, null);
            }

            DropMetadata? metadata = DropMetadata.TryDecode(plaintext.AsSpan(0, written));
            return metadata is null ? (DropOpenStatus.Malformed, null) : (DropOpenStatus.Ok, metadata);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    internal static void CheckDropId(string dropId)
    {
        ArgumentNullException.ThrowIfNull(dropId);
        if (!IsValidDropId(dropId))
        {
            throw new ArgumentException($"A drop id is 1 to {MaxDropIdLength} characters of A-Z a-z 0-9 - _.", nameof(dropId));
        }
    }

    private static void Derive(DropKey key, string info, Span<byte> output)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (output.Length != Cobblestone256.KeySize)
        {
            throw new ArgumentException($"A drop subkey is {Cobblestone256.KeySize} bytes.", nameof(output));
        }

        using SecretLease lease = key.Acquire();
        Hkdf.DeriveSha256(lease.Span, default, Encoding.ASCII.GetBytes(info), output);
    }
}

/// <summary>The outcome of opening a drop blob.</summary>
public enum DropOpenStatus
{
    /// <summary>Authentic and well-formed.</summary>
    Ok,

    /// <summary>Not authentic: a wrong key or password, another drop's blob, tampering or truncation.</summary>
    NotAuthentic,

    /// <summary>Authentic but not a record this version understands.</summary>
    Malformed,
}
