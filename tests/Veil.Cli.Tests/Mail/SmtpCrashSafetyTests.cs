using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Veil.Cli.Tests.Mail;

/// <summary>
/// `veil serve --smtp` as a real process, fed by swaks, killed with SIGKILL after it answered 250:
/// the message must survive in the spool exactly once and reach the sink after a restart.
/// </summary>
public sealed partial class SmtpCrashSafetyTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "veil-smtp-crash-" + Guid.NewGuid().ToString("N"));

    private string DataDirectory => Path.Combine(_root, "data");

    private string SinkDirectory => Path.Combine(_root, "sink");


    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_KilledAfter250_MessageStaysSpooledOnceAndReachesTheSinkAfterRestart()
    {
        string marker = "crash-safety-" + Guid.NewGuid().ToString("N");

        // First run: no sink, so the accepted message can only be in the spool when the process dies.
        using (var first = StartServe(sinkDirectory: null))
        {
            string smtp = await WaitForSmtpAsync(first);
            var swaks = await SwaksAsync(smtp, marker);
            Assert.True(swaks.ExitCode == 0, swaks.Output);
            Assert.Matches(@"<[-~]  250 2\.0\.0 ", swaks.Output); // the reply to the end of DATA
        } // Dispose kills the process tree with SIGKILL: no shutdown code runs.

        var spool = new Veil.Mail.Spool.FileSpool(DataDirectory); // reads what the killed process left, as a restart does
        var spooled = Assert.Single(await spool.PendingAsync(CancellationToken.None));
        using (var content = new StreamReader(spool.OpenContent(spooled.Id)))
        {
            Assert.Contains(marker, await content.ReadToEndAsync(), StringComparison.Ordinal);
        }

        using (var second = StartServe(SinkDirectory))
        {
            await WaitForSmtpAsync(second);
            var delivered = await WaitForFilesAsync(SinkDirectory, "*.eml", TimeSpan.FromSeconds(90));
            Assert.Single(delivered);
            Assert.Contains(marker, await File.ReadAllTextAsync(delivered[0]), StringComparison.Ordinal);
            Assert.Equal(spooled.Id.Value, Path.GetFileNameWithoutExtension(delivered[0]));
            var clock = Stopwatch.StartNew();
            while (Veil.Mail.Spool.FileSpool.CountPending(DataDirectory) > 0 && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100);
            Assert.Equal(0, Veil.Mail.Spool.FileSpool.CountPending(DataDirectory));
        }
    }

    [Fact]
    public async Task Serve_BadSmtpAddress_IsRefusedBeforeStarting()
    {
        using var serve = VeilProcess.Start(["serve", "--data", DataDirectory, "--http", "http://127.0.0.1:0", "--smtp", "localhost"]);
        Assert.Equal(2, await serve.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("--smtp must be ADDR:PORT", serve.Stderr, StringComparison.Ordinal);
    }

    private VeilProcess StartServe(string? sinkDirectory)
    {
        var environment = new Dictionary<string, string> { ["Veil__Mail__Smtp__AcceptDomains"] = "example.org" };
        if (sinkDirectory is not null)
        {
            environment["Veil__Mail__Smtp__DevelopmentSinkDirectory"] = sinkDirectory;
        }

        return VeilProcess.Start(["serve", "--data", DataDirectory, "--http", "http://127.0.0.1:0", "--smtp", "127.0.0.1:0"], environment);
    }

    private static async Task<string> WaitForSmtpAsync(VeilProcess serve)
    {
        await serve.WaitForListeningAsync(TimeSpan.FromSeconds(90));
        var match = SmtpLine().Match(serve.Stdout);
        Assert.True(match.Success, serve.Stdout);
        return match.Groups[1].Value;
    }

    private static async Task<(int ExitCode, string Output)> SwaksAsync(string server, string marker)
    {
        var info = new ProcessStartInfo("swaks") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--server", server, "--from", "sender@sender.test", "--to", "someone@example.org", "--header", "Subject: " + marker, "--body", marker, "--timeout", "60" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static async Task<string[]> WaitForFilesAsync(string directory, string pattern, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var files = Directory.Exists(directory) ? Directory.GetFiles(directory, pattern) : [];
            if (files.Length > 0 || clock.Elapsed > timeout)
            {
                return files;
            }

            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"Veil SMTP is listening on (\S+)")]
    private static partial Regex SmtpLine();
}
