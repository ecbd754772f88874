// C2SP tlog-tiles (c2sp.org/tlog-tiles): the read path of the log as immutable files.
//
//   tile/<L>/<N>[.p/<W>]        hashes: the level-8L nodes N·256 … N·256+W-1, 32 bytes each, concatenated
//   tile/entries/<N>[.p/<W>]    entry bundle: leaves N·256 … , each as a big-endian uint16 length and the bytes
//
// Tiles have height 8 and width 256; <W> (1–255) names a partial tile at the right edge. <N> is written in
// groups of three decimal digits, every group but the last prefixed with "x" (1234067 → x001/x234/067).
// A node at tree level ℓ = 8L + r (r < 8) is the hash of 2^r consecutive hashes of one level-L tile, so a
// tile reader answers any complete node from at most one tile.
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Veil.Crypto.Transparency;

/// <summary>One tile's coordinates: <see cref="Level"/> (-1 for the entries tile), index and width (256 = full).</summary>
public readonly record struct TileId(int Level, long Index, int Width)
{
    /// <summary>The level written in the path for entry bundles.</summary>
    public const int EntriesLevel = -1;

    /// <summary>Whether this is an entry bundle rather than a hash tile.</summary>
    public bool IsEntries => Level == EntriesLevel;

    /// <summary>Whether the tile holds all 256 of its hashes or entries.</summary>
    public bool IsFull => Width == TlogTiles.Width;
}

/// <summary>tlog-tiles paths, tile contents and entry bundles.</summary>
public static class TlogTiles
{
    /// <summary>Tile height: each tile level spans 8 tree levels.</summary>
    public const int Height = 8;

    /// <summary>Tile width: 256 hashes or entries.</summary>
    public const int Width = 256;

    /// <summary>The tile of <paramref name="level"/> (or entries) holding item <paramref name="item"/> in a tree of <paramref name="size"/> leaves.</summary>
    public static TileId TileFor(int level, long item, long size)
    {
        var count = level == TileId.EntriesLevel ? size : size >> (Height * level);
        var index = item / Width;
        return new TileId(level, index, (int)Math.Min(Width, count - index * Width));
    }

    /// <summary>The tiles of every level that a tree of <paramref name="size"/> leaves has, with the width each has at that size.</summary>
    public static IEnumerable<TileId> TilesOf(long size, int level, long fromIndex)
    {
        var count = level == TileId.EntriesLevel ? size : size >> (Height * level);
        for (var index = fromIndex; index * Width < count; index++)
        {
            yield return new TileId(level, index, (int)Math.Min(Width, count - index * Width));
        }
    }

    /// <summary>The tile's path, e.g. <c>tile/0/x001/x234/067.p/5</c> or <c>tile/entries/000</c>.</summary>
    public static string Path(TileId tile)
    {
        var builder = new StringBuilder("tile/");
        builder.Append(tile.IsEntries ? "entries" : tile.Level.ToString(CultureInfo.InvariantCulture)).Append('/');
        var digits = tile.Index.ToString(CultureInfo.InvariantCulture);
        digits = digits.PadLeft((digits.Length + 2) / 3 * 3, '0');
        for (var i = 0; i < digits.Length; i += 3)
        {
            if (i + 3 < digits.Length)
            {
                builder.Append('x');
            }

            builder.Append(digits, i, 3);
            if (i + 3 < digits.Length)
            {
                builder.Append('/');
            }
        }

        if (!tile.IsFull)
        {
            builder.Append(".p/").Append(tile.Width.ToString(CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    /// <summary>Reads a tile path (as <see cref="Path"/> writes it, nothing else); <see langword="false"/> for any other text.</summary>
    public static bool TryParsePath(string path, out TileId tile)
    {
        tile = default;
        if (string.IsNullOrEmpty(path) || path.Length > 128)
        {
            return false;
        }

        var parts = path.Split('/');
        if (parts.Length < 3 || parts[0] != "tile")
        {
            return false;
        }

        int level;
        if (parts[1] == "entries")
        {
            level = TileId.EntriesLevel;
        }
        else if (parts[1].Length is 1 or 2 && parts[1].All(char.IsAsciiDigit) && (parts[1].Length == 1 || parts[1][0] != '0'))
        {
            level = int.Parse(parts[1], CultureInfo.InvariantCulture);
            if (level > 7)
            {
                return false;
            }
        }
        else
        {
            return false;
        }

        var width = Width;
        var rest = parts.AsSpan(2);
        if (rest.Length >= 2 && rest[^2].EndsWith(".p", StringComparison.Ordinal))
        {
            var w = rest[^1];
            if (w.Length is < 1 or > 3 || !w.All(char.IsAsciiDigit) || w[0] == '0' || !int.TryParse(w, CultureInfo.InvariantCulture, out width) || width >= Width)
            {
                return false;
            }

            rest[^2] = rest[^2][..^2];
            rest = rest[..^1];
        }

        var digits = new StringBuilder();
        for (var i = 0; i < rest.Length; i++)
        {
            var group = rest[i];
            var last = i == rest.Length - 1;
            if (!last)
            {
                if (group.Length != 4 || group[0] != 'x')
                {
                    return false;
                }

                group = group[1..];
            }

            if (group.Length != 3 || !group.All(char.IsAsciiDigit))
            {
                return false;
            }

            digits.Append(group);
        }

        if (digits.Length > 18 || !long.TryParse(digits.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return false;
        }

        tile = new TileId(level, index, width);
        return Path(tile) == path; // one spelling per tile (no "x000/001" for 1)
    }

    /// <summary>An entry bundle: each entry as a big-endian uint16 length and its bytes.</summary>
    /// <exception cref="ArgumentException">An entry is longer than 65,535 bytes.</exception>
    public static byte[] EncodeEntryBundle(IEnumerable<byte[]> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        using var buffer = new MemoryStream();
        Span<byte> length = stackalloc byte[2];
        foreach (var entry in entries)
        {
            if (entry.Length > ushort.MaxValue)
            {
                throw new ArgumentException("A tlog-tiles entry is at most 65,535 bytes.", nameof(entries));
            }

            BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)entry.Length);
            buffer.Write(length);
            buffer.Write(entry);
        }

        return buffer.ToArray();
    }

    /// <summary>Splits an entry bundle; a truncated or overlong bundle returns <see langword="null"/>.</summary>
    public static List<byte[]>? DecodeEntryBundle(ReadOnlySpan<byte> bundle)
    {
        var entries = new List<byte[]>();
        while (bundle.Length > 0)
        {
            if (bundle.Length < 2 || entries.Count == Width)
            {
                return null;
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(bundle);
            if (bundle.Length < 2 + length)
            {
                return null;
            }

            entries.Add(bundle.Slice(2, length).ToArray());
            bundle = bundle[(2 + length)..];
        }

        return entries;
    }

    /// <summary>The hash tile that holds the data for <paramref name="node"/> in a tree of <paramref name="size"/> leaves.</summary>
    public static TileId TileForNode(MerkleNodeId node, long size)
    {
        var tileLevel = node.Level / Height;
        var firstHash = node.Index << (node.Level % Height);
        return TileFor(tileLevel, firstHash, size);
    }

    /// <summary>
    /// Computes <paramref name="node"/> from the tile that holds it (<see cref="TileForNode"/>): the hash itself when
    /// the node sits on a tile level, else the subtree of 2^r hashes of the tile hashed up.
    /// </summary>
    /// <exception cref="ArgumentException">The tile is too short for the node.</exception>
    public static void NodeFromTile(MerkleNodeId node, ReadOnlySpan<byte> tile, Span<byte> destination)
    {
        var r = node.Level % Height;
        var first = (int)((node.Index << r) % Width);
        var count = 1 << r;
        if (tile.Length < (first + count) * MerkleHasher.HashLength)
        {
            throw new ArgumentException("The tile does not hold that node.", nameof(tile));
        }

        var hashes = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            hashes[i] = tile.Slice((first + i) * MerkleHasher.HashLength, MerkleHasher.HashLength).ToArray();
        }

        for (var width = count; width > 1; width /= 2)
        {
            for (var i = 0; i < width / 2; i++)
            {
                hashes[i] = MerkleHasher.HashChildren(hashes[2 * i], hashes[2 * i + 1]);
            }
        }

        hashes[0].CopyTo(destination);
    }
}
