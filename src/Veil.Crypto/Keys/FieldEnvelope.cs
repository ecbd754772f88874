// Field envelope v1: authenticated encryption of one database column value (spec/field-envelope.md).
//
//   envelope = version (1 byte, 0x01) | key id (2 bytes, big-endian) | nonce (12) | ciphertext | tag (16)
//
// AES-256-GCM under a subkey of the keyring's "field" key (the key id is that key's version). The
// associated data binds the envelope header and the value's place: table, column and row id, so a
// ciphertext copied into another row or column, or relabelled with another key id, fails to open.
// Nonces are random (96 bits); NIST SP 800-38D limits one key to 2^32 random-nonce encryptions,
// so rotate the field key well before that many values have been written under one version.
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Veil.Crypto.Keys;

/// <summary>The place a field value lives in; bound into its envelope as associated data.</summary>
/// <param name="Table">The table name (no NUL character).</param>
/// <param name="Column">The column name (no NUL character).</param>
/// <param name="RowId">The row's stable identifier.</param>
public readonly record struct FieldContext(string Table, string Column, string RowId);

/// <summary>Seals and opens column values in the field envelope format.</summary>
public static class FieldEnvelope
{
    /// <summary>The envelope format version this code writes.</summary>
    public const byte Version = 1;

    /// <summary>The name of the keyring key that seals fields.</summary>
    public const string KeyName = "field";

    /// <summary>Bytes an envelope adds to its plaintext: header, nonce and tag.</summary>
    public const int Overhead = HeaderLength + NonceLength + TagLength;

    private const int HeaderLength = 3;
    private const int NonceLength = 12;
    private const int TagLength = 16;
    private const string SubkeyPurpose = "field-envelope";

    /// <summary>Seals <paramref name="plaintext"/> under the current field key.</summary>
    /// <exception cref="KeyNotFoundException">The keyring has no <c>field</c> key.</exception>
    /// <exception cref="ArgumentException">The context's table or column contains a NUL character.</exception>
    public static byte[] Seal(Keyring keyring, FieldContext context, ReadOnlySpan<byte> plaintext)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        var key = keyring.Current(KeyName);
        var envelope = new byte[Overhead + plaintext.Length];
        envelope[0] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(envelope.AsSpan(1, 2), key.Version);
        var nonce = envelope.AsSpan(HeaderLength, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        var ciphertext = envelope.AsSpan(HeaderLength + NonceLength, plaintext.Length);
        var tag = envelope.AsSpan(envelope.Length - TagLength);
        var aad = AssociatedData(envelope.AsSpan(0, HeaderLength), context);

        Span<byte> subkey = stackalloc byte[32];
        try
        {
            key.DeriveSubkey(SubkeyPurpose, subkey);
            using var aes = new AesGcm(subkey, TagLength);
            aes.Encrypt(nonce, plaintext, ciphertext, tag, aad);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(subkey);
        }

        return envelope;
    }

    /// <summary>The plaintext length of an envelope of <paramref name="envelopeLength"/> bytes, or -1 if too short.</summary>
    public static int PlaintextLength(int envelopeLength) => envelopeLength < Overhead ? -1 : envelopeLength - Overhead;

    /// <summary>
    /// Opens an envelope into <paramref name="plaintext"/> (exactly <see cref="PlaintextLength"/> bytes).
    /// Returns false, leaving <paramref name="plaintext"/> zeroed, if the envelope is malformed, of an
    /// unknown version, sealed under a key version this keyring lacks, tampered with, or bound to
    /// another context.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="plaintext"/> has the wrong length.</exception>
    public static bool TryOpen(Keyring keyring, FieldContext context, ReadOnlySpan<byte> envelope, Span<byte> plaintext)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        var length = PlaintextLength(envelope.Length);
        if (length < 0)
        {
            return false;
        }

        if (plaintext.Length != length)
        {
            throw new ArgumentException($"The plaintext buffer must be {length} bytes.", nameof(plaintext));
        }

        if (envelope[0] != Version
            || !keyring.TryGet(KeyName, BinaryPrimitives.ReadUInt16BigEndian(envelope.Slice(1, 2)), out var key))
        {
            return false;
        }

        var aad = AssociatedData(envelope[..HeaderLength], context);
        Span<byte> subkey = stackalloc byte[32];
        try
        {
            key.DeriveSubkey(SubkeyPurpose, subkey);
            using var aes = new AesGcm(subkey, TagLength);
            aes.Decrypt(
                envelope.Slice(HeaderLength, NonceLength),
                envelope.Slice(HeaderLength + NonceLength, length),
                envelope[^TagLength..],
                plaintext,
                aad);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            // AesGcm zeroes the output on failure; authentication failure is an expected value here.
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(subkey);
        }
    }

    /// <summary>Opens an envelope into a new array, or returns null when it does not open.</summary>
    public static byte[]? Open(Keyring keyring, FieldContext context, ReadOnlySpan<byte> envelope)
    {
        var length = PlaintextLength(envelope.Length);
        if (length < 0)
        {
            return null;
        }

        var plaintext = new byte[length];
        return TryOpen(keyring, context, envelope, plaintext) ? plaintext : null;
    }

    /// <summary>The key version an envelope names, or null if it is not a well-formed v1 envelope.</summary>
    public static ushort? KeyVersionOf(ReadOnlySpan<byte> envelope) =>
        envelope.Length >= Overhead && envelope[0] == Version ? BinaryPrimitives.ReadUInt16BigEndian(envelope.Slice(1, 2)) : null;

    // aad = "veil-field-v1" 0x00 | header(3) | table 0x00 | column 0x00 | row id
    private static byte[] AssociatedData(ReadOnlySpan<byte> header, FieldContext context)
    {
        if (context.Table is null || context.Column is null || context.RowId is null)
        {
            throw new ArgumentException("A field context needs a table, a column and a row id.", nameof(context));
        }

        if (context.Table.Contains('\0', StringComparison.Ordinal) || context.Column.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("Table and column names must not contain NUL.", nameof(context));
        }

        var label = "veil-field-v1\0"u8;
        var table = Encoding.UTF8.GetByteCount(context.Table);
        var column = Encoding.UTF8.GetByteCount(context.Column);
        var row = Encoding.UTF8.GetByteCount(context.RowId);
        var aad = new byte[label.Length + header.Length + table + 1 + column + 1 + row];
        var span = aad.AsSpan();
        label.CopyTo(span);
        span = span[label.Length..];
        header.CopyTo(span);
        span = span[header.Length..];
        Encoding.UTF8.GetBytes(context.Table, span);
        span[table] = 0;
        span = span[(table + 1)..];
        Encoding.UTF8.GetBytes(context.Column, span);
        span[column] = 0;
        Encoding.UTF8.GetBytes(context.RowId, span[(column + 1)..]);
        return aad;
    }
}
