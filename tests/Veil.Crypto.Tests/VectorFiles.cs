// Locating and reading the external test vectors (tests/vectors, spec/vectors) and reporting totals.
using System.Text.Json;
using Xunit.Abstractions;

namespace Veil.Crypto.Tests;

internal static class VectorFiles
{
    /// <summary>Finds a vector file: first beside the test assembly, then up the tree from it (repo checkout).</summary>
    internal static string Path(string relative, string outputFolder = "vectors", string repoFolder = "tests/vectors")
    {
        var local = System.IO.Path.Combine(AppContext.BaseDirectory, outputFolder, relative);
        if (File.Exists(local))
        {
            return local;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, repoFolder, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"Vector file {relative} not found under {outputFolder} or {repoFolder}.");
    }

    internal static string SpecPath(string relative) => Path(relative, "spec-vectors", "spec/vectors");

    internal static JsonDocument Json(string relative) => JsonDocument.Parse(File.ReadAllBytes(Path(relative)));

    internal static IEnumerable<(JsonElement Group, JsonElement Test)> WycheproofTests(JsonDocument document)
    {
        foreach (var group in document.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                yield return (group, test);
            }
        }
    }

    internal static byte[] Hex(this JsonElement element, string name) => Convert.FromHexString(element.GetProperty(name).GetString()!);

    internal static string Result(this JsonElement test) => test.GetProperty("result").GetString()!;

    internal static string Id(this JsonElement test) => "tcId " + test.GetProperty("tcId").GetInt32();

    /// <summary>Parses the pyca/NIST "key = value" text format into records separated by COUNT lines.</summary>
    internal static List<Dictionary<string, string>> KeyValueRecords(string relative)
    {
        var records = new List<Dictionary<string, string>>();
        Dictionary<string, string>? current = null;
        foreach (var raw in File.ReadLines(Path(relative)))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                continue;
            }

            var key = line[..eq].Trim();
            var value = line[(eq + 1)..].Trim();
            if (key == "COUNT")
            {
                current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                records.Add(current);
            }

            current?.Add(key, value);
        }

        return records;
    }

    /// <summary>Writes the per-file total to the test output and to stdout (visible with console;verbosity=normal).</summary>
    internal static void Report(ITestOutputHelper output, string file, int passed, int unsupported, string? note = null)
    {
        var line = $"Vectors {file}: {passed} passed, {unsupported} unsupported" + (note is null ? string.Empty : $" ({note})");
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
