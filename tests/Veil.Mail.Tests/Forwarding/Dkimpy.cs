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

    private const string VerifyManyScript = """
        import sys, dkim
        rec = open(sys.argv[1], 'rb').read()
        for path in sys.argv[2:]:
            msg = open(path, 'rb').read()
            try:
                dkim.rfc822_parse(msg)
            except dkim.MessageFormatError:
                print('MALFORMED')
                continue
            if rec == b'':
                print('PARSED')
                continue
            ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: rec)
            print('PASS' if ok else 'FAIL')
        """;

    /// <summary>
    /// Per message (in order), from one dkimpy process for all of them: "PASS" or "FAIL" as dkimpy judges its first
    /// signature, or "MALFORMED" when dkimpy cannot read its header block at all (a line that is no field). With an
    /// empty <paramref name="keyRecord"/> only the reading is checked: "PARSED" or "MALFORMED".
    /// </summary>
    public static async Task<IReadOnlyList<string>> VerifyManyAsync(IReadOnlyList<byte[]> messages, string keyRecord)
    {
        await RequireAsync();
        var dir = Directory.CreateTempSubdirectory("veil-fwd-dkim-");
        try
        {
            var recordPath = Path.Combine(dir.FullName, "record");
            await File.WriteAllTextAsync(recordPath, keyRecord, Encoding.ASCII);
            var args = new List<string> { "-c", VerifyManyScript, recordPath };
            for (var i = 0; i < messages.Count; i++)
            {
                var path = Path.Combine(dir.FullName, i.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".eml");
                await File.WriteAllBytesAsync(path, messages[i]);
                args.Add(path);
            }

            var (code, stdout, stderr) = await RunAsync(args);
            Assert.True(code == 0, $"python3 exited {code}: {stderr}");
            var verdicts = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(messages.Count, verdicts.Length);
            return verdicts;
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
