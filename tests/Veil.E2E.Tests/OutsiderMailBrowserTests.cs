using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Veil.Cli.Tests;
using Veil.Crypto.Mailbox;
using Veil.Crypto.Primitives;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Tests.Kit;

namespace Veil.E2E.Tests;

/// <summary>
/// Password mail to an outsider (issue 17 point 6, second half), end to end: a `veil` user sends mail with an outsider
/// password; the server's outbound queue delivers the notice to a real SMTP sink on loopback; its link opens in
/// Chromium, where a wrong password is refused and the right one shows subject, body and attachment (downloaded
/// byte-identical); the outsider replies and `veil mail read` on the sender shows the reply. Every request the browser
/// sends is recorded: none carries the password, the derived key, the reply key or any plaintext.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed partial class OutsiderMailBrowserTests(Browser browser) : IAsyncLifetime
{
    private const string Domain = "mail.example";
    private const string AccountPassword = "correct horse battery staple";
    private const string MailPassword = "otter-lantern-91-canary";
    private const string Outsider = "friend@elsewhere.test";

    private readonly string _root = Directory.CreateTempSubdirectory("veil-pwmail-e2e-").FullName;
    private readonly List<string> _sent = [];
    private readonly List<string> _console = [];
    private FileSpool _sink = null!;
    private SmtpListener _listener = null!;
    private VeilTestServer _server = null!;
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _sink = new FileSpool(Path.Combine(_root, "sink"));
        _listener = new SmtpServer(new SmtpServerOptions(), new AcceptAll(), _sink, TimeProvider.System).Listen(new IPEndPoint(IPAddress.Loopback, 0));
        _server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Mail:Domains:0"] = Domain;
            o.Settings["Veil:Mail:Smarthost"] = "127.0.0.1:" + _listener.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture);
            o.Settings["Veil:Mail:SmarthostTls"] = "None";
        });
        _context = await browser.NewContextAsync();
        _context.Request += (_, request) =>
        {
            var seen = request.Method + " " + request.Url + "\n" + string.Join("\n", request.Headers.Select(h => h.Key + ": " + h.Value)) + "\n" + request.PostData;
            lock (_sent)
            {
                _sent.Add(seen);
            }
        };
        _page = await _context.NewPageAsync();
        _page.Console += (_, message) =>
        {
            lock (_console)
            {
                _console.Add($"{message.Type}: {message.Text}");
            }
        };
        _page.PageError += (_, error) =>
        {
            lock (_console)
            {
                _console.Add("pageerror: " + error);
            }
        };
    }

    public async Task DisposeAsync()
    {
        if (_context is not null)
        {
            await _context.DisposeAsync();
        }

        await _server.DisposeAsync();
        await _listener.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [ChromiumFact]
    public async Task OutsiderOpensPasswordMailInChromium_WrongPasswordRefused_AttachmentByteIdentical_ReplyReadBySender()
    {
        var subject = "Quarterly figures " + Hex(4);
        var body = "Hello friend, the canary body " + Hex(6) + " is here.";
        var fileName = "figures-" + Hex(4) + ".bin";
        var file = RandomNumberGenerator.GetBytes(30_000);
        var sender = await UserAsync("alice");
        var passwordFile = Path.Combine(_root, "mail-password");
        await File.WriteAllTextAsync(passwordFile, MailPassword + "\n");
        var attachment = Path.Combine(_root, fileName);
        await File.WriteAllBytesAsync(attachment, file);
        Ok(await sender.Cli.RunAsync(
            ["mail", "send", "--to", Outsider, "--subject", subject, "--body", body, "--attach", attachment, "--outsider-password-file", passwordFile,
             "--password-hint", "the river animal", "--json", "--password-stdin"], AccountPassword + "\n"));

        // The notice: a link and the hint, nothing of the message.
        var notice = await SunkAsync(Outsider);
        Assert.DoesNotContain(subject, notice, StringComparison.Ordinal);
        Assert.DoesNotContain("canary body", notice, StringComparison.Ordinal);
        Assert.DoesNotContain(MailPassword, notice, StringComparison.Ordinal);
        var link = LinkPattern().Match(notice.Replace("=\r\n", "", StringComparison.Ordinal)).Value;
        Assert.NotEmpty(link);

        var response = await _page.GotoAsync(new Uri(_server.BaseAddress, new Uri(link).AbsolutePath).ToString());
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        await _page.GetByRole(AriaRole.Heading, new() { Name = "A password-protected message" }).WaitForAsync();
        var passwordBox = _page.GetByLabel("Password", new() { Exact = true });
        await passwordBox.WaitForAsync();
        await AssertAccessibleAsync();
        await ScreenshotAsync("pwmail-ask");

        // A wrong password: refused in a sentence, and tried on the ciphertext already in the page.
        await passwordBox.FillAsync("not-the-password");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Open the message" }).ClickAsync();
        await _page.GetByText("That password does not open this message").WaitForAsync(new() { Timeout = 120_000 });
        await AssertAccessibleAsync();
        await ScreenshotAsync("pwmail-wrong");

        await passwordBox.FillAsync(MailPassword);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Open the message" }).ClickAsync();
        await _page.GetByRole(AriaRole.Heading, new() { Name = subject }).WaitForAsync(new() { Timeout = 120_000 });
        var text = await _page.InnerTextAsync("main");
        Assert.Contains(body, text, StringComparison.Ordinal);
        Assert.Contains(sender.Address, text, StringComparison.Ordinal);
        await AssertAccessibleAsync();
        await ScreenshotAsync("pwmail-open");

        var download = await _page.RunAndWaitForDownloadAsync(() => _page.GetByRole(AriaRole.Button, new() { Name = "Download " + fileName }).ClickAsync());
        Assert.Equal(fileName, download.SuggestedFilename);
        var saved = Path.Combine(_root, "downloaded.bin");
        await download.SaveAsAsync(saved);
        Assert.Equal(file, await File.ReadAllBytesAsync(saved));

        var replyText = "Thanks, reply canary " + Hex(6);
        await _page.GetByLabel("Your reply to").FillAsync(replyText);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Send the reply" }).ClickAsync();
        await _page.GetByText("Your reply was encrypted in this page and sent").WaitForAsync();
        await ScreenshotAsync("pwmail-replied");

        // The sender reads the reply with the reply key from its sealed reply summary.
        var list = Ok(await sender.Cli.RunAsync(["mail", "list", "--json", "--password-stdin"], AccountPassword + "\n")).Json.Single().GetProperty("messages").EnumerateArray();
        var replyRow = list.Single(m => m.GetProperty("summary").ValueKind == JsonValueKind.Object && m.GetProperty("summary").GetProperty("subject").GetString() == "Re: " + subject);
        Assert.Equal(Outsider, replyRow.GetProperty("envelopeFrom").GetString());
        var read = Ok(await sender.Cli.RunAsync(["mail", "read", replyRow.GetProperty("id").GetString()!, "--password-stdin"], AccountPassword + "\n"));
        Assert.Contains(replyText, read.Stdout, StringComparison.Ordinal);

        // Nothing the page sent carries the password, the derived key, the reply key or plaintext.
        var package = await File.ReadAllBytesAsync(Directory.GetFiles(Path.Combine(_server.DataDirectory, "blobs", "mail"), "package", SearchOption.AllDirectories).Single());
        var opened = OutsiderPackage.TryOpen(package, MailPassword)!;
        var key = new byte[32];
        Argon2id.DeriveBytes(Encoding.UTF8.GetBytes(MailPassword), package.AsSpan(10, 16),
            new Argon2Parameters((int)BinaryPrimitives.ReadUInt32BigEndian(package.AsSpan(1)), (int)BinaryPrimitives.ReadUInt32BigEndian(package.AsSpan(5)), package[9]), key);
        foreach (var secret in new[]
        {
            MailPassword, subject, "canary body", fileName, replyText,
            Convert.ToBase64String(key), Convert.ToHexStringLower(key), Base64Url(key),
            Convert.ToBase64String(opened.ReplyKey.ToArray()), Base64Url(opened.ReplyKey.ToArray()),
        })
        {
            AssertNeverSent(secret);
        }

        // The package was fetched once (one view), although two passwords were tried: the page kept the ciphertext.
        var packagePath = "/api/v1/mail/outsider/" + new Uri(link).AbsolutePath.Split('/').Last();
        lock (_sent)
        {
            Assert.Single(_sent, s => s.StartsWith("GET ", StringComparison.Ordinal) && new Uri(s[4..s.IndexOf('\n', StringComparison.Ordinal)]).AbsolutePath == packagePath);
        }

        AssertNoPageErrors();
    }

    [ChromiumFact]
    public async Task ExpiredLink_ThePageSaysTheMessageHasExpired()
    {
        var sender = await UserAsync("bob");
        var passwordFile = Path.Combine(_root, "pw2");
        await File.WriteAllTextAsync(passwordFile, MailPassword + "\n");
        var to = "late@elsewhere.test";
        Ok(await sender.Cli.RunAsync(
            ["mail", "send", "--to", to, "--subject", "s", "--body", "b", "--outsider-password-file", passwordFile, "--expires", "1h", "--password-stdin"], AccountPassword + "\n"));
        var link = LinkPattern().Match((await SunkAsync(to)).Replace("=\r\n", "", StringComparison.Ordinal)).Value;
        _server.Time.Advance(TimeSpan.FromHours(2));

        await _page.GotoAsync(new Uri(_server.BaseAddress, new Uri(link).AbsolutePath).ToString());
        await _page.GetByText("This message has expired").WaitForAsync();
        Assert.Equal(0, await _page.GetByLabel("Password", new() { Exact = true }).CountAsync());
        await AssertAccessibleAsync();
        await ScreenshotAsync("pwmail-expired");
        AssertNoPageErrors();
    }

    private async Task<(VeilCli Cli, string Address)> UserAsync(string name)
    {
        var cli = new VeilCli(_server.BaseAddress, Path.Combine(_root, name));
        var email = name + "." + Hex(3) + "@example.org";
        var address = name + "." + Hex(3) + "@" + Domain;
        Ok(await cli.RunAsync(["account", "register", "--email", email, "--password-stdin"], AccountPassword + "\n"));
        var verify = LinkPattern().Matches((await SunkAsync(email)).Replace("=\r\n", "", StringComparison.Ordinal)).Select(m => m.Value)
            .Last(l => l.Contains("/verify-email#", StringComparison.Ordinal));
        Ok(await cli.RunAsync(["account", "verify", verify]));
        Ok(await cli.RunAsync(["account", "login", "--email", email, "--password-stdin"], AccountPassword + "\n"));
        Ok(await cli.RunAsync(["mail", "address", "add", address, "--password-stdin"], AccountPassword + "\n"));
        return (cli, address);
    }

    /// <summary>The text of the message the sink received for <paramref name="to"/> (the queue delivers on its own task).</summary>
    private async Task<string> SunkAsync(string to)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            foreach (var message in await _sink.PendingAsync(deadline.Token))
            {
                if (message.Envelope.Recipients.Any(r => r.ToString().Equals(to, StringComparison.OrdinalIgnoreCase)))
                {
                    using var reader = new StreamReader(_sink.OpenContent(message.Id), Encoding.UTF8);
                    return await reader.ReadToEndAsync();
                }
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    private void AssertNeverSent(string secret)
    {
        lock (_sent)
        {
            Assert.NotEmpty(_sent);
            Assert.DoesNotContain(_sent, s => s.Contains(secret, StringComparison.Ordinal));
        }
    }

    private void AssertNoPageErrors()
    {
        lock (_console)
        {
            Assert.DoesNotContain(_console, line => line.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) || line.StartsWith("pageerror", StringComparison.Ordinal));
        }
    }

    /// <summary>axe-core from web/node_modules, evaluated through the DevTools protocol (the page CSP stays intact).</summary>
    private async Task AssertAccessibleAsync()
    {
        await _page.EvaluateAsync(AxeSource.Value);
        var found = await _page.EvaluateAsync<JsonElement>("""
            async () => {
              const result = await axe.run(document, { resultTypes: ["violations"] });
              return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => v.id + " (" + v.impact + "): " + v.nodes.map(n => n.target.join(" ")).join(", "));
            }
            """);
        var violations = found.EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.True(violations.Count == 0, "axe: " + string.Join("\n", violations));
    }

    private async Task ScreenshotAsync(string name)
    {
        var directory = Environment.GetEnvironmentVariable("VEIL_SCREENSHOTS") is { Length: > 0 } d ? d : Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        await _page.ScreenshotAsync(new() { Path = Path.Combine(directory, name + ".png"), FullPage = true });
    }

    private static CliResult Ok(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static readonly Lazy<string> AxeSource = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "web", "node_modules", "axe-core", "axe.min.js");
            if (File.Exists(path))
            {
                return File.ReadAllText(path);
            }
        }

        throw new InvalidOperationException("web/node_modules/axe-core/axe.min.js not found (npm ci in web/)");
    });

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();

    private sealed class AcceptAll : IRecipientResolver
    {
        public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken) => ValueTask.FromResult(RecipientDecision.Accept);
    }
}
