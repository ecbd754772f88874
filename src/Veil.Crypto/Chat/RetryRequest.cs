// Retry requests (spec/chat-wire.md §6.3): what a device sends back, unencrypted but sealed, when it cannot
// decrypt a message, so the sender can start a fresh session and resend resendable content (desync recovery).
// libsignal's DecryptionErrorMessage inside its PlaintextContent framing, byte for byte:
//
//   DecryptionErrorMessage = { 1: ratchet key (33; the undecryptable ratchet message's), 2: timestamp (u64, ms),
//                              3: device id (u32; the original sender's) }
//   PlaintextContent       = 0xC0 || Content { 8: DecryptionErrorMessage } || 0x80
//
// It carries no secret: the ratchet key only tells the sender which session failed.
using Google.Protobuf;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Chat;

/// <summary>A request to resend a message that could not be decrypted.</summary>
/// <param name="RatchetKey">The failed message's ratchet key, when it was a 1:1 ratchet message.</param>
/// <param name="Timestamp">The failed message's timestamp (ms since the Unix epoch), which identifies it to the sender.</param>
/// <param name="DeviceId">The device that sent the failed message.</param>
public sealed record ChatRetryRequest(X25519PublicKey? RatchetKey, ulong Timestamp, uint DeviceId)
{
    private const byte PlaintextMarker = 0xC0;
    private const byte Boundary = 0x80;

    /// <summary>The request for a failed message (a SignalMessage or PreKeySignalMessage yields its ratchet key).</summary>
    public static ChatRetryRequest ForOriginal(ReadOnlySpan<byte> original, SealedContentType type, ulong timestamp, uint deviceId)
    {
        var ratchetKey = type switch
        {
            SealedContentType.Message => SignalMessage.TryParse(original)?.RatchetKey,
            SealedContentType.PreKey => PreKeySignalMessage.TryParse(original)?.Message.RatchetKey,
            _ => null,
        };
        return new ChatRetryRequest(ratchetKey, timestamp, deviceId);
    }

    /// <summary>The PlaintextContent bytes to seal (content type 8).</summary>
    public byte[] Serialize()
    {
        using var inner = new MemoryStream();
        var output = new CodedOutputStream(inner);
        if (RatchetKey is not null)
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(ChatPublicKey.Serialize(RatchetKey)));
        }

        output.WriteTag(2, WireFormat.WireType.Varint);
        output.WriteUInt64(Timestamp);
        output.WriteTag(3, WireFormat.WireType.Varint);
        output.WriteUInt32(DeviceId);
        output.Flush();

        using var content = new MemoryStream();
        content.WriteByte(PlaintextMarker);
        var framing = new CodedOutputStream(content);
        framing.WriteTag(8, WireFormat.WireType.LengthDelimited);
        framing.WriteBytes(ByteString.CopyFrom(inner.ToArray()));
        framing.Flush();
        content.WriteByte(Boundary);
        return content.ToArray();
    }

    /// <summary>Parses PlaintextContent carrying a retry request; <see langword="null"/> for anything else.</summary>
    public static ChatRetryRequest? TryParse(ReadOnlySpan<byte> plaintextContent)
    {
        if (plaintextContent.Length < 2 || plaintextContent[0] != PlaintextMarker || plaintextContent[^1] != Boundary)
        {
            return null;
        }

        byte[]? message = null;
        if (!ProtoReader.Read(plaintextContent[1..^1], (input, tag) =>
        {
            if (tag != 66)
            {
                return false;
            }

            message = input.ReadBytes().ToByteArray();
            return true;
        }) || message is null)
        {
            return null;
        }

        byte[]? ratchet = null;
        ulong? timestamp = null;
        uint? device = null;
        var ok = ProtoReader.Read(message, (input, tag) =>
        {
            switch (tag)
            {
                case 10: ratchet = input.ReadBytes().ToByteArray(); return true;
                case 16: timestamp = input.ReadUInt64(); return true;
                case 24: device = input.ReadUInt32(); return true;
                default: return false;
            }
        });
        var ratchetKey = ratchet is null ? null : ChatPublicKey.TryParse(ratchet);
        return ok && timestamp is not null && device is not null && (ratchet is null || ratchetKey is not null)
            ? new ChatRetryRequest(ratchetKey, timestamp.Value, device.Value)
            : null;
    }
}
