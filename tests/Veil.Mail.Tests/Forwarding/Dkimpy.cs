using System.Diagnostics;
using System.Text;

namespace Veil.Mail.Tests.Forwarding;

/// <summary>Debian's dkimpy (python3-dkim) as the independent verifier, with the key record supplied offline.</summary>
internal static class Dkimpy
{
    private const string Python = "/usr/bin/python3";

    private const string VerifyScript = """
        import sys, dkim
        msg = open(sys.argv[1], 'rb').read()
        rec = open(sys.argv[2], 'rb').read()
        ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: rec)
        print('PASS' if ok else 'FAIL')
        """;

    /// <summary>"PASS" or "FAIL" as dkimpy judges the first signature of <paramref name="message"/>.</summary>
    public static async Task<string> VerifyAsync(byte[] message, string keyRecord)
    {
        await RequireAsync();
        var dir = Directory.CreateTempSubdirectory("veil-fwd-dkim-");
        try
        {
            var messagePath = Path.Combine(dir.FullName, "message");
            var recordPath = Path.Combine(dir.FullName, "record");
            await File.WriteAllBytesAsync(messagePath, message);
            await File.WriteAllTextAsync(recordPath, keyRecord, Encoding.ASCII);
            var (code, stdout, stderr) = await RunAsync(["-c", VerifyScript, messagePath, recordPath]);
            Assert.True(code == 0, $"python3 exited {code}: {stderr}");
            return stdout.Trim();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Fails the test (never skips) when dkimpy is not installed.</summary>
    public static async Task RequireAsync()
    {
        var (check, _, _) = await RunAsync(["-c", "import dkim"]);
        if (check != 0)
        {
            var ci = Environment.GetEnvironmentVariable("CI") == "true" ? " (CI=true: the test script must install it)" : "";
            Assert.Fail($"The DKIM peer (dkimpy) is missing{ci}: run `apt-get install -y python3-dkim` (Debian's module, used through /usr/bin/python3).");
        }
    }

    /// <summary>Runs /usr/bin/python3 with <paramref name="args"/> (a generous bound against a wedged child, no timing asserted).</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        // A generous bound only so a wedged child cannot hang the run; no timing is asserted.
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
