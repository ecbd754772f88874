namespace Veil.Mail.Spool;

/// <summary>What a sink says after processing a spooled message.</summary>
public enum SinkResult
{
    /// <summary>Processed (forwarded, stored or deliberately dropped): the spool removes the message.</summary>
    Done,

    /// <summary>Not processed now; the message stays in the spool and is offered again later.</summary>
    RetryLater,
}

/// <summary>
/// Takes messages out of the spool: the Alias pipeline, the mailbox. Called by
/// <see cref="SpoolDispatcher"/> at least once per message, also after a restart, so it must be
/// idempotent or tolerate a duplicate.
/// </summary>
public interface IMessageSink
{
    /// <summary>Processes one message; <paramref name="content"/> is its raw bytes, owned by the caller.</summary>
    ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken);
}
