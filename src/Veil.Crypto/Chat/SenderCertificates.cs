// Sender certificates for sealed sender (spec/chat-wire.md §6.2): libsignal's protobuf layout, Ed25519 signatures.
//
//   ServerCertificate = { 1: certificate = { 1: id (u32), 2: key (32, Ed25519) }, 2: signature (64) }
//       signature = Ed25519(trust root, "veil/chat/v1/server-certificate" || certificate)
//   SenderCertificate = { 1: certificate = { 6: sender uuid (string), 2: device (u32), 3: expires (fixed64, ms since
//                         the Unix epoch), 4: identity key (33), 5: signer (a ServerCertificate) }, 2: signature (64) }
//       signature = Ed25519(server key, "veil/chat/v1/sender-certificate" || certificate)
//
// The relay issues sender certificates valid for 24 hours; the recipient validates the chain to the trust root it
// was configured with and the expiry against its own clock, after the envelope proved the identity key.
using Google.Protobuf;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Chat;

/// <summary>A parsed sender certificate (sealed sender).</summary>
public sealed class ChatSenderCertificate
{
    /// <summary>How long the relay makes a sender certificate valid: 24 hours.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    private readonly byte[] _signed;
    private readonly byte[] _signature;
    private readonly byte[] _serverSigned;
    private readonly byte[] _serverSignature;

    private ChatSenderCertificate(
        string senderId, uint deviceId, DateTimeOffset expires, X25519PublicKey identityKey, uint serverCertificateId,
        Ed25519PublicKey serverKey, byte[] signed, byte[] signature, byte[] serverSigned, byte[] serverSignature)
    {
        SenderId = senderId;
        DeviceId = deviceId;
        Expires = expires;
        IdentityKey = identityKey;
        ServerCertificateId = serverCertificateId;
        ServerKey = serverKey;
        _signed = signed;
        _signature = signature;
        _serverSigned = serverSigned;
        _serverSignature = serverSignature;
    }

    /// <summary>The sender's account id.</summary>
    public string SenderId { get; }

    /// <summary>The sender's device id.</summary>
    public uint DeviceId { get; }

    /// <summary>When the certificate stops being valid.</summary>
    public DateTimeOffset Expires { get; }

    /// <summary>The sender device's X25519 identity key.</summary>
    public X25519PublicKey IdentityKey { get; }

    /// <summary>The id of the server key that signed it.</summary>
    public uint ServerCertificateId { get; }

    /// <summary>The server key that signed it.</summary>
    public Ed25519PublicKey ServerKey { get; }

    private static ReadOnlySpan<byte> ServerLabel => "veil/chat/v1/server-certificate"u8;

    private static ReadOnlySpan<byte> SenderLabel => "veil/chat/v1/sender-certificate"u8;

    /// <summary>Makes a server certificate: the trust root vouches for a relay signing key.</summary>
    public static byte[] IssueServerCertificate(Ed25519PrivateKey trustRoot, uint id, Ed25519PublicKey serverKey)
    {
        ArgumentNullException.ThrowIfNull(trustRoot);
        ArgumentNullException.ThrowIfNull(serverKey);
        var certificate = Proto(o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint);
            o.WriteUInt32(id);
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(serverKey.Bytes));
        });
        return Signed(certificate, trustRoot.Sign([.. ServerLabel, .. certificate]));
    }

    /// <summary>Makes a sender certificate under a server key and its server certificate.</summary>
    public static byte[] Issue(
        Ed25519PrivateKey serverKey, byte[] serverCertificate, string senderId, uint deviceId, X25519PublicKey identityKey, DateTimeOffset expires)
    {
        ArgumentNullException.ThrowIfNull(serverKey);
        ArgumentNullException.ThrowIfNull(serverCertificate);
        ArgumentNullException.ThrowIfNull(identityKey);
        var certificate = Proto(o =>
        {
            o.WriteTag(2, WireFormat.WireType.Varint);
            o.WriteUInt32(deviceId);
            o.WriteTag(3, WireFormat.WireType.Fixed64);
            o.WriteFixed64((ulong)expires.ToUnixTimeMilliseconds());
            o.WriteTag(4, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(ChatPublicKey.Serialize(identityKey)));
            o.WriteTag(5, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(serverCertificate));
            o.WriteTag(6, WireFormat.WireType.LengthDelimited);
            o.WriteString(senderId);
        });
        return Signed(certificate, serverKey.Sign([.. SenderLabel, .. certificate]));
    }

    /// <summary>
    /// Whether the chain is signed by <paramref name="trustRoot"/> and the certificate has not expired at <paramref name="now"/>.
    /// </summary>
    public bool Validate(Ed25519PublicKey trustRoot, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(trustRoot);
        return trustRoot.Verify([.. ServerLabel, .. _serverSigned], _serverSignature)
            && ServerKey.Verify([.. SenderLabel, .. _signed], _signature)
            && now < Expires;
    }

    /// <summary>Parses a serialised sender certificate (signatures are checked by <see cref="Validate"/>).</summary>
    public static ChatSenderCertificate? TryParse(ReadOnlySpan<byte> serialized)
    {
        if (!TrySplit(serialized, out var signed, out var signature))
        {
            return null;
        }

        string? sender = null;
        uint? device = null;
        ulong? expires = null;
        byte[]? identity = null, server = null;
        var ok = ProtoReader.Read(signed, (input, tag) =>
        {
            switch (tag)
            {
                case 16: device = input.ReadUInt32(); return true;
                case 25: expires = input.ReadFixed64(); return true;
                case 34: identity = input.ReadBytes().ToByteArray(); return true;
                case 42: server = input.ReadBytes().ToByteArray(); return true;
                case 50: sender = input.ReadString(); return true;
                default: return false;
            }
        });
        var identityKey = identity is null ? null : ChatPublicKey.TryParse(identity);
        if (!ok || sender is null || device is null || expires is null || expires > (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            || identityKey is null || server is null || !TrySplit(server, out var serverSigned, out var serverSignature))
        {
            return null;
        }

        uint? serverId = null;
        byte[]? serverKey = null;
        ok = ProtoReader.Read(serverSigned, (input, tag) =>
        {
            switch (tag)
            {
                case 8: serverId = input.ReadUInt32(); return true;
                case 18: serverKey = input.ReadBytes().ToByteArray(); return true;
                default: return false;
            }
        });
        if (!ok || serverId is null || serverKey is not { Length: Ed25519PublicKey.Length })
        {
            return null;
        }

        return new ChatSenderCertificate(
            sender, device.Value, DateTimeOffset.FromUnixTimeMilliseconds((long)expires.Value), identityKey, serverId.Value,
            Ed25519PublicKey.Import(serverKey), signed, signature, serverSigned, serverSignature);
    }

    /// <summary>
    /// Reads only the identity key (certificate field 4) of a sender certificate in libsignal's layout, whoever
    /// signed it: the envelope binds it to the proven sender before any signature is looked at.
    /// </summary>
    internal static X25519PublicKey? TryReadIdentityKey(ReadOnlySpan<byte> serialized)
    {
        if (!TrySplit(serialized, out var signed, out _))
        {
            return null;
        }

        byte[]? identity = null;
        var ok = ProtoReader.Read(signed, (input, tag) =>
        {
            if (tag != 34)
            {
                return false;
            }

            identity = input.ReadBytes().ToByteArray();
            return true;
        });
        return ok && identity is not null ? ChatPublicKey.TryParse(identity) : null;
    }

    private static bool TrySplit(ReadOnlySpan<byte> serialized, out byte[] signed, out byte[] signature)
    {
        byte[]? certificate = null, sig = null;
        var ok = ProtoReader.Read(serialized, (input, tag) =>
        {
            switch (tag)
            {
                case 10: certificate = input.ReadBytes().ToByteArray(); return true;
                case 18: sig = input.ReadBytes().ToByteArray(); return true;
                default: return false;
            }
        });
        signed = certificate ?? [];
        signature = sig ?? [];
        return ok && certificate is not null && sig is not null;
    }

    private static byte[] Proto(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        write(output);
        output.Flush();
        return stream.ToArray();
    }

    private static byte[] Signed(byte[] certificate, byte[] signature) => Proto(o =>
    {
        o.WriteTag(1, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(certificate));
        o.WriteTag(2, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(signature));
    });

    /// <summary>Names the type and device only.</summary>
    public override string ToString() => $"ChatSenderCertificate(device {DeviceId}, expires {Expires:O})";
}
