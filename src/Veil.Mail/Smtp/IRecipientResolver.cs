namespace Veil.Mail.Smtp;

/// <summary>What the engine answers to one <c>RCPT TO</c>.</summary>
public enum RecipientDecision
{
    /// <summary>The address is served here: <c>250 2.1.5</c>.</summary>
    Accept,

    /// <summary>No such mailbox: <c>550 5.1.1</c>. The reply never says more than that.</summary>
    Unknown,

    /// <summary>The domain is not served here: <c>550 5.7.1</c> (relaying denied).</summary>
    RelayDenied,

    /// <summary>The decision cannot be made now (for example the database is down): <c>451 4.3.0</c>.</summary>
    TryLater,
}

/// <summary>
/// Decides whether a recipient is accepted. Implemented by the modules (Alias, Mail); the engine
/// knows none of them. Called once per <c>RCPT TO</c>, with the address exactly as the client wrote it
/// between the angle brackets (source routes removed).
/// </summary>
public interface IRecipientResolver
{
    /// <summary>Decides on one recipient address.</summary>
    /// <param name="address">The forward-path mailbox, e.g. <c>user@example.org</c> or <c>postmaster</c>.</param>
    /// <param name="cancellationToken">Cancelled when the session ends.</param>
    ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken);
}
