using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Veil.Mail.Tests;

/// <summary>
/// The probes in <c>test.sh</c> decide what a fresh machine installs. They once checked only that the swaks binary
/// existed, so a new machine got swaks without the Perl module its STARTTLS needs and 17 tests failed there while
/// passing on a machine where the module had been installed by hand. These tests check the probes themselves: that a
/// missing module is reported, that every Python module a test peer imports has a probe, and that the peers really
/// have the capabilities the tests use.
/// </summary>
public sealed partial class PeerProbeTests
{
    private static readonly bool Ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    [Fact]
    public async Task EnsurePackagesCheck_MissingPerlAndPythonModules_AreReported()
    {
        var (exit, output) = await RunAsync(Path.Combine(RepositoryRoot(), "scripts", "ensure-packages.sh"),
            ["--check", "veil-no-perl:perl:Veil::No::Such::Module", "veil-no-python:python3:veil_no_such_module",
             "perl-base:perl:strict", "python3-minimal:python3:json"]);

        Assert.Equal(1, exit);
        Assert.Contains("veil-no-perl:perl:Veil::No::Such::Module", output, StringComparison.Ordinal);
        Assert.Contains("veil-no-python:python3:veil_no_such_module", output, StringComparison.Ordinal);
        Assert.DoesNotContain("perl-base", output, StringComparison.Ordinal);
        Assert.DoesNotContain("python3-minimal", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsurePackagesCheck_AllPresent_ExitsZero()
    {
        var (exit, output) = await RunAsync(Path.Combine(RepositoryRoot(), "scripts", "ensure-packages.sh"),
            ["--check", "perl-base:perl:strict", "coreutils:ls", "python3-minimal:python3:json"]);

        Assert.True(exit == 0, output);
    }

    /// <summary>Every non-standard Python module imported by a peer script or an inline peer in a test has a probe.</summary>
    [Fact]
    public async Task TestScript_ProbesEveryPythonModuleThePeersImport()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            Assert.False(Ci, "/usr/bin/python3 is required under CI");
            return;
        }

        var root = RepositoryRoot();
        var imported = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in PeerSources(root))
        {
            foreach (Match m in PythonImport().Matches(File.ReadAllText(file)))
            {
                var names = m.Groups["from"].Success ? [m.Groups["from"].Value] : m.Groups["names"].Value.Split(',');
                foreach (var name in names)
                {
                    var top = name.Trim().Split(' ')[0].Split('.')[0];
                    if (top.Length > 0) imported.Add(top);
                }
            }
        }

        var (_, stdlibText) = await RunAsync("/usr/bin/python3", ["-c", "import sys; print('\\n'.join(sorted(sys.stdlib_module_names)))"]);
        var stdlib = stdlibText.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var probed = ProbedPython().Matches(File.ReadAllText(Path.Combine(root, "test.sh")))
            .Select(m => m.Groups["module"].Value.Split('.')[0]).ToHashSet(StringComparer.Ordinal);

        Assert.Contains("dkim", imported); // the scan itself finds the peers' imports
        var unprobed = imported.Where(name => !stdlib.Contains(name) && !probed.Contains(name)).ToList();
        Assert.True(unprobed.Count == 0,
            "test.sh installs no package for these imported Python modules (add 'package:python3:module' probes): " + string.Join(", ", unprobed));
    }

    /// <summary>swaks sends with STARTTLS in several tests; without Net::SSLeay it only says "TLS not available".</summary>
    [Fact]
    public async Task Swaks_SupportsTheTlsTheTestsUse()
    {
        if (!File.Exists("/usr/bin/swaks"))
        {
            Assert.False(Ci, "swaks is required under CI (test.sh installs it)");
            return;
        }

        var (_, output) = await RunAsync("/usr/bin/swaks", ["--support"]);

        Assert.Contains("TLS supported", output, StringComparison.Ordinal);
    }

    /// <summary>The Python peers import what test.sh installs (dkimpy with PyNaCl for Ed25519, aiosmtpd, pyca/cryptography).</summary>
    [Theory]
    [InlineData("dkim")]
    [InlineData("nacl.signing")]
    [InlineData("aiosmtpd.controller")]
    [InlineData("cryptography.hazmat.primitives.ciphers.aead")]
    public async Task PythonPeer_ModuleImports(string module)
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            Assert.False(Ci, "/usr/bin/python3 is required under CI");
            return;
        }

        var (exit, output) = await RunAsync("/usr/bin/python3", ["-c", "import " + module]);
        if (exit != 0) Assert.False(Ci, $"python3 cannot import {module} under CI: {output}");
    }

    private static IEnumerable<string> PeerSources(string root)
    {
        bool Built(string path) => path.Contains("/bin/", StringComparison.Ordinal) || path.Contains("/obj/", StringComparison.Ordinal)
            || path.Contains("/node_modules/", StringComparison.Ordinal);

        foreach (var py in Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.py", SearchOption.AllDirectories).Where(p => !Built(p)))
            yield return py;
        foreach (var py in Directory.EnumerateFiles(Path.Combine(root, "spec"), "*.py", SearchOption.AllDirectories))
            yield return py;
        foreach (var sh in Directory.EnumerateFiles(Path.Combine(root, "spec"), "*.sh", SearchOption.AllDirectories))
            yield return sh;
        foreach (var cs in Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.cs", SearchOption.AllDirectories).Where(p => !Built(p)))
        {
            // Inline Python peers live in raw strings of files that start /usr/bin/python3.
            if (File.ReadAllText(cs).Contains("python3", StringComparison.Ordinal) && !cs.EndsWith(nameof(PeerProbeTests) + ".cs", StringComparison.Ordinal))
                yield return cs;
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException(program + " did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Veil.slnx"))) return dir.FullName;
        }

        throw new InvalidOperationException("Veil.slnx not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^[ \t]*(?:from[ \t]+(?<from>[A-Za-z_][\w.]*)[ \t]+import\b|import[ \t]+(?<names>[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*))", RegexOptions.Multiline)]
    private static partial Regex PythonImport();

    [GeneratedRegex(@":python3:(?<module>[A-Za-z_][\w.]*)")]
    private static partial Regex ProbedPython();
}
