using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Platform.Redaction;

namespace Veil.Server.Mail;

/// <summary>
/// Runs the SMTP engine on its own listener for the life of the host (docs/adr/0003-smtp-host.md):
/// binds at start (an address in use fails the start, like Kestrel), and at stop disposes the
/// listener, which answers <c>421 4.3.2</c> to every open session and waits for them to end.
/// </summary>
internal sealed class SmtpHostService(
    IOptions<SmtpHostOptions> options,
    ModuleRecipientResolver resolver,
    FileSpool spool,
    VeilPaths paths,
    TimeProvider time,
    ILoggerFactory loggers,
    ILogger<SmtpHostService> logger) : IHostedService, IAsyncDisposable
{
    private SmtpListener? _listener;
    private X509Certificate2? _certificate;

    /// <summary>The bound address once started (the real port when 0 was asked for); null when SMTP is off.</summary>
    public IPEndPoint? LocalEndPoint => _listener?.LocalEndPoint;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return Task.CompletedTask;
        }

        if (settings.AcceptedDomains.Length > 0)
        {
            MailLog.DevelopmentAid(logger, "Veil:Mail:Smtp:AcceptDomains accepts every address at " + settings.AcceptedDomains.Length + " domain(s)");
        }

        _certificate = SmtpCertificates.LoadOrCreate(settings, paths.DataDirectory, time, logger);
        var engineOptions = settings.ToEngineOptions(_certificate);
        // The engine logs client addresses only through the one redaction helper (a keyed fingerprint).
        engineOptions.RedactAddress = Redact.Ip;
        var engine = new SmtpServer(engineOptions, resolver, spool, time, loggers.CreateLogger("Veil.Mail.Smtp"));
        var endPoint = settings.ListenEndPoint;
        try
        {
            _listener = engine.Listen(endPoint);
        }
        catch (SocketException e)
        {
            // Reported like Kestrel's bind failures (IOException), so `veil serve` prints one line.
            throw new IOException($"SMTP {endPoint}: {e.Message}", e);
        }

        var bound = _listener.LocalEndPoint.ToString();
        MailLog.SmtpListening(logger, bound, "on");
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_listener is null)
        {
            return;
        }

        var listener = _listener;
        _listener = null;
        await listener.DisposeAsync().AsTask().WaitAsync(cancellationToken);
        MailLog.SmtpStopped(logger);
    }

    public async ValueTask DisposeAsync()
    {
        if (_listener is not null)
        {
            await _listener.DisposeAsync();
            _listener = null;
        }

        _certificate?.Dispose();
    }
}
