namespace Veil.Mail.Queue;

/// <summary>How the client uses STARTTLS.</summary>
public enum SmtpTlsMode
{
    /// <summary>Never (tests, a relay on loopback).</summary>
    None,

    /// <summary>When the server offers it; otherwise in clear.</summary>
    Opportunistic,

    /// <summary>Always; a server without STARTTLS is a temporary failure.</summary>
    Required,
}

/// <summary>The smarthost the client delivers to (<c>Veil:Mail:Smarthost</c> = <c>host:port</c>).</summary>
public sealed class SmtpClientOptions
{
    /// <summary>Smarthost name or address.</summary>
    public string Host { get; set; } = "localhost";

    /// <summary>Smarthost port.</summary>
    public int Port { get; set; } = 25;

    /// <summary>Name sent in EHLO.</summary>
    public string HeloName { get; set; } = "localhost";

    /// <summary>STARTTLS policy.</summary>
    public SmtpTlsMode Tls { get; set; } = SmtpTlsMode.Opportunistic;

    /// <summary>
    /// When set, the smarthost's certificate must chain to one of these roots (instead of the system trust store),
    /// e.g. a private CA or the smarthost's own self-signed certificate. The host name is still checked.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2Collection? TrustedRoots { get; set; }

    /// <summary>
    /// Connect to this address instead of resolving <see cref="Host"/> (direct delivery resolves MX hosts through its own
    /// resolver); <see cref="Host"/> stays the TLS server name.
    /// </summary>
    public System.Net.IPAddress? ConnectAddress { get; set; }

    /// <summary>
    /// Opportunistic TLS without checking the certificate (RFC 7435): for direct delivery to MX hosts, where nothing
    /// says which name the certificate should carry. Never set it for a smarthost.
    /// </summary>
    public bool AcceptAnyCertificate { get; set; }

    /// <summary>
    /// With <see cref="AcceptAnyCertificate"/>: told what validation would have found (MTA-STS testing mode reports a
    /// certificate that enforce mode would refuse, and delivers anyway).
    /// </summary>
    public Action<System.Net.Security.SslPolicyErrors>? CertificateObserver { get; set; }

    /// <summary>
    /// AUTH user name; <see langword="null"/> for no AUTH. Credentials are only ever sent after STARTTLS: a session
    /// that is not encrypted fails (temporarily) instead of sending them.
    /// </summary>
    public string? UserName { get; set; }

    /// <summary>AUTH password (held as configuration text, as the host binds it).</summary>
    public string? Password { get; set; }

    /// <summary>Time allowed for each server reply (RFC 5321 §4.5.3.2 gives 5 min for most, 10 min after DATA).</summary>
    public TimeSpan ReplyTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Messages sent over one connection before it is closed and a fresh one opened (RSET between them).</summary>
    public int MaxMessagesPerConnection { get; set; } = 100;

    /// <summary>Parses <c>host:port</c> (also <c>[v6]:port</c>) into <see cref="Host"/> and <see cref="Port"/>.</summary>
    public static SmtpClientOptions FromSmarthost(string hostPort)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostPort);
        int colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw new ArgumentException("Veil:Mail:Smarthost must be host:port.", nameof(hostPort));
        return new SmtpClientOptions { Host = hostPort[..colon].Trim('[', ']'), Port = port };
    }
}

/// <summary>The outcome of one delivery attempt.</summary>
/// <param name="Success">All recipients were accepted and the data got 250.</param>
/// <param name="Permanent">The failure is a 5xx (give up, bounce) rather than a 4xx or network error (retry).</param>
/// <param name="Reply">The deciding server reply, or a local error description.</param>
/// <param name="RejectedRecipients">Recipients refused at RCPT, with their replies.</param>
public sealed record SmtpDeliveryResult(bool Success, bool Permanent, string Reply, IReadOnlyList<KeyValuePair<string, string>> RejectedRecipients)
{
    /// <summary>
    /// The server answered 250 to the end of data: every recipient not in <see cref="RejectedRecipients"/>
    /// has the message, even when <see cref="Success"/> is false because some were refused.
    /// </summary>
    public bool DataAccepted { get; init; }
}
