using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using System.Text.RegularExpressions;
using Veil.Server.Tests.Kit;

namespace Veil.Cli.Tests.Mail;

/// <summary>
/// `veil serve` with an alias domain (issue 15, point 4): in development it says where mail goes (the .eml outbox) and
/// prints the DNS record of the DKIM key it created for the domain, the record `veil admin dkim show` prints too; in
/// production without a smarthost it refuses to start, naming the setting.
/// </summary>
[UnsupportedOSPlatform("windows")] // SIGTERM
[Collection(AccountVerbsTestGroup.Name)]
public sealed partial class ServeMailDefaultTests : IDisposable
{
    private static readonly string[] KeyNames = ["field", "index", "session", "refresh", "recovery", "reply", "srs", "escrow", "report", "chat", "transparency"];
    private readonly string _root = Directory.CreateTempSubdirectory("veil-cli-mail-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Data => Path.Combine(_root, "data");

    [Fact]
    public async Task Serve_DevelopmentAliasDomain_PrintsOutboxAndTheDkimRecordAdminDkimShows()
    {
        var environment = new Dictionary<string, string> { ["Veil__Alias__Domains__0"] = "alias.test" };
        string printed;
        using (var veil = VeilProcess.Start(["serve", "--data", Data, "--http", "http://127.0.0.1:0"], environment))
        {
            await veil.WaitForListeningAsync(TimeSpan.FromSeconds(30));
            await WaitForLineAsync(veil, "Press Ctrl-C to stop.");
            printed = veil.Stdout;
            await veil.TerminateAsync();
            Assert.Equal(0, await veil.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }

        Assert.Contains($"Outgoing mail (no smarthost, Veil:Mail:Smarthost): written as .eml files to {Path.Combine(Data, "outbox")}", printed, StringComparison.Ordinal);
        var line = DkimLine().Match(printed);
        Assert.True(line.Success, printed);
        var shown = await new VeilCli(null, Path.Combine(_root, "config")).RunAsync(["admin", "dkim", "show", "alias.test", "--data", Data, "--json"]);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        var key = Assert.Single(shown.Json);
        Assert.Equal(line.Groups["name"].Value, key.GetProperty("name").GetString());
        Assert.Equal(line.Groups["value"].Value, key.GetProperty("value").GetString());

        // A second start keeps the key: the published record stays valid.
        using (var again = VeilProcess.Start(["serve", "--data", Data, "--http", "http://127.0.0.1:0"], environment))
        {
            await again.WaitForListeningAsync(TimeSpan.FromSeconds(30));
            await WaitForLineAsync(again, "Press Ctrl-C to stop.");
            Assert.Equal(line.Value, DkimLine().Match(again.Stdout).Value);
            await again.TerminateAsync();
            await again.WaitForExitAsync(TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public async Task Serve_DevelopmentNoSmarthost_MailToAliasLandsInOutboxSignedAndDkimpyVerifiesAgainstPrintedRecord()
    {
        const string Email = "dana@example.org", Mailbox = "dana.home@example.net", Password = "correct horse battery staple";
        Assert.True(File.Exists("/usr/bin/swaks"), "swaks is required for this test (apt-get install swaks)");
        using var veil = VeilProcess.Start(["serve", "--data", Data, "--http", "http://127.0.0.1:0", "--smtp", "127.0.0.1:0"],
            new Dictionary<string, string> { ["Veil__Alias__Domains__0"] = "alias.test" });
        var http = await veil.WaitForListeningAsync(TimeSpan.FromSeconds(60));
        await WaitForLineAsync(veil, "Press Ctrl-C to stop.");
        var smtp = SmtpLine().Match(veil.Stdout).Groups[1].Value;
        var record = DkimLine().Match(veil.Stdout).Groups["value"].Value;
        Assert.NotEmpty(record);
        var cli = new VeilCli(http, Path.Combine(_root, "config"));
        Ok(await cli.RunAsync(["account", "register", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
        Ok(await cli.RunAsync(["account", "verify", await OutboxLinkAsync(Email, "/verify-email#"), "--json"]));
        Ok(await cli.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
        Ok(await cli.RunAsync(["recipient", "add", Mailbox, "--json"]));
        Ok(await cli.RunAsync(["recipient", "verify", await OutboxLinkAsync(Mailbox, "/alias/verify/"), "--json"]));
        var alias = Ok(await cli.RunAsync(["alias", "create", "--json"])).Event("alias-created").GetProperty("alias").GetProperty("address").GetString()!;

        var swaks = await RunAsync("/usr/bin/swaks", ["--server", smtp, "--from", "shop@sender.test", "--to", alias, "--header", "Subject: order 42",
            "--add-header", "Content-Type: text/html; charset=utf-8", "--body", "<p>Thanks</p>\n<img src=\"https://t.example/o.gif\" width=\"1\" height=\"1\">\n", "--timeout", "60"]);
        Assert.True(swaks.Code == 0, swaks.Output);

        var forwarded = await WaitForOutboxAsync($"Delivered-To: {Mailbox}\r\n");
        Assert.Contains("Subject: order 42", Encoding.UTF8.GetString(forwarded), StringComparison.Ordinal);
        Assert.Contains("X-Veil-Trackers-Removed: 1", Encoding.UTF8.GetString(forwarded), StringComparison.Ordinal);
        var dir = Directory.CreateTempSubdirectory("veil-dkim-");
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(dir.FullName, "m"), forwarded);
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "r"), record);
            var verified = await RunAsync("/usr/bin/python3", ["-c", "import sys, dkim\nm = open(sys.argv[1], 'rb').read()\nr = open(sys.argv[2], 'rb').read()\nprint('PASS' if dkim.verify(m, dnsfunc=lambda name, timeout=5: r) else 'FAIL')",
                Path.Combine(dir.FullName, "m"), Path.Combine(dir.FullName, "r")]);
            Assert.True(verified.Output.Trim() == "PASS", verified.Output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }

        var shown = Ok(await cli.RunAsync(["alias", "show", alias, "--json"])).Event("alias").GetProperty("alias").GetProperty("counters");
        Assert.Equal(1, shown.GetProperty("received").GetInt64());
        Assert.Equal(1, shown.GetProperty("forwarded").GetInt64());
        await veil.TerminateAsync();
        await veil.WaitForExitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Serve_ProductionAliasDomainWithoutSmarthost_RefusesNamingTheSetting()
    {
        var environment = KeyNames.ToDictionary(n => $"Veil__Keys__{n}", n => Convert.ToBase64String(Enumerable.Repeat((byte)n.Length, 32).ToArray()));
        environment["Veil__Alias__Domains__0"] = "alias.test";
        using var veil = VeilProcess.Start(["serve", "--production", "--data", Data, "--http", "http://127.0.0.1:0"], environment);

        var exitCode = await veil.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(veil.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("veil: Veil:Mail:Smarthost (env Veil__Mail__Smarthost) is not set", line, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", veil.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The last link containing <paramref name="marker"/> in an outbox mail to <paramref name="to"/> (polls: mail is written after the reply).</summary>
    private async Task<string> OutboxLinkAsync(string to, string marker)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            foreach (var file in Directory.Exists(Path.Combine(Data, "outbox")) ? Directory.GetFiles(Path.Combine(Data, "outbox"), "*.eml") : [])
            {
                var raw = await File.ReadAllTextAsync(file);
                if (raw.Contains(to, StringComparison.OrdinalIgnoreCase)
                    && LinkPattern().Matches(OutboxMail.Parse("outbox", raw).TextBody).Select(m => m.Value).LastOrDefault(l => l.Contains(marker, StringComparison.Ordinal)) is { } link)
                {
                    return link;
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"no outbox mail to {to} with a {marker} link");
    }

    private async Task<byte[]> WaitForOutboxAsync(string marker)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            foreach (var file in Directory.GetFiles(Path.Combine(Data, "outbox"), "*.eml"))
            {
                var bytes = await File.ReadAllBytesAsync(file);
                if (Encoding.UTF8.GetString(bytes).Contains(marker, StringComparison.Ordinal))
                {
                    return bytes;
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the forwarded copy never reached the outbox");
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static CliResult Ok(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    [GeneratedRegex(@"Veil SMTP is listening on (\S+)")]
    private static partial Regex SmtpLine();

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();

    private static async Task WaitForLineAsync(VeilProcess veil, string text)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!veil.Stdout.Contains(text, StringComparison.Ordinal))
        {
            await Task.Delay(50, deadline.Token);
        }
    }

    [GeneratedRegex("DKIM for alias\\.test: publish TXT (?<name>veil[0-9]{6}\\._domainkey\\.alias\\.test) \"(?<value>v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+)\"")]
    private static partial Regex DkimLine();
}
