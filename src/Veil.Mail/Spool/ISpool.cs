using Veil.Mail.Smtp;

namespace Veil.Mail.Spool;

/// <summary>
/// Durable storage for accepted messages. The SMTP engine answers <c>250</c> only after
/// <see cref="ISpoolWriter.CommitAsync"/> returned; a message leaves the spool only through
/// <see cref="CompleteAsync"/>, after its sink acknowledged it (at-least-once).
/// </summary>
public interface ISpool
{
    /// <summary>Starts writing one message; nothing is visible until the writer commits.</summary>
    ValueTask<ISpoolWriter> BeginAsync(SmtpEnvelope envelope, CancellationToken cancellationToken);

    /// <summary>Committed messages not yet completed, oldest first (after a restart too).</summary>
    ValueTask<IReadOnlyList<SpooledMessage>> PendingAsync(CancellationToken cancellationToken);

    /// <summary>Opens a committed message's raw bytes (as received, after dot-unstuffing) for reading.</summary>
    /// <exception cref="FileNotFoundException">The message was completed already.</exception>
    Stream OpenContent(SpoolId id);

    /// <summary>Removes a message whose processing is finished. Completing a missing message does nothing.</summary>
    ValueTask CompleteAsync(SpoolId id, CancellationToken cancellationToken);
}

/// <summary>A spool that can tell how much is waiting, so the SMTP server can slow senders down (backpressure).</summary>
public interface ISpoolBacklog
{
    /// <summary>Committed messages not yet completed (known to this process).</summary>
    int Pending { get; }

    /// <summary>Waits until fewer than <paramref name="limit"/> messages are pending, at most <paramref name="maxWait"/>.</summary>
    /// <param name="limit">The backlog at which new mail waits.</param>
    /// <param name="maxWait">How long to wait for room.</param>
    /// <param name="time">The clock for the wait.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <returns>True when there is room; false when the wait ran out.</returns>
    Task<bool> WaitBelowAsync(int limit, TimeSpan maxWait, TimeProvider time, CancellationToken cancellationToken);
}

/// <summary>One message being written to the spool. Disposing it without committing discards it.</summary>
public interface ISpoolWriter : IAsyncDisposable
{
    /// <summary>Appends message bytes.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken);

    /// <summary>Makes the message durable (written and fsynced; visible to <see cref="ISpool.PendingAsync"/> only then) and returns its id.</summary>
    ValueTask<SpoolId> CommitAsync(CancellationToken cancellationToken);
}

/// <summary>A committed message in the spool.</summary>
/// <param name="Id">Its spool id.</param>
/// <param name="Envelope">Its SMTP envelope.</param>
/// <param name="Size">The length of its raw bytes.</param>
public sealed record SpooledMessage(SpoolId Id, SmtpEnvelope Envelope, long Size);

/// <summary>A spool message id: 32 lowercase hex characters, random, safe as a file name.</summary>
public readonly record struct SpoolId
{
    /// <summary>Wraps an id; throws <see cref="ArgumentException"/> if it is not 32 lowercase hex characters.</summary>
    public SpoolId(string value)
    {
        if (!IsValid(value)) throw new ArgumentException("A spool id is 32 lowercase hex characters.", nameof(value));
        Value = value;
    }

    /// <summary>The id text.</summary>
    public string Value { get; }

    /// <summary>A fresh random id.</summary>
    public static SpoolId New() => new(Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));

    /// <summary>True if <paramref name="value"/> is a well-formed id.</summary>
    public static bool IsValid(string? value) =>
        value is { Length: 32 } && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    /// <inheritdoc/>
    public override string ToString() => Value;
}
