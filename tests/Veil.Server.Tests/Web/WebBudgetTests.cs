// The web app's JavaScript budget (issue 16, ADR 0006 "Budget"): what the server actually serves, followed the way a
// browser follows it. Eager = each page's entry script and modulepreloads, their static imports, and the workers they
// start, and the workers those start (Argon2's wasm is inlined in its worker and counted too: stricter than the issue asks). Lazy = chunks reached
// only through a dynamic import(). The zxcvbn strength dictionaries are the one exception the ADR allows: named
// strength-*.js by the build (web/vite.config.ts), loaded only by the password-choosing pages, and never eager.
using System.IO.Compression;
using System.Text.RegularExpressions;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Web;

public sealed partial class WebBudgetTests
{
    /// <summary>ADR 0006: the app's JavaScript, gzipped, everything but the strength dictionaries.</summary>
    private const long BudgetBytes = 150 * 1024;

    /// <summary>The strength dictionaries' own ceiling (ADR 0006: ~840 KiB today), so they cannot grow unnoticed.</summary>
    private const long StrengthBudgetBytes = 900 * 1024;

    /// <summary>
    /// The mailbox's worker (OpenPGP.js 6.3, ~130 KiB gz): the second exception, started only by the lazy mail page
    /// (/app/mail), never eager, with a ceiling of its own.
    /// </summary>
    private const long MailCryptoBudgetBytes = 160 * 1024;

    private static readonly string[] Pages = ["/", "/drop", "/d/AAAAAAAAAAAAAAAAAAAAAA"];

    [Fact]
    public async Task AppJavaScript_FitsTheBudget_AndTheStrengthDictionariesAreLazyOnly()
    {
        await using var server = await VeilTestServer.StartAsync();
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        async Task<string> Get(string path)
        {
            if (!files.TryGetValue(path, out var text))
            {
                using var response = await server.Client.GetAsync(path);
                Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} (is the web client built? build without VeilSkipWeb)");
                files[path] = text = await response.Content.ReadAsStringAsync();
            }

            return text;
        }

        var eager = new HashSet<string>(StringComparer.Ordinal);
        var lazyRoots = new HashSet<string>(StringComparer.Ordinal);
        foreach (var page in Pages)
        {
            var html = await Get(page);
            var entries = PageScripts().Matches(html).Select(m => m.Groups["src"].Value).ToList();
            Assert.NotEmpty(entries);
            await Follow(entries, eager, lazyRoots, Get);
        }

        var lazy = new HashSet<string>(StringComparer.Ordinal);
        await Follow(lazyRoots.Where(p => !eager.Contains(p)), lazy, lazyRoots, Get);
        lazy.ExceptWith(eager);

        var strength = lazy.Where(IsStrengthChunk).ToList();
        var mailCrypto = lazy.Where(IsMailCryptoChunk).ToList();
        var counted = eager.Concat(lazy.Where(p => !IsStrengthChunk(p) && !IsMailCryptoChunk(p))).ToList();
        long countedBytes = counted.Sum(p => Gzipped(files[p]));
        long strengthBytes = strength.Sum(p => Gzipped(files[p]));
        long mailCryptoBytes = mailCrypto.Sum(p => Gzipped(files[p]));
        var report = string.Join("\n", counted.Concat(strength).Concat(mailCrypto).Select(p => $"  {p}: {Gzipped(files[p]) / 1024.0:F1} KiB gz{(eager.Contains(p) ? " (eager)" : " (lazy)")}"));

        Assert.DoesNotContain(eager, IsStrengthChunk);
        Assert.DoesNotContain(eager, IsMailCryptoChunk);
        Assert.True(strength.Count > 0, "the strength dictionaries are not a lazy strength-*.js chunk any more:\n" + report);
        Assert.True(countedBytes <= BudgetBytes, $"app JavaScript {countedBytes / 1024.0:F1} KiB gz > {BudgetBytes / 1024} KiB:\n{report}");
        Assert.True(strengthBytes <= StrengthBudgetBytes, $"strength dictionaries {strengthBytes / 1024.0:F1} KiB gz > {StrengthBudgetBytes / 1024} KiB:\n{report}");
        Assert.True(mailCrypto.Count > 0, "the mail worker is not a lazy mail.worker-*.js chunk any more:\n" + report);
        Assert.True(mailCryptoBytes <= MailCryptoBudgetBytes, $"mail worker {mailCryptoBytes / 1024.0:F1} KiB gz > {MailCryptoBudgetBytes / 1024} KiB:\n{report}");
    }

    private static bool IsStrengthChunk(string path) => Path.GetFileName(path).StartsWith("strength-", StringComparison.Ordinal);

    private static bool IsMailCryptoChunk(string path) => Path.GetFileName(path).StartsWith("mail.worker-", StringComparison.Ordinal);

    /// <summary>Adds <paramref name="roots"/> and everything they load at once (static imports, workers) to <paramref name="into"/>; dynamic imports go to <paramref name="dynamic"/>.</summary>
    private static async Task Follow(IEnumerable<string> roots, HashSet<string> into, HashSet<string> dynamic, Func<string, Task<string>> get)
    {
        var queue = new Queue<string>(roots);
        while (queue.TryDequeue(out var path))
        {
            if (!into.Add(path))
            {
                continue;
            }

            var text = await get(path);
            foreach (Match m in StaticImport().Matches(text).Concat(WorkerUrl().Matches(text)))
            {
                queue.Enqueue(Resolve(path, m.Groups["src"].Value));
            }

            foreach (Match m in DynamicImport().Matches(text))
            {
                dynamic.Add(Resolve(path, m.Groups["src"].Value));
            }
        }
    }

    private static string Resolve(string from, string src) =>
        src.StartsWith('/') ? src : new Uri(new Uri("http://x" + from), src).AbsolutePath;

    private static long Gzipped(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(text));
        }

        return buffer.Length;
    }

    [GeneratedRegex(@"<(?:script[^>]*\ssrc|link[^>]*rel=""modulepreload""[^>]*\shref)=""(?<src>[^""]+\.js)""")]
    private static partial Regex PageScripts();

    [GeneratedRegex("""(?:\bfrom|\bimport)\s*["'`](?<src>\.{1,2}/[^"'`]+\.js)["'`]""")]
    private static partial Regex StaticImport();

    // A worker started from a worker (the Argon2 lane workers) is written `new URL(/* @vite-ignore */ "…")`.
    [GeneratedRegex("""new URL\(\s*(?:/\*[^*]*\*/\s*)?["'`](?<src>[^"'`]+\.js)["'`]""")]
    private static partial Regex WorkerUrl();

    [GeneratedRegex("""\bimport\(\s*["'`](?<src>[^"'`]+\.js)["'`]\s*\)""")]
    private static partial Regex DynamicImport();
}
