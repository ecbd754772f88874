using Veil.Mail.Smtp;

namespace Veil.Mail.Queue;

/// <summary>
/// One delivery attempt of a queued message (<see cref="SmtpDeliveryClient"/> to the smarthost in production).
/// Network and protocol failures are results, not exceptions: the queue retries or bounces on them.
/// </summary>
public interface IDeliveryTransport
{
    /// <summary>Sends <paramref name="content"/> (read to its end, unchanged) to <paramref name="envelope"/>'s recipients.</summary>
    /// <param name="envelope">Reverse path and the recipients still pending.</param>
    /// <param name="content">The message's raw bytes.</param>
    /// <param name="cancellationToken">Stops the attempt; the message stays queued.</param>
    Task<SmtpDeliveryResult> DeliverAsync(SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken);
}
