using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using Microsoft.Extensions.Logging;
using Veil.Mail.Spool;

namespace Veil.Mail.Smtp;

/// <summary>
/// One SMTP server session (RFC 5321) over one stream. Reads into a fixed buffer (never more than
/// one command line or one buffer of data at a time), writes replies into a buffer flushed only when
/// it must read again (so pipelined commands get batched replies, RFC 2920).
/// </summary>
/// <remarks>
/// Line endings. Command lines end at LF; a CR before it is dropped, so interactive clients work.
/// Message data is strict (RFC 5321 §2.3.8, §4.1.1.4): the end of data is recognised only as
/// CRLF "." CRLF, and a bare CR or bare LF anywhere in the data makes the whole message rejected with
/// <c>550 5.6.0</c> after its end, instead of being normalised. Normalising would let a message read
/// differently here and at the next hop, which is what SMTP smuggling exploits.
/// </remarks>
internal sealed class SmtpSession(
    Stream transport,
    SmtpServerOptions options,
    IRecipientResolver resolver,
    ISpool spool,
    TimeProvider time,
    ILogger logger,
    long sessionId,
    string remote,
    System.Net.IPAddress? remoteAddress = null,
    Func<TimeSpan>? commandTimeout = null) : IDisposable
{
    // Guards the deadline between the session's own I/O and Tighten, which the server calls from other threads.
    private readonly Lock _armLock = new();
    private bool _awaitingCommand;
    private bool _disposed;

    private const int DataChunk = 64 * 1024;
    private readonly byte[] _in = new byte[Math.Max(8192, options.MaxCommandLineLength + 2)];
    private readonly ArrayBufferWriter<byte> _out = new(1024);
    private Stream _stream = transport;
    private int _inStart;
    private int _inEnd;
    private bool _tls;
    private bool _greeted;
    private int _errors;
    private int _accepted;
    private long _dataSize;
    private string _verb = "-";

    // One deadline per session, re-armed for every read and write (RFC 5321 §4.5.3.2 timeouts), instead of two
    // timer-backed token sources per I/O operation; host shutdown cancels it too.
    private CancellationTokenSource? _deadline;
    private CancellationTokenRegistration _hostStop;

    // The mail transaction (RFC 5321 §3.3).
    private string? _from;
    private readonly List<string> _recipients = [];
    private bool _eightBit;
    private bool _smtpUtf8;

    // The EHLO/HELO name of this session (SPF checks it for the null sender); forgotten after STARTTLS like the rest.
    private string? _helo;

    private enum LineStatus { Ok, TooLong, Eof }

    private enum DataState { LineStart, DotAtLineStart, DotCr, Middle, SawCr }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string? reason = null;
        try
        {
            MailEngineLog.SessionOpened(logger, sessionId, remote);
            Reply($"220 {options.ServerName} ESMTP Veil");
            while (true)
            {
                var (status, line) = await ReadCommandAsync(cancellationToken).ConfigureAwait(false);
                if (status == LineStatus.Eof)
                {
                    reason = "client closed";
                    return;
                }

                _verb = "-";
                bool keepOpen = status == LineStatus.TooLong
                    ? Fail("500 5.5.2 Line too long")
                    : await ExecuteAsync(line!, cancellationToken).ConfigureAwait(false);
                if (!keepOpen) break;
                if (_errors >= options.MaxErrors)
                {
                    Close("421 4.7.0 Too many errors, closing connection");
                    reason = "too many errors";
                    break;
                }
            }
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            reason ??= "QUIT";
        }
        catch (SmtpTimeoutException)
        {
            Close("421 4.4.2 Timeout, closing connection");
            reason = "timeout";
            await TryFlushAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Close("421 4.3.2 Service shutting down");
            reason = "shutdown";
            await TryFlushAsync().ConfigureAwait(false);
        }
        catch (AuthenticationException)
        {
            // The TLS handshake after STARTTLS failed; there is no channel left to answer on.
            reason = "TLS handshake failed";
        }
        finally
        {
            MailEngineLog.SessionClosed(logger, sessionId, reason ?? "connection lost", _accepted, _errors, _tls);
        }
    }

    // ---- commands -----------------------------------------------------------------------------

    private async Task<bool> ExecuteAsync(string line, CancellationToken ct)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        string verb = (space < 0 ? line : line[..space]).ToUpperInvariant();
        string arg = space < 0 ? "" : line[(space + 1)..];
        _verb = verb;
        switch (verb)
        {
            case "EHLO": return Hello(arg, extended: true);
            case "HELO": return Hello(arg, extended: false);
            case "MAIL": return Mail(arg);
            case "RCPT": return await RecipientAsync(arg, ct).ConfigureAwait(false);
            case "DATA": return await DataAsync(arg, ct).ConfigureAwait(false);
            case "RSET":
                if (arg.Length != 0) return Fail("501 5.5.4 RSET takes no arguments");
                ResetTransaction();
                return Ok("250 2.0.0 Ok");
            case "NOOP": return Ok("250 2.0.0 Ok");
            case "QUIT":
                Reply("221 2.0.0 Bye");
                return false;
            case "HELP": return Ok("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT HELP VRFY" + (CanStartTls ? " STARTTLS" : "") + "; see RFC 5321");
            // Neither discloses whether an address exists (no harvesting).
            case "VRFY": return Ok("252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
            case "EXPN": return Fail("502 5.5.1 EXPN not available");
            case "STARTTLS": return await StartTlsAsync(arg, ct).ConfigureAwait(false);
            default: return Fail("500 5.5.2 Syntax error, command unrecognized");
        }
    }

    private bool CanStartTls => options.Certificate is not null && !_tls;

    private bool Hello(string arg, bool extended)
    {
        string domain = arg.Trim();
        if (domain.Length == 0)
            return Fail($"501 5.5.4 Syntax: {(extended ? "EHLO" : "HELO")} hostname");
        ResetTransaction();
        _greeted = true;
        _helo = domain.Length <= 255 ? domain : domain[..255];
        if (!extended) return Ok($"250 {options.ServerName}");
        var lines = new List<string>
        {
            options.ServerName,
            "SIZE " + options.MaxMessageSize.ToString(CultureInfo.InvariantCulture),
            "8BITMIME",
            "PIPELINING",
            "SMTPUTF8",
            "ENHANCEDSTATUSCODES",
        };
        if (CanStartTls) lines.Add("STARTTLS");
        lines.Add("HELP");
        for (int i = 0; i < lines.Count; i++) Reply($"250{(i == lines.Count - 1 ? ' ' : '-')}{lines[i]}");
        return true;
    }

    private bool Mail(string arg)
    {
        if (!_greeted) return Fail("503 5.5.1 Send EHLO or HELO first");
        if (_from is not null) return Fail("503 5.5.1 Nested MAIL command");
        if (!arg.StartsWith("FROM:", StringComparison.OrdinalIgnoreCase)) return Fail("501 5.5.4 Syntax: MAIL FROM:<address>");
        if (!SmtpPath.TryParse(arg[5..], allowNull: true, allowPostmaster: false, out var mailbox, out var rest))
            return Fail("501 5.1.7 Bad sender address syntax");
        if (!SmtpPath.TryParseParameters(rest, out var parameters)) return Fail("501 5.5.4 Bad MAIL parameters");
        bool eightBit = false, utf8 = false, sawSize = false, sawBody = false;
        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "SIZE" when !sawSize:
                    sawSize = true;
                    if (value is null || value.Length > 20 || !value.All(char.IsAsciiDigit)) return Fail("501 5.5.4 Bad SIZE parameter");
                    if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long size) || size > options.MaxMessageSize)
                        return Fail("552 5.3.4 Message size exceeds fixed maximum message size");
                    break;
                case "BODY" when !sawBody:
                    sawBody = true;
                    if (string.Equals(value, "8BITMIME", StringComparison.OrdinalIgnoreCase)) eightBit = true;
                    else if (!string.Equals(value, "7BIT", StringComparison.OrdinalIgnoreCase)) return Fail("501 5.5.4 Unsupported BODY type");
                    break;
                case "SMTPUTF8" when !utf8:
                    if (value is not null) return Fail("501 5.5.4 SMTPUTF8 takes no value");
                    utf8 = true;
                    break;
                default:
                    return Fail("555 5.5.4 MAIL parameter not recognized or not implemented");
            }
        }
        if (!utf8 && !IsAscii(mailbox)) return Fail("553 5.6.7 Non-ASCII address requires SMTPUTF8");
        _from = mailbox;
        _eightBit = eightBit;
        _smtpUtf8 = utf8;
        return Ok("250 2.1.0 Ok");
    }

    private async Task<bool> RecipientAsync(string arg, CancellationToken ct)
    {
        if (_from is null) return Fail("503 5.5.1 Need MAIL before RCPT");
        if (!arg.StartsWith("TO:", StringComparison.OrdinalIgnoreCase)) return Fail("501 5.5.4 Syntax: RCPT TO:<address>");
        if (!SmtpPath.TryParse(arg[3..], allowNull: false, allowPostmaster: true, out var mailbox, out var rest))
            return Fail("501 5.1.3 Bad recipient address syntax");
        if (rest.Trim().Length != 0) return Fail("555 5.5.4 RCPT parameters not recognized or not implemented");
        if (!_smtpUtf8 && !IsAscii(mailbox)) return Fail("553 5.6.7 Non-ASCII address requires SMTPUTF8");
        if (_recipients.Count >= options.MaxRecipients) return Fail("452 4.5.3 Too many recipients");
        RecipientDecision decision;
        try
        {
            decision = await resolver.ResolveAsync(new RecipientQuery(mailbox, _from, remoteAddress), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The resolver belongs to a module (database, keys): its failure is a temporary one for the client,
            // and the operator's to see.
            MailEngineLog.ResolverFailed(logger, sessionId, e.GetType().Name);
            return Fail("451 4.3.0 Temporary failure resolving recipient");
        }
        return decision switch
        {
            RecipientDecision.Accept => AddRecipient(mailbox),
            RecipientDecision.Unknown => Fail("550 5.1.1 Mailbox unavailable"),
            RecipientDecision.RelayDenied => Fail("550 5.7.1 Relaying denied"),
            _ => Fail("451 4.3.0 Temporary failure resolving recipient"),
        };
    }

    private bool AddRecipient(string mailbox)
    {
        _recipients.Add(mailbox);
        return Ok("250 2.1.5 Ok");
    }

    private async Task<bool> DataAsync(string arg, CancellationToken ct)
    {
        if (arg.Length != 0) return Fail("501 5.5.4 DATA takes no arguments");
        if (_from is null) return Fail("503 5.5.1 Need MAIL before DATA");
        if (_recipients.Count == 0) return Fail("554 5.5.1 No valid recipients");
        if (options.MaxSpoolBacklog > 0 && spool is ISpoolBacklog backlog
            && !await backlog.WaitBelowAsync(options.MaxSpoolBacklog, options.BacklogWait, time, ct).ConfigureAwait(false))
        {
            ResetTransaction();
            MailEngineLog.BacklogFull(logger, sessionId, backlog.Pending);
            return Fail("451 4.3.1 Too much mail waiting here; try again later");
        }
        var envelope = new SmtpEnvelope(_from, [.. _recipients], _eightBit, _smtpUtf8, time.GetUtcNow(), remoteAddress?.ToString(), _helo);
        ISpoolWriter writer;
        try
        {
            writer = await spool.BeginAsync(envelope, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ResetTransaction();
            return Fail("451 4.3.0 Local error: cannot spool message");
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            MailEngineLog.SpoolFailed(logger, sessionId, e.GetType().Name);
            ResetTransaction();
            return Fail("451 4.3.0 Local error: cannot spool message");
        }
        await using (writer.ConfigureAwait(false))
        {
            Reply("354 End data with <CR><LF>.<CR><LF>");
            var outcome = await ReceiveDataAsync(writer, ct).ConfigureAwait(false);
            ResetTransaction();
            switch (outcome)
            {
                case DataOutcome.Eof: return false;
                case DataOutcome.Abort:
                    Close("552 5.3.4 Message size exceeds fixed maximum message size; closing connection");
                    return false;
                case DataOutcome.TooBig: return Fail("552 5.3.4 Message size exceeds fixed maximum message size");
                case DataOutcome.HeaderTooBig: return Fail("552 5.3.4 Message header size exceeds limit");
                case DataOutcome.BareLineEnding: return Fail("550 5.6.0 Bare CR or LF in message data; lines must end with CRLF");
            }
            SpoolId id;
            try
            {
                id = await writer.CommitAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail("451 4.3.0 Local error: cannot spool message");
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                MailEngineLog.SpoolFailed(logger, sessionId, e.GetType().Name);
                return Fail("451 4.3.0 Local error: cannot spool message");
            }
            _accepted++;
            MailEngineLog.Spooled(logger, sessionId, id.Value, _dataSize, envelope.Recipients.Count);
            // Only now, with the message on disk, does the client hear 250 (DESIGN.md: nothing lost).
            return Ok($"250 2.0.0 Ok: queued as {id.Value}");
        }
    }

    private enum DataOutcome { Ok, Eof, TooBig, HeaderTooBig, BareLineEnding, Abort }

    private async Task<DataOutcome> ReceiveDataAsync(ISpoolWriter writer, CancellationToken ct)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(DataChunk);
        try
        {
            int used = 0;
            long size = 0, discarded = 0;
            long discardCap = Math.Max(options.MaxMessageSize, 1 << 20);
            bool inHeader = true, lineEmpty = true;
            bool bare = false, tooBig = false, headerTooBig = false;
            var state = DataState.LineStart;
            while (true)
            {
                if (_inStart == _inEnd && !await FillAsync(options.DataBlockTimeout, ct).ConfigureAwait(false)) return DataOutcome.Eof;
                int i = _inStart;
                bool end = false;
                for (; i < _inEnd && !end; i++)
                {
                    byte b = _in[i];
                    bool again = true;
                    while (again)
                    {
                        again = false;
                        switch (state)
                        {
                            case DataState.LineStart:
                                lineEmpty = true;
                                if (b == (byte)'.') { state = DataState.DotAtLineStart; break; }
                                state = DataState.Middle;
                                goto case DataState.Middle;
                            case DataState.DotAtLineStart:
                                if (b == (byte)'\r') { state = DataState.DotCr; break; }
                                // Dot-unstuffing (RFC 5321 §4.5.2): the leading dot is dropped, the rest is data.
                                lineEmpty = false;
                                state = DataState.Middle;
                                again = true;
                                break;
                            case DataState.DotCr:
                                if (b == (byte)'\n') { end = true; break; }
                                bare = true; // ".\r" + not LF: a bare CR
                                state = DataState.Middle;
                                again = true;
                                break;
                            case DataState.Middle:
                                if (b == (byte)'\r') { state = DataState.SawCr; break; }
                                if (b == (byte)'\n') { bare = true; lineEmpty = false; break; } // bare LF never ends a line
                                lineEmpty = false;
                                Emit(b);
                                break;
                            case DataState.SawCr:
                                if (b == (byte)'\n')
                                {
                                    Emit((byte)'\r');
                                    Emit((byte)'\n');
                                    if (inHeader && lineEmpty) inHeader = false;
                                    state = DataState.LineStart;
                                    break;
                                }
                                bare = true;
                                Emit((byte)'\r');
                                lineEmpty = false;
                                state = DataState.Middle;
                                again = true;
                                break;
                        }
                    }
                    // One input byte may emit two (the CR held back until its LF arrives): keep room for both.
                    if (used >= buffer.Length - 1)
                    {
                        await writer.WriteAsync(buffer.AsMemory(0, used), ct).ConfigureAwait(false);
                        used = 0;
                    }
                }
                _inStart = i;
                _dataSize = size;
                if (end)
                {
                    if (used > 0 && !(bare || tooBig || headerTooBig))
                        await writer.WriteAsync(buffer.AsMemory(0, used), ct).ConfigureAwait(false);
                    return bare ? DataOutcome.BareLineEnding
                        : tooBig ? DataOutcome.TooBig
                        : headerTooBig ? DataOutcome.HeaderTooBig
                        : DataOutcome.Ok;
                }
                if (discarded > discardCap) return DataOutcome.Abort;
            }

            void Emit(byte value)
            {
                if (bare || tooBig || headerTooBig)
                {
                    discarded++; // keep reading to the end of data, but store nothing more
                    return;
                }
                size++;
                if (size > options.MaxMessageSize) { tooBig = true; return; }
                if (inHeader && size > options.MaxHeaderSize) { headerTooBig = true; return; }
                buffer[used++] = value;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<bool> StartTlsAsync(string arg, CancellationToken ct)
    {
        if (options.Certificate is null) return Fail("502 5.5.1 STARTTLS not available");
        if (_tls) return Fail("503 5.5.1 TLS already active");
        if (arg.Length != 0) return Fail("501 5.5.4 STARTTLS takes no arguments");
        Reply("220 2.0.0 Ready to start TLS");
        await FlushAsync(ct).ConfigureAwait(false);
        // Anything the client pipelined after STARTTLS arrived in clear text and must not be
        // executed inside TLS (CVE-2011-0411, command injection): throw it away.
        _inStart = _inEnd = 0;
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        using var timeout = new CancellationTokenSource(options.TlsHandshakeTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = options.Certificate,
                ClientCertificateRequired = false,
            }, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new AuthenticationException("TLS handshake timed out.");
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        _stream = ssl;
        _tls = true;
        _greeted = false; // RFC 3207 §4.2: the client must EHLO again; all earlier state is forgotten
        _helo = null;
        ResetTransaction();
        return true;
    }

    // ---- replies and I/O ----------------------------------------------------------------------

    private bool Ok(string reply)
    {
        Reply(reply);
        return true;
    }

    private bool Fail(string reply)
    {
        _errors++;
        if (logger.IsEnabled(LogLevel.Information))
        {
            // The verb and the reply's codes only: arguments and reply texts may hold addresses.
            var (code, status) = MailEngineLog.CodeOf(reply);
            MailEngineLog.Rejected(logger, sessionId, remote, _verb.Length <= 10 && _verb.All(char.IsAsciiLetterUpper) ? _verb : "?", code, status);
        }

        Reply(reply);
        return true;
    }

    /// <summary>A reply that ends the session (421, or 552 after an oversized message).</summary>
    private void Close(string reply)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            var (code, status) = MailEngineLog.CodeOf(reply);
            MailEngineLog.ClosedWith(logger, sessionId, remote, code, status);
        }

        Reply(reply);
    }

    private void Reply(string reply)
    {
        int n = Encoding.ASCII.GetByteCount(reply);
        var span = _out.GetSpan(n + 2);
        Encoding.ASCII.GetBytes(reply, span);
        span[n] = (byte)'\r';
        span[n + 1] = (byte)'\n';
        _out.Advance(n + 2);
    }

    private void ResetTransaction()
    {
        _from = null;
        _recipients.Clear();
        _eightBit = false;
        _smtpUtf8 = false;
    }

    private static bool IsAscii(string s) => s.All(char.IsAscii);

    private async Task<(LineStatus Status, string? Line)> ReadCommandAsync(CancellationToken ct)
    {
        bool discarding = false;
        int scanFrom = _inStart;
        while (true)
        {
            int lf = Array.IndexOf(_in, (byte)'\n', scanFrom, _inEnd - scanFrom);
            if (lf >= 0)
            {
                int start = _inStart, length = lf - _inStart;
                _inStart = lf + 1;
                if (discarding || length + 1 > options.MaxCommandLineLength) return (LineStatus.TooLong, null);
                if (length > 0 && _in[start + length - 1] == (byte)'\r') length--;
                return (LineStatus.Ok, Decode(_in.AsSpan(start, length)));
            }
            if (_inEnd - _inStart >= options.MaxCommandLineLength)
            {
                discarding = true; // keep the buffer bounded: drop the line and wait for its end
                _inStart = _inEnd = 0;
            }
            if (!await FillAsync(commandTimeout?.Invoke() ?? options.CommandTimeout, ct, awaitingCommand: true).ConfigureAwait(false)) return (LineStatus.Eof, null);
            scanFrom = _lastFillStart; // bytes before it held no LF
        }
    }

    private int _lastFillStart;

    /// <summary>Decodes a command line; control characters or invalid UTF-8 yield "" (answered 500).</summary>
    private static string Decode(ReadOnlySpan<byte> line)
    {
        foreach (byte b in line)
            if (b < 0x20 || b == 0x7f) return "\u0000";
        try
        {
            return new UTF8Encoding(false, true).GetString(line);
        }
        catch (DecoderFallbackException)
        {
            return "\u0000";
        }
    }

    /// <summary>Flushes pending replies, then reads more input. False at end of stream.</summary>
    private async Task<bool> FillAsync(TimeSpan timeout, CancellationToken ct, bool awaitingCommand = false)
    {
        await FlushAsync(ct).ConfigureAwait(false);
        if (_inStart > 0)
        {
            Buffer.BlockCopy(_in, _inStart, _in, 0, _inEnd - _inStart);
            _inEnd -= _inStart;
            _inStart = 0;
        }
        _lastFillStart = _inEnd;
        var token = Arm(timeout, ct, awaitingCommand);
        int n;
        try
        {
            n = await _stream.ReadAsync(_in.AsMemory(_inEnd), token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new SmtpTimeoutException();
        }
        Disarm();
        _inEnd += n;
        return n > 0;
    }

    /// <summary>Starts the deadline for one I/O operation; the token is also cancelled by host shutdown.</summary>
    private CancellationToken Arm(TimeSpan timeout, CancellationToken ct, bool awaitingCommand = false)
    {
        lock (_armLock)
        {
            if (_deadline is null)
            {
                _deadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
                _hostStop = ct.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _deadline);
            }

            // A deadline that fired just as the previous operation completed stays fired: the session then times out.
            _deadline.CancelAfter(timeout);
            _awaitingCommand = awaitingCommand;
            return _deadline.Token;
        }
    }

    private void Disarm()
    {
        lock (_armLock)
        {
            _awaitingCommand = false;
            _deadline!.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// The server came under pressure: a session idle between commands gets at most <paramref name="timeout"/> from
    /// now for its next one, instead of what is left of the usual command timeout. A session in the middle of a
    /// transaction's data, or busy, is left alone.
    /// </summary>
    internal void Tighten(TimeSpan timeout)
    {
        lock (_armLock)
        {
            if (_awaitingCommand && !_disposed)
            {
                _deadline!.CancelAfter(timeout);
            }
        }
    }

    public void Dispose()
    {
        lock (_armLock)
        {
            _disposed = true;
        }

        _hostStop.Dispose();
        _deadline?.Dispose();
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        if (_out.WrittenCount == 0) return;
        var token = Arm(options.CommandTimeout, ct);
        try
        {
            await _stream.WriteAsync(_out.WrittenMemory, token).ConfigureAwait(false);
            await _stream.FlushAsync(token).ConfigureAwait(false);
            Disarm();
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new SmtpTimeoutException();
        }
        finally
        {
            _out.Clear();
        }
    }

    /// <summary>Last words on a dying session: a short, bounded attempt, failures ignored by design.</summary>
    private async Task TryFlushAsync()
    {
        using var timer = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
        try
        {
            await _stream.WriteAsync(_out.WrittenMemory, timer.Token).ConfigureAwait(false);
            await _stream.FlushAsync(timer.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or NotSupportedException)
        {
            // The peer is gone or not reading; the session is closing anyway.
        }
        _out.Clear();
    }
}

/// <summary>A client exceeded a per-command timeout (RFC 5321 §4.5.3.2).</summary>
internal sealed class SmtpTimeoutException : Exception
{
    public SmtpTimeoutException() : base("SMTP client timed out.") { }
}
