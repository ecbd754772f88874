// Turning the sender's file name into a safe name in the receiver's directory (spec/drop.md §7).
// The name arrives inside authenticated metadata, but authenticated only means "from whoever holds the key":
// it is hostile. It may contain "../", an absolute path, control characters (a terminal escape in a listing),
// a Windows device name or be thousands of bytes long. The receiver keeps only a safe basename and never lets
// the name choose a directory.
using System.Globalization;
using System.Text;

namespace Veil.Client.Drop;

/// <summary>Safe file names for received drops.</summary>
public static class DropFileNames
{
    /// <summary>The longest name produced, in UTF-8 bytes (the usual file system limit).</summary>
    public const int MaxNameBytes = 255;

    private static readonly string[] Reserved =
    [
        "CON", "PRN", "AUX", "NUL",
        "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];

    /// <summary>
    /// Reduces <paramref name="name"/> to a safe basename: the part after the last '/' or '\', without control or
    /// format characters and without &lt; &gt; : " | ? *, trimmed of spaces and dots, at most 255 UTF-8 bytes
    /// (keeping the extension). Returns <paramref name="fallback"/> when nothing usable is left ("", ".", "..",
    /// a Windows device name).
    /// </summary>
    public static string Sanitize(string? name, string fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        if (string.IsNullOrEmpty(name))
        {
            return fallback;
        }

        int slash = name.LastIndexOfAny(['/', '\\']);
        string basename = slash >= 0 ? name[(slash + 1)..] : name;
        var builder = new StringBuilder(basename.Length);
        foreach (Rune rune in basename.EnumerateRunes())
        {
            UnicodeCategory category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                    or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.OtherNotAssigned
                || (rune.IsAscii && "<>:\"|?*".Contains((char)rune.Value, StringComparison.Ordinal))
                || rune == Rune.ReplacementChar)
            {
                continue;
            }

            builder.Append(rune.ToString());
        }

        string cleaned = builder.ToString().Trim(' ', '.');
        if (cleaned.Length == 0 || IsReserved(cleaned))
        {
            return fallback;
        }

        return Truncate(cleaned);
    }

    /// <summary>
    /// A path in <paramref name="directory"/> for <paramref name="safeName"/> that does not exist yet: the name itself,
    /// or "name (1).ext", "name (2).ext", … Never outside <paramref name="directory"/>.
    /// </summary>
    public static string AvailablePath(string directory, string safeName)
    {
        string root = Path.GetFullPath(directory);
        string stem = Path.GetFileNameWithoutExtension(safeName);
        string extension = Path.GetExtension(safeName);
        for (int i = 0; i < 10_000; i++)
        {
            string candidate = i == 0 ? safeName : Truncate($"{stem} ({i}){extension}");
            string path = Path.GetFullPath(Path.Combine(root, candidate));
            if (!string.Equals(Path.GetDirectoryName(path), root.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
            {
                // Defence in depth: Sanitize already removed separators, so this cannot happen.
                throw new DropException(DropErrorCodes.Failed, "refusing a file name that leaves the destination directory");
            }

            if (!File.Exists(path) && !Directory.Exists(path))
            {
                return path;
            }
        }

        throw new DropException(DropErrorCodes.Failed, $"too many files named like '{safeName}' in {root}");
    }

    /// <summary>Text from a drop made safe to print on a terminal: control and format characters removed.</summary>
    public static string Printable(string? text) =>
        string.Concat((text ?? string.Empty).EnumerateRunes()
            .Where(r => Rune.GetUnicodeCategory(r) is not (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator))
            .Select(r => r.ToString()));

    private static bool IsReserved(string name)
    {
        string stem = name.Split('.')[0].TrimEnd(' ');
        return Reserved.Contains(stem, StringComparer.OrdinalIgnoreCase);
    }

    private static string Truncate(string name)
    {
        if (Encoding.UTF8.GetByteCount(name) <= MaxNameBytes)
        {
            return name;
        }

        string extension = Path.GetExtension(name);
        if (Encoding.UTF8.GetByteCount(extension) > 32)
        {
            extension = string.Empty;
        }

        string stem = name[..^extension.Length];
        int budget = MaxNameBytes - Encoding.UTF8.GetByteCount(extension);
        var builder = new StringBuilder();
        int used = 0;
        foreach (Rune rune in stem.EnumerateRunes())
        {
            if (used + rune.Utf8SequenceLength > budget)
            {
                break;
            }

            builder.Append(rune.ToString());
            used += rune.Utf8SequenceLength;
        }

        return builder.ToString().TrimEnd(' ', '.') + extension;
    }
}
