using System.Text;
using Veil.Mail.Dkim;

namespace Veil.Mail.Tests.Dkim;

/// <summary>A clock that stands still (the Testing package does not restore here).</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>Key records supplied by the test, keyed by "selector._domainkey.domain".</summary>
internal sealed class StaticKeyResolver(IReadOnlyDictionary<string, string> records) : IDkimKeyResolver
{
    public bool TemporaryFailure { get; init; }

    public ValueTask<DkimKeyLookup> ResolveAsync(string selector, string domain, CancellationToken cancellationToken)
    {
        if (TemporaryFailure)
        {
            return ValueTask.FromResult(DkimKeyLookup.TemporaryFailure);
        }

        return ValueTask.FromResult(records.TryGetValue(DkimDnsRecord.Name(selector, domain), out var record)
            ? DkimKeyLookup.Found(record)
            : DkimKeyLookup.NotFound);
    }
}

internal static class TestFiles
{
    /// <summary>The repository's tests/vectors folder, found by walking up from the test binaries.</summary>
    public static string Vectors(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "vectors");
            if (Directory.Exists(candidate))
            {
                return Path.Combine([candidate, .. parts]);
            }
        }

        throw new DirectoryNotFoundException("tests/vectors not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A file beside this test project's sources.</summary>
    public static string Project(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Veil.Mail.Tests");
            if (Directory.Exists(candidate))
            {
                return Path.Combine([candidate, .. parts]);
            }
        }

        throw new DirectoryNotFoundException("tests/Veil.Mail.Tests not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Reads a file and turns every line ending into CRLF (dkimpy's data uses LF).</summary>
    public static byte[] ReadCrlf(string path)
    {
        var text = File.ReadAllBytes(path);
        var output = new List<byte>(text.Length + 64);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == (byte)'\n' && (i == 0 || text[i - 1] != (byte)'\r'))
            {
                output.Add((byte)'\r');
            }

            output.Add(text[i]);
        }

        return [.. output];
    }

    public static byte[] Crlf(string text) => Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\r\n"));
}
