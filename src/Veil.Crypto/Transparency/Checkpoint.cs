// C2SP checkpoints (c2sp.org/tlog-checkpoint v1.0.0): the signed-note text of a log's tree head.
//
//   <origin>\n          the log's identity, non-empty (Veil's: "<public host>/kt")
//   <size>\n            ASCII decimal, no leading zeroes ("0" for the empty tree)
//   <root hash>\n       base64 of the 32-byte RFC 6962 root
//   [extension lines]   opaque, non-empty; Veil writes none and keeps those it reads
using System.Globalization;
using System.Text;

namespace Veil.Crypto.Transparency;

/// <summary>A transparency log checkpoint: origin, tree size and root hash (and any extension lines).</summary>
public sealed record Checkpoint
{
    /// <summary>A checkpoint of the tree of <paramref name="size"/> leaves with root <paramref name="rootHash"/>.</summary>
    /// <exception cref="ArgumentException">The origin is empty or holds a newline, the size is negative, or the root is not 32 bytes.</exception>
    public Checkpoint(string origin, long size, ReadOnlySpan<byte> rootHash, IReadOnlyList<string>? extensions = null)
    {
        if (string.IsNullOrEmpty(origin) || origin.Contains('\n', StringComparison.Ordinal) || origin.Any(c => c < 0x20))
        {
            throw new ArgumentException("A checkpoint origin is a non-empty line.", nameof(origin));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (rootHash.Length != MerkleHasher.HashLength)
        {
            throw new ArgumentException($"A root hash is {MerkleHasher.HashLength} bytes.", nameof(rootHash));
        }

        extensions ??= [];
        if (extensions.Any(e => string.IsNullOrEmpty(e) || e.Any(c => c < 0x20)))
        {
            throw new ArgumentException("Extension lines are non-empty lines.", nameof(extensions));
        }

        Origin = origin;
        Size = size;
        RootHash = rootHash.ToArray();
        Extensions = extensions;
    }

    /// <summary>The log's identity.</summary>
    public string Origin { get; }

    /// <summary>The number of leaves.</summary>
    public long Size { get; }

    /// <summary>The RFC 6962 root of those leaves.</summary>
    public byte[] RootHash { get; }

    /// <summary>Extension lines, if any.</summary>
    public IReadOnlyList<string> Extensions { get; }

    /// <summary>The note text: origin, size and root lines, then the extension lines.</summary>
    public string ToText()
    {
        var builder = new StringBuilder();
        builder.Append(Origin).Append('\n')
            .Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(Convert.ToBase64String(RootHash)).Append('\n');
        foreach (var extension in Extensions)
        {
            builder.Append(extension).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>Parses a checkpoint's note text; malformed text returns <see langword="false"/>.</summary>
    public static bool TryParse(string text, out Checkpoint checkpoint)
    {
        checkpoint = null!;
        if (string.IsNullOrEmpty(text) || text[^1] != '\n')
        {
            return false;
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length < 3 || lines[0].Length == 0 || lines.Skip(3).Any(l => l.Length == 0))
        {
            return false;
        }

        var size = lines[1];
        if (size.Length == 0 || size.Length > 19 || !size.All(char.IsAsciiDigit) || (size.Length > 1 && size[0] == '0')
            || !long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var treeSize))
        {
            return false;
        }

        byte[] root;
        try
        {
            root = Convert.FromBase64String(lines[2]);
        }
        catch (FormatException)
        {
            return false;
        }

        if (root.Length != MerkleHasher.HashLength || Convert.ToBase64String(root) != lines[2])
        {
            return false;
        }

        try
        {
            checkpoint = new Checkpoint(lines[0], treeSize, root, lines[3..]);
        }
        catch (ArgumentException)
        {
            return false;
        }

        return true;
    }
}
