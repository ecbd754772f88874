// Chat ratchet messages in libsignal's v3 layouts (spec/chat-wire.md §5), read and written with the
// Google.Protobuf runtime directly (no generated code: four and eight fields do not need a code generator).
//
//   SignalMessage       = version (0x33) || protobuf { 1: ratchet_key (33), 2: counter, 3: previous_counter, 4: ciphertext } || mac (8)
//   mac                 = HMAC-SHA256(mac_key, sender_identity (33) || receiver_identity (33) || version || protobuf)[0:8]
//   PreKeySignalMessage = version (0x33) || protobuf { 1: pre_key_id?, 2: base_key (33), 3: identity_key (33),
//                                                      4: message (a SignalMessage), 5: registration_id, 6: signed_pre_key_id }
//
// The version byte is (message version << 4) | current version. Version 3 is the only one accepted; 4 is
// Signal's PQXDH (fields 7 and 8: kyber_pre_key_id, kyber_ciphertext), reserved here for a hybrid ML-KEM
// agreement once the platform has ML-KEM, and refused until then, as is a v3 message that carries field 7 or 8.
// Parsers never throw on input: every malformed message is a null result.
using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Chat;

/// <summary>Message version numbers.</summary>
public static class ChatMessageVersion
{
    /// <summary>Signal's v3: X3DH and the Double Ratchet, as implemented here.</summary>
    public const int Current = 3;

    /// <summary>Reserved for a hybrid ML-KEM key agreement (Signal's v4 slot); not available on this platform.</summary>
    public const int HybridKemReserved = 4;

    /// <summary>The version byte written on every v3 message: 0x33.</summary>
    public const byte V3Byte = (Current << 4) | Current;

    /// <summary>
    /// Whether a version byte is a v3 message: high nibble 3; the low nibble (the sender's newest version, 4 in
    /// libsignal 0.103) is informative and covered by the MAC, so it is accepted from 3 up, as libsignal does.
    /// </summary>
    internal static bool IsV3(byte version) => version >> 4 == Current && (version & 0x0F) >= Current;
}

/// <summary>A parsed v3 SignalMessage (a Double Ratchet message).</summary>
public sealed class SignalMessage
{
    /// <summary>The truncated MAC length: 8 bytes.</summary>
    public const int MacLength = 8;

    private SignalMessage(X25519PublicKey ratchetKey, uint counter, uint previousCounter, byte[] ciphertext, byte[] serialized)
    {
        RatchetKey = ratchetKey;
        Counter = counter;
        PreviousCounter = previousCounter;
        Ciphertext = ciphertext;
        Serialized = serialized;
    }

    /// <summary>The sender's current ratchet public key.</summary>
    public X25519PublicKey RatchetKey { get; }

    /// <summary>The message's index in its sending chain.</summary>
    public uint Counter { get; }

    /// <summary>The length of the sender's previous sending chain (informational, as in libsignal).</summary>
    public uint PreviousCounter { get; }

    /// <summary>The AES-256-CBC ciphertext.</summary>
    public byte[] Ciphertext { get; }

    /// <summary>The whole message: version, protobuf and MAC.</summary>
    public byte[] Serialized { get; }

    /// <summary>Builds and MACs a message.</summary>
    internal static SignalMessage Create(
        X25519PublicKey ratchetKey, uint counter, uint previousCounter, byte[] ciphertext,
        ReadOnlySpan<byte> macKey, ReadOnlySpan<byte> senderIdentity, ReadOnlySpan<byte> receiverIdentity)
    {
        var ratchet = ByteString.CopyFrom(ChatPublicKey.Serialize(ratchetKey));
        var body = ByteString.CopyFrom(ciphertext);
        var size = 1 + CodedOutputStream.ComputeBytesSize(ratchet)
            + 1 + CodedOutputStream.ComputeUInt32Size(counter)
            + 1 + CodedOutputStream.ComputeUInt32Size(previousCounter)
            + 1 + CodedOutputStream.ComputeBytesSize(body);
        var proto = new byte[size];
        var output = new CodedOutputStream(proto);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ratchet);
        output.WriteTag(2, WireFormat.WireType.Varint);
        output.WriteUInt32(counter);
        output.WriteTag(3, WireFormat.WireType.Varint);
        output.WriteUInt32(previousCounter);
        output.WriteTag(4, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(body);
        output.Flush();
        var serialized = new byte[1 + size + MacLength];
        serialized[0] = ChatMessageVersion.V3Byte;
        proto.CopyTo(serialized, 1);
        ComputeMac(macKey, senderIdentity, receiverIdentity, serialized.AsSpan(0, 1 + size), serialized.AsSpan(1 + size));
        return new SignalMessage(ratchetKey, counter, previousCounter, ciphertext, serialized);
    }

    /// <summary>Parses a serialised v3 SignalMessage; <see langword="null"/> if it is malformed or of another version.</summary>
    public static SignalMessage? TryParse(ReadOnlySpan<byte> serialized)
    {
        if (serialized.Length < 1 + MacLength || !ChatMessageVersion.IsV3(serialized[0]))
        {
            return null;
        }

        byte[]? ratchet = null, ciphertext = null;
        uint? counter = null;
        uint previousCounter = 0;
        var ok = ProtoReader.Read(serialized[1..^MacLength], (input, tag) =>
        {
            switch (tag)
            {
                case 10: ratchet = input.ReadBytes().ToByteArray(); return true;
                case 16: counter = input.ReadUInt32(); return true;
                case 24: previousCounter = input.ReadUInt32(); return true;
                case 34: ciphertext = input.ReadBytes().ToByteArray(); return true;
                default: return false;
            }
        });
        var ratchetKey = ratchet is null ? null : ChatPublicKey.TryParse(ratchet);
        if (!ok || ratchetKey is null || counter is null || ciphertext is null)
        {
            return null;
        }

        return new SignalMessage(ratchetKey, counter.Value, previousCounter, ciphertext, serialized.ToArray());
    }

    /// <summary>Whether the MAC is right for these identities (serialised, 33 bytes each) and key. Constant time.</summary>
    internal bool VerifyMac(ReadOnlySpan<byte> macKey, ReadOnlySpan<byte> senderIdentity, ReadOnlySpan<byte> receiverIdentity)
    {
        Span<byte> expected = stackalloc byte[MacLength];
        ComputeMac(macKey, senderIdentity, receiverIdentity, Serialized.AsSpan(0, Serialized.Length - MacLength), expected);
        return CryptographicOperations.FixedTimeEquals(expected, Serialized.AsSpan(Serialized.Length - MacLength));
    }

    private static void ComputeMac(
        ReadOnlySpan<byte> macKey, ReadOnlySpan<byte> senderIdentity, ReadOnlySpan<byte> receiverIdentity,
        ReadOnlySpan<byte> versionAndProto, Span<byte> mac)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, macKey);
        hmac.AppendData(senderIdentity);
        hmac.AppendData(receiverIdentity);
        hmac.AppendData(versionAndProto);
        Span<byte> full = stackalloc byte[HmacSha256.TagLength];
        hmac.GetHashAndReset(full);
        full[..MacLength].CopyTo(mac);
    }
}

/// <summary>A parsed v3 PreKeySignalMessage: the initiator's first messages, carrying what X3DH needs.</summary>
/// <param name="RegistrationId">The initiator device's registration id.</param>
/// <param name="PreKeyId">The responder's one-time prekey used, if any.</param>
/// <param name="SignedPreKeyId">The responder's signed prekey used.</param>
/// <param name="BaseKey">The initiator's ephemeral (base) key.</param>
/// <param name="IdentityKey">The initiator device's X25519 identity key.</param>
/// <param name="Message">The enclosed ratchet message.</param>
/// <param name="Serialized">The whole message.</param>
public sealed record PreKeySignalMessage(
    uint RegistrationId, uint? PreKeyId, uint SignedPreKeyId, X25519PublicKey BaseKey, X25519PublicKey IdentityKey,
    SignalMessage Message, byte[] Serialized)
{
    internal static PreKeySignalMessage Create(
        uint registrationId, uint? preKeyId, uint signedPreKeyId, X25519PublicKey baseKey, X25519PublicKey identityKey, SignalMessage message)
    {
        var baseBytes = ByteString.CopyFrom(ChatPublicKey.Serialize(baseKey));
        var identityBytes = ByteString.CopyFrom(ChatPublicKey.Serialize(identityKey));
        var inner = ByteString.CopyFrom(message.Serialized);
        var size = 1 + CodedOutputStream.ComputeUInt32Size(registrationId)
            + (preKeyId is { } p ? 1 + CodedOutputStream.ComputeUInt32Size(p) : 0)
            + 1 + CodedOutputStream.ComputeUInt32Size(signedPreKeyId)
            + 1 + CodedOutputStream.ComputeBytesSize(baseBytes)
            + 1 + CodedOutputStream.ComputeBytesSize(identityBytes)
            + 1 + CodedOutputStream.ComputeBytesSize(inner);
        var proto = new byte[size];
        var output = new CodedOutputStream(proto);
        // Field-number order, as libsignal writes it (checked byte for byte by its oracle test).
        if (preKeyId is { } id)
        {
            output.WriteTag(1, WireFormat.WireType.Varint);
            output.WriteUInt32(id);
        }

        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(baseBytes);
        output.WriteTag(3, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(identityBytes);
        output.WriteTag(4, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(inner);
        output.WriteTag(5, WireFormat.WireType.Varint);
        output.WriteUInt32(registrationId);
        output.WriteTag(6, WireFormat.WireType.Varint);
        output.WriteUInt32(signedPreKeyId);
        output.Flush();
        var serialized = new byte[1 + size];
        serialized[0] = ChatMessageVersion.V3Byte;
        proto.CopyTo(serialized, 1);
        return new PreKeySignalMessage(registrationId, preKeyId, signedPreKeyId, baseKey, identityKey, message, serialized);
    }

    /// <summary>
    /// Parses a serialised v3 PreKeySignalMessage; <see langword="null"/> if it is malformed, of another
    /// version, or carries the reserved hybrid-KEM fields (7, 8).
    /// </summary>
    public static PreKeySignalMessage? TryParse(ReadOnlySpan<byte> serialized)
    {
        if (serialized.Length < 1 || !ChatMessageVersion.IsV3(serialized[0]))
        {
            return null;
        }

        uint? registrationId = null, preKeyId = null, signedPreKeyId = null;
        byte[]? baseBytes = null, identityBytes = null, inner = null;
        var kem = false;
        var ok = ProtoReader.Read(serialized[1..], (input, tag) =>
        {
            switch (tag)
            {
                case 40: registrationId = input.ReadUInt32(); return true;
                case 8: preKeyId = input.ReadUInt32(); return true;
                case 48: signedPreKeyId = input.ReadUInt32(); return true;
                case 18: baseBytes = input.ReadBytes().ToByteArray(); return true;
                case 26: identityBytes = input.ReadBytes().ToByteArray(); return true;
                case 34: inner = input.ReadBytes().ToByteArray(); return true;
                default:
                    kem |= WireFormat.GetTagFieldNumber(tag) is 7 or 8;
                    return false;
            }
        });
        var baseKey = baseBytes is null ? null : ChatPublicKey.TryParse(baseBytes);
        var identityKey = identityBytes is null ? null : ChatPublicKey.TryParse(identityBytes);
        var message = inner is null ? null : SignalMessage.TryParse(inner);
        if (!ok || kem || signedPreKeyId is null || baseKey is null || identityKey is null || message is null)
        {
            return null;
        }

        return new PreKeySignalMessage(registrationId ?? 0, preKeyId, signedPreKeyId.Value, baseKey, identityKey, message, serialized.ToArray());
    }
}

/// <summary>A tolerant protobuf field loop that turns every malformed input into a clean false.</summary>
internal static class ProtoReader
{
    /// <summary>
    /// Reads every field of <paramref name="proto"/>; <paramref name="field"/> consumes the ones it knows
    /// (returning true) and unknown ones are skipped. False if the encoding is invalid.
    /// </summary>
    internal static bool Read(ReadOnlySpan<byte> proto, Func<CodedInputStream, uint, bool> field)
    {
        try
        {
            var input = new CodedInputStream(proto.ToArray());
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (!field(input, tag))
                {
                    input.SkipLastField();
                }
            }

            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }
}
