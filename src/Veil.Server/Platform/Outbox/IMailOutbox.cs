namespace Veil.Server.Platform.Outbox;

/// <summary>
/// Where every module sends notification mail (magic links, switch warnings, delivery links).
/// The development default writes .eml files; a later issue delivers through SMTP.
/// </summary>
internal interface IMailOutbox
{
    Task SendAsync(OutboxMessage message, CancellationToken cancellationToken);
}

/// <summary>One notification mail. Header values must not contain CR or LF.</summary>
internal sealed record OutboxMessage(string To, string Subject, string TextBody)
{
    public string? HtmlBody { get; init; }

    /// <summary>Extra headers (e.g. <c>Auto-Submitted</c>); From, To, Subject, Date, Message-ID and MIME headers are set by the outbox.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>Outbox settings (section <c>Veil:Outbox</c>).</summary>
internal sealed class OutboxOptions
{
    public const string Section = "Veil:Outbox";

    /// <summary>The From header of notification mail.</summary>
    public string From { get; set; } = "Veil <veil@localhost>";
}
