using System.Diagnostics;
using System.Text.RegularExpressions;
using Veil.Server.Tests.Kit;
using static Veil.Cli.Tests.CliAccounts;

namespace Veil.Cli.Tests.Mailbox;

/// <summary>
/// Issue 17, point 3: "crash after 250 before sealing → sealed after restart, exactly once", with `veil serve --smtp`
/// as a real process killed by SIGKILL (as SmtpCrashSafetyTests does for the spool). To be sure the kill falls after
/// the 250 and before the sealing, the run that takes the message has no Mailbox sink (the mail domain is accepted by
/// the development resolver instead), so the message can only be in the spool when the process dies. The next run
/// has the mail domain: it must seal the message once; a further restart must not store it again.
/// </summary>
[Collection(AccountVerbsTestGroup.Name)]
public sealed partial class MailboxCrashTests : IDisposable
{
    private const string Domain = "mail.example";
    private const string Email = "crash-owner@example.org";
    private readonly string _root = Directory.CreateTempSubdirectory("veil-mail-crash-").FullName;

    private string DataDirectory => Path.Combine(_root, "data");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Serve_KilledAfter250BeforeSealing_MessageIsSealedAfterRestartExactlyOnce()
    {
        Assert.True(File.Exists("/usr/bin/swaks"), "swaks is required for this test");
        await using var database = await TestDatabase.CreateAsync(CancellationToken.None); // VEIL_TEST_DATABASE=postgres runs it on PostgreSQL
        var marker = "mail-crash-" + Guid.NewGuid().ToString("N")[..12];
        var address = "crash@" + Domain;
        var config = Path.Combine(_root, "config");

        using (var setup = StartServe(database.ConnectionString, mailbox: true))
        {
            var cli = new VeilCli(await setup.WaitForListeningAsync(TimeSpan.FromSeconds(90)), config);
            Ok(await cli.RunAsync(["account", "register", "--email", Email, "--password-stdin"], StrongPassword + "\n"));
            Ok(await cli.RunAsync(["account", "verify", await OutboxLinkAsync(Email, "/verify-email#")]));
            Ok(await cli.RunAsync(["account", "login", "--email", Email, "--password-stdin"], StrongPassword + "\n"));
            Ok(await cli.RunAsync(["mail", "address", "add", address, "--password-stdin"], StrongPassword + "\n"));
        }

        using (var first = StartServe(database.ConnectionString, mailbox: false))
        {
            await first.WaitForListeningAsync(TimeSpan.FromSeconds(90));
            var swaks = await SwaksAsync(SmtpLine().Match(first.Stdout).Groups[1].Value, address, marker);
            Assert.True(swaks.Exit == 0, swaks.Output);
            Assert.Matches(@"<[-~]  250 2\.0\.0 ", swaks.Output);
        } // SIGKILL: no shutdown code runs.

        Assert.Equal(1, Veil.Mail.Spool.FileSpool.CountPending(DataDirectory));

        for (var restart = 0; restart < 2; restart++)
        {
            using var serve = StartServe(database.ConnectionString, mailbox: true);
            var cli = new VeilCli(await serve.WaitForListeningAsync(TimeSpan.FromSeconds(90)), config);
            Ok(await cli.RunAsync(["account", "login", "--email", Email, "--password-stdin"], StrongPassword + "\n")); // a new port
            var clock = Stopwatch.StartNew();
            while (Veil.Mail.Spool.FileSpool.CountPending(DataDirectory) > 0 && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(100);
            }

            Assert.Equal(0, Veil.Mail.Spool.FileSpool.CountPending(DataDirectory));
            var listed = Ok(await cli.RunAsync(["mail", "list", "--json", "--password-stdin"], StrongPassword + "\n"));
            var message = Assert.Single(listed.Json.Single().GetProperty("messages").EnumerateArray());
            Assert.Equal(marker, message.GetProperty("summary").GetProperty("subject").GetString());
            var read = Ok(await cli.RunAsync(["mail", "read", message.GetProperty("id").GetString()!, "--json", "--password-stdin"], StrongPassword + "\n"));
            var shown = read.Event("message").GetProperty("message");
            Assert.StartsWith("order " + marker, shown.GetProperty("text").GetString(), StringComparison.Ordinal);
            Assert.Contains(shown.GetProperty("headers").EnumerateArray(), h => h.GetProperty("name").GetString() == "Subject" && h.GetProperty("value").GetString() == marker);
        }
    }

    private VeilProcess StartServe(string? postgres, bool mailbox)
    {
        var environment = new Dictionary<string, string>();
        if (mailbox)
        {
            environment["Veil__Mail__Domains__0"] = Domain;
        }
        else
        {
            environment["Veil__Mail__Smtp__AcceptDomains"] = Domain;
        }

        if (postgres is not null)
        {
            environment["ConnectionStrings__Postgres"] = postgres;
        }

        return VeilProcess.Start(["serve", "--data", DataDirectory, "--http", "http://127.0.0.1:0", "--smtp", "127.0.0.1:0"], environment);
    }

    private async Task<string> OutboxLinkAsync(string to, string marker)
    {
        var clock = Stopwatch.StartNew();
        var outbox = Path.Combine(DataDirectory, "outbox");
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            foreach (var file in Directory.Exists(outbox) ? Directory.GetFiles(outbox, "*.eml") : [])
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

        throw new TimeoutException($"no outbox mail with a {marker} link");
    }

    private static async Task<(int Exit, string Output)> SwaksAsync(string server, string to, string subject)
    {
        var start = new ProcessStartInfo("swaks") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--server", server, "--from", "shop@sender.test", "--to", to, "--header", "Subject: " + subject, "--body", "order " + subject, "--timeout", "60" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"Veil SMTP is listening on (\S+)")]
    private static partial Regex SmtpLine();

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();
}
