// An accepted OpenPGP public key (spec/openpgp.md §Keys): a v4 transferable public key whose primary is Ed25519
// (EdDSA legacy, algorithm 22) or RSA >= 2048, with an encryption subkey that is Curve25519 ECDH (algorithm 18) or
// RSA >= 2048, bound by a valid subkey-binding signature, neither revoked nor expired.
//
// Refused with an error that names what is supported: v3/v5/v6 keys (BouncyCastle 2.7 reads no v6 and Veil writes
// only SEIPD v1), DSA/ElGamal, NIST/Brainpool ECC, RSA < 2048, revoked or expired keys, keys without an encryption
// subkey, and secret keys (a person who pastes their private key gets told so instead of having it stored).
//
// Fingerprints: the v4 fingerprint (SHA-1 over 0x99 || len16 || primary key body, RFC 4880 §12.2) is what gpg and
// mail clients show; the SHA-256 fingerprint over the same bytes is what Veil stores and compares, so a key
// re-exported with other signatures keeps its identity and no SHA-1 collision can swap one key for another.
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Parameters;

namespace Veil.Crypto.OpenPgp;

/// <summary>A validated OpenPGP v4 public key that Veil can encrypt to and verify signatures with.</summary>
public sealed class OpenPgpPublicKey
{
    /// <summary>Keys larger than this are refused unread (a key with a photo ID stays well below).</summary>
    public const int MaxEncodedLength = 256 * 1024;

    private OpenPgpPublicKey(PgpPublicKeyRing ring, PgpPublicKey encryptionKey)
    {
        Ring = ring;
        EncryptionKey = encryptionKey;
        PgpPublicKey primary = ring.GetPublicKey();
        Fingerprint = Convert.ToHexString(primary.GetFingerprint());
        byte[] body = primary.PublicKeyPacket.GetEncodedContents();
        byte[] hashed = new byte[body.Length + 3];
        hashed[0] = 0x99;
        hashed[1] = (byte)(body.Length >> 8);
        hashed[2] = (byte)body.Length;
        body.CopyTo(hashed, 3);
        Sha256Fingerprint = Convert.ToHexStringLower(SHA256.HashData(hashed));
        Encoded = ring.GetEncoded();
        UserIds = [.. primary.GetUserIds()];
        CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(primary.CreationTime, DateTimeKind.Utc));
        Algorithm = primary.Algorithm == PublicKeyAlgorithmTag.EdDsa_Legacy ? "ed25519" : $"rsa{primary.BitStrength}";
    }

    internal PgpPublicKeyRing Ring { get; }

    internal PgpPublicKey EncryptionKey { get; }

    /// <summary>The v4 fingerprint of the primary key: 40 uppercase hex digits, as gpg prints it.</summary>
    public string Fingerprint { get; }

    /// <summary>SHA-256 over the primary key packet (the v4 fingerprint's input): 64 lowercase hex digits. Veil stores this one.</summary>
    public string Sha256Fingerprint { get; }

    /// <summary>The primary key's algorithm: <c>ed25519</c> or <c>rsa{bits}</c>.</summary>
    public string Algorithm { get; }

    /// <summary>The user IDs on the key (not verified: shown to the key's owner, never trusted).</summary>
    public IReadOnlyList<string> UserIds { get; }

    /// <summary>When the primary key was created.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>The binary transferable public key (RFC 4880 §11.1), as parsed.</summary>
    public ReadOnlyMemory<byte> Encoded { get; }

    /// <summary>The key in ASCII armor (no Version header).</summary>
    public string ToArmored()
    {
        using var buffer = new MemoryStream();
        using (var armor = new ArmoredOutputStream(buffer, addVersionHeader: false))
        {
            Ring.Encode(armor);
        }

        return Encoding.ASCII.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <inheritdoc />
    public override string ToString() => $"OpenPgpPublicKey({Algorithm}, {Fingerprint})";

    /// <summary>Parses and validates an armored key.</summary>
    /// <param name="armoredOrBinary">The armored key (or binary bytes as Latin-1 text is not supported: pass bytes instead).</param>
    /// <param name="now">The time against which expiry is checked.</param>
    /// <returns>The key, or the reason it is refused.</returns>
    public static OpenPgpKeyParseResult Parse(string armoredOrBinary, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(armoredOrBinary);
        return Parse(Encoding.UTF8.GetBytes(armoredOrBinary), now);
    }

    /// <summary>Parses and validates a key given as binary or ASCII-armored bytes.</summary>
    /// <param name="data">A transferable public key, binary or armored.</param>
    /// <param name="now">The time against which expiry is checked.</param>
    /// <returns>The key, or the reason it is refused.</returns>
    public static OpenPgpKeyParseResult Parse(ReadOnlySpan<byte> data, DateTimeOffset now)
    {
        if (data.IsEmpty)
        {
            return OpenPgpKeyError.Malformed("it is empty");
        }

        if (data.Length > MaxEncodedLength)
        {
            return OpenPgpKeyError.Malformed($"it is larger than {MaxEncodedLength / 1024} KiB");
        }

        byte[] binary;
        try
        {
            using var input = new MemoryStream(data.ToArray(), writable: false);
            using Stream decoder = PgpUtilities.GetDecoderStream(input);
            using var raw = new MemoryStream();
            decoder.CopyTo(raw);
            binary = raw.ToArray();
        }
        catch (IOException)
        {
            return OpenPgpKeyError.Malformed("the ASCII armor is damaged");
        }

        if (!TryReadFirstPacket(binary, out int tag, out int version))
        {
            return OpenPgpKeyError.Malformed("it is not an OpenPGP key");
        }

        if (tag is 5 or 7)
        {
            return OpenPgpKeyError.SecretKeyGiven();
        }

        if (tag != 6)
        {
            return OpenPgpKeyError.Malformed("it does not start with a public key packet");
        }

        if (version != 4)
        {
            return OpenPgpKeyError.UnsupportedVersion(version);
        }

        PgpPublicKeyRing ring;
        try
        {
            ring = new PgpPublicKeyRing(binary);
        }
        catch (Exception e) when (e is IOException or PgpException or ArgumentException or InvalidOperationException)
        {
            return OpenPgpKeyError.Malformed("its packets could not be parsed");
        }

        return Validate(ring, now);
    }

    private static OpenPgpKeyParseResult Validate(PgpPublicKeyRing ring, DateTimeOffset now)
    {
        PgpPublicKey primary = ring.GetPublicKey();
        OpenPgpKeyError? primaryError = CheckAlgorithm(primary, forEncryption: false);
        if (primaryError is not null)
        {
            return primaryError;
        }

        if (primary.HasRevocation())
        {
            return OpenPgpKeyError.Revoked();
        }

        if (IsExpired(primary, primary.GetValidSeconds(), now))
        {
            return OpenPgpKeyError.Expired();
        }

        OpenPgpKeyError? subkeyError = null;
        PgpPublicKey? chosen = null;
        foreach (PgpPublicKey subkey in ring.GetPublicKeys())
        {
            if (subkey.IsMasterKey || !subkey.IsEncryptionKey)
            {
                continue;
            }

            OpenPgpKeyError? error = CheckAlgorithm(subkey, forEncryption: true)
                ?? (subkey.HasRevocation() ? OpenPgpKeyError.Revoked() : null)
                ?? (IsExpired(subkey, subkey.GetValidSeconds(), now) ? OpenPgpKeyError.Expired() : null)
                ?? (HasValidBinding(primary, subkey) ? null : OpenPgpKeyError.NoEncryptionKey());
            if (error is null)
            {
                // The newest valid subkey wins, as gpg chooses.
                if (chosen is null || subkey.CreationTime > chosen.CreationTime)
                {
                    chosen = subkey;
                }
            }
            else
            {
                subkeyError ??= error;
            }
        }

        if (chosen is null && primary.Algorithm == PublicKeyAlgorithmTag.RsaGeneral)
        {
            // An RSA primary without subkeys may encrypt (old gpg keys); its key flags, if any, must allow it.
            chosen = AllowsEncryption(primary) ? primary : null;
        }

        return chosen is null ? subkeyError ?? OpenPgpKeyError.NoEncryptionKey() : OpenPgpKeyParseResult.Ok(new OpenPgpPublicKey(ring, chosen));
    }

    private static OpenPgpKeyError? CheckAlgorithm(PgpPublicKey key, bool forEncryption)
    {
        switch (key.Algorithm)
        {
            case PublicKeyAlgorithmTag.RsaGeneral:
            case PublicKeyAlgorithmTag.RsaEncrypt when forEncryption:
            case PublicKeyAlgorithmTag.RsaSign when !forEncryption:
                return key.BitStrength < 2048 ? OpenPgpKeyError.RsaTooShort(key.BitStrength) : null;
            case PublicKeyAlgorithmTag.EdDsa_Legacy when !forEncryption:
                return key.GetKey() is Ed25519PublicKeyParameters ? null : OpenPgpKeyError.UnsupportedAlgorithm("an EdDSA curve other than Ed25519");
            case PublicKeyAlgorithmTag.ECDH when forEncryption:
                return key.GetKey() is X25519PublicKeyParameters ? null : OpenPgpKeyError.UnsupportedAlgorithm("an ECDH curve other than Curve25519 (NIST or Brainpool)");
            case PublicKeyAlgorithmTag.ECDsa:
                return OpenPgpKeyError.UnsupportedAlgorithm("ECDSA (NIST or Brainpool curves)");
            case PublicKeyAlgorithmTag.Dsa:
                return OpenPgpKeyError.UnsupportedAlgorithm("DSA");
            case PublicKeyAlgorithmTag.ElGamalEncrypt or PublicKeyAlgorithmTag.ElGamalGeneral:
                return OpenPgpKeyError.UnsupportedAlgorithm("ElGamal");
            default:
                return OpenPgpKeyError.UnsupportedAlgorithm($"public-key algorithm {(int)key.Algorithm}");
        }
    }

    private static bool IsExpired(PgpPublicKey key, long validSeconds, DateTimeOffset now)
    {
        if (validSeconds <= 0)
        {
            return false;
        }

        DateTime created = DateTime.SpecifyKind(key.CreationTime, DateTimeKind.Utc);
        return created.AddSeconds(validSeconds) <= now.UtcDateTime;
    }

    private static bool HasValidBinding(PgpPublicKey primary, PgpPublicKey subkey)
    {
        foreach (PgpSignature signature in subkey.GetSignaturesOfType(PgpSignature.SubkeyBinding))
        {
            try
            {
                signature.InitVerify(primary);
                if (!signature.VerifyCertification(primary, subkey))
                {
                    continue;
                }

                PgpSignatureSubpacketVector? hashed = signature.GetHashedSubPackets();
                if (hashed is null || !hashed.HasSubpacket(SignatureSubpacketTag.KeyFlags)
                    || (hashed.GetKeyFlags() & (PgpKeyFlags.CanEncryptCommunications | PgpKeyFlags.CanEncryptStorage)) != 0)
                {
                    return true;
                }
            }
            catch (PgpException)
            {
                // An unverifiable binding (unknown hash, bad encoding) binds nothing: try the next one.
            }
        }

        return false;
    }

    private static bool AllowsEncryption(PgpPublicKey primary)
    {
        foreach (PgpSignature signature in primary.GetSignatures())
        {
            PgpSignatureSubpacketVector? hashed = signature.GetHashedSubPackets();
            if (signature.KeyId == primary.KeyId && hashed is not null && hashed.HasSubpacket(SignatureSubpacketTag.KeyFlags))
            {
                return (hashed.GetKeyFlags() & (PgpKeyFlags.CanEncryptCommunications | PgpKeyFlags.CanEncryptStorage)) != 0;
            }
        }

        return true;
    }

    // Reads the tag of the first packet and the first octet of its body (the key version), old or new format.
    private static bool TryReadFirstPacket(ReadOnlySpan<byte> data, out int tag, out int version)
    {
        tag = 0;
        version = 0;
        if (data.Length < 2 || (data[0] & 0x80) == 0)
        {
            return false;
        }

        int offset;
        if ((data[0] & 0x40) != 0)
        {
            tag = data[0] & 0x3F;
            byte first = data[1];
            offset = first < 192 ? 2 : first < 224 ? 3 : first == 255 ? 6 : -1;
        }
        else
        {
            tag = (data[0] >> 2) & 0x0F;
            offset = (data[0] & 3) switch { 0 => 2, 1 => 3, 2 => 5, _ => -1 };
        }

        if (offset < 0 || offset >= data.Length)
        {
            return false;
        }

        version = data[offset];
        return true;
    }
}
