namespace Veil.Server.Platform.Outbox;

/// <summary>
/// Where every module sends notification mail (magic links, switch warnings, delivery links).
/// The development default writes .eml files; a later issue delivers through SMTP.
/// </summary>
internal interface IMailOutbox
{
    Task SendAsync(OutboxMessage message, CancellationToken cancellationToken);

    /// <summary>Drops what the outbox remembers of the <see cref="OutboxMessage.OutboxId"/>s starting with the prefix (the caller will not hand them over again).</summary>
    void Forget(string outboxIdPrefix)
    {
    }
}

/// <summary>One notification mail. Header values must not contain CR or LF.</summary>
internal sealed record OutboxMessage(string To, string Subject, string TextBody)
{
    public string? HtmlBody { get; init; }

    /// <summary>Extra headers (e.g. <c>Auto-Submitted</c>); From, To, Subject, Date, Message-ID and MIME headers are set by the outbox.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// When set, the caller's stable id for this message ([a-z0-9-], at most 64 characters): handing the same id over
    /// again does not mail twice — the development outbox replaces its file, the queue keeps the message it holds (or
    /// its record that it delivered it). Breach notices use it to survive a kill between hand-over and bookkeeping.
    /// </summary>
    public string? OutboxId { get; init; }
}

/// <summary>Outbox settings (section <c>Veil:Outbox</c>).</summary>
internal sealed class OutboxOptions
{
    public const string Section = "Veil:Outbox";

    /// <summary>The From header of notification mail.</summary>
    public string From { get; set; } = "Veil <veil@localhost>";
}
