// Password mail to outsiders, v1 (spec/mailbox-api.md "Password mail to outsiders"): the whole MIME message and a
// per-message reply public key, encrypted under a key derived from a password the sender and the outsider share.
//
//   header    = 0x01 || u32be(memoryKiB) || u32be(iterations) || u8(lanes) || salt(16)                (26 bytes)
//   key       = Argon2id(P = UTF-8(password), S = salt, m = memoryKiB, t = iterations, p = lanes, T = 32, v = 0x13)
//   aad       = ASCII("veil/mail/outsider/v1") || header
//   plaintext = replyPublicKey(32, X25519) || MIME message
//   package   = header || nonce(24) || XChaCha20-Poly1305(key, nonce, plaintext, aad)                 (plaintext + 66 bytes)
//
// The KDF parameters and the salt sit in the header and are authenticated as associated data: a server that lowered
// the cost would break the tag. No verifier of the password exists anywhere; the AEAD tag is the only check, so a
// wrong password and a tampered package look the same (null). Sending uses Veil's client stretch cost (spec/keys.md:
// 64 MiB, t = 3, p = 4); opening accepts at least that and at most 256 MiB, t = 10, p = 8, so a package cannot make
// a reader spend unbounded memory. A server that keeps the package can guess passwords offline at that cost: the
// password is the only secret (docs/THREAT-MODEL.md, Mail).
//
// The reply, v1: the outsider seals a text to the reply public key (which came inside the password-encrypted package,
// so the server could not swap it):
//
//   shared = X25519(ephemeral secret, replyPublicKey)
//   key    = HKDF-SHA256(ikm = shared, salt = empty, info = ASCII("veil/mail/outsider/v1/reply") || epk || replyPublicKey, 32)
//   reply  = 0x01 || epk(32) || nonce(24) || XChaCha20-Poly1305(key, nonce, UTF-8 text, aad = 0x01 || epk || replyPublicKey)
//
// No Unicode normalisation of the password, as in spec/keys.md.
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Mailbox;

/// <summary>Encrypts and opens password mail packages and their replies (v1; see the file header).</summary>
public static class OutsiderPackage
{
    /// <summary>The format version, the first byte of a package and of a reply.</summary>
    public const byte Version = 1;

    /// <summary>The Argon2id salt length: 16 bytes.</summary>
    public const int SaltLength = 16;

    /// <summary>The header length: version, memory, iterations, lanes, salt.</summary>
    public const int HeaderLength = 1 + 4 + 4 + 1 + SaltLength;

    /// <summary>Bytes a package adds to the MIME message: header, nonce, reply key, tag.</summary>
    public const int Overhead = HeaderLength + XChaCha20Poly1305.NonceSize + X25519PublicKey.Length + SodiumAead.TagLength;

    /// <summary>Bytes a reply adds to its text: version, ephemeral key, nonce, tag.</summary>
    public const int ReplyOverhead = 1 + X25519PublicKey.Length + XChaCha20Poly1305.NonceSize + SodiumAead.TagLength;

    /// <summary>The longest password accepted, in UTF-16 code units.</summary>
    public const int MaxPasswordLength = 1024;

    /// <summary>The AAD label of a package.</summary>
    public const string Label = "veil/mail/outsider/v1";

    /// <summary>The HKDF info label of a reply.</summary>
    public const string ReplyLabel = "veil/mail/outsider/v1/reply";

    /// <summary>The cost a sender uses: Veil's client stretch (spec/keys.md), 64 MiB, 3 passes, 4 lanes.</summary>
    public static Argon2Parameters Parameters { get; } = new(64 * 1024, 3, 4);

    /// <summary>The least cost a reader accepts (the sender's).</summary>
    public static Argon2Parameters MinimumParameters { get; } = new(64 * 1024, 3, 1);

    /// <summary>The most a reader spends: 256 MiB, 10 passes, 8 lanes.</summary>
    public static Argon2Parameters MaximumParameters { get; } = new(256 * 1024, 10, 8);

    /// <summary>Encrypts <paramref name="mime"/> and the reply key under <paramref name="password"/>. Takes about 0.1–0.3 s and 64 MiB.</summary>
    /// <exception cref="ArgumentException">A password that is empty, too long or not valid UTF-16.</exception>
    public static byte[] Seal(ReadOnlySpan<byte> mime, X25519PublicKey replyKey, string password) =>
        Seal(mime, replyKey, password, Parameters, CryptoRandom.Bytes(SaltLength), CryptoRandom.Bytes(XChaCha20Poly1305.NonceSize));

    /// <summary>Deterministic sealing with caller-chosen salt, nonce and cost: for known-answer tests only.</summary>
    internal static byte[] Seal(ReadOnlySpan<byte> mime, X25519PublicKey replyKey, string password, Argon2Parameters cost, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(replyKey);
        if (salt.Length != SaltLength || nonce.Length != XChaCha20Poly1305.NonceSize)
        {
            throw new ArgumentException("A package salt is 16 bytes and its nonce 24.", nameof(salt));
        }

        if (password is null || password.Length is 0 or > MaxPasswordLength)
        {
            throw new ArgumentException($"A mail password is 1 to {MaxPasswordLength} characters.", nameof(password));
        }

        var package = new byte[HeaderLength + nonce.Length + X25519PublicKey.Length + mime.Length + SodiumAead.TagLength];
        WriteHeader(package, cost, salt);
        nonce.CopyTo(package.AsSpan(HeaderLength));
        var plaintext = new byte[X25519PublicKey.Length + mime.Length];
        Span<byte> key = stackalloc byte[32];
        try
        {
            replyKey.Bytes.CopyTo(plaintext);
            mime.CopyTo(plaintext.AsSpan(X25519PublicKey.Length));
            DeriveKey(password, salt, cost, key);
            using var aead = new XChaCha20Poly1305(key);
            aead.Encrypt(nonce, plaintext, package.AsSpan(HeaderLength + nonce.Length), Aad(package.AsSpan(0, HeaderLength)));
            return package;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Opens a package: the MIME message and the reply key, or null for a wrong password, a tampered or a non-v1 package.</summary>
    /// <exception cref="ArgumentException">A password that is too long or not valid UTF-16.</exception>
    public static OpenedPackage? TryOpen(ReadOnlySpan<byte> package, string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (package.Length < Overhead || package[0] != Version || password.Length is 0 or > MaxPasswordLength)
        {
            return null;
        }

        var cost = new Argon2Parameters(
            (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(package[1..]), int.MaxValue),
            (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(package[5..]), int.MaxValue),
            package[9]);
        if (!cost.IsValid || !cost.IsWithin(MaximumParameters) || cost.MemoryKiB < MinimumParameters.MemoryKiB || cost.Iterations < MinimumParameters.Iterations)
        {
            return null;
        }

        var nonce = package.Slice(HeaderLength, XChaCha20Poly1305.NonceSize);
        var ciphertext = package[(HeaderLength + XChaCha20Poly1305.NonceSize)..];
        var plaintext = new byte[ciphertext.Length - SodiumAead.TagLength];
        Span<byte> key = stackalloc byte[32];
        try
        {
            DeriveKey(password, package.Slice(10, SaltLength), cost, key);
            using var aead = new XChaCha20Poly1305(key);
            if (!aead.TryDecrypt(nonce, ciphertext, plaintext, Aad(package[..HeaderLength])))
            {
                return null;
            }

            return new OpenedPackage(plaintext[X25519PublicKey.Length..], X25519PublicKey.Import(plaintext.AsSpan(0, X25519PublicKey.Length)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Seals a reply text to the reply key (what the outsider's page does; here for the SDK and tests).</summary>
    public static byte[] SealReply(X25519PublicKey replyKey, ReadOnlySpan<byte> text)
    {
        ArgumentNullException.ThrowIfNull(replyKey);
        using var ephemeral = X25519PrivateKey.Generate();
        var reply = new byte[ReplyOverhead + text.Length];
        reply[0] = Version;
        ephemeral.PublicKey.Bytes.CopyTo(reply.AsSpan(1));
        var nonce = reply.AsSpan(1 + X25519PublicKey.Length, XChaCha20Poly1305.NonceSize);
        CryptoRandom.Fill(nonce);
        Span<byte> key = stackalloc byte[32];
        try
        {
            if (!ReplyKey(ephemeral, replyKey, ephemeral.PublicKey.Bytes, replyKey.Bytes, key))
            {
                throw new ArgumentException("The reply key is not a usable X25519 public key.", nameof(replyKey));
            }

            using var aead = new XChaCha20Poly1305(key);
            aead.Encrypt(nonce, text, reply.AsSpan(1 + X25519PublicKey.Length + XChaCha20Poly1305.NonceSize), ReplyAad(ephemeral.PublicKey.Bytes, replyKey.Bytes));
            return reply;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Opens a reply with the reply private key: the text, or null when it is not an authentic v1 reply to this key.</summary>
    public static byte[]? TryOpenReply(X25519PrivateKey replyKey, ReadOnlySpan<byte> reply)
    {
        ArgumentNullException.ThrowIfNull(replyKey);
        if (reply.Length < ReplyOverhead || reply[0] != Version)
        {
            return null;
        }

        var ephemeralBytes = reply.Slice(1, X25519PublicKey.Length);
        var ephemeral = X25519PublicKey.Import(ephemeralBytes);
        var text = new byte[reply.Length - ReplyOverhead];
        Span<byte> key = stackalloc byte[32];
        try
        {
            if (!ReplyKey(replyKey, ephemeral, ephemeralBytes, replyKey.PublicKey.Bytes, key))
            {
                return null;
            }

            using var aead = new XChaCha20Poly1305(key);
            return aead.TryDecrypt(reply.Slice(1 + X25519PublicKey.Length, XChaCha20Poly1305.NonceSize), reply[(1 + X25519PublicKey.Length + XChaCha20Poly1305.NonceSize)..],
                text, ReplyAad(ephemeralBytes, replyKey.PublicKey.Bytes)) ? text : null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static bool ReplyKey(X25519PrivateKey mine, X25519PublicKey theirs, ReadOnlySpan<byte> ephemeral, ReadOnlySpan<byte> recipient, Span<byte> key)
    {
        if (!X25519.TryAgree(mine, theirs, out var shared))
        {
            return false;
        }

        using (shared)
        {
            var label = Encoding.ASCII.GetBytes(ReplyLabel);
            var info = new byte[label.Length + 2 * X25519PublicKey.Length];
            label.CopyTo(info, 0);
            ephemeral.CopyTo(info.AsSpan(label.Length));
            recipient.CopyTo(info.AsSpan(label.Length + X25519PublicKey.Length));
            shared.DeriveHkdfSha256([], info, key);
            return true;
        }
    }

    private static byte[] ReplyAad(ReadOnlySpan<byte> ephemeral, ReadOnlySpan<byte> recipient)
    {
        var aad = new byte[1 + 2 * X25519PublicKey.Length];
        aad[0] = Version;
        ephemeral.CopyTo(aad.AsSpan(1));
        recipient.CopyTo(aad.AsSpan(1 + X25519PublicKey.Length));
        return aad;
    }

    private static void WriteHeader(Span<byte> header, Argon2Parameters cost, ReadOnlySpan<byte> salt)
    {
        cost.Validate();
        header[0] = Version;
        BinaryPrimitives.WriteUInt32BigEndian(header[1..], (uint)cost.MemoryKiB);
        BinaryPrimitives.WriteUInt32BigEndian(header[5..], (uint)cost.Iterations);
        header[9] = checked((byte)cost.Lanes);
        salt.CopyTo(header[10..]);
    }

    private static byte[] Aad(ReadOnlySpan<byte> header)
    {
        var aad = new byte[Label.Length + HeaderLength];
        Encoding.ASCII.GetBytes(Label, aad);
        header.CopyTo(aad.AsSpan(Label.Length));
        return aad;
    }

    private static void DeriveKey(string password, ReadOnlySpan<byte> salt, Argon2Parameters cost, Span<byte> key) =>
        Argon2id.DeriveBytesFromPassword(password, salt, cost, key);
}

/// <summary>An opened package: the MIME message and the key a reply is sealed to.</summary>
public sealed record OpenedPackage(byte[] Mime, X25519PublicKey ReplyKey);
