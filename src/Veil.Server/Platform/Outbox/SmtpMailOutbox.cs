// Production outbox: each message is built as RFC 5322 / MIME with Veil.Mail's MimeMessageBuilder and committed
// to the durable outbound queue (<data>/queue), which delivers it to the smarthost (Veil:Mail:Smarthost) with
// retries and bounces it to the outbox's own From address if it fails. SendAsync returns once the message is
// fsynced: a crash afterwards still sends it. When a DKIM key exists for the From domain (veil admin dkim create),
// the message is signed with it (Mail/OutgoingDkim.cs), so receivers applying DMARC accept Veil's own mail. The log names the queue id only: address and subject are personal data.
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Mime;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Server.Mail;
using Veil.Server.Platform.Diagnostics;

namespace Veil.Server.Platform.Outbox;

internal sealed partial class SmtpMailOutbox(
    OutboundQueue queue,
    OutgoingDkim dkim,
    IOptions<OutboxOptions> options,
    TimeProvider time,
    VeilMetrics metrics,
    ILogger<SmtpMailOutbox> logger) : IMailOutbox
{
    public async Task SendAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var from = options.Value.From;
        var now = time.GetUtcNow();
        var sender = Mailbox(from);
        var recipient = Mailbox(message.To);
        var builder = new MimeMessageBuilder { Text = message.TextBody, Html = message.HtmlBody };
        Add(builder, "From", from);
        Add(builder, "To", message.To);
        Add(builder, "Subject", message.Subject);
        Add(builder, "Date", now.ToUniversalTime().ToString("ddd, dd MMM yyyy HH':'mm':'ss '+0000'", CultureInfo.InvariantCulture));
        Add(builder, "Message-ID", $"<{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}@{Domain(sender)}>");
        foreach (var (name, value) in message.Headers)
        {
            Add(builder, name, value);
        }

        var utf8 = sender.Any(c => c > '~') || recipient.Any(c => c > '~');
        var envelope = new SmtpEnvelope(sender, [recipient], EightBitMime: false, SmtpUtf8: utf8, now);
        var (content, _) = await dkim.SignAsync(Domain(sender), builder.Build(), cancellationToken);
        if (message.OutboxId is { } once)
        {
            // Handed over again (a breach notice resumed after a kill): the queue keeps what it already has.
            if (await queue.EnqueueOnceAsync(once, envelope, content, cancellationToken))
            {
                metrics.OutboxMessage();
            }

            return;
        }

        var id = await queue.EnqueueAsync(envelope, content, cancellationToken);
        metrics.OutboxMessage();
        LogQueued(logger, id);
    }

    public void Forget(string outboxIdPrefix) => queue.ForgetOnce(outboxIdPrefix);

    private static void Add(MimeMessageBuilder builder, string name, string value)
    {
        // A CR or LF in a value would let it start a new header (header injection).
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException($"The {name} header must not contain CR or LF.", nameof(value));
        }

        builder.AddHeader(name, value);
    }

    /// <summary>The addr-spec of "Name &lt;addr&gt;" or a bare address.</summary>
    private static string Mailbox(string address)
    {
        int open = address.LastIndexOf('<');
        int close = address.LastIndexOf('>');
        var mailbox = open >= 0 && close > open ? address[(open + 1)..close] : address.Trim();
        if (mailbox.Length == 0 || mailbox.Any(c => c <= ' ' || c is '<' or '>'))
        {
            throw new ArgumentException("An outbox address must be an addr-spec or \"Name <addr-spec>\".", nameof(address));
        }

        return mailbox;
    }

    private static string Domain(string mailbox) => mailbox[(mailbox.LastIndexOf('@') + 1)..];

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Outbox: queued {QueueId} for the smarthost")]
    private static partial void LogQueued(ILogger logger, string queueId);
}

/// <summary>Runs the outbound queue's delivery loop for the host's lifetime.</summary>
internal sealed class OutboundQueueWorker(OutboundQueue queue) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => queue.RunAsync(stoppingToken);
}

/// <summary>What the outgoing-mail TLS policy leaves open (<see cref="OutboxRegistration.OutgoingPolicy"/>).</summary>
internal enum OutgoingMailRisk
{
    None,
    StartTlsStrippable,
    InClear,
}

internal sealed record OutgoingMailPolicy(string Summary, OutgoingMailRisk Risk);

internal static class OutboxRegistration
{
    /// <summary>
    /// The outbox for this configuration: with <c>Veil:Mail:Smarthost</c> (host:port) the SMTP outbox behind the
    /// durable queue under <paramref name="dataDirectory"/>/queue; otherwise the development .eml files in
    /// <paramref name="dataDirectory"/>/outbox, which outside production are also the outbound queue's next hop
    /// (forwarded alias mail lands there; see <see cref="DevelopmentOutboxTransport"/>). Optional: <c>Veil:Mail:SmarthostTls</c> (None, Opportunistic,
    /// Required), <c>Veil:Mail:SmarthostUser</c> / <c>Veil:Mail:SmarthostPassword</c> (AUTH), <c>Veil:Mail:HostName</c>
    /// (EHLO name and Reporting-MTA of bounces), <c>Veil:Mail:SmarthostConnections</c> (concurrent deliveries, each on
    /// its own reused connection; default 8), <c>Veil:Mail:SmarthostCaFile</c> (PEM file of the certificate authorities
    /// trusted for the smarthost's TLS certificate instead of the system store, for a private CA or a self-signed relay),
    /// <c>Veil:Mail:QueueFirstRetryDelay</c> / <c>QueueMaxRetryDelay</c> / <c>QueueMaxAge</c> (retry schedule of the queue:
    /// 5 min doubling up to 8 h, given up with a DSN after 5 days). A malformed value refuses to start, naming the setting.
    /// </summary>
    public static IServiceCollection AddVeilOutbox(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        var smarthost = configuration["Veil:Mail:Smarthost"];
        var hostName = configuration["Veil:Mail:HostName"] ?? "localhost";
        // Direct MX delivery must be asked for: sending from this host's own IP needs outbound port 25, a PTR record
        // and SPF for it, which only the operator can provide (OPERATIONS "Direct delivery").
        var direct = string.IsNullOrWhiteSpace(smarthost) && configuration.GetValue<bool>("Veil:Mail:DirectDelivery");
        if (string.IsNullOrWhiteSpace(smarthost) && !direct)
        {
            var outbox = Path.Combine(dataDirectory, "outbox");
            services.TryAddSingleton<IMailOutbox>(sp => ActivatorUtilities.CreateInstance<FileMailOutbox>(sp, outbox));
            if (!configuration.GetValue<bool>("Veil:Production"))
            {
                // The embedded default: forwarded and replied alias mail takes the same path as in production (built,
                // DKIM-signed, handed to the outbound queue) and its next hop is the .eml outbox (DevelopmentOutboxTransport).
                // Without a queue the Alias sink could only answer "retry later", and mail waited in the spool unseen.
                services.TryAddSingleton(sp => new OutboundQueue(dataDirectory, new DevelopmentOutboxTransport(outbox, sp.GetRequiredService<TimeProvider>()),
                    sp.GetRequiredService<TimeProvider>(), new OutboundQueueOptions { ReportingMta = hostName }, sp.GetRequiredService<ILogger<OutboundQueue>>()));
                services.TryAddSingleton<OutgoingDkim>();
                services.AddHostedService<OutboundQueueWorker>();
            }

            return services;
        }

        var client = direct ? new SmtpClientOptions() : SmtpClientOptions.FromSmarthost(smarthost!);
        client.HeloName = hostName;
        var tls = configuration["Veil:Mail:SmarthostTls"];
        if (tls is not null)
        {
            client.Tls = Enum.TryParse<SmtpTlsMode>(tls, ignoreCase: true, out var mode) && Enum.IsDefined(mode)
                ? mode
                : throw new InvalidOperationException("Veil:Mail:SmarthostTls (env Veil__Mail__SmarthostTls) must be None, Opportunistic or Required.");
        }

        client.UserName = configuration["Veil:Mail:SmarthostUser"];
        client.Password = configuration["Veil:Mail:SmarthostPassword"];
        var caFile = configuration["Veil:Mail:SmarthostCaFile"];
        if (!string.IsNullOrWhiteSpace(caFile))
        {
            client.TrustedRoots = LoadTrustedRoots(caFile);
        }

        var queueOptions = new OutboundQueueOptions { ReportingMta = hostName };
        var connections = configuration["Veil:Mail:SmarthostConnections"];
        if (connections is not null)
        {
            queueOptions.MaxConcurrentDeliveries = int.TryParse(connections, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 256
                ? n
                : throw new InvalidOperationException("Veil:Mail:SmarthostConnections (env Veil__Mail__SmarthostConnections) must be a whole number from 1 to 256.");
        }

        queueOptions.FirstRetryDelay = ReadDuration(configuration, "Veil:Mail:QueueFirstRetryDelay", queueOptions.FirstRetryDelay);
        queueOptions.MaxRetryDelay = ReadDuration(configuration, "Veil:Mail:QueueMaxRetryDelay", queueOptions.MaxRetryDelay);
        queueOptions.MaxAge = ReadDuration(configuration, "Veil:Mail:QueueMaxAge", queueOptions.MaxAge);
        if (queueOptions.MaxRetryDelay < queueOptions.FirstRetryDelay)
        {
            throw new InvalidOperationException("Veil:Mail:QueueMaxRetryDelay (env Veil__Mail__QueueMaxRetryDelay) must be at least Veil:Mail:QueueFirstRetryDelay.");
        }

        var directPort = ReadPort(configuration, "Veil:Mail:DirectDeliveryPort");
        services.TryAddSingleton(sp => new OutboundQueue(
            dataDirectory,
            direct ? DirectTransport(sp, client, directPort) : new SmtpDeliveryClient(client),
            sp.GetRequiredService<TimeProvider>(), queueOptions, sp.GetRequiredService<ILogger<OutboundQueue>>(), sp.GetService<IQueuedDeliveryObserver>()));
        services.TryAddSingleton<OutgoingDkim>();
        services.TryAddSingleton<IMailOutbox, SmtpMailOutbox>();
        services.AddHostedService<OutboundQueueWorker>();
        return services;
    }

    /// <summary>
    /// Direct MX delivery with MTA-STS (RFC 8461) enforced for domains that publish a policy; certificates are checked
    /// against the system's roots (docs/OPERATIONS.md "Direct delivery").
    /// </summary>
    private static Veil.Mail.Delivery.DirectMxTransport DirectTransport(IServiceProvider sp, SmtpClientOptions client, int port)
    {
        var dns = sp.GetRequiredService<Veil.Mail.Dns.IMailDns>();
        var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Veil.Mail.Delivery");
        var policies = new Veil.Mail.Delivery.MtaStsPolicies(dns, sp.GetRequiredService<TimeProvider>(), logger: logger);
        return new Veil.Mail.Delivery.DirectMxTransport(dns, client, port, policies, logger);
    }

    /// <summary>
    /// Settings that leave mail with no way out, in production: alias domains (Veil:Alias:Domains) accept mail that
    /// must be forwarded, and only a smarthost delivers it (there is no direct delivery yet). Without one, every
    /// forwarded message would wait in the spool for ever while senders were told 250, so Veil refuses to start and
    /// names the setting. Development has the .eml outbox instead (DevelopmentOutboxTransport).
    /// </summary>
    public static IEnumerable<string> Problems(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.GetValue<bool>("Veil:Production") && string.IsNullOrWhiteSpace(configuration["Veil:Mail:Smarthost"])
            && !configuration.GetValue<bool>("Veil:Mail:DirectDelivery")
            && configuration.GetSection("Veil:Alias:Domains").GetChildren().Any(d => !string.IsNullOrWhiteSpace(d.Value)))
        {
            yield return "Veil:Mail:Smarthost (env Veil__Mail__Smarthost) is not set: in production the alias domains (Veil:Alias:Domains) "
                + "need a way to deliver forwarded mail; set it to the host:port of your mail relay, or set Veil:Mail:DirectDelivery=true "
                + "to deliver to the recipients' MX hosts from this server";
        }

        if (configuration.GetValue<bool>("Veil:Production") && configuration["Veil:Mail:DirectDeliveryPort"] is { Length: > 0 } port && port != "25")
        {
            yield return "Veil:Mail:DirectDeliveryPort (env Veil__Mail__DirectDeliveryPort) is a test aid and must be 25 (or unset) in production";
        }
    }

    /// <summary>The development .eml outbox directory when mail goes there (no smarthost), else null.</summary>
    public static string? DevelopmentOutboxOf(IServiceProvider services) =>
        services.GetService<IMailOutbox>() is FileMailOutbox file ? file.Directory : null;

    /// <summary>
    /// How mail leaves this server and how well its TLS protects it, in one line for the start-up report (issue 24:
    /// "the smarthost's TLS policy is reported at start"); null when mail goes to the development .eml outbox.
    /// A policy that lets mail cross a network in clear ends with a warning that names the setting.
    /// </summary>
    public static string? OutgoingSummary(IConfiguration configuration) => OutgoingPolicy(configuration)?.Summary;

    /// <summary>
    /// <see cref="OutgoingSummary"/> with the risk it states: whether an attacker on the network can strip STARTTLS,
    /// or whether mail crosses the network in clear always (the doctor grades these; the start-up line only says them).
    /// </summary>
    internal static OutgoingMailPolicy? OutgoingPolicy(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var smarthost = configuration["Veil:Mail:Smarthost"];
        if (string.IsNullOrWhiteSpace(smarthost))
        {
            return configuration.GetValue<bool>("Veil:Mail:DirectDelivery")
                ? new("direct to each recipient's MX host: STARTTLS when offered (certificate not checked, RFC 7435), verified TLS where the domain publishes MTA-STS", OutgoingMailRisk.None)
                : null;
        }

        var client = SmtpClientOptions.FromSmarthost(smarthost);
        var mode = Enum.TryParse<SmtpTlsMode>(configuration["Veil:Mail:SmarthostTls"] ?? nameof(SmtpTlsMode.Opportunistic), ignoreCase: true, out var parsed)
            ? parsed
            : SmtpTlsMode.Opportunistic;
        var roots = string.IsNullOrWhiteSpace(configuration["Veil:Mail:SmarthostCaFile"]) ? "the system's roots" : "Veil:Mail:SmarthostCaFile";
        var local = Persistence.DatabaseTls.StaysOnThisMachine(client.Host);
        var (policy, risk) = mode switch
        {
            SmtpTlsMode.Required => ($"STARTTLS required, certificate and name verified against {roots}", OutgoingMailRisk.None),
            SmtpTlsMode.Opportunistic when local => ($"STARTTLS when offered (then verified against {roots}), in clear when not", OutgoingMailRisk.None),
            SmtpTlsMode.Opportunistic => ($"STARTTLS when offered (then verified against {roots}), in clear when not; warning: a network attacker can strip STARTTLS: set Veil:Mail:SmarthostTls=Required",
                OutgoingMailRisk.StartTlsStrippable),
            _ when local => ("no TLS (loopback)", OutgoingMailRisk.None),
            _ => ("no TLS; warning: mail crosses the network in clear: set Veil:Mail:SmarthostTls=Required", OutgoingMailRisk.InClear),
        };
        return new($"smarthost {smarthost}: {policy}", risk);
    }

    /// <summary>A port number (1–65535), 25 when unset.</summary>
    private static int ReadPort(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        return value is null ? 25
            : int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
                ? port
                : throw new InvalidOperationException($"{key} (env {key.Replace(":", "__", StringComparison.Ordinal)}) must be a port number from 1 to 65535.");
    }

    /// <summary>A positive duration like <c>00:05:00</c> or <c>5.00:00:00</c> (days.hours:minutes:seconds), or the default when unset.</summary>
    private static TimeSpan ReadDuration(IConfiguration configuration, string key, TimeSpan fallback)
    {
        var value = configuration[key];
        if (value is null)
        {
            return fallback;
        }

        return TimeSpan.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var duration) && duration > TimeSpan.Zero
            ? duration
            : throw new InvalidOperationException($"{key} (env {key.Replace(":", "__", StringComparison.Ordinal)}) must be a positive duration such as 00:05:00 or 5.00:00:00.");
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2Collection LoadTrustedRoots(string path)
    {
        var roots = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException($"Veil:Mail:SmarthostCaFile (env Veil__Mail__SmarthostCaFile): cannot read PEM certificates from {path}: {e.Message}", e);
        }

        return roots.Count > 0
            ? roots
            : throw new InvalidOperationException($"Veil:Mail:SmarthostCaFile (env Veil__Mail__SmarthostCaFile): {path} holds no PEM certificate.");
    }
}
