using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Veil.Mail.Smtp;

namespace Veil.Mail.Queue;

/// <summary>
/// Delivers messages to a smarthost (RFC 5321): EHLO, STARTTLS (RFC 3207) per policy, AUTH PLAIN or
/// LOGIN (RFC 4954), MAIL/RCPT/DATA pipelined when offered (RFC 2920). The message bytes go out
/// unchanged except for dot-stuffing, and a final CRLF if the message lacks one (the terminator needs it).
/// Credentials are sent only inside TLS. A failed AUTH (535, 534, …) is a temporary failure, never a bounce: it says
/// the smarthost account is misconfigured, not that the message is undeliverable, so the queue keeps retrying.
/// </summary>
public sealed class SmtpDeliveryClient(SmtpClientOptions options) : ISessionDeliveryTransport
{
    private const int MaxReplyLine = 4096;
    private const int MaxReplyLines = 100;

    /// <summary>Sends <paramref name="content"/> for <paramref name="envelope"/> on a connection of its own; never throws for network or protocol failures.</summary>
    public async Task<SmtpDeliveryResult> DeliverAsync(SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        var session = new Session(this);
        await using (session.ConfigureAwait(false))
        {
            return await session.DeliverAsync(envelope, content, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A session that keeps its connection for up to <see cref="SmtpClientOptions.MaxMessagesPerConnection"/> messages.
    /// A transaction that ended (the reply after the end of data, or a refused MAIL) leaves the connection ready for the
    /// next MAIL (RFC 5321 §3.3), so the next message goes out at once; after a transaction that stopped half-way the
    /// session sends RSET first (RFC 5321 §4.1.1.5). A reused connection that turns out dead — the write or the first
    /// reply fails, or the first reply is 421 — had accepted nothing: it is closed and the message goes out on a fresh
    /// one, so a smarthost that dropped an idle connection costs a reconnect, never a failed attempt.
    /// </summary>
    public IDeliverySession OpenSession() => new Session(this);

    private int MaxMessagesPerConnection => Math.Max(1, options.MaxMessagesPerConnection);

    /// <summary>Connects, reads the greeting, EHLO, STARTTLS and AUTH per policy; a result when the handshake failed.</summary>
    private async Task<(Connection? Conn, Dictionary<string, string> Ext, Stream? Stream, SmtpDeliveryResult? Failure)> HandshakeAsync(TcpClient tcp, CancellationToken cancellationToken)
    {
        // Commands and the final dot are small writes after larger ones: without NoDelay, Nagle waits for the server's
        // delayed ACK before sending them (tens of milliseconds per transaction).
        tcp.NoDelay = true;
        if (options.ConnectAddress is { } address)
        {
            await tcp.ConnectAsync(address, options.Port, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await tcp.ConnectAsync(options.Host, options.Port, cancellationToken).ConfigureAwait(false);
        }

        Stream stream = tcp.GetStream();
        var conn = new Connection(stream, options.ReplyTimeout);
        var greeting = await conn.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (greeting.Code != 220) return (null, [], stream, Fail(greeting));
        var ehlo = await conn.CommandAsync("EHLO " + options.HeloName, cancellationToken).ConfigureAwait(false);
        if (ehlo.Code != 250) return (null, [], stream, Fail(ehlo));
        var ext = Extensions(ehlo);
        var encrypted = false;
        if (options.Tls != SmtpTlsMode.None && ext.ContainsKey("STARTTLS"))
        {
            var r = await conn.CommandAsync("STARTTLS", cancellationToken).ConfigureAwait(false);
            if (r.Code != 220) return (null, [], stream, Fail(r));
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            stream = ssl;
            await ssl.AuthenticateAsClientAsync(ClientTlsOptions(), cancellationToken).ConfigureAwait(false);
            encrypted = true;
            conn = new Connection(ssl, options.ReplyTimeout);
            ehlo = await conn.CommandAsync("EHLO " + options.HeloName, cancellationToken).ConfigureAwait(false);
            if (ehlo.Code != 250) return (null, [], stream, Fail(ehlo));
            ext = Extensions(ehlo);
        }
        else if (options.Tls == SmtpTlsMode.Required)
        {
            return (null, [], stream, new(false, false, "STARTTLS required but not offered by the smarthost", []));
        }
        if (options.UserName is not null)
        {
            if (!encrypted)
            {
                return (null, [], stream, new(false, false, "AUTH configured but the session is not encrypted (STARTTLS not offered or disabled); credentials not sent", []));
            }

            var auth = await AuthenticateAsync(conn, ext, cancellationToken).ConfigureAwait(false);
            if (auth is not null) return (null, [], stream, auth);
        }
        return (conn, ext, stream, null);
    }

    /// <summary>One connection reused for several transactions; one caller at a time.</summary>
    private sealed class Session(SmtpDeliveryClient client) : IDeliverySession
    {
        private TcpClient? _tcp;
        private Stream? _stream;
        private Connection? _conn;
        private Dictionary<string, string> _ext = [];
        private int _transactions;
        private bool _midTransaction; // the last transaction stopped before its end: RSET before the next

        public async Task<SmtpDeliveryResult> DeliverAsync(SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(envelope);
            ArgumentNullException.ThrowIfNull(content);
            try
            {
                if (_conn is not null && (_transactions >= client.MaxMessagesPerConnection
                    || (_midTransaction && !await TryResetAsync(cancellationToken).ConfigureAwait(false))))
                {
                    await CloseAsync(quit: _transactions >= client.MaxMessagesPerConnection).ConfigureAwait(false);
                }
                if (_conn is not null)
                {
                    try
                    {
                        return await TransactOnceAsync(envelope, content, reused: true, cancellationToken).ConfigureAwait(false);
                    }
                    catch (StaleConnectionException)
                    {
                        // Nothing was accepted (nor read from the content) on the dead connection: a fresh one takes it.
                        await CloseAsync(quit: false).ConfigureAwait(false);
                    }
                }
                _tcp = new TcpClient();
                var (conn, ext, stream, failure) = await client.HandshakeAsync(_tcp, cancellationToken).ConfigureAwait(false);
                _stream = stream;
                if (failure is not null)
                {
                    await CloseAsync(quit: false).ConfigureAwait(false);
                    return failure;
                }
                (_conn, _ext, _transactions) = (conn, ext, 0);
                return await TransactOnceAsync(envelope, content, reused: false, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException or TimeoutException or InvalidDataException)
            {
                await CloseAsync(quit: false).ConfigureAwait(false);
                return new(false, false, "Connection failed: " + e.GetType().Name, []);
            }
            catch (OperationCanceledException)
            {
                await CloseAsync(quit: false).ConfigureAwait(false);
                throw;
            }
        }

        public ValueTask DisposeAsync() => new(CloseAsync(quit: true));

        private async Task<SmtpDeliveryResult> TransactOnceAsync(SmtpEnvelope envelope, Stream content, bool reused, CancellationToken ct)
        {
            _transactions++;
            _midTransaction = true;
            var (result, ended) = await TransactAsync(_conn!, _ext, envelope, content, reused, ct).ConfigureAwait(false);
            _midTransaction = !ended;
            return result;
        }

        private async Task<bool> TryResetAsync(CancellationToken ct)
        {
            try
            {
                return (await _conn!.CommandAsync("RSET", ct).ConfigureAwait(false)).Code == 250;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or TimeoutException)
            {
                return false;
            }
        }

        private async Task CloseAsync(bool quit)
        {
            if (quit && _conn is not null) await _conn.TryQuitAsync(CancellationToken.None).ConfigureAwait(false);
            if (_stream is not null) await _stream.DisposeAsync().ConfigureAwait(false);
            _tcp?.Dispose();
            (_tcp, _stream, _conn) = (null, null, null);
        }
    }

    private async Task<SmtpDeliveryResult?> AuthenticateAsync(Connection conn, Dictionary<string, string> ext, CancellationToken ct)
    {
        ext.TryGetValue("AUTH", out var mechanisms);
        var mechs = (mechanisms ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string user = options.UserName!, pass = options.Password ?? "";
        Reply r;
        if (mechs.Contains("PLAIN", StringComparer.OrdinalIgnoreCase))
        {
            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0" + user + "\0" + pass));
            r = await conn.CommandAsync("AUTH PLAIN " + token, ct).ConfigureAwait(false);
        }
        else if (mechs.Contains("LOGIN", StringComparer.OrdinalIgnoreCase))
        {
            r = await conn.CommandAsync("AUTH LOGIN", ct).ConfigureAwait(false);
            if (r.Code == 334) r = await conn.CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(user)), ct).ConfigureAwait(false);
            if (r.Code == 334) r = await conn.CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(pass)), ct).ConfigureAwait(false);
        }
        else
        {
            return new(false, false, "AUTH configured but the smarthost offers neither PLAIN nor LOGIN", []);
        }
        return r.Code == 235 ? null : new(false, false, "AUTH failed: " + r.Text, []);
    }

    private SslClientAuthenticationOptions ClientTlsOptions()
    {
        var tls = new SslClientAuthenticationOptions { TargetHost = options.Host };
        if (options.AcceptAnyCertificate)
        {
            // Opportunistic TLS to an MX host (see SmtpClientOptions.AcceptAnyCertificate): encryption against passive
            // listeners; an active attacker could equally strip STARTTLS, which only MTA-STS or DANE would prevent.
#pragma warning disable CA5359 // deliberate: opportunistic TLS to MX hosts, see above
            var observer = options.CertificateObserver;
            tls.RemoteCertificateValidationCallback = (_, _, _, errors) =>
            {
                observer?.Invoke(errors);
                return true;
            };
#pragma warning restore CA5359
        }

        if (options.TrustedRoots is { Count: > 0 } roots)
        {
            var policy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy
            {
                TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust,
                RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(roots);
            tls.CertificateChainPolicy = policy;
        }

        return tls;
    }

    /// <summary>One mail transaction. Ended is true when the server is ready for the next MAIL without RSET.</summary>
    /// <exception cref="StaleConnectionException">On a reused connection, the first write or reply failed or was 421: nothing was accepted.</exception>
    private static async Task<(SmtpDeliveryResult Result, bool Ended)> TransactAsync(Connection conn, Dictionary<string, string> ext, SmtpEnvelope envelope, Stream content, bool reused, CancellationToken ct)
    {
        var mail = new StringBuilder("MAIL FROM:<").Append(envelope.ReversePath).Append('>');
        if (content.CanSeek && ext.ContainsKey("SIZE")) mail.Append(" SIZE=").Append((content.Length - content.Position).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (envelope.EightBitMime && ext.ContainsKey("8BITMIME")) mail.Append(" BODY=8BITMIME");
        if (envelope.SmtpUtf8)
        {
            if (!ext.ContainsKey("SMTPUTF8")) return (new(false, true, "553 5.6.7 Smarthost does not support SMTPUTF8", []), true);
            mail.Append(" SMTPUTF8");
        }
        var commands = new List<string> { mail.ToString() };
        commands.AddRange(envelope.Recipients.Select(r => "RCPT TO:<" + r + ">"));
        commands.Add("DATA");
        var replies = new List<Reply>();
        bool pipelining = ext.ContainsKey("PIPELINING");
        try
        {
            // The first command (or the pipelined group) and its reply: where a dead reused connection shows.
            if (pipelining) await conn.SendAsync(string.Concat(commands.Select(c => c + "\r\n")), ct).ConfigureAwait(false);
            else await conn.SendAsync(commands[0] + "\r\n", ct).ConfigureAwait(false);
            replies.Add(await conn.ReadAsync(ct).ConfigureAwait(false));
        }
        catch (Exception e) when (reused && e is IOException or InvalidDataException)
        {
            throw new StaleConnectionException();
        }
        if (reused && replies[0].Code == 421) throw new StaleConnectionException();
        if (pipelining)
        {
            for (int i = 1; i < commands.Count; i++) replies.Add(await conn.ReadAsync(ct).ConfigureAwait(false));
        }
        else if (replies[0].Code == 250)
        {
            for (int i = 1; i < commands.Count; i++)
            {
                var c = commands[i];
                replies.Add(await conn.CommandAsync(c, ct).ConfigureAwait(false));
                if (c == "DATA") break;
                // No recipient accepted: do not send DATA (the reply list stays one short).
                if (replies.Count == commands.Count - 1 && !replies.Skip(1).Any(x => x.Code is 250 or 251)) break;
            }
        }
        // MAIL refused: no transaction was opened (a pipelined RCPT and DATA were refused with it).
        if (replies[0].Code != 250) return (Fail(replies[0]), !pipelining || replies[^1].Code != 354);
        var rejected = new List<KeyValuePair<string, string>>();
        for (int i = 0; i < envelope.Recipients.Count && i + 1 < replies.Count; i++)
            if (replies[i + 1].Code is not (250 or 251)) rejected.Add(new(envelope.Recipients[i], replies[i + 1].Text));
        if (replies.Count < commands.Count)
            return (new(false, rejected.All(r => r.Value.StartsWith('5')), replies[^1].Text, rejected), false);
        var data = replies[^1];
        if (data.Code != 354)
        {
            var worst = rejected.Count == envelope.Recipients.Count ? replies[1] : data;
            return (new(false, worst.Code >= 500, worst.Text, rejected), false);
        }
        await conn.SendDataAsync(content, ct).ConfigureAwait(false);
        var end = await conn.ReadAsync(ct).ConfigureAwait(false);
        // After the reply to the end of data the transaction is over, whatever the reply (RFC 5321 §4.1.1.4).
        if (end.Code != 250) return (new(false, end.Code >= 500, end.Text, rejected), true);
        return (new(rejected.Count == 0, rejected.Count > 0 && rejected.All(r => r.Value.StartsWith('5')), end.Text, rejected) { DataAccepted = true }, true);
    }

    /// <summary>A reused connection was found dead before anything of the transaction was accepted.</summary>
    private sealed class StaleConnectionException : Exception
    {
        public StaleConnectionException() : base("The reused SMTP connection is closed.") { }
    }

    private static SmtpDeliveryResult Fail(Reply r) => new(false, r.Code is >= 500 and < 600, r.Text, []);

    private static Dictionary<string, string> Extensions(Reply ehlo)
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in ehlo.Lines.Skip(1))
        {
            int sp = line.IndexOf(' ', StringComparison.Ordinal);
            d[sp < 0 ? line : line[..sp]] = sp < 0 ? "" : line[(sp + 1)..];
        }
        return d;
    }

    private readonly record struct Reply(int Code, IReadOnlyList<string> Lines)
    {
        public string Text
        {
            get
            {
                string code = Code.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return string.Join(" / ", Lines.Select(l => code + " " + l));
            }
        }
    }

    /// <summary>Bounded reply reader and writer over one stream.</summary>
    private sealed class Connection(Stream stream, TimeSpan timeout)
    {
        private readonly byte[] _buf = new byte[MaxReplyLine];
        private int _start, _end;

        public async Task SendAsync(string text, CancellationToken ct)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text), ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);
        }

        public async Task<Reply> CommandAsync(string command, CancellationToken ct)
        {
            await SendAsync(command + "\r\n", ct).ConfigureAwait(false);
            return await ReadAsync(ct).ConfigureAwait(false);
        }

        public async Task TryQuitAsync(CancellationToken ct)
        {
            try { await CommandAsync("QUIT", ct).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or InvalidDataException or TimeoutException or ObjectDisposedException)
            {
                // The message is delivered; a server that drops the line at QUIT changes nothing.
            }
        }

        /// <summary>Streams the message with dot-stuffing (RFC 5321 §4.5.2), then CRLF.CRLF.</summary>
        public async Task SendDataAsync(Stream content, CancellationToken ct)
        {
            var input = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
            var output = System.Buffers.ArrayPool<byte>.Shared.Rent(2 * input.Length + 8);
            try
            {
                bool lineStart = true;
                byte last = (byte)'\n', beforeLast = (byte)'\r';
                int n, o = 0;
                while ((n = await content.ReadAsync(input, ct).ConfigureAwait(false)) > 0)
                {
                    if (o > 0) await stream.WriteAsync(output.AsMemory(0, o), ct).ConfigureAwait(false);
                    o = 0;
                    for (int i = 0; i < n; i++)
                    {
                        byte b = input[i];
                        if (lineStart && b == (byte)'.') output[o++] = (byte)'.';
                        output[o++] = b;
                        lineStart = b == (byte)'\n';
                        beforeLast = last;
                        last = b;
                    }
                }
                // The end of data goes out in the same write as the last bytes: one segment, not a lone ".".
                bool endsWithCrlf = beforeLast == (byte)'\r' && last == (byte)'\n';
                var end = endsWithCrlf ? ".\r\n"u8 : "\r\n.\r\n"u8;
                end.CopyTo(output.AsSpan(o));
                o += end.Length;
                await stream.WriteAsync(output.AsMemory(0, o), ct).ConfigureAwait(false);
                await stream.FlushAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(input);
                System.Buffers.ArrayPool<byte>.Shared.Return(output);
            }
        }

        public async Task<Reply> ReadAsync(CancellationToken ct)
        {
            var lines = new List<string>();
            int code = 0;
            while (true)
            {
                var line = await ReadLineAsync(ct).ConfigureAwait(false);
                if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int c) || c is < 200 or > 599)
                    throw new InvalidDataException("Malformed SMTP reply.");
                if (code != 0 && c != code) throw new InvalidDataException("Inconsistent multi-line SMTP reply.");
                code = c;
                lines.Add(line.Length > 4 ? line[4..] : "");
                if (lines.Count > MaxReplyLines) throw new InvalidDataException("SMTP reply too long.");
                if (line.Length == 3 || line[3] == ' ') return new Reply(code, lines);
                if (line[3] != '-') throw new InvalidDataException("Malformed SMTP reply.");
            }
        }

        private async Task<string> ReadLineAsync(CancellationToken ct)
        {
            while (true)
            {
                int lf = Array.IndexOf(_buf, (byte)'\n', _start, _end - _start);
                if (lf >= 0)
                {
                    var line = Encoding.UTF8.GetString(_buf, _start, lf - _start).TrimEnd('\r');
                    _start = lf + 1;
                    return line;
                }
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                if (_end == _buf.Length) throw new InvalidDataException("SMTP reply line too long.");
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(timeout);
                int n;
                try
                {
                    n = await stream.ReadAsync(_buf.AsMemory(_end), cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new TimeoutException("SMTP reply timed out.");
                }
                if (n == 0) throw new IOException("Connection closed by the smarthost.");
                _end += n;
            }
        }
    }
}
