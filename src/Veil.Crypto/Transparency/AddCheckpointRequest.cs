// The body of a C2SP tlog-witness add-checkpoint request (c2sp.org/tlog-witness):
//
//   old <size>\n                  the size of the checkpoint the log believes the witness last cosigned
//   <base64 hash>\n               zero to 63 lines: the RFC 6962 consistency proof from that size
//   \n
//   <signed checkpoint note>      origin, size, root, blank line, the log's signature line(s)
//
// Sizes are ASCII decimal without leading zeroes ("0" for zero). The proof is empty when the old size is zero.
// The witness's answer on success is one or more note signature lines (its cosignatures); on "409 Conflict"
// it is the size it holds, a decimal and a newline, as text/x.tlog.size.
using System.Globalization;
using System.Text;

namespace Veil.Crypto.Transparency;

/// <summary>A tlog-witness add-checkpoint request: the old size, the consistency proof and the checkpoint note.</summary>
public sealed record AddCheckpointRequest
{
    /// <summary>The most consistency proof lines a request may carry.</summary>
    public const int MaxProofLines = 63;

    /// <summary>The media type of a 409 answer's body (the witness's size).</summary>
    public const string SizeMediaType = "text/x.tlog.size";

    /// <summary>A request from <paramref name="oldSize"/> with <paramref name="proof"/> for <paramref name="checkpointNote"/>.</summary>
    /// <exception cref="ArgumentException">The size is negative, the proof is too long or holds a hash that is not 32 bytes, or the note is empty.</exception>
    public AddCheckpointRequest(long oldSize, IReadOnlyList<byte[]> proof, byte[] checkpointNote)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(oldSize);
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(checkpointNote);
        if (proof.Count > MaxProofLines || proof.Any(h => h is null || h.Length != MerkleHasher.HashLength))
        {
            throw new ArgumentException($"A consistency proof is at most {MaxProofLines} hashes of {MerkleHasher.HashLength} bytes.", nameof(proof));
        }

        if (checkpointNote.Length == 0)
        {
            throw new ArgumentException("The checkpoint note is empty.", nameof(checkpointNote));
        }

        OldSize = oldSize;
        Proof = proof;
        CheckpointNote = checkpointNote;
    }

    /// <summary>The size the log believes the witness holds.</summary>
    public long OldSize { get; }

    /// <summary>The consistency proof from <see cref="OldSize"/> to the checkpoint's size.</summary>
    public IReadOnlyList<byte[]> Proof { get; }

    /// <summary>The signed checkpoint note, as the log signed it.</summary>
    public byte[] CheckpointNote { get; }

    /// <summary>The request body.</summary>
    public byte[] ToBytes()
    {
        var head = new StringBuilder();
        head.Append("old ").Append(OldSize.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var hash in Proof)
        {
            head.Append(Convert.ToBase64String(hash)).Append('\n');
        }

        head.Append('\n');
        var headBytes = Encoding.ASCII.GetBytes(head.ToString());
        var body = new byte[headBytes.Length + CheckpointNote.Length];
        headBytes.CopyTo(body, 0);
        CheckpointNote.CopyTo(body, headBytes.Length);
        return body;
    }

    /// <summary>Parses a request body; anything malformed returns <see langword="false"/> (the witness answers 400).</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out AddCheckpointRequest request)
    {
        request = null!;
        var position = 0;
        if (!TryReadLine(body, ref position, out var oldLine) || !oldLine.StartsWith("old ", StringComparison.Ordinal)
            || !TryParseSize(oldLine[4..], out var oldSize))
        {
            return false;
        }

        var proof = new List<byte[]>();
        while (true)
        {
            if (!TryReadLine(body, ref position, out var line))
            {
                return false;
            }

            if (line.Length == 0)
            {
                break;
            }

            if (proof.Count == MaxProofLines || !TryDecodeHash(line, out var hash))
            {
                return false;
            }

            proof.Add(hash);
        }

        if (position >= body.Length)
        {
            return false;
        }

        request = new AddCheckpointRequest(oldSize, proof, body[position..].ToArray());
        return true;
    }

    /// <summary>Parses a decimal tree size as tlog specs spell it: ASCII digits, no leading zeroes, at most 2^63-1.</summary>
    public static bool TryParseSize(string text, out long size)
    {
        size = 0;
        return text.Length is > 0 and <= 19 && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0')
               && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out size);
    }

    private static bool TryDecodeHash(string line, out byte[] hash)
    {
        hash = [];
        try
        {
            hash = Convert.FromBase64String(line);
        }
        catch (FormatException)
        {
            return false;
        }

        return hash.Length == MerkleHasher.HashLength && Convert.ToBase64String(hash) == line;
    }

    private static bool TryReadLine(ReadOnlySpan<byte> body, ref int position, out string line)
    {
        line = string.Empty;
        var rest = body[position..];
        var newline = rest.IndexOf((byte)'\n');
        if (newline < 0 || newline > 128)
        {
            return false;
        }

        foreach (var b in rest[..newline])
        {
            if (b is < 0x20 or > 0x7E)
            {
                return false;
            }
        }

        line = Encoding.ASCII.GetString(rest[..newline]);
        position += newline + 1;
        return true;
    }
}
