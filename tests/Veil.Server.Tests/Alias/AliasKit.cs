// The Alias test harness: the real server with SMTP on loopback, its outbound queue pointed at an
// independent smarthost (Debian's aiosmtpd, writing each message's raw bytes and envelope to files),
// the DKIM key Veil created for the alias domain at start, and swaks as the sending MTA.
// Notification mail (verification links) stays in the development .eml outbox so the Identity kit works.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Mail;
using Veil.Server.Platform.Outbox;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

#pragma warning disable CA1716 // "Alias" is a Visual Basic keyword; the folder and module are named Alias on purpose.
namespace Veil.Server.Tests.Alias;
#pragma warning restore CA1716

/// <summary>A message the smarthost received: its envelope and raw bytes.</summary>
public sealed record SunkMail(string MailFrom, IReadOnlyList<string> RcptTos, byte[] Raw)
{
    public string Text => Encoding.Latin1.GetString(Raw);

    /// <summary>The message arrived after STARTTLS.</summary>
    public bool OverTls { get; init; }

    public string HeaderBlock => Text[..Math.Max(0, Text.IndexOf("\r\n\r\n", StringComparison.Ordinal))];

    /// <summary>The unfolded value of the first header named <paramref name="name"/>, or null.</summary>
    public string? Header(string name)
    {
        var unfolded = Regex.Replace(HeaderBlock, "\r\n[ \t]+", " ");
        var match = Regex.Match(unfolded, "^" + Regex.Escape(name) + ":[ \t]*(.*)$", RegexOptions.Multiline | RegexOptions.IgnoreCase);
        return match.Success ? match.Groups[1].Value.TrimEnd('\r') : null;
    }
}

/// <summary>
/// aiosmtpd as the smarthost: accepts everything (except, when told, the end of data of a message to one mailbox:
/// 550, like a strict next hop), writes <c>n.json</c> (envelope) then <c>n.eml</c> (raw bytes).
/// </summary>
public sealed class MailSink : IDisposable
{
    private const string Python = "/usr/bin/python3";

    private const string Handler = """
        import os, sys, json, ssl
        from aiosmtpd.controller import Controller
        port, out, refuse, reply, times = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        tls = {}
        if sys.argv[6]:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(sys.argv[6], sys.argv[7])
            tls["tls_context"] = context
        refused = [0]
        class Sink:
            async def handle_DATA(self, server, session, envelope):
                if refuse and refuse in envelope.rcpt_tos and not (times and refused[0] >= times):
                    refused[0] += 1
                    return reply + " <" + refuse + ">: message refused"
                n = len([f for f in os.listdir(out) if f.endswith(".eml")])
                with open(os.path.join(out, "%06d.json" % n), "w") as f:
                    json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": session.ssl is not None}, f)
                with open(os.path.join(out, "%06d.tmp" % n), "wb") as f:
                    f.write(envelope.original_content)
                os.rename(os.path.join(out, "%06d.tmp" % n), os.path.join(out, "%06d.eml" % n))
                return "250 2.0.0 OK"
        c = Controller(Sink(), hostname="127.0.0.1", port=port, enable_SMTPUTF8=True, decode_data=False, **tls)
        c.start()
        print("READY", flush=True)
        sys.stdin.read()
        c.stop()
        """;

    private readonly Process _process;
    private readonly string _script;

    /// <param name="refuseDataTo">A mailbox whose messages the sink refuses at the end of data; null: none.</param>
    /// <param name="refusal">The reply code and enhanced status it refuses with.</param>
    /// <param name="refuseTimes">Refuse only the first so many such messages (a temporary failure that clears); 0: all.</param>
    /// <param name="tls">A certificate and its key (PEM) to offer STARTTLS with; null: no STARTTLS.</param>
    public MailSink(string? refuseDataTo = null, string refusal = "550 5.6.0", int refuseTimes = 0, (string CertificatePem, string KeyPem)? tls = null)
    {
        RequirePeer(File.Exists(Python) && Directory.Exists("/usr/lib/python3/dist-packages/aiosmtpd"), "python3-aiosmtpd");
        Directory.CreateDirectory(OutDir);
        _script = OutDir + ".py";
        File.WriteAllText(_script, Handler);
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var psi = new ProcessStartInfo(Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(_script);
        psi.ArgumentList.Add(Port.ToString(CultureInfo.InvariantCulture));
        psi.ArgumentList.Add(OutDir);
        psi.ArgumentList.Add(refuseDataTo ?? "");
        psi.ArgumentList.Add(refusal);
        psi.ArgumentList.Add(refuseTimes.ToString(CultureInfo.InvariantCulture));
        psi.ArgumentList.Add(tls is null ? "" : Path.Combine(OutDir, "tls-cert.pem"));
        psi.ArgumentList.Add(tls is null ? "" : Path.Combine(OutDir, "tls-key.pem"));
        if (tls is { } pem)
        {
            File.WriteAllText(Path.Combine(OutDir, "tls-cert.pem"), pem.CertificatePem);
            File.WriteAllText(Path.Combine(OutDir, "tls-key.pem"), pem.KeyPem);
        }

        _process = Process.Start(psi)!;
        if (_process.StandardOutput.ReadLine() != "READY")
        {
            throw new InvalidOperationException("aiosmtpd did not start: " + _process.StandardError.ReadToEnd());
        }
    }

    public int Port { get; }

    public string OutDir { get; } = Path.Combine(Path.GetTempPath(), "veil-sink-" + Guid.NewGuid().ToString("N"));

    public IReadOnlyList<SunkMail> All() =>
        [.. Directory.GetFiles(OutDir, "*.eml").Order(StringComparer.Ordinal).Select(path =>
        {
            using var envelope = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(path, ".json")));
            return new SunkMail(envelope.RootElement.GetProperty("from").GetString() ?? "",
                [.. envelope.RootElement.GetProperty("to").EnumerateArray().Select(e => e.GetString()!)], File.ReadAllBytes(path))
            {
                OverTls = envelope.RootElement.GetProperty("tls").GetBoolean(),
            };
        })];

    /// <summary>Waits (bounded, polling: delivery runs on the server's own tasks) for a message matching <paramref name="match"/>.</summary>
    public async Task<SunkMail> WaitForAsync(Func<SunkMail, bool> match)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (All().FirstOrDefault(match) is { } found)
            {
                return found;
            }

            await Task.Delay(50, deadline.Token);
        }
    }

    public void Dispose()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            _process.Kill();
        }

        _process.Dispose();
        File.Delete(_script);
        Directory.Delete(OutDir, recursive: true);
    }

    internal static void RequirePeer(bool present, string package)
    {
        if (!present)
        {
            var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase) ? " (CI=true: the test script must install it)" : "";
            Assert.Fail($"The peer {package} is missing{ci}: apt-get install -y {package}.");
        }
    }
}

/// <summary>A running server with Alias on <see cref="Domain"/>, SMTP on loopback and the sink as smarthost.</summary>
public sealed class AliasHarness : IAsyncDisposable
{
    public const string Domain = "alias.test";

    private AliasHarness(VeilTestServer server, MailSink sink, string dkimRecord)
    {
        Server = server;
        Sink = sink;
        DkimRecord = dkimRecord;
    }

    public VeilTestServer Server { get; }

    public MailSink Sink { get; }

    /// <summary>The alias domain's DKIM TXT record, as the operator would publish it.</summary>
    public string DkimRecord { get; }

    public string SmtpServer => Server.Services.GetRequiredService<SmtpHostService>().LocalEndPoint!.ToString();

    /// <param name="configure">Server settings on top of the harness's own.</param>
    /// <param name="refuseDataTo">A mailbox the smarthost refuses messages to at the end of data (550 unless told).</param>
    /// <param name="refusal">The smarthost's reply codes for that refusal.</param>
    /// <param name="refuseTimes">The smarthost refuses only the first so many such messages; 0: all.</param>
    public static async Task<AliasHarness> StartAsync(Action<VeilTestServerOptions>? configure = null, string? refuseDataTo = null, string refusal = "550 5.6.0", int refuseTimes = 0)
    {
        var sink = new MailSink(refuseDataTo, refusal, refuseTimes);
        try
        {
            var server = await IdentityKit.StartIdentityServerAsync(o =>
            {
                o.Settings["Veil:Mail:Smtp:Listen"] = "127.0.0.1:0";
                o.Settings["Veil:Mail:Smtp:ServerName"] = "mx.alias.test";
                o.Settings["Veil:Mail:Smarthost"] = $"127.0.0.1:{sink.Port}";
                o.Settings["Veil:Mail:SmarthostTls"] = "None";
                o.Settings["Veil:Mail:HostName"] = "mx.alias.test";
                o.Settings["Veil:Alias:Domains:0"] = Domain;
                o.Settings["Veil:RateLimits:alias-recipient:PermitLimit"] = "100000";
                o.Settings["Veil:RateLimits:alias-verify:PermitLimit"] = "100000";
                o.ConfigureServices = services =>
                {
                    // Verification links stay readable as .eml files; forwarded mail still leaves through the queue.
                    services.AddSingleton<IMailOutbox>(sp => ActivatorUtilities.CreateInstance<FileMailOutbox>(sp,
                        Path.Combine(sp.GetRequiredService<VeilPaths>().DataDirectory, "outbox")));
                };
                configure?.Invoke(o);
            });
            // The alias domain's key was created at start (Mail/AliasDkimKeys.cs); the operator publishes its record.
            await using var scope = server.Services.CreateAsyncScope();
            var key = Assert.Single(await scope.ServiceProvider.GetRequiredService<DkimKeyAdmin>().ShowAsync(Domain, CancellationToken.None));
            return new AliasHarness(server, sink, key.RecordValue);
        }
        catch
        {
            sink.Dispose();
            throw;
        }
    }

    /// <summary>A new user with one verified recipient mailbox (verified through the mailed link's form POST).</summary>
    public async Task<(TestUser User, Guid RecipientId)> UserWithRecipientAsync(string mailbox)
    {
        var user = await Server.RegisterUserAsync();
        var recipientId = await AddRecipientAsync(user, mailbox);
        await VerifyRecipientAsync(mailbox);
        return (user, recipientId);
    }

    public async Task<Guid> AddRecipientAsync(TestUser user, string mailbox)
    {
        using var response = await Server.PostAsync("/api/v1/alias/recipients", new { email = mailbox }, user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("id").GetGuid();
    }

    public string VerificationToken(string mailbox)
    {
        var mail = Server.ReadOutbox().Last(m => m.Headers.TryGetValue("To", out var to) && to.Contains(mailbox, StringComparison.OrdinalIgnoreCase));
        return Regex.Match(mail.TextBody, "/alias/verify/([A-Za-z0-9_-]{43})").Groups[1].Value;
    }

    public async Task VerifyRecipientAsync(string mailbox)
    {
        using var confirm = await Server.Client.PostAsync(new Uri("/alias/verify/" + VerificationToken(mailbox), UriKind.Relative), content: null);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
    }

    public async Task<JsonElement> CreateAliasAsync(TestUser user, object? body = null)
    {
        using var response = await Server.PostAsync("/api/v1/alias/aliases", body ?? new { }, user.AccessToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    public async Task<JsonElement> GetAsync(TestUser user, string path)
    {
        using var response = await Server.SendAsync(HttpMethod.Get, path, bearer: user.AccessToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    /// <summary>Polls (bounded) until <paramref name="done"/> holds for the JSON at <paramref name="path"/>: processing runs after the 250.</summary>
    public async Task<JsonElement> WaitForAsync(TestUser user, string path, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var json = await GetAsync(user, path);
            if (done(json))
            {
                return json;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{path} never reached the expected state: {json}\n{Server.Logs.AllText}");
            await Task.Delay(50);
        }
    }

    /// <summary>swaks sends <paramref name="message"/> (CRLF) from <paramref name="from"/> (empty: the null sender) to <paramref name="to"/>.</summary>
    public Task<(int ExitCode, string Output)> SwaksAsync(string from, string to, string message) => SwaksAsync(from, to, message, []);

    /// <summary>swaks stops after RCPT TO (QUIT): what RCPT answers, with nothing spooled. Exit code 0 when it was accepted.</summary>
    public Task<(int ExitCode, string Output)> RcptAsync(string from, string to) => SwaksAsync(from, to, "Subject: unused\r\n\r\nunused\r\n", ["--quit-after", "RCPT"]);

    private async Task<(int ExitCode, string Output)> SwaksAsync(string from, string to, string message, string[] extra)
    {
        MailSink.RequirePeer(File.Exists("/usr/bin/swaks"), "swaks");
        var file = Path.Combine(Path.GetTempPath(), "veil-swaks-" + Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllBytesAsync(file, Encoding.UTF8.GetBytes(message));
        try
        {
            var info = new ProcessStartInfo("swaks") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "--server", SmtpServer, "--helo", "sender.test", "--from", from.Length == 0 ? "<>" : from, "--to", to, "--data", "@" + file, "--timeout", "60" }.Concat(extra))
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
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>dkimpy (python3-dkim) verifies <paramref name="message"/> with the alias domain's key supplied offline.</summary>
    public Task<bool> DkimpyVerifiesAsync(byte[] message) => DkimpyVerifiesAsync(message, DkimRecord, Server.Time.GetUtcNow());

    /// <summary>dkimpy verifies <paramref name="message"/> against <paramref name="record"/>, told that the time is <paramref name="now"/>.</summary>
    public static async Task<bool> DkimpyVerifiesAsync(byte[] message, string record, DateTimeOffset now)
    {
        const string Script = """
            import sys, time, dkim
            msg = open(sys.argv[1], 'rb').read()
            rec = open(sys.argv[2], 'rb').read()
            # The server runs on a manual clock (2030); dkimpy refuses t= in its future, so it is told that time.
            now = float(sys.argv[3])
            time.time = lambda: now
            print('PASS' if dkim.verify(msg, dnsfunc=lambda name, timeout=5: rec) else 'FAIL')
            """;
        MailSink.RequirePeer(Directory.Exists("/usr/lib/python3/dist-packages/dkim"), "python3-dkim");
        var dir = Directory.CreateTempSubdirectory("veil-dkim-");
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(dir.FullName, "m"), message);
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "r"), record);
            var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "-c", Script, Path.Combine(dir.FullName, "m"), Path.Combine(dir.FullName, "r"), now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) })
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, await stderr);
            return (await stdout).Trim() == "PASS";
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Sink.Dispose();
    }
}
