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

/// <summary>
/// A transport that can carry several messages over one connection (one SMTP session, several transactions).
/// The <see cref="OutboundQueue"/> opens one session per concurrent delivery worker and reuses it while it has work.
/// </summary>
public interface ISessionDeliveryTransport : IDeliveryTransport
{
    /// <summary>A new session; it connects lazily on its first delivery and disconnects when disposed.</summary>
    IDeliverySession OpenSession();
}

/// <summary>One reusable connection of an <see cref="ISessionDeliveryTransport"/>; used by one caller at a time.</summary>
public interface IDeliverySession : IAsyncDisposable
{
    /// <summary>
    /// Sends one message like <see cref="IDeliveryTransport.DeliverAsync"/>, on the session's connection when it is
    /// still usable, on a fresh one otherwise.
    /// </summary>
    /// <param name="envelope">Reverse path and the recipients still pending.</param>
    /// <param name="content">The message's raw bytes.</param>
    /// <param name="cancellationToken">Stops the attempt; the message stays queued.</param>
    Task<SmtpDeliveryResult> DeliverAsync(SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken);
}
