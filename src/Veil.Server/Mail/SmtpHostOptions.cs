using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;
using Veil.Mail.Smtp;
using Veil.Server.Platform.Hosting;

namespace Veil.Server.Mail;

/// <summary>
/// The SMTP listener (section <c>Veil:Mail:Smtp</c>). SMTP is off unless <see cref="Listen"/> is set
/// (<c>veil serve --smtp ADDR:PORT</c>). Limits default to the engine's (<see cref="SmtpServerOptions"/>).
/// </summary>
internal sealed class SmtpHostOptions
{
    public const string Section = "Veil:Mail:Smtp";

    /// <summary><c>ADDR:PORT</c> (e.g. <c>0.0.0.0:25</c>, <c>[::]:25</c>; port 0 picks a free one); empty: no SMTP.</summary>
    public string? Listen { get; set; }

    public string ServerName { get; set; } = "localhost";

    public int MaxCommandLineLength { get; set; } = 512;

    public int MaxRecipients { get; set; } = 100;

    public long MaxMessageSize { get; set; } = 25 * 1024 * 1024;

    public int MaxHeaderSize { get; set; } = 256 * 1024;

    public int MaxErrors { get; set; } = 20;

    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan DataBlockTimeout { get; set; } = TimeSpan.FromMinutes(3);

    public TimeSpan TlsHandshakeTimeout { get; set; } = TimeSpan.FromMinutes(1);

    public int MaxConnections { get; set; } = 500;

    public int MaxConnectionsPerIp { get; set; } = 20;

    /// <summary>Share of MaxConnections kept for addresses with no connection open yet (percent). See SmtpServerOptions.</summary>
    public int ReservedConnectionsPercent { get; set; } = 10;

    /// <summary>Share of MaxConnections in use from which idle sessions get PressureCommandTimeout (percent).</summary>
    public int PressurePercent { get; set; } = 75;

    public TimeSpan PressureCommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Backpressure: DATA waits while this many messages are spooled and not yet handled (0: off). See SmtpServerOptions.</summary>
    public int MaxSpoolBacklog { get; set; } = 128;

    public TimeSpan BacklogWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>PKCS#12 file offered after STARTTLS; unset: a self-signed one is generated into <c>&lt;data&gt;/smtp-cert.pfx</c>.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>
    /// DEVELOPMENT AID, refused in production: comma-separated domains whose every address is accepted,
    /// so the transport can be exercised before a module (Alias) decides on recipients.
    /// </summary>
    public string? AcceptDomains { get; set; }

    /// <summary>
    /// DEVELOPMENT AID, refused in production: when no module registers a message sink, spooled messages
    /// are written to this directory as <c>&lt;spool-id&gt;.eml</c> (in clear) and removed from the spool.
    /// </summary>
    public string? DevelopmentSinkDirectory { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Listen);

    /// <summary>The parsed <see cref="Listen"/> address; call only after validation.</summary>
    public IPEndPoint ListenEndPoint => TryParseListen(Listen, out var endPoint) ? endPoint : throw new InvalidOperationException("Veil:Mail:Smtp:Listen is not valid.");

    public string[] AcceptedDomains =>
        [.. (AcceptDomains ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(d => d.TrimEnd('.').ToLowerInvariant())];

    /// <summary>The engine's options; <paramref name="certificate"/> enables STARTTLS.</summary>
    public SmtpServerOptions ToEngineOptions(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate) => new()
    {
        ServerName = ServerName,
        MaxCommandLineLength = MaxCommandLineLength,
        MaxRecipients = MaxRecipients,
        MaxMessageSize = MaxMessageSize,
        MaxHeaderSize = MaxHeaderSize,
        MaxErrors = MaxErrors,
        CommandTimeout = CommandTimeout,
        DataBlockTimeout = DataBlockTimeout,
        TlsHandshakeTimeout = TlsHandshakeTimeout,
        MaxConnections = MaxConnections,
        MaxConnectionsPerIp = MaxConnectionsPerIp,
        ReservedConnectionsPercent = ReservedConnectionsPercent,
        PressurePercent = PressurePercent,
        PressureCommandTimeout = PressureCommandTimeout,
        MaxSpoolBacklog = MaxSpoolBacklog,
        BacklogWait = BacklogWait,
        Certificate = certificate,
    };

    /// <summary>Accepts <c>IPv4:PORT</c> and <c>[IPv6]:PORT</c> with an explicit port (0–65535).</summary>
    public static bool TryParseListen(string? value, out IPEndPoint endPoint)
    {
        endPoint = null!;
        if (string.IsNullOrWhiteSpace(value)) return false;
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1) return false;
        string host = value[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        else if (host.Contains(':', StringComparison.Ordinal)) return false; // IPv6 needs brackets
        if (!IPAddress.TryParse(host, out var address)) return false;
        if (!int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > IPEndPoint.MaxPort) return false;
        endPoint = new IPEndPoint(address, port);
        return true;
    }
}

internal sealed class SmtpHostOptionsValidator(IOptions<VeilOptions> veil) : IValidateOptions<SmtpHostOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpHostOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (!SmtpHostOptions.TryParseListen(options.Listen, out _))
        {
            failures.Add("Veil:Mail:Smtp:Listen (env Veil__Mail__Smtp__Listen, veil serve --smtp): must be ADDR:PORT with an IP address, e.g. 127.0.0.1:2525 or [::]:25");
        }

        try
        {
            options.ToEngineOptions(null).Validate();
        }
        catch (ArgumentException e)
        {
            failures.Add(e.Message.Split(" (Parameter", 2)[0]);
        }

        if (options.CertificatePath is { Length: > 0 } path && !File.Exists(path))
        {
            failures.Add("Veil:Mail:Smtp:CertificatePath (env Veil__Mail__Smtp__CertificatePath): the file does not exist");
        }

        if (string.IsNullOrEmpty(options.CertificatePath) && !string.IsNullOrEmpty(options.CertificatePassword))
        {
            failures.Add("Veil:Mail:Smtp:CertificatePassword is set without Veil:Mail:Smtp:CertificatePath");
        }

        // The development aids accept mail for anyone at a domain and write it in clear to a directory:
        // an operator must never run them by accident.
        if (veil.Value.Production && !string.IsNullOrWhiteSpace(options.AcceptDomains))
        {
            failures.Add("Veil:Mail:Smtp:AcceptDomains (env Veil__Mail__Smtp__AcceptDomains) is a development aid and is refused in production");
        }

        if (veil.Value.Production && !string.IsNullOrWhiteSpace(options.DevelopmentSinkDirectory))
        {
            failures.Add("Veil:Mail:Smtp:DevelopmentSinkDirectory (env Veil__Mail__Smtp__DevelopmentSinkDirectory) is a development aid and is refused in production");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
