// Streaming OpenPGP messages (spec/openpgp.md §Messages).
//
// Writes: PKESK per recipient → SEIPD v1 (AES-256 always, MDC) → [one-pass signature] → literal data (binary,
// partial-length chunks of 64 KiB) → [signature, Ed25519 over SHA-512]; no compression; optional ASCII armor.
// Reads: binary or armored; a PKESK for one of our encryption subkeys; SEIPD v1 with MDC only (a packet without
// integrity protection is refused, so EFAIL-style malleability cannot reach the reader); AES-128/192/256 only;
// compressed data is unwrapped; a one-pass or leading signature is verified against the given verifier keys.
//
// Memory stays flat: BouncyCastle's packet streams are chained, each holding one chunk, so a 25 MiB message goes
// through a 64 KiB buffer. Because the MDC sits at the end, plaintext reaches the output before integrity is known:
// a caller must discard (or never show) the output unless Decrypt returns Ok — Veil writes it to a temporary file or
// buffer and releases it only then.
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Security;

namespace Veil.Crypto.OpenPgp;

/// <summary>Options for <see cref="OpenPgpMessage.Encrypt"/>.</summary>
/// <param name="Now">The time written into the literal data packet and the signature.</param>
/// <param name="Signer">Sign with this key's primary (one-pass signature inside the encryption), or null for unsigned.</param>
/// <param name="Armor">Write ASCII armor instead of binary.</param>
/// <param name="FileName">The literal data file name (empty by default: nothing about the content leaks in clear form).</param>
public sealed record OpenPgpEncryptOptions(DateTimeOffset Now, OpenPgpSecretKey? Signer = null, bool Armor = false, string FileName = "");

/// <summary>Why a message could not be decrypted.</summary>
public enum OpenPgpDecryptStatus
{
    /// <summary>Decrypted, and the integrity check (MDC) passed.</summary>
    Ok,

    /// <summary>The input is not an OpenPGP encrypted message.</summary>
    NotEncrypted,

    /// <summary>The message is not encrypted to any of the given key's encryption subkeys.</summary>
    NotForThisKey,

    /// <summary>The message has no integrity protection (SED without MDC); refused.</summary>
    NoIntegrityProtection,

    /// <summary>The message uses a cipher outside Veil's profile (anything but AES).</summary>
    UnsupportedCipher,

    /// <summary>The ciphertext was modified or damaged: the MDC or the packet structure is wrong. Discard the output.</summary>
    Tampered,
}

/// <summary>The state of a signature found inside a decrypted message.</summary>
public enum OpenPgpSignatureStatus
{
    /// <summary>No signature.</summary>
    NotSigned,

    /// <summary>Signed by one of the given verifier keys, and the signature verifies.</summary>
    Valid,

    /// <summary>Signed by one of the given verifier keys, and the signature does NOT verify.</summary>
    Invalid,

    /// <summary>Signed, but by a key that is not among the given verifiers.</summary>
    UnknownSigner,
}

/// <summary>The outcome of <see cref="OpenPgpMessage.Decrypt"/>.</summary>
/// <param name="Status">Ok, or why not; anything but Ok means the output must be discarded.</param>
/// <param name="Signature">The signature's state.</param>
/// <param name="SignerFingerprint">The v4 fingerprint of the verifier key that signed (Valid or Invalid), else null.</param>
/// <param name="SignerKeyId">The signature's issuer key ID in hex (16 digits), when signed.</param>
public sealed record OpenPgpDecryptResult(OpenPgpDecryptStatus Status, OpenPgpSignatureStatus Signature, string? SignerFingerprint, string? SignerKeyId)
{
    /// <summary>True when decrypted with integrity.</summary>
    public bool IsOk => Status == OpenPgpDecryptStatus.Ok;

    internal static OpenPgpDecryptResult Fail(OpenPgpDecryptStatus status) => new(status, OpenPgpSignatureStatus.NotSigned, null, null);
}

/// <summary>Streaming OpenPGP encryption and decryption in Veil's profile.</summary>
public static class OpenPgpMessage
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>Encrypts (and optionally signs) <paramref name="plaintext"/> to every recipient, writing the message to <paramref name="output"/>.</summary>
    /// <param name="plaintext">Read to its end.</param>
    /// <param name="output">Receives the message; left open.</param>
    /// <param name="recipients">At least one recipient key.</param>
    /// <param name="options">Time, signer, armor.</param>
    /// <exception cref="ArgumentException">No recipients.</exception>
    public static void Encrypt(Stream plaintext, Stream output, IReadOnlyList<OpenPgpPublicKey> recipients, OpenPgpEncryptOptions options)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(recipients);
        ArgumentNullException.ThrowIfNull(options);
        if (recipients.Count == 0)
        {
            throw new ArgumentException("At least one recipient is needed.", nameof(recipients));
        }

        DateTime now = options.Now.UtcDateTime;
        using var target = new KeepOpenStream(output);
        ArmoredOutputStream? armor = options.Armor ? new ArmoredOutputStream(target, addVersionHeader: false) : null;
        Stream sink = (Stream?)armor ?? target;

        var encryptor = new PgpEncryptedDataGenerator(SymmetricKeyAlgorithmTag.Aes256, withIntegrityPacket: true, new SecureRandom());
        foreach (OpenPgpPublicKey recipient in recipients)
        {
            encryptor.AddMethod(recipient.EncryptionKey);
        }

        byte[] buffer = new byte[ChunkSize];
        Stream encrypted = encryptor.Open(sink, new byte[ChunkSize]);
        PgpSignatureGenerator? signer = null;
        if (options.Signer is { } signingKey)
        {
            signer = new PgpSignatureGenerator(signingKey.PublicKey.Ring.GetPublicKey().Algorithm, HashAlgorithmTag.Sha512);
            signer.InitSign(PgpSignature.BinaryDocument, signingKey.SigningKey);
            var packets = new PgpSignatureSubpacketGenerator();
            packets.SetSignatureCreationTime(false, now);
            packets.SetIssuerFingerprint(false, signingKey.PublicKey.Ring.GetPublicKey());
            signer.SetHashedSubpackets(packets.Generate());
            signer.GenerateOnePassVersion(false).Encode(encrypted);
        }

        var literal = new PgpLiteralDataGenerator();
        Stream literalStream = literal.Open(encrypted, PgpLiteralData.Binary, options.FileName, now, new byte[ChunkSize]);
        int read;
        while ((read = plaintext.Read(buffer, 0, buffer.Length)) > 0)
        {
            literalStream.Write(buffer, 0, read);
            signer?.Update(buffer, 0, read);
        }

        literalStream.Dispose();
        signer?.Generate().Encode(encrypted);
        encrypted.Dispose();
        armor?.Dispose();
    }

    /// <summary>Decrypts a message to <paramref name="output"/> and verifies its signature, if any.</summary>
    /// <param name="message">The message, binary or armored.</param>
    /// <param name="output">Receives the plaintext; discard it unless the result is Ok.</param>
    /// <param name="key">The recipient's secret key.</param>
    /// <param name="verifiers">Keys whose signatures are recognised (may be empty).</param>
    /// <returns>Ok with the signature state, or why the message was refused. Never throws for bad input.</returns>
    public static OpenPgpDecryptResult Decrypt(Stream message, Stream output, OpenPgpSecretKey key, IReadOnlyList<OpenPgpPublicKey> verifiers)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(verifiers);
        try
        {
            return DecryptCore(message, output, key, verifiers);
        }
        catch (Exception e) when (e is PgpException or IOException or InvalidCastException or ArgumentException or InvalidOperationException
                                       or Org.BouncyCastle.Crypto.CryptoException or EndOfStreamException)
        {
            // A damaged packet stream, a wrong session key (checksum), a truncated body: all mean the bytes were altered.
            return OpenPgpDecryptResult.Fail(OpenPgpDecryptStatus.Tampered);
        }
    }

    private static OpenPgpDecryptResult DecryptCore(Stream message, Stream output, OpenPgpSecretKey key, IReadOnlyList<OpenPgpPublicKey> verifiers)
    {
        Stream decoded = PgpUtilities.GetDecoderStream(message);
        var factory = new PgpObjectFactory(decoded);
        PgpObject? first = NextSkippingMarkers(factory);
        if (first is not PgpEncryptedDataList list)
        {
            return OpenPgpDecryptResult.Fail(OpenPgpDecryptStatus.NotEncrypted);
        }

        PgpPublicKeyEncryptedData? data = null;
        PgpPrivateKey? privateKey = null;
        foreach (PgpEncryptedData candidate in list.GetEncryptedDataObjects())
        {
            if (candidate is PgpPublicKeyEncryptedData pked && (key.FindPrivateKey(pked.KeyId) is { } match ? (privateKey = match) is not null : pked.KeyId == 0))
            {
                data = pked;
                // A wildcard (anonymous) recipient ID: try the encryption subkey.
                privateKey ??= key.DecryptionKeys.FirstOrDefault();
                if (privateKey is not null)
                {
                    break;
                }
            }
        }

        if (data is null || privateKey is null)
        {
            return OpenPgpDecryptResult.Fail(OpenPgpDecryptStatus.NotForThisKey);
        }

        if (!data.IsIntegrityProtected())
        {
            return OpenPgpDecryptResult.Fail(OpenPgpDecryptStatus.NoIntegrityProtection);
        }

        if (data.GetSymmetricAlgorithm(privateKey) is not (SymmetricKeyAlgorithmTag.Aes128 or SymmetricKeyAlgorithmTag.Aes192 or SymmetricKeyAlgorithmTag.Aes256))
        {
            return OpenPgpDecryptResult.Fail(OpenPgpDecryptStatus.UnsupportedCipher);
        }

        Stream clear = data.GetDataStream(privateKey);
        var inner = new PgpObjectFactory(clear);
        PgpObject? next = inner.NextPgpObject();
        if (next is PgpCompressedData compressed)
        {
            inner = new PgpObjectFactory(compressed.GetDataStream());
            next = inner.NextPgpObject();
        }

        PgpOnePassSignature? onePass = null;
        PgpSignature? leading = null;
        string? signerFingerprint = null;
        long signerKeyId = 0;
        PgpPublicKey? verifierKey = null;
        if (next is PgpOnePassSignatureList onePassList && onePassList.Count > 0)
        {
            onePass = onePassList[0];
            signerKeyId = onePass.KeyId;
            (verifierKey, signerFingerprint) = FindVerifier(verifiers, signerKeyId);
            if (verifierKey is not null)
            {
                onePass.InitVerify(verifierKey);
            }

            next = inner.NextPgpObject();
        }
        else if (next is PgpSignatureList leadingList && leadingList.Count > 0)
        {
            leading = leadingList[0];
            signerKeyId = leading.KeyId;
            (verifierKey, signerFingerprint) = FindVerifier(verifiers, signerKeyId);
            if (verifierKey is not null)
            {
                leading.InitVerify(verifierKey);
            }

            next = inner.NextPgpObject();
        }

        if (next is not PgpLiteralData literal)
        {
            return OpenPgpDecryptResult.Fail(OpenPgpDecryptStatus.Tampered);
        }

        Stream content = literal.GetInputStream();
        byte[] buffer = new byte[ChunkSize];
        int read;
        while ((read = content.Read(buffer, 0, buffer.Length)) > 0)
        {
            output.Write(buffer, 0, read);
            if (verifierKey is not null)
            {
                if (onePass is not null)
                {
                    onePass.Update(buffer, 0, read);
                }
                else
                {
                    leading?.Update(buffer, 0, read);
                }
            }
        }

        OpenPgpSignatureStatus signature = OpenPgpSignatureStatus.NotSigned;
        if (onePass is not null)
        {
            PgpObject? trailer = inner.NextPgpObject();
            signature = verifierKey is null ? OpenPgpSignatureStatus.UnknownSigner
                : trailer is PgpSignatureList trailing && trailing.Count > 0 && onePass.Verify(trailing[0]) ? OpenPgpSignatureStatus.Valid
                : OpenPgpSignatureStatus.Invalid;
        }
        else if (leading is not null)
        {
            signature = verifierKey is null ? OpenPgpSignatureStatus.UnknownSigner
                : leading.Verify() ? OpenPgpSignatureStatus.Valid : OpenPgpSignatureStatus.Invalid;
        }

        // Verify() reads whatever is left of the SEIPD body and checks the MDC over all of it.
        if (!data.Verify())
        {
            return OpenPgpDecryptResult.Fail(OpenPgpDecryptStatus.Tampered);
        }

        return new OpenPgpDecryptResult(
            OpenPgpDecryptStatus.Ok,
            signature,
            signature is OpenPgpSignatureStatus.Valid or OpenPgpSignatureStatus.Invalid ? signerFingerprint : null,
            signature == OpenPgpSignatureStatus.NotSigned ? null : signerKeyId.ToString("X16", System.Globalization.CultureInfo.InvariantCulture));
    }

    private static PgpObject? NextSkippingMarkers(PgpObjectFactory factory)
    {
        PgpObject? next = factory.NextPgpObject();
        while (next is PgpMarker)
        {
            next = factory.NextPgpObject();
        }

        return next;
    }

    private static (PgpPublicKey? Key, string? Fingerprint) FindVerifier(IReadOnlyList<OpenPgpPublicKey> verifiers, long keyId)
    {
        foreach (OpenPgpPublicKey verifier in verifiers)
        {
            if (verifier.Ring.GetPublicKey(keyId) is { } match)
            {
                return (match, verifier.Fingerprint);
            }
        }

        return (null, null);
    }

    // BouncyCastle's generators close what they wrap on dispose; the caller owns output, so shield it.
    private sealed class KeepOpenStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        public override void WriteByte(byte value) => inner.WriteByte(value);
    }
}
