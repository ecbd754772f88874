using System.Security.Cryptography.X509Certificates;

namespace Veil.Mail.Smtp;

/// <summary>
/// Limits and identity of the SMTP server engine. Every limit has a safe default; a host binds
/// these from configuration and calls <see cref="Validate"/> at start.
/// </summary>
/// <remarks>
/// Timeouts follow RFC 5321 §4.5.3.2: the server waits at least 5 minutes for a command
/// (§4.5.3.2.7) and 3 minutes per data block; tests inject shorter ones.
/// </remarks>
public sealed class SmtpServerOptions
{
    /// <summary>The host name announced in the greeting and in EHLO replies.</summary>
    public string ServerName { get; set; } = "localhost";

    /// <summary>Longest command line accepted, including CRLF (RFC 5321 §4.5.3.1.4: 512).</summary>
    public int MaxCommandLineLength { get; set; } = 512;

    /// <summary>Most recipients accepted per message (RFC 5321 §4.5.3.1.8 requires at least 100).</summary>
    public int MaxRecipients { get; set; } = 100;

    /// <summary>Largest message accepted, in bytes after dot-unstuffing; advertised with SIZE.</summary>
    public long MaxMessageSize { get; set; } = 25 * 1024 * 1024;

    /// <summary>Largest header section accepted, in bytes, up to and including the empty line.</summary>
    public int MaxHeaderSize { get; set; } = 256 * 1024;

    /// <summary>Commands that fail before the session is closed with 421 (protects against garbage streams).</summary>
    public int MaxErrors { get; set; } = 20;

    /// <summary>Time allowed for the client to send a command line (RFC 5321 §4.5.3.2.7: at least 5 minutes).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Time allowed between two blocks of message data (RFC 5321 §4.5.3.2.5 client side: 3 minutes).</summary>
    public TimeSpan DataBlockTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Time allowed for a TLS handshake after STARTTLS.</summary>
    public TimeSpan TlsHandshakeTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Simultaneous connections accepted in total; more are answered 421 4.7.0.</summary>
    public int MaxConnections { get; set; } = 500;

    /// <summary>Simultaneous connections accepted from one IP address; more are answered 421 4.7.0.</summary>
    public int MaxConnectionsPerIp { get; set; } = 20;

    /// <summary>
    /// Share of <see cref="MaxConnections"/> (percent, default 10) kept for addresses that have no connection open: an
    /// address that already has one gets another only while more than this many slots are free. So a few addresses
    /// holding many connections each can never take every slot; they are the ones answered <c>421 4.7.0</c>.
    /// </summary>
    public int ReservedConnectionsPercent { get; set; } = 10;

    /// <summary>
    /// Share of <see cref="MaxConnections"/> in use (percent, default 75) from which the server is under pressure:
    /// sessions idle between commands then get <see cref="PressureCommandTimeout"/> instead of <see cref="CommandTimeout"/>
    /// (those already waiting too, counted from the moment the pressure starts).
    /// </summary>
    public int PressurePercent { get; set; } = 75;

    /// <summary>Time allowed for the next command while the server is under pressure (default 30 seconds).</summary>
    public TimeSpan PressureCommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Backpressure: when this many accepted messages wait in the spool, DATA waits (up to <see cref="BacklogWait"/>) for
    /// the spool to drain before answering 354, then answers <c>451 4.3.1</c>. Keeps the time from 250 to delivery
    /// bounded when mail arrives faster than it can be handled. 0 turns it off.
    /// </summary>
    public int MaxSpoolBacklog { get; set; }

    /// <summary>How long DATA waits for room in the spool (see <see cref="MaxSpoolBacklog"/>).</summary>
    public TimeSpan BacklogWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The certificate (with private key) offered after STARTTLS; <see langword="null"/> disables STARTTLS.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// How a client address appears in the engine's log lines (the host passes its one redaction helper, a keyed
    /// fingerprint). Null: addresses are not logged at all.
    /// </summary>
    public Func<System.Net.IPAddress, string>? RedactAddress { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ServerName) || ServerName.Any(c => c <= ' ' || c >= 0x7f))
            throw new ArgumentException("Veil:Mail:Smtp:ServerName must be a non-empty ASCII host name.", nameof(ServerName));
        if (MaxCommandLineLength < 512)
            throw new ArgumentException("Veil:Mail:Smtp:MaxCommandLineLength must be at least 512 (RFC 5321 §4.5.3.1.4).", nameof(MaxCommandLineLength));
        if (MaxRecipients < 1)
            throw new ArgumentException("Veil:Mail:Smtp:MaxRecipients must be at least 1.", nameof(MaxRecipients));
        if (MaxSpoolBacklog < 0)
            throw new ArgumentException("Veil:Mail:Smtp:MaxSpoolBacklog must be 0 (off) or positive.", nameof(MaxSpoolBacklog));
        if (BacklogWait < TimeSpan.Zero || BacklogWait > TimeSpan.FromMinutes(9))
            throw new ArgumentException("Veil:Mail:Smtp:BacklogWait must be between 0 and 9 minutes (senders give up on DATA after 10, RFC 5321 §4.5.3.2.5).", nameof(BacklogWait));
        if (MaxMessageSize < 1024)
            throw new ArgumentException("Veil:Mail:Smtp:MaxMessageSize must be at least 1024 bytes.", nameof(MaxMessageSize));
        if (MaxHeaderSize < 1024)
            throw new ArgumentException("Veil:Mail:Smtp:MaxHeaderSize must be at least 1024 bytes.", nameof(MaxHeaderSize));
        if (MaxErrors < 1)
            throw new ArgumentException("Veil:Mail:Smtp:MaxErrors must be at least 1.", nameof(MaxErrors));
        if (CommandTimeout <= TimeSpan.Zero || DataBlockTimeout <= TimeSpan.Zero || TlsHandshakeTimeout <= TimeSpan.Zero)
            throw new ArgumentException("Veil:Mail:Smtp timeouts must be positive.", nameof(CommandTimeout));
        if (MaxConnections < 1 || MaxConnectionsPerIp < 1)
            throw new ArgumentException("Veil:Mail:Smtp:MaxConnections and MaxConnectionsPerIp must be at least 1.", nameof(MaxConnections));
        if (ReservedConnectionsPercent is < 0 or > 90)
            throw new ArgumentException("Veil:Mail:Smtp:ReservedConnectionsPercent must be between 0 and 90.", nameof(ReservedConnectionsPercent));
        if (PressurePercent is < 1 or > 100)
            throw new ArgumentException("Veil:Mail:Smtp:PressurePercent must be between 1 and 100.", nameof(PressurePercent));
        if (PressureCommandTimeout <= TimeSpan.Zero)
            throw new ArgumentException("Veil:Mail:Smtp:PressureCommandTimeout must be positive.", nameof(PressureCommandTimeout));
        if (Certificate is { HasPrivateKey: false })
            throw new ArgumentException("Veil:Mail:Smtp:Certificate must include its private key.", nameof(Certificate));
    }
}
