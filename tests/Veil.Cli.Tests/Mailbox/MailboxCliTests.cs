using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Veil.Server.Tests.Kit;
using static Veil.Cli.Tests.CliAccounts;

namespace Veil.Cli.Tests.Mailbox;

/// <summary>
/// Issue 17, points 2–3 through the real pieces: the in-process server with its SMTP listener on loopback, swaks as
/// the outside sender, `veil mail` as the client (a child process). The canary audit reads every file of the data
/// directory (database, blobs, spool, temporary files), the PostgreSQL dump when VEIL_TEST_DATABASE=postgres, and
/// every log line the server wrote.
/// </summary>
[Collection(AccountVerbsTestGroup.Name)]
#pragma warning disable CA5350 // SHA-1 is what WKD names its files by; the test recomputes it independently.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes, swaks, gpg
public sealed class MailboxCliTests : IAsyncLifetime
{
    private const string Domain = "mail.example";
    private readonly string _config = Directory.CreateTempSubdirectory("veil-mail-cli-").FullName;
    private readonly int _smtpPort = FreePort();

    // The senders' zone, served by dnsmasq on loopback; unique per test so it is a canary too (the verdicts name it).
    private readonly string _senderZone = "s" + Hex(5) + ".test";
    private LoopbackDns _dns = null!;
    private VeilTestServer _server = null!;
    private VeilCli _cli = null!;

    public async Task InitializeAsync()
    {
        _dns = await LoopbackDns.StartAsync(_senderZone);
        _server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Mail:Smtp:Listen"] = "127.0.0.1:" + _smtpPort.ToString(CultureInfo.InvariantCulture);
            o.Settings["Veil:Mail:Domains:0"] = Domain;
            o.Settings["Veil:Dns:Servers"] = _dns.Servers;
            o.Settings["Veil:Dns:Timeout"] = "00:00:00.3";
        });
        _cli = new VeilCli(_server.BaseAddress, _config);
        await _cli.SignUpAsync(_server, "owner@example.org");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _dns.DisposeAsync();
        Directory.Delete(_config, recursive: true);
    }

    [Fact]
    public async Task InboundMail_IsSealedOnArrival_NoCanaryStoredAnywhere_AndVeilMailReadShowsAllOfIt()
    {
        RequireSwaks();
        var address = "inbox." + Hex(4) + "@" + Domain;
        Ok(await _cli.RunAsync(["mail", "address", "add", address, "--password-stdin", "--json"], StrongPassword + "\n"));
        var canaries = new Canaries();

        var swaks = await SwaksAsync(address, canaries.Message());
        Assert.True(swaks.Exit == 0, swaks.Output);
        Assert.Matches(@"<[-~]  250 2\.0\.0 ", swaks.Output);

        var listed = await WaitForMailAsync(1);
        var message = Assert.Single(listed.Json.Single().GetProperty("messages").EnumerateArray());
        var summary = message.GetProperty("summary");
        Assert.Equal(canaries.Subject, summary.GetProperty("subject").GetString());
        Assert.Contains(canaries.DisplayName, summary.GetProperty("from").GetString(), StringComparison.Ordinal);
        Assert.Contains(canaries.Body, summary.GetProperty("snippet").GetString(), StringComparison.Ordinal);
        Assert.Equal(canaries.FileName, Assert.Single(summary.GetProperty("attachments").EnumerateArray()).GetString());

        // The audit: nothing the server stored or logged holds any canary.
        var stored = await AllStoredTextAsync();
        foreach (var canary in canaries.All)
        {
            Assert.DoesNotContain(canary, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(canary, _server.Logs.AllText, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(address, stored, StringComparison.Ordinal); // the address is field-encrypted and blind-indexed

        // The client decrypts all of it.
        var id = message.GetProperty("id").GetString()!;
        var saveTo = Path.Combine(_config, "attachments");
        var read = Ok(await _cli.RunAsync(["mail", "read", id, "--save-attachments", saveTo, "--password-stdin"], StrongPassword + "\n"));
        foreach (var canary in canaries.All)
        {
            Assert.Contains(canary, read.Stdout, StringComparison.Ordinal);
        }

        Assert.Equal(canaries.AttachmentBytes, await File.ReadAllBytesAsync(Path.Combine(saveTo, canaries.FileName)));

        Ok(await _cli.RunAsync(["mail", "delete", id, "--json"]));
        var after = Ok(await _cli.RunAsync(["mail", "list", "--json", "--password-stdin"], StrongPassword + "\n"));
        Assert.Empty(after.Json.Single().GetProperty("messages").EnumerateArray());
        Assert.Empty(Directory.Exists(Path.Combine(_server.DataDirectory, "blobs", "mail"))
            ? Directory.GetFiles(Path.Combine(_server.DataDirectory, "blobs", "mail"), "*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task InboundMail_SpfAndDkimPassOrFail_VerdictsAreSealedInTheSummary_AndVeilMailReadShowsThem()
    {
        RequireSwaks();
        var address = "auth." + Hex(4) + "@" + Domain;
        Ok(await _cli.RunAsync(["mail", "address", "add", address, "--password-stdin", "--json"], StrongPassword + "\n"));
        var (good, bad) = ("good." + _senderZone, "bad." + _senderZone);
        var (signedGood, recordGood) = await Dkimpy.SignAsync(Letter(good, address, "from-good"), good);
        var (signedBad, recordBad) = await Dkimpy.SignAsync(Letter(bad, address, "from-bad"), bad);
        var tampered = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(signedBad).Replace("Dear reader", "Dear victim", StringComparison.Ordinal));
        _dns.Txt("sel._domainkey." + good, recordGood).Txt(good, "v=spf1 ip4:127.0.0.1 -all").Txt("_dmarc." + good, "v=DMARC1; p=reject")
            .Txt("sel._domainkey." + bad, recordBad).Txt(bad, "v=spf1 ip4:192.0.2.1 -all").Txt("_dmarc." + bad, "v=DMARC1; p=quarantine");
        await _dns.ApplyAsync();

        var sentGood = await SwaksAsync(address, signedGood, "news@" + good);
        var sentBad = await SwaksAsync(address, tampered, "news@" + bad);
        var listed = (await WaitForMailAsync(2)).Json.Single().GetProperty("messages").EnumerateArray().ToList();
        var stored = await AllStoredTextAsync();
        string Read(string subject) => listed.Single(m => m.GetProperty("summary").GetProperty("subject").GetString() == subject).GetProperty("id").GetString()!;
        var readGood = Ok(await _cli.RunAsync(["mail", "read", Read("from-good"), "--password-stdin"], StrongPassword + "\n")).Stdout;
        var readBad = Ok(await _cli.RunAsync(["mail", "read", Read("from-bad"), "--password-stdin"], StrongPassword + "\n")).Stdout;

        Assert.True(sentGood.Exit == 0, sentGood.Output);
        Assert.True(sentBad.Exit == 0, sentBad.Output); // Veil records a failure; it does not refuse the mail for it
        Assert.Contains($"Authentication: spf=pass ({good}); dkim=pass ({good}); dmarc=pass ({good})", readGood, StringComparison.Ordinal);
        Assert.Contains($"Authentication: spf=fail ({bad}); dkim=fail ({bad}); dmarc=fail ({bad}) (policy quarantine)", readBad, StringComparison.Ordinal);
        var summary = listed.Single(m => m.GetProperty("summary").GetProperty("subject").GetString() == "from-good").GetProperty("summary");
        Assert.Equal("pass", summary.GetProperty("authentication").GetProperty("dmarc").GetProperty("result").GetString());
        Assert.Equal(good, summary.GetProperty("authentication").GetProperty("spf").GetProperty("domain").GetString());

        // Zero access: no verdict's domain (the senders an account hears from) is stored or logged in clear.
        Assert.DoesNotContain(_senderZone, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(_senderZone, _server.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InboundMail_DnsDown_IsStoredAnyway_WithTempErrorRecorded()
    {
        RequireSwaks();
        var address = "dnsdown." + Hex(4) + "@" + Domain;
        Ok(await _cli.RunAsync(["mail", "address", "add", address, "--password-stdin", "--json"], StrongPassword + "\n"));
        await _dns.DisposeAsync(); // the resolver is gone (disposed again, harmlessly, at the end)

        var sent = await SwaksAsync(address, Encoding.ASCII.GetBytes(Letter(_senderZone, address, "while-dns-is-down")), "news@" + _senderZone);
        var listed = await WaitForMailAsync(1);
        var id = Assert.Single(listed.Json.Single().GetProperty("messages").EnumerateArray()).GetProperty("id").GetString()!;
        var read = Ok(await _cli.RunAsync(["mail", "read", id, "--password-stdin"], StrongPassword + "\n")).Stdout;

        Assert.True(sent.Exit == 0, sent.Output);
        Assert.Contains($"Authentication: spf=temperror ({_senderZone}); dkim=none; dmarc=temperror ({_senderZone})", read, StringComparison.Ordinal);
        Assert.Contains("while-dns-is-down", read, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CustomDomain_VerifiedHoldsMailboxAddresses_GetsMailAndServesWkd_AndOnceLapsedIsRefusedClearly()
    {
        RequireSwaks();
        var domain = "brand." + _senderZone;
        var added = Ok(await _cli.RunAsync(["mail", "domain", "add", domain, "--json"])).Event("domain-added").GetProperty("domain");
        var early = await _cli.RunAsync(["mail", "address", "add", "me@" + domain, "--password-stdin"], StrongPassword + "\n");
        await _dns.PublishAsListed(added.GetProperty("records")).ApplyAsync();
        Ok(await _cli.RunAsync(["mail", "domain", "check", domain]));

        Ok(await _cli.RunAsync(["mail", "address", "add", "me@" + domain, "--password-stdin", "--json"], StrongPassword + "\n"));
        var sent = await SwaksAsync("me@" + domain, Encoding.ASCII.GetBytes(Letter("sender.test", "me@" + domain, "to-my-own-domain")));
        var listed = await WaitForMailAsync(1);
        var message = Assert.Single(listed.Json.Single().GetProperty("messages").EnumerateArray());
        using var http = new HttpClient { BaseAddress = _server.BaseAddress };
        var wkdPath = $"/.well-known/openpgpkey/hu/{ZBase32(SHA1.HashData("me"u8))}?l=me";
        var wkd = await GetAsync(http, wkdPath, domain);

        _dns.Remove("_veil." + domain);
        await _dns.ApplyAsync();
        var lapsedCheck = await _cli.RunAsync(["mail", "domain", "check", domain]);
        var refused = await SwaksAsync("me@" + domain, Encoding.ASCII.GetBytes(Letter("sender.test", "me@" + domain, "after-lapse")));
        var wkdAfter = await GetAsync(http, wkdPath, domain);
        var late = await _cli.RunAsync(["mail", "address", "add", "you@" + domain, "--password-stdin"], StrongPassword + "\n");

        Assert.NotEqual(0, early.ExitCode);
        Assert.Contains("not verified", early.Stdout + early.Stderr, StringComparison.Ordinal);
        Assert.True(sent.Exit == 0, sent.Output);
        Assert.Equal("me@" + domain, message.GetProperty("address").GetString());
        Assert.Equal("to-my-own-domain", message.GetProperty("summary").GetProperty("subject").GetString());
        Assert.Equal(HttpStatusCode.OK, wkd.Status);
        Assert.Equal(1, lapsedCheck.ExitCode);
        Assert.NotEqual(0, refused.Exit);
        Assert.Contains("<** 5", refused.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, wkdAfter.Status);
        Assert.NotEqual(0, late.ExitCode);
        Assert.Contains("not verified", late.Stdout + late.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rcpt_UnknownAddressAtAMailDomain_Is550AndNothingIsSpooled()
    {
        RequireSwaks();
        var swaks = await SwaksAsync("nobody." + Hex(4) + "@" + Domain, Encoding.ASCII.GetBytes("Subject: x\r\n\r\nx\r\n"));
        Assert.NotEqual(0, swaks.Exit);
        Assert.Contains("<** 550 5.1.1", swaks.Output, StringComparison.Ordinal);
        Assert.Equal(0, Veil.Mail.Spool.FileSpool.CountPending(_server.DataDirectory));
    }

    [Fact]
    public async Task Wkd_DirectAndAdvancedForms_ServeTheBinaryKeyThatGpgImportsWithTheAddress()
    {
        var address = "wkd." + Hex(4) + "@" + Domain;
        var added = Ok(await _cli.RunAsync(["mail", "address", "add", address, "--password-stdin", "--json"], StrongPassword + "\n")).Event("address-added");
        var fingerprint = added.GetProperty("address").GetProperty("fingerprint").GetString()!;
        var local = address[..address.IndexOf('@', StringComparison.Ordinal)];
        var hash = ZBase32(SHA1.HashData(Encoding.UTF8.GetBytes(local)));

        // What gpg asks for (draft-koch-openpgp-webkey-service §3.1): the advanced form on openpgpkey.<domain>, then
        // the direct form on <domain>, each with ?l=<local part>. Over loopback the Host header stands for the name.
        using var http = new HttpClient { BaseAddress = _server.BaseAddress };
        var advanced = await GetAsync(http, $"/.well-known/openpgpkey/{Domain}/hu/{hash}?l={local}", "openpgpkey." + Domain);
        var direct = await GetAsync(http, $"/.well-known/openpgpkey/hu/{hash}?l={local}", Domain);
        Assert.Equal(HttpStatusCode.OK, advanced.Status);
        Assert.Equal(advanced.Body, direct.Body);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, $"/.well-known/openpgpkey/{Domain}/policy", "openpgpkey." + Domain)).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/.well-known/openpgpkey/policy", Domain)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, $"/.well-known/openpgpkey/{Domain}/hu/{ZBase32(SHA1.HashData("nobody"u8))}", "openpgpkey." + Domain)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, $"/.well-known/openpgpkey/other.example/hu/{hash}", "openpgpkey.other.example")).Status);

        // gpg reads the served bytes as the key of the address (binary, not armoured, as WKD requires).
        var home = Directory.CreateTempSubdirectory("veil-gnupg-").FullName;
        try
        {
            var file = Path.Combine(home, "key.bin");
            await File.WriteAllBytesAsync(file, advanced.Body);
            var import = await RunAsync("gpg", ["--homedir", home, "--batch", "--import", file]);
            Assert.True(import.Exit == 0, import.Output);
            var listing = await RunAsync("gpg", ["--homedir", home, "--batch", "--with-colons", "--list-keys", address]);
            Assert.True(listing.Exit == 0, listing.Output);
            Assert.Contains("fpr:::::::::" + fingerprint + ":", listing.Output, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("<" + address + ">", listing.Output, StringComparison.Ordinal);
            Assert.Contains(":cv25519:", listing.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task KeyExport_GpgDecryptsTheStoredCopyByteForByte_AndKeyImport_TakesAGpgMadeKey()
    {
        RequireSwaks();
        var home = Directory.CreateTempSubdirectory("veil-gnupg-").FullName;
        try
        {
            // Export: gpg, an independent OpenPGP implementation, opens what the server stored with the exported key.
            var address = "export." + Hex(4) + "@" + Domain;
            Ok(await _cli.RunAsync(["mail", "address", "add", address, "--password-stdin"], StrongPassword + "\n"));
            var sent = Encoding.ASCII.GetBytes($"From: a@sender.test\r\nSubject: export {Hex(4)}\r\n\r\nbody {Hex(8)}\r\n");
            Assert.Equal(0, (await SwaksAsync(address, sent)).Exit);
            await WaitForMailAsync(1);
            var keyFile = Path.Combine(home, "exported.asc");
            Ok(await _cli.RunAsync(["mail", "key", "export", address, "-o", keyFile, "--password-stdin"], StrongPassword + "\n"));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            Assert.Equal(0, (await RunAsync("gpg", ["--homedir", home, "--batch", "--import", keyFile])).Exit);
            var stored = Assert.Single(Directory.GetFiles(Path.Combine(_server.DataDirectory, "blobs", "mail"), "sealed", SearchOption.AllDirectories));
            var clear = Path.Combine(home, "clear.eml");
            var decrypted = await RunAsync("gpg", ["--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--output", clear, "--decrypt", stored]);
            Assert.True(decrypted.Exit == 0, decrypted.Output);
            Assert.Equal(sent, await File.ReadAllBytesAsync(clear));

            // Import: a key pair made by gpg becomes a new address; mail to it is readable with veil.
            var imported = "import." + Hex(4) + "@" + Domain;
            Assert.Equal(0, (await RunAsync("gpg", ["--homedir", home, "--batch", "--passphrase", "", "--quick-gen-key", "<" + imported + ">", "ed25519", "cert,sign", "never"])).Exit);
            var colons = (await RunAsync("gpg", ["--homedir", home, "--batch", "--with-colons", "--list-keys", imported])).Output;
            var fingerprint = colons.Split('\n').First(l => l.StartsWith("fpr:", StringComparison.Ordinal)).Split(':')[9];
            Assert.Equal(0, (await RunAsync("gpg", ["--homedir", home, "--batch", "--passphrase", "", "--quick-add-key", fingerprint, "cv25519", "encr", "never"])).Exit);
            var secretFile = Path.Combine(home, "gpg-secret.asc");
            Assert.Equal(0, (await RunAsync("gpg", ["--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--armor", "--output", secretFile, "--export-secret-keys", fingerprint])).Exit);

            var wrongAddress = await _cli.RunAsync(["mail", "key", "import", "other." + Hex(4) + "@" + Domain, "--key", secretFile, "--password-stdin"], StrongPassword + "\n");
            Assert.Equal(1, wrongAddress.ExitCode);
            Assert.Contains("user ID must name the address", wrongAddress.Stderr, StringComparison.Ordinal);

            var added = Ok(await _cli.RunAsync(["mail", "key", "import", imported, "--key", secretFile, "--password-stdin", "--json"], StrongPassword + "\n")).Event("address-added");
            Assert.Equal(fingerprint, added.GetProperty("address").GetProperty("fingerprint").GetString(), ignoreCase: true);
            var marker = "imported-" + Hex(6);
            Assert.Equal(0, (await SwaksAsync(imported, Encoding.ASCII.GetBytes($"Subject: {marker}\r\n\r\n{marker}\r\n"))).Exit);
            var listed = await WaitForMailAsync(2);
            var id = listed.Json.Single().GetProperty("messages").EnumerateArray().First(m => m.GetProperty("summary").GetProperty("subject").GetString() == marker).GetProperty("id").GetString()!;
            Assert.Contains(marker, Ok(await _cli.RunAsync(["mail", "read", id, "--password-stdin"], StrongPassword + "\n")).Stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private async Task<CliResult> WaitForMailAsync(int count)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var listed = Ok(await _cli.RunAsync(["mail", "list", "--json", "--password-stdin"], StrongPassword + "\n"));
            if (listed.Json.Single().GetProperty("messages").GetArrayLength() >= count || clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                return listed;
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Every file under the data directory (Latin-1 text), plus the PostgreSQL dump when the server uses it.</summary>
    private async Task<string> AllStoredTextAsync()
    {
        var text = new StringBuilder();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(_server.DataDirectory, "*", SearchOption.AllDirectories))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            text.Append(Encoding.Latin1.GetString(copy.ToArray())).Append('\n');
        }

        if (_server.Database == "postgres")
        {
            text.Append(await StoredData.ReadAsync(_server));
        }

        return text.ToString();
    }

    private static string Letter(string senderDomain, string to, string subject) =>
        $"From: News <news@{senderDomain}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{Hex(8)}@{senderDomain}>\r\n\r\nDear reader, {subject}.\r\n";

    private async Task<(int Exit, string Output)> SwaksAsync(string to, byte[] message, string from = "sender@sender.test")
    {
        var file = Path.GetTempFileName();
        await File.WriteAllBytesAsync(file, message[..^2]);
        try
        {
            return await RunAsync("swaks", ["--server", "127.0.0.1", "--port", _smtpPort.ToString(CultureInfo.InvariantCulture), "--from", from,
                "--to", to, "--helo", "client.test", "--data", file, "--timeout", "60"]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<(HttpStatusCode Status, byte[] Body)> GetAsync(HttpClient http, string path, string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync());
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>A loopback port free a moment ago (SmtpHostService, which knows the bound port, is internal to the server).</summary>
    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static void RequireSwaks() =>
        Assert.True(File.Exists("/usr/bin/swaks"), "swaks is required for this test (apt-get install swaks)");

    private static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>z-base-32 written here from the draft's table, independent of the server's code.</summary>
    private static string ZBase32(byte[] data)
    {
        const string alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769";
        var bits = string.Concat(data.Select(b => Convert.ToString(b, 2).PadLeft(8, '0')));
        return string.Concat(Enumerable.Range(0, (bits.Length + 4) / 5).Select(i => alphabet[Convert.ToInt32(bits.Substring(i * 5, Math.Min(5, bits.Length - i * 5)).PadRight(5, '0'), 2)]));
    }

    /// <summary>One message whose sender display name, subject, body and attachment name are each a unique canary.</summary>
    private sealed class Canaries
    {
        public string DisplayName { get; } = "Canaryname" + Hex(6);

        public string Subject { get; } = "canary-subject-" + Hex(6);

        public string Body { get; } = "canary-body-" + Hex(6);

        public string FileName { get; } = "canary-file-" + Hex(6) + ".pdf";

        public byte[] AttachmentBytes { get; } = Encoding.ASCII.GetBytes("%PDF-1.4 canary-attachment-" + Hex(6));

        public IEnumerable<string> All => [DisplayName, Subject, Body, FileName];

        public byte[] Message() => Encoding.ASCII.GetBytes(
            $"From: \"{DisplayName}\" <sender@sender.test>\r\nTo: <someone@{Domain}>\r\nSubject: {Subject}\r\n"
            + $"Message-ID: <{Hex(8)}@sender.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            + $"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, {Body}.\r\n"
            + $"--b1\r\nContent-Type: application/pdf; name=\"{FileName}\"\r\nContent-Disposition: attachment; filename=\"{FileName}\"\r\n"
            + $"Content-Transfer-Encoding: base64\r\n\r\n{Convert.ToBase64String(AttachmentBytes)}\r\n--b1--\r\n");
    }
}
#pragma warning restore CA5350
