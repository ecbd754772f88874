// Signers and verifiers for C2SP signed notes: Ed25519 (type 0x01) and timestamped Ed25519 cosignatures
// (type 0x04, c2sp.org/tlog-cosignature v1).
//
// A cosignature v1 is the 8-byte big-endian POSIX timestamp followed by an Ed25519 signature over
//
//   cosignature/v1\n
//   time <timestamp in decimal, no leading zeroes>\n
//   <the whole checkpoint text, including its final newline>
//
// The header line separates cosignatures from every other use of the key; the timestamp says when the
// witness saw this checkpoint as the largest consistent one. The message does not name the cosigner, so
// one Ed25519 key must serve one cosigner only (tlog-cosignature §"Ed25519 signed message").
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Transparency;

/// <summary>Signs note texts with Ed25519 (type 0x01). The caller keeps ownership of the key.</summary>
public sealed class Ed25519NoteSigner : INoteSigner
{
    private readonly Ed25519PrivateKey _key;

    /// <summary>A signer named <paramref name="name"/> over <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid key name.</exception>
    public Ed25519NoteSigner(string name, Ed25519PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        Name = name;
        KeyId = SignedNote.ComputeKeyId(name, NoteSignatureType.Ed25519, key.PublicKey.Bytes);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public uint KeyId { get; }

    /// <summary>The verifier key (vkey) others configure to trust this signer.</summary>
    public string VerifierKey => SignedNote.FormatVerifierKey(Name, NoteSignatureType.Ed25519, _key.PublicKey.Bytes);

    /// <inheritdoc />
    public byte[] Sign(ReadOnlySpan<byte> text) => _key.Sign(text);
}

/// <summary>Verifies Ed25519 (type 0x01) note signatures.</summary>
public sealed class Ed25519NoteVerifier : INoteVerifier
{
    private readonly Ed25519PublicKey _key;

    /// <summary>A verifier named <paramref name="name"/> for <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid key name.</exception>
    public Ed25519NoteVerifier(string name, Ed25519PublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        Name = name;
        KeyId = SignedNote.ComputeKeyId(name, NoteSignatureType.Ed25519, key.Bytes);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public uint KeyId { get; }

    /// <summary>The verifier key (vkey).</summary>
    public string VerifierKey => SignedNote.FormatVerifierKey(Name, NoteSignatureType.Ed25519, _key.Bytes);

    /// <summary>Parses a type-0x01 verifier key; anything else (another type, a wrong key ID, bad base64) returns <see langword="null"/>.</summary>
    public static Ed25519NoteVerifier? Parse(string vkey)
        => SignedNote.TryParseVerifierKey(vkey, out var name, out var type, out var key)
           && type == NoteSignatureType.Ed25519 && key.Length == Ed25519PublicKey.Length
            ? new Ed25519NoteVerifier(name, Ed25519PublicKey.Import(key))
            : null;

    /// <inheritdoc />
    public bool Verify(ReadOnlySpan<byte> text, ReadOnlySpan<byte> signature) => _key.Verify(text, signature);
}

/// <summary>Writes and reads tlog-cosignature v1 (timestamped Ed25519) cosignatures.</summary>
public static class CosignatureV1
{
    /// <summary>The length of a cosignature: 8-byte timestamp and 64-byte Ed25519 signature.</summary>
    public const int Length = 8 + Ed25519PrivateKey.SignatureLength;

    /// <summary>The signed message: the header line, the time line and the checkpoint text.</summary>
    public static byte[] Message(ulong timestamp, ReadOnlySpan<byte> checkpointText)
    {
        var header = Encoding.ASCII.GetBytes("cosignature/v1\ntime " + timestamp.ToString(CultureInfo.InvariantCulture) + "\n");
        var message = new byte[header.Length + checkpointText.Length];
        header.CopyTo(message, 0);
        checkpointText.CopyTo(message.AsSpan(header.Length));
        return message;
    }

    /// <summary>Reads the timestamp of a cosignature; <see langword="false"/> when it is not a v1 cosignature.</summary>
    public static bool TryReadTimestamp(ReadOnlySpan<byte> signature, out ulong timestamp)
    {
        timestamp = 0;
        if (signature.Length != Length)
        {
            return false;
        }

        timestamp = BinaryPrimitives.ReadUInt64BigEndian(signature);
        return timestamp <= long.MaxValue;
    }
}

/// <summary>A witness's cosigner: signs checkpoint texts as tlog-cosignature v1 at the clock's time. The caller keeps the key.</summary>
public sealed class CosignatureV1Signer : INoteSigner
{
    private readonly Ed25519PrivateKey _key;
    private readonly TimeProvider _time;

    /// <summary>A cosigner named <paramref name="name"/> over <paramref name="key"/>, timestamping with <paramref name="time"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid key name.</exception>
    public CosignatureV1Signer(string name, Ed25519PrivateKey key, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(time);
        _key = key;
        _time = time;
        Name = name;
        KeyId = SignedNote.ComputeKeyId(name, NoteSignatureType.CosignatureV1, key.PublicKey.Bytes);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public uint KeyId { get; }

    /// <summary>The verifier key (vkey, type 0x04).</summary>
    public string VerifierKey => SignedNote.FormatVerifierKey(Name, NoteSignatureType.CosignatureV1, _key.PublicKey.Bytes);

    /// <inheritdoc />
    public byte[] Sign(ReadOnlySpan<byte> text)
    {
        var timestamp = (ulong)_time.GetUtcNow().ToUnixTimeSeconds();
        var signature = new byte[CosignatureV1.Length];
        BinaryPrimitives.WriteUInt64BigEndian(signature, timestamp);
        _key.Sign(CosignatureV1.Message(timestamp, text), signature.AsSpan(8));
        return signature;
    }
}

/// <summary>Verifies tlog-cosignature v1 cosignatures of one witness.</summary>
public sealed class CosignatureV1Verifier : INoteVerifier
{
    private readonly Ed25519PublicKey _key;

    /// <summary>A verifier for the cosigner <paramref name="name"/> with <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid key name.</exception>
    public CosignatureV1Verifier(string name, Ed25519PublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        Name = name;
        KeyId = SignedNote.ComputeKeyId(name, NoteSignatureType.CosignatureV1, key.Bytes);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public uint KeyId { get; }

    /// <summary>The verifier key (vkey, type 0x04).</summary>
    public string VerifierKey => SignedNote.FormatVerifierKey(Name, NoteSignatureType.CosignatureV1, _key.Bytes);

    /// <summary>Parses a type-0x04 verifier key; anything else returns <see langword="null"/>.</summary>
    public static CosignatureV1Verifier? Parse(string vkey)
        => SignedNote.TryParseVerifierKey(vkey, out var name, out var type, out var key)
           && type == NoteSignatureType.CosignatureV1 && key.Length == Ed25519PublicKey.Length
            ? new CosignatureV1Verifier(name, Ed25519PublicKey.Import(key))
            : null;

    /// <inheritdoc />
    public bool Verify(ReadOnlySpan<byte> text, ReadOnlySpan<byte> signature)
        => CosignatureV1.TryReadTimestamp(signature, out var timestamp)
           && _key.Verify(CosignatureV1.Message(timestamp, text), signature[8..]);
}
