// OpenPGP.js 6.3 in node (tests/peers/openpgpjs, installed by test.sh): the second independent OpenPGP peer.
using System.Diagnostics;

namespace Veil.Crypto.Tests.OpenPgp;

internal static class OpenPgpJs
{
    public static string PeerDirectory
    {
        get
        {
            for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "tests", "peers", "openpgpjs");
                if (File.Exists(Path.Combine(candidate, "peer.mjs")))
                {
                    // Probe the module, not the binary: node without the package fails every test below otherwise.
                    Assert.True(
                        File.Exists(Path.Combine(candidate, "node_modules", "openpgp", "package.json")),
                        $"OpenPGP.js is not installed: run 'npm ci --prefix {candidate}' (test.sh does).");
                    return candidate;
                }
            }

            throw new InvalidOperationException("tests/peers/openpgpjs not found above the test binaries");
        }
    }

    public static async Task<string> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(PeerDirectory, "peer.mjs"));
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"node peer.mjs {string.Join(' ', args)} failed: {await stderr}");
        return await stdout;
    }
}
