// The MIME corpus in tests/vectors/mime/stalwart-mail-parser: Dovecot and RFC messages with stalwart mail-parser's
// parse results (*.json) and Python email's structure and defects (INDEX.tsv).
using System.Text.Json;

namespace Veil.Mail.Tests.Mime;

internal static class MimeCorpus
{
    internal const string Folder = "mime/stalwart-mail-parser";

    internal static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "vectors", Folder);
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new DirectoryNotFoundException("tests/vectors/" + Folder + " not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Relative names like "rfc/000.eml", sorted.</summary>
    internal static IEnumerable<string> Messages() =>
        Directory.EnumerateFiles(Root, "*.eml", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Root, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);

    internal static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(Root, name));

    internal static JsonDocument Oracle(string name) => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, Path.ChangeExtension(name, ".json"))));

    /// <summary>Python email's defects for a message, from INDEX.tsv (empty when it found none).</summary>
    internal static string IndexDefects(string name)
    {
        foreach (var line in File.ReadLines(Path.Combine(Root, "INDEX.tsv")))
        {
            var fields = line.Split('\t');
            if (fields[0] == name)
            {
                return fields[^1];
            }
        }

        return string.Empty;
    }
}
