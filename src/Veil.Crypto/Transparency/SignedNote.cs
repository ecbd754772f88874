// C2SP signed notes (c2sp.org/signed-note v1.0.0): text signed by one or more keys.
//
//   <text, ending in a newline>
//   <blank line>
//   — <key name> base64(uint32 key ID, big-endian || signature)      (em dash U+2014, one line per signature)
//
// The text is everything up to and including the newline before the last blank line. A note must be valid
// UTF-8 without control characters other than newline; key names are non-empty and hold neither Unicode
// spaces nor '+'. Verification follows the spec: a signature whose (name, key ID) matches no known key is
// ignored; one that matches a known key must verify, or the whole note is refused; and at least one known
// key must have signed. Veil accepts up to 100 signatures (the spec's floor is 16).
//
// Key IDs are computed as the spec recommends, SHA-256(name || 0x0A || signature type || public key)[:4];
// verifier keys ("vkeys") are written name+hex(key ID)+base64(type || public key).
//
// Signature types used by Veil: 0x01 Ed25519 (the log's checkpoint signature) and 0x04 timestamped Ed25519
// cosignatures (c2sp.org/tlog-cosignature, see CosignatureV1.cs).
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Veil.Crypto.Transparency;

/// <summary>The C2SP signature type identifier bytes Veil uses.</summary>
public enum NoteSignatureType : byte
{
    /// <summary>Ed25519 over the note text.</summary>
    Ed25519 = 0x01,

    /// <summary>Timestamped Ed25519 witness cosignatures (tlog-cosignature v1).</summary>
    CosignatureV1 = 0x04,
}

/// <summary>Something that signs note texts under a name and key ID.</summary>
public interface INoteSigner
{
    /// <summary>The key name written in the signature line.</summary>
    string Name { get; }

    /// <summary>The 32-bit key ID written before the signature.</summary>
    uint KeyId { get; }

    /// <summary>Signs the note text (UTF-8, including its final newline).</summary>
    byte[] Sign(ReadOnlySpan<byte> text);
}

/// <summary>A known key that verifies note signatures under its name and key ID.</summary>
public interface INoteVerifier
{
    /// <summary>The key name signature lines must carry.</summary>
    string Name { get; }

    /// <summary>The key ID signature lines must carry.</summary>
    uint KeyId { get; }

    /// <summary>Whether <paramref name="signature"/> (after the key ID) is valid over <paramref name="text"/>.</summary>
    bool Verify(ReadOnlySpan<byte> text, ReadOnlySpan<byte> signature);
}

/// <summary>One signature line of a note, verified or not.</summary>
/// <param name="Name">The key name.</param>
/// <param name="KeyId">The key ID.</param>
/// <param name="Signature">The signature bytes after the key ID.</param>
public sealed record NoteSignature(string Name, uint KeyId, byte[] Signature)
{
    /// <summary>The line as written, without the newline: em dash, space, name, space, base64(key ID || signature).</summary>
    public string ToLine()
    {
        var blob = new byte[4 + Signature.Length];
        BinaryPrimitives.WriteUInt32BigEndian(blob, KeyId);
        Signature.CopyTo(blob, 4);
        return SignedNote.EmDash + " " + Name + " " + Convert.ToBase64String(blob);
    }
}

/// <summary>A C2SP signed note: its text and its signature lines.</summary>
public sealed class SignedNote
{
    /// <summary>The most signature lines a note may carry.</summary>
    public const int MaxSignatures = 100;

    /// <summary>The most bytes a note may have.</summary>
    public const int MaxLength = 1 << 20;

    internal const string EmDash = "\u2014";

    private SignedNote(string text, IReadOnlyList<NoteSignature> signatures)
    {
        Text = text;
        Signatures = signatures;
    }

    /// <summary>The signed text, including its final newline.</summary>
    public string Text { get; }

    /// <summary>The signature lines in order.</summary>
    public IReadOnlyList<NoteSignature> Signatures { get; }

    /// <summary>Signs <paramref name="text"/> with each signer in turn.</summary>
    /// <exception cref="ArgumentException">The text is not a valid note text or a signer's name is not a valid key name.</exception>
    public static SignedNote Sign(string text, params INoteSigner[] signers)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!IsValidText(text))
        {
            throw new ArgumentException("A note text is non-empty UTF-8 ending in a newline, without control characters other than newline.", nameof(text));
        }

        return new SignedNote(text, []).AddSignatures(signers);
    }

    /// <summary>This note with signatures by <paramref name="signers"/> appended (a cosigner adds its line to the log's).</summary>
    /// <exception cref="ArgumentException">A signer's name is not a valid key name, or the note would exceed the limits.</exception>
    public SignedNote AddSignatures(params INoteSigner[] signers)
    {
        ArgumentNullException.ThrowIfNull(signers);
        var text = Encoding.UTF8.GetBytes(Text);
        var signatures = Signatures.ToList();
        foreach (var signer in signers)
        {
            if (!IsValidKeyName(signer.Name))
            {
                throw new ArgumentException("A key name is non-empty and holds neither spaces nor '+'.", nameof(signers));
            }

            signatures.Add(new NoteSignature(signer.Name, signer.KeyId, signer.Sign(text)));
        }

        if (signatures.Count > MaxSignatures)
        {
            throw new ArgumentException($"A note carries at most {MaxSignatures} signatures.", nameof(signers));
        }

        return new SignedNote(Text, signatures);
    }

    /// <summary>This note with the signature lines that <paramref name="keep"/> selects (e.g. without untrusted cosignatures).</summary>
    public SignedNote Where(Func<NoteSignature, bool> keep) => new(Text, Signatures.Where(keep).ToList());

    /// <summary>The note's bytes: text, blank line, one line per signature.</summary>
    public byte[] ToBytes() => Encoding.UTF8.GetBytes(ToString());

    /// <summary>The note as text.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder(Text.Length + 2 + Signatures.Count * 128);
        builder.Append(Text).Append('\n');
        foreach (var signature in Signatures)
        {
            builder.Append(signature.ToLine()).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>Parses a note's syntax without verifying anything. Malformed input returns <see langword="false"/>.</summary>
    public static bool TryParse(ReadOnlySpan<byte> note, out SignedNote parsed)
    {
        parsed = null!;
        if (note.Length == 0 || note.Length > MaxLength)
        {
            return false;
        }

        string s;
        try
        {
            s = new UTF8Encoding(false, true).GetString(note);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        var split = s.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0 || !s.EndsWith('\n'))
        {
            return false;
        }

        var text = s[..(split + 1)];
        if (split + 2 >= s.Length || !IsValidText(text))
        {
            return false;
        }

        var lines = s[(split + 2)..^1].Split('\n');
        if (lines.Length > MaxSignatures)
        {
            return false;
        }

        var signatures = new List<NoteSignature>(lines.Length);
        foreach (var line in lines)
        {
            if (!TryParseLine(line, out var signature))
            {
                return false;
            }

            signatures.Add(signature);
        }

        parsed = new SignedNote(text, signatures);
        return true;
    }

    /// <summary>
    /// Verifies the note against the known keys: lines of unknown keys are ignored; a line of a known key that does
    /// not verify refuses the whole note. Returns the lines that verified, or <see langword="null"/> when the note is
    /// refused (a failed known signature, or no known signature at all).
    /// </summary>
    public IReadOnlyList<NoteSignature>? Verify(IEnumerable<INoteVerifier> verifiers)
    {
        ArgumentNullException.ThrowIfNull(verifiers);
        var known = verifiers.ToList();
        var text = Encoding.UTF8.GetBytes(Text);
        var verified = new List<NoteSignature>();
        foreach (var signature in Signatures)
        {
            var verifier = known.FirstOrDefault(v => v.KeyId == signature.KeyId && string.Equals(v.Name, signature.Name, StringComparison.Ordinal));
            if (verifier is null)
            {
                continue;
            }

            if (!verifier.Verify(text, signature.Signature))
            {
                return null;
            }

            verified.Add(signature);
        }

        return verified.Count == 0 ? null : verified;
    }

    /// <summary>Parses and verifies in one step; <see langword="null"/> when malformed or refused.</summary>
    public static SignedNote? Open(ReadOnlySpan<byte> note, IEnumerable<INoteVerifier> verifiers)
        => TryParse(note, out var parsed) && parsed.Verify(verifiers) is not null ? parsed : null;

    /// <summary>The spec's recommended key ID: SHA-256(name || 0x0A || type || public key)[:4], big-endian.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid key name.</exception>
    public static uint ComputeKeyId(string name, NoteSignatureType type, ReadOnlySpan<byte> publicKey)
    {
        if (!IsValidKeyName(name))
        {
            throw new ArgumentException("A key name is non-empty and holds neither spaces nor '+'.", nameof(name));
        }

        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[nameBytes.Length + 2 + publicKey.Length];
        nameBytes.CopyTo(input, 0);
        input[nameBytes.Length] = (byte)'\n';
        input[nameBytes.Length + 1] = (byte)type;
        publicKey.CopyTo(input.AsSpan(nameBytes.Length + 2));
        return BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(input));
    }

    /// <summary>Whether <paramref name="name"/> is a valid key name: non-empty, no Unicode space, no '+', no control character.</summary>
    public static bool IsValidKeyName(string? name)
        => !string.IsNullOrEmpty(name) && !name.Any(c => c == '+' || char.IsWhiteSpace(c) || char.IsControl(c));

    /// <summary>Whether <paramref name="text"/> is a valid note text: non-empty, ending in a newline, no other control character.</summary>
    public static bool IsValidText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0 || text[^1] != '\n')
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c < 0x20 && c != '\n')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Formats a verifier key: name+hex(key ID)+base64(type || public key).</summary>
    public static string FormatVerifierKey(string name, NoteSignatureType type, ReadOnlySpan<byte> publicKey)
    {
        var material = new byte[1 + publicKey.Length];
        material[0] = (byte)type;
        publicKey.CopyTo(material.AsSpan(1));
        return name + "+" + ComputeKeyId(name, type, publicKey).ToString("x8", CultureInfo.InvariantCulture) + "+" + Convert.ToBase64String(material);
    }

    /// <summary>
    /// Parses a verifier key: the name, the key ID (which must match the computed one), the type byte and the public key.
    /// Malformed input returns <see langword="false"/>.
    /// </summary>
    public static bool TryParseVerifierKey(string vkey, out string name, out NoteSignatureType type, out byte[] publicKey)
    {
        name = string.Empty;
        type = default;
        publicKey = [];
        var parts = (vkey ?? string.Empty).Split('+', 3);
        if (parts.Length != 3 || !IsValidKeyName(parts[0]) || parts[1].Length != 8
            || !uint.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var keyId))
        {
            return false;
        }

        byte[] material;
        try
        {
            material = Convert.FromBase64String(parts[2]);
        }
        catch (FormatException)
        {
            return false;
        }

        if (material.Length < 2 || Convert.ToBase64String(material) != parts[2]
            || ComputeKeyId(parts[0], (NoteSignatureType)material[0], material.AsSpan(1)) != keyId)
        {
            return false;
        }

        name = parts[0];
        type = (NoteSignatureType)material[0];
        publicKey = material[1..];
        return true;
    }

    private static bool TryParseLine(string line, out NoteSignature signature)
    {
        signature = null!;
        if (!line.StartsWith(EmDash + " ", StringComparison.Ordinal))
        {
            return false;
        }

        var rest = line[2..];
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || rest.IndexOf(' ', space + 1) >= 0)
        {
            return false;
        }

        var name = rest[..space];
        var encoded = rest[(space + 1)..];
        if (!IsValidKeyName(name))
        {
            return false;
        }

        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(encoded);
        }
        catch (FormatException)
        {
            return false;
        }

        // Only the canonical encoding: a note has one spelling, so two parties hashing it agree.
        if (blob.Length < 5 || Convert.ToBase64String(blob) != encoded)
        {
            return false;
        }

        signature = new NoteSignature(name, BinaryPrimitives.ReadUInt32BigEndian(blob), blob[4..]);
        return true;
    }
}
