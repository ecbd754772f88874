using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Spool;

namespace Veil.Server.Mail;

/// <summary>
/// Drains <c>&lt;data&gt;/spool</c> into the <see cref="IMessageSink"/> a module registered, starting
/// with whatever a previous process left (at-least-once across restarts). Without a sink, messages stay
/// spooled and one warning says so: accepting mail that nothing can handle yet must not lose it.
/// </summary>
internal sealed class SpoolDispatchService(
    IOptions<SmtpHostOptions> options,
    FileSpool spool,
    IServiceProvider services,
    TimeProvider time,
    ILogger<SpoolDispatchService> logger) : BackgroundService
{
    /// <summary>Without a commit signal (e.g. a RetryLater), pending messages are offered again this often.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Messages handed to the sink at once. Many: the Alias sink routes and commits whatever is waiting as one batch
    /// (group commit) and bounds the bytes they hold in memory itself.
    /// </summary>
    public const int DispatchConcurrency = 64;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        var sink = services.GetService<IMessageSink>();
        if (sink is null)
        {
            MailLog.NoMessageSink(logger, (await spool.PendingAsync(stoppingToken)).Count);
            return;
        }

        if (sink is DevelopmentDirectorySink)
        {
            MailLog.DevelopmentAid(logger, "Veil:Mail:Smtp:DevelopmentSinkDirectory writes accepted mail in clear to a directory");
        }

        // Concurrent hand-off: a sink spends most of a message waiting on the database, the smarthost and fsyncs;
        // the Alias sink batches concurrent calls. Sinks registered here are safe for concurrent calls.
        using var dispatcher = new SpoolDispatcher(spool, new CountingSink(sink, logger), time, PollInterval, logger, DispatchConcurrency);
        EventHandler wake = (_, _) => dispatcher.Signal();
        spool.Committed += wake;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await dispatcher.RunAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A sink failure must not end dispatching for the life of the process; the message
                    // stays spooled and is offered again.
                    MailLog.DispatcherFailed(logger, e.GetType().Name);
                    await Task.Delay(PollInterval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        finally
        {
            spool.Committed -= wake;
        }
    }

    private sealed class CountingSink(IMessageSink inner, ILogger logger) : IMessageSink
    {
        public async ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken)
        {
            var result = await inner.ProcessAsync(message, content, cancellationToken);
            if (result == SinkResult.Done)
            {
                MailLog.Dispatched(logger, 1);
            }

            return result;
        }
    }
}
