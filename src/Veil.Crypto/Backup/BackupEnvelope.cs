// The backup envelope (spec/backup.md): a versioned header that wraps one random 256-bit file key to each operator
// recipient, followed by the payload as one Cobblestone-256 message (c2sp.org/chunked-encryption: HKDF-SHA-512 +
// AES-256-GCM over 16 KiB chunks, the chunk counter in the nonce and a short final chunk, so truncation, reordering and
// tampering are detected and memory stays flat for any size).
//
//   header = "VEILBKP" || version (1 byte, = 1) || recipient count n (1 byte, 1..16) || n × stanza
//   stanza = ephemeral X25519 public key (32) || XChaCha20-Poly1305(wrap key, nonce = 0^24, file key, ad = "VEILBKP" || version) (48)
//   wrap key = HKDF-SHA256(ikm = X25519(ephemeral, recipient), salt = ephemeral public || recipient public, info = "veil-backup/v1 file key")
//   payload = Cobblestone-256(file key, context = "veil-backup/v1 payload" || SHA-256(header), archive)
//
// Each stanza's ephemeral key is fresh, so each wrap key encrypts exactly one message and the fixed nonce is safe (age
// does the same). The header is bound into the payload's context, so a stanza added, removed or altered makes the
// payload's commitment fail: the header needs no MAC of its own. Stanzas name no recipient: the identity tries each.
// The writer of a backup (the server) holds only recipients, never an identity, so it cannot read what it wrote.
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Primitives;
using Veil.Crypto.Streams;

namespace Veil.Crypto.Backup;

/// <summary>Why a backup could not be opened.</summary>
public enum BackupOpenStatus
{
    /// <summary>The header authenticated for this identity; read the payload to its end to authenticate it.</summary>
    Opened,

    /// <summary>The file does not start with a Veil backup header (or the header is cut short).</summary>
    NotABackup,

    /// <summary>A Veil backup of a format version this code does not read.</summary>
    UnsupportedVersion,

    /// <summary>No stanza opens with this identity: another operator key, or a damaged stanza.</summary>
    NotForThisIdentity,

    /// <summary>The stanza opened but the header or the payload's first bytes do not authenticate: the file was altered.</summary>
    Damaged,
}

/// <summary>The outcome of <see cref="BackupEnvelope.OpenAsync"/>: the decrypting payload stream when <see cref="Status"/> is <see cref="BackupOpenStatus.Opened"/>.</summary>
public sealed record BackupOpenResult(BackupOpenStatus Status, CobblestoneDecryptStream? Payload);

/// <summary>Writes and opens backup envelopes (see the file header for the format).</summary>
public static class BackupEnvelope
{
    /// <summary>The format version this code writes and reads.</summary>
    public const byte Version = 1;

    /// <summary>At most this many recipients per backup.</summary>
    public const int MaxRecipients = 16;

    private const int FileKeySize = 32;
    private const int StanzaSize = X25519PublicKey.Length + FileKeySize + SodiumAead.TagLength;
    private const int FixedHeaderSize = 9; // magic (7) || version || count

    private static ReadOnlySpan<byte> Magic => "VEILBKP"u8;

    private static ReadOnlySpan<byte> WrapInfo => "veil-backup/v1 file key"u8;

    private static ReadOnlySpan<byte> PayloadContextPrefix => "veil-backup/v1 payload"u8;

    /// <summary>
    /// Writes the header to <paramref name="output"/> and returns the stream the payload is written to. Call
    /// <see cref="CobblestoneEncryptStream.CompleteAsync"/> at the end: without it the backup is truncated and never opens.
    /// </summary>
    /// <exception cref="ArgumentException">No recipient, or more than <see cref="MaxRecipients"/>.</exception>
    public static async Task<CobblestoneEncryptStream> CreateAsync(Stream output, IReadOnlyList<BackupRecipient> recipients, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(recipients);
        if (recipients.Count is 0 or > MaxRecipients)
        {
            throw new ArgumentException($"A backup needs 1 to {MaxRecipients} recipients.", nameof(recipients));
        }

        var header = new byte[FixedHeaderSize + recipients.Count * StanzaSize];
        Magic.CopyTo(header);
        header[7] = Version;
        header[8] = (byte)recipients.Count;
        var fileKey = new byte[FileKeySize];
        RandomNumberGenerator.Fill(fileKey);
        try
        {
            for (var i = 0; i < recipients.Count; i++)
            {
                Wrap(recipients[i].PublicKey, fileKey, header.AsSpan(FixedHeaderSize + i * StanzaSize, StanzaSize));
            }

            await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
            return new CobblestoneEncryptStream(output, fileKey, PayloadContext(header), leaveOpen: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(fileKey);
        }
    }

    /// <summary>
    /// Reads the header from <paramref name="input"/>, unwraps the file key with <paramref name="identity"/> and opens the
    /// payload. The payload is authentic only once a read returns 0; a read that throws
    /// <see cref="CobblestoneAuthenticationException"/> means the file was truncated, reordered or altered.
    /// </summary>
    public static async Task<BackupOpenResult> OpenAsync(Stream input, BackupIdentity identity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(identity);
        var fixedHeader = new byte[FixedHeaderSize];
        if (await input.ReadAtLeastAsync(fixedHeader, FixedHeaderSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < FixedHeaderSize
            || !fixedHeader.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            return new(BackupOpenStatus.NotABackup, null);
        }

        if (fixedHeader[7] != Version)
        {
            return new(BackupOpenStatus.UnsupportedVersion, null);
        }

        int count = fixedHeader[8];
        if (count is 0 or > MaxRecipients)
        {
            return new(BackupOpenStatus.Damaged, null);
        }

        var header = new byte[FixedHeaderSize + count * StanzaSize];
        fixedHeader.CopyTo(header, 0);
        if (await input.ReadAtLeastAsync(header.AsMemory(FixedHeaderSize), header.Length - FixedHeaderSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < header.Length - FixedHeaderSize)
        {
            return new(BackupOpenStatus.NotABackup, null);
        }

        var fileKey = new byte[FileKeySize];
        try
        {
            var unwrapped = false;
            for (var i = 0; i < count && !unwrapped; i++)
            {
                unwrapped = TryUnwrap(identity, header.AsSpan(FixedHeaderSize + i * StanzaSize, StanzaSize), fileKey);
            }

            if (!unwrapped)
            {
                return new(BackupOpenStatus.NotForThisIdentity, null);
            }

            var payload = await CobblestoneDecryptStream.OpenAsync(input, fileKey, PayloadContext(header), leaveOpen: true, cancellationToken).ConfigureAwait(false);
            return payload is null ? new(BackupOpenStatus.Damaged, null) : new(BackupOpenStatus.Opened, payload);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(fileKey);
        }
    }

    private static byte[] PayloadContext(ReadOnlySpan<byte> header)
    {
        var context = new byte[PayloadContextPrefix.Length + 32];
        PayloadContextPrefix.CopyTo(context);
        SHA256.HashData(header, context.AsSpan(PayloadContextPrefix.Length));
        return context;
    }

    private static void Wrap(X25519PublicKey recipient, ReadOnlySpan<byte> fileKey, Span<byte> stanza)
    {
        using var ephemeral = X25519PrivateKey.Generate();
        Span<byte> wrapKey = stackalloc byte[32];
        try
        {
            if (!DeriveWrapKey(ephemeral, recipient, ephemeral.PublicKey, recipient, wrapKey))
            {
                throw new ArgumentException("A backup recipient is a low-order X25519 point.", nameof(recipient));
            }

            ephemeral.PublicKey.Bytes.CopyTo(stanza);
            using var aead = new XChaCha20Poly1305(wrapKey);
            aead.Encrypt(stackalloc byte[XChaCha20Poly1305.NonceSize], fileKey, stanza[X25519PublicKey.Length..], AssociatedData());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrapKey);
        }
    }

    private static bool TryUnwrap(BackupIdentity identity, ReadOnlySpan<byte> stanza, Span<byte> fileKey)
    {
        var ephemeral = X25519PublicKey.Import(stanza[..X25519PublicKey.Length]);
        Span<byte> wrapKey = stackalloc byte[32];
        try
        {
            if (!DeriveWrapKey(identity.PrivateKey, ephemeral, ephemeral, identity.Recipient.PublicKey, wrapKey))
            {
                return false;
            }

            using var aead = new XChaCha20Poly1305(wrapKey);
            return aead.TryDecrypt(stackalloc byte[XChaCha20Poly1305.NonceSize], stanza[X25519PublicKey.Length..], fileKey, AssociatedData());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrapKey);
        }
    }

    private static bool DeriveWrapKey(X25519PrivateKey own, X25519PublicKey peer, X25519PublicKey ephemeral, X25519PublicKey recipient, Span<byte> wrapKey)
    {
        Span<byte> shared = stackalloc byte[32];
        Span<byte> salt = stackalloc byte[2 * X25519PublicKey.Length];
        try
        {
            if (!X25519.TryAgreeInto(own, peer, shared))
            {
                return false;
            }

            ephemeral.Bytes.CopyTo(salt);
            recipient.Bytes.CopyTo(salt[X25519PublicKey.Length..]);
            Hkdf.DeriveSha256(shared, salt, WrapInfo, wrapKey);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    private static byte[] AssociatedData() => [.. Magic, Version];
}

/// <summary>
/// An operator's backup recipient: an X25519 public key, written <c>veil-backup1</c> followed by base64url of the key
/// and a 4-byte checksum (the first bytes of SHA-256 over the prefix and the key), so a mistyped or cut string is refused.
/// </summary>
public sealed class BackupRecipient : IEquatable<BackupRecipient>
{
    /// <summary>The text every recipient string starts with.</summary>
    public const string Prefix = "veil-backup1";

    internal BackupRecipient(X25519PublicKey publicKey) => PublicKey = publicKey;

    /// <summary>The X25519 public key.</summary>
    public X25519PublicKey PublicKey { get; }

    /// <summary>Parses a recipient string; false when it is not one (wrong prefix, length, encoding or checksum).</summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BackupRecipient? recipient)
    {
        recipient = null;
        var key = KeyText.TryDecode(Prefix, text?.Trim());
        if (key is null)
        {
            return false;
        }

        recipient = new BackupRecipient(X25519PublicKey.Import(key));
        return true;
    }

    /// <summary>The recipient string.</summary>
    public override string ToString() => KeyText.Encode(Prefix, PublicKey.Bytes);

    /// <summary>Whether both name the same key.</summary>
    public bool Equals(BackupRecipient? other) => other is not null && PublicKey.Equals(other.PublicKey);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as BackupRecipient);

    /// <inheritdoc />
    public override int GetHashCode() => PublicKey.GetHashCode();
}

/// <summary>
/// An operator's backup identity: the X25519 private key that opens backups, written <c>VEIL-BACKUP-KEY-1</c> followed by
/// base64url of the key and a 4-byte checksum. It belongs offline with the operator, never on the server that writes backups.
/// </summary>
public sealed class BackupIdentity : IDisposable
{
    /// <summary>The text every identity string starts with.</summary>
    public const string Prefix = "VEIL-BACKUP-KEY-1";

    private BackupIdentity(X25519PrivateKey privateKey)
    {
        PrivateKey = privateKey;
        Recipient = new BackupRecipient(privateKey.PublicKey);
    }

    /// <summary>The matching recipient (public).</summary>
    public BackupRecipient Recipient { get; }

    internal X25519PrivateKey PrivateKey { get; }

    /// <summary>Generates a new identity.</summary>
    public static BackupIdentity Generate() => new(X25519PrivateKey.Generate());

    /// <summary>Parses an identity from the UTF-8 text of a key file (surrounding whitespace and <c>#</c> comment lines ignored); null if it is not one.</summary>
    public static BackupIdentity? Parse(ReadOnlySpan<byte> utf8)
    {
        foreach (var range in utf8.Split((byte)'\n'))
        {
            var line = utf8[range].Trim(" \t\r"u8);
            if (line.IsEmpty || line[0] == (byte)'#')
            {
                continue;
            }

            var key = KeyText.TryDecode(Prefix, Encoding.UTF8.GetString(line));
            if (key is null)
            {
                return null;
            }

            try
            {
                return new BackupIdentity(X25519PrivateKey.Import(key));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }

        return null;
    }

    /// <summary>The key file's UTF-8 text (a comment naming the recipient, then the identity line). The caller wipes it.</summary>
    public byte[] ExportUtf8()
    {
        var scalar = new byte[X25519PrivateKey.Length];
        try
        {
            PrivateKey.ExportPrivateKey(scalar);
            return Encoding.UTF8.GetBytes($"# Veil backup identity. Recipient: {Recipient}\n{KeyText.Encode(Prefix, scalar)}\n");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
        }
    }

    /// <summary>Wipes the private key.</summary>
    public void Dispose() => PrivateKey.Dispose();

    /// <summary>Names the recipient only.</summary>
    public override string ToString() => $"BackupIdentity({Recipient})";
}

/// <summary>prefix || base64url(32-byte key || first 4 bytes of SHA-256(prefix || key)).</summary>
internal static class KeyText
{
    private const int KeySize = 32;
    private const int ChecksumSize = 4;

    public static string Encode(string prefix, ReadOnlySpan<byte> key)
    {
        Span<byte> body = stackalloc byte[KeySize + ChecksumSize];
        key.CopyTo(body);
        Checksum(prefix, key, body[KeySize..]);
        var text = prefix + CryptoRandom.ToBase64Url(body);
        CryptographicOperations.ZeroMemory(body);
        return text;
    }

    public static byte[]? TryDecode(string prefix, string? text)
    {
        if (text is null || !text.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var body = CryptoRandom.FromBase64Url(text[prefix.Length..]);
        if (body is not { Length: KeySize + ChecksumSize })
        {
            return null;
        }

        Span<byte> expected = stackalloc byte[ChecksumSize];
        Checksum(prefix, body.AsSpan(0, KeySize), expected);
        var key = body[..KeySize];
        var valid = CryptographicOperations.FixedTimeEquals(expected, body.AsSpan(KeySize));
        CryptographicOperations.ZeroMemory(body);
        if (!valid)
        {
            CryptographicOperations.ZeroMemory(key);
            return null;
        }

        return key;
    }

    private static void Checksum(string prefix, ReadOnlySpan<byte> key, Span<byte> destination)
    {
        var input = new byte[prefix.Length + KeySize];
        Encoding.ASCII.GetBytes(prefix, input);
        key.CopyTo(input.AsSpan(prefix.Length));
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        CryptographicOperations.ZeroMemory(input);
        hash[..ChecksumSize].CopyTo(destination);
    }
}
