// Sealed sender, libsignal's v1 envelope, and Veil's sender certificates (spec/chat-wire.md §6).
//
// The relay must deliver a sealed message without learning who sent it, so the sender's identity travels
// only inside the encryption, and the recipient learns it from a short-lived certificate the relay issued:
//
//   e = fresh X25519 key; salt_e = "UnidentifiedDelivery" || IK_recipient (33) || e_pub (33)
//   ck || k1 || m1 = HKDF-SHA256(salt = salt_e, ikm = X25519(e, IK_recipient), info = "", L = 96)
//   encrypted_static  = AES-256-CTR(k1, IV 0)(IK_sender (33)) || HMAC-SHA256(m1, that)[0:10]
//   _ || k2 || m2     = HKDF-SHA256(salt = ck || encrypted_static, ikm = X25519(IK_sender, IK_recipient), info = "", L = 96)
//   encrypted_message = AES-256-CTR(k2, IV 0)(content) || HMAC-SHA256(m2, that)[0:10]
//   envelope = 0x11 || protobuf { 1: e_pub (33), 2: encrypted_static, 3: encrypted_message }
//   (version byte: high nibble 1 required; the low nibble is not authenticated and is ignored, as in libsignal)
//
// content is an UnidentifiedSenderMessageContent { 1: type, 2: sender certificate, 3: content, 4: hint, 5: group id }.
// Opening checks both MACs and that the certificate's identity key is the key the envelope proved (else a
// sender could claim someone else's certificate). Certificates use libsignal's protobuf layout but Ed25519
// signatures with domain labels (no XEdDSA), so libsignal cannot validate Veil certificates (it can parse
// neither the 32-byte Ed25519 server key); the envelope itself is byte-compatible with libsignal's.
using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Chat;

/// <summary>The content types of an UnidentifiedSenderMessageContent (libsignal's numbers).</summary>
public enum SealedContentType
{
    /// <summary>A PreKeySignalMessage.</summary>
    PreKey = 1,

    /// <summary>A SignalMessage.</summary>
    Message = 2,

    /// <summary>A sender-key (group) message.</summary>
    SenderKey = 7,

    /// <summary>Plaintext content (retry requests).</summary>
    Plaintext = 8,
}

/// <summary>The sealed payload: what the recipient learns after opening the envelope.</summary>
/// <param name="Type">The kind of <paramref name="Content"/>.</param>
/// <param name="SenderCertificate">The serialised sender certificate (validate it with <see cref="ChatSenderCertificate"/>).</param>
/// <param name="Content">The enclosed message.</param>
/// <param name="ContentHint">libsignal's content hint (0 default, 1 resendable, 2 implicit).</param>
/// <param name="GroupId">The group, for sender-key content.</param>
public sealed record SealedContent(SealedContentType Type, byte[] SenderCertificate, byte[] Content, uint ContentHint = 0, byte[]? GroupId = null)
{
    internal byte[] Serialize()
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteEnum((int)Type);
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(SenderCertificate));
        output.WriteTag(3, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(Content));
        if (ContentHint != 0)
        {
            output.WriteTag(4, WireFormat.WireType.Varint);
            output.WriteUInt32(ContentHint);
        }

        if (GroupId is not null)
        {
            output.WriteTag(5, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(GroupId));
        }

        output.Flush();
        return stream.ToArray();
    }

    internal static SealedContent? TryParse(ReadOnlySpan<byte> bytes)
    {
        int? type = null;
        uint hint = 0;
        byte[]? certificate = null, content = null, group = null;
        var ok = ProtoReader.Read(bytes, (input, tag) =>
        {
            switch (tag)
            {
                case 8: type = input.ReadEnum(); return true;
                case 18: certificate = input.ReadBytes().ToByteArray(); return true;
                case 26: content = input.ReadBytes().ToByteArray(); return true;
                case 32: hint = input.ReadUInt32(); return true;
                case 42: group = input.ReadBytes().ToByteArray(); return true;
                default: return false;
            }
        });
        return ok && type is 1 or 2 or 7 or 8 && certificate is not null && content is not null
            ? new SealedContent((SealedContentType)type!.Value, certificate, content, hint, group)
            : null;
    }
}

/// <summary>The result of opening a sealed envelope.</summary>
/// <param name="SenderIdentity">The sender device's X25519 identity key, proven by the envelope.</param>
/// <param name="Content">The sealed payload.</param>
public sealed record SealedOpened(X25519PublicKey SenderIdentity, SealedContent Content);

/// <summary>Sealed sender v1 (libsignal's single-recipient envelope).</summary>
public static class SealedSender
{
    /// <summary>The version byte written: 0x11 (v1).</summary>
    public const byte Version = 0x11;

    private const int MacLength = 10;

    private static ReadOnlySpan<byte> SaltPrefix => "UnidentifiedDelivery"u8;

    /// <summary>Seals <paramref name="content"/> from <paramref name="sender"/> to <paramref name="recipient"/>.</summary>
    /// <returns>The envelope, or <see langword="null"/> if <paramref name="recipient"/> is a low-order point.</returns>
    public static byte[]? Seal(X25519PrivateKey sender, X25519PublicKey recipient, SealedContent content) =>
        Seal(sender, recipient, content, X25519PrivateKey.Generate);

    internal static byte[]? Seal(X25519PrivateKey sender, X25519PublicKey recipient, SealedContent content, Func<X25519PrivateKey> newKey)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(content);
        using var ephemeral = newKey();
        Span<byte> first = stackalloc byte[96];
        Span<byte> second = stackalloc byte[96];
        try
        {
            if (!EphemeralKeys(ephemeral, recipient, ChatPublicKey.Serialize(recipient), ChatPublicKey.Serialize(ephemeral.PublicKey), first))
            {
                return null;
            }

            var encryptedStatic = CtrHmacEncrypt(ChatPublicKey.Serialize(sender.PublicKey), first[32..64], first[64..96]);
            if (!StaticKeys(sender, recipient, first[..32], encryptedStatic, second))
            {
                return null;
            }

            var encryptedMessage = CtrHmacEncrypt(content.Serialize(), second[32..64], second[64..96]);
            using var stream = new MemoryStream();
            stream.WriteByte(Version);
            var output = new CodedOutputStream(stream);
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(ChatPublicKey.Serialize(ephemeral.PublicKey)));
            output.WriteTag(2, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(encryptedStatic));
            output.WriteTag(3, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(encryptedMessage));
            output.Flush();
            return stream.ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(first);
            CryptographicOperations.ZeroMemory(second);
        }
    }

    /// <summary>
    /// Opens an envelope addressed to <paramref name="recipient"/>. <see langword="null"/> for anything malformed,
    /// unauthentic, or whose certificate names another identity key than the one the envelope proves.
    /// The certificate's signatures and expiry are checked separately (<see cref="ChatSenderCertificate.Validate"/>).
    /// </summary>
    public static SealedOpened? Open(X25519PrivateKey recipient, ReadOnlySpan<byte> envelope)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        if (envelope.Length < 1 || envelope[0] >> 4 != 1)
        {
            return null;
        }

        byte[]? ephemeralBytes = null, encryptedStatic = null, encryptedMessage = null;
        var ok = ProtoReader.Read(envelope[1..], (input, tag) =>
        {
            switch (tag)
            {
                case 10: ephemeralBytes = input.ReadBytes().ToByteArray(); return true;
                case 18: encryptedStatic = input.ReadBytes().ToByteArray(); return true;
                case 26: encryptedMessage = input.ReadBytes().ToByteArray(); return true;
                default: return false;
            }
        });
        var ephemeral = ephemeralBytes is null ? null : ChatPublicKey.TryParse(ephemeralBytes);
        if (!ok || ephemeral is null || encryptedStatic is null || encryptedMessage is null)
        {
            return null;
        }

        Span<byte> first = stackalloc byte[96];
        Span<byte> second = stackalloc byte[96];
        try
        {
            if (!EphemeralKeys(recipient, ephemeral, ChatPublicKey.Serialize(recipient.PublicKey), ephemeralBytes, first))
            {
                return null;
            }

            var staticBytes = CtrHmacDecrypt(encryptedStatic, first[32..64], first[64..96]);
            var senderIdentity = staticBytes is null ? null : ChatPublicKey.TryParse(staticBytes);
            if (senderIdentity is null || !StaticKeys(recipient, senderIdentity, first[..32], encryptedStatic, second))
            {
                return null;
            }

            var contentBytes = CtrHmacDecrypt(encryptedMessage, second[32..64], second[64..96]);
            var content = contentBytes is null ? null : SealedContent.TryParse(contentBytes);
            var certified = content is null ? null : ChatSenderCertificate.TryReadIdentityKey(content.SenderCertificate);
            if (content is null || certified is null || !certified.Equals(senderIdentity))
            {
                return null;
            }

            return new SealedOpened(senderIdentity, content);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(first);
            CryptographicOperations.ZeroMemory(second);
        }
    }

    private static bool EphemeralKeys(X25519PrivateKey ours, X25519PublicKey theirs, ReadOnlySpan<byte> recipient33, ReadOnlySpan<byte> ephemeral33, Span<byte> output)
    {
        Span<byte> dh = stackalloc byte[32];
        Span<byte> salt = stackalloc byte[SaltPrefix.Length + 66];
        try
        {
            if (!X3dh.Agree((ours, theirs), dh))
            {
                return false;
            }

            SaltPrefix.CopyTo(salt);
            recipient33.CopyTo(salt[SaltPrefix.Length..]);
            ephemeral33.CopyTo(salt[(SaltPrefix.Length + 33)..]);
            Hkdf.DeriveSha256(dh, salt, [], output);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dh);
        }
    }

    private static bool StaticKeys(X25519PrivateKey ours, X25519PublicKey theirs, ReadOnlySpan<byte> chainKey, ReadOnlySpan<byte> encryptedStatic, Span<byte> output)
    {
        Span<byte> dh = stackalloc byte[32];
        try
        {
            if (!X3dh.Agree((ours, theirs), dh))
            {
                return false;
            }

            Hkdf.DeriveSha256(dh, [.. chainKey, .. encryptedStatic], [], output);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dh);
        }
    }

    internal static byte[] CtrHmacEncrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> cipherKey, ReadOnlySpan<byte> macKey)
    {
        var output = new byte[plaintext.Length + MacLength];
        AesCtr(cipherKey, plaintext, output.AsSpan(0, plaintext.Length));
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(macKey, output.AsSpan(0, plaintext.Length), mac);
        mac[..MacLength].CopyTo(output.AsSpan(plaintext.Length));
        return output;
    }

    internal static byte[]? CtrHmacDecrypt(ReadOnlySpan<byte> input, ReadOnlySpan<byte> cipherKey, ReadOnlySpan<byte> macKey)
    {
        if (input.Length < MacLength)
        {
            return null;
        }

        var ciphertext = input[..^MacLength];
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(macKey, ciphertext, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..MacLength], input[^MacLength..]))
        {
            return null;
        }

        var plaintext = new byte[ciphertext.Length];
        AesCtr(cipherKey, ciphertext, plaintext);
        return plaintext;
    }

    /// <summary>AES-256-CTR with a zero initial counter block, big-endian increment (libsignal's Ctr32BE from 0).</summary>
    private static void AesCtr(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> output)
    {
        var blocks = (input.Length + 15) / 16;
        var counters = new byte[blocks * 16];
        for (var i = 0; i < blocks; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(counters.AsSpan((i * 16) + 12), (uint)i);
        }

        var keyCopy = key.ToArray();
        try
        {
            using var aes = Aes.Create();
            aes.Key = keyCopy;
            var stream = aes.EncryptEcb(counters, PaddingMode.None);
            for (var i = 0; i < input.Length; i++)
            {
                output[i] = (byte)(input[i] ^ stream[i]);
            }

            CryptographicOperations.ZeroMemory(stream);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyCopy);
        }
    }
}
