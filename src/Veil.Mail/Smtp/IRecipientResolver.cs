using System.Net;

namespace Veil.Mail.Smtp;

/// <summary>Everything the engine knows when it asks about one <c>RCPT TO</c>.</summary>
/// <param name="Address">The forward-path mailbox exactly as the client wrote it (source routes removed).</param>
/// <param name="ReversePath">The transaction's <c>MAIL FROM</c> mailbox; empty for the null reverse path (<c>&lt;&gt;</c>, bounces).</param>
/// <param name="RemoteAddress">The client's IP address, or <see langword="null"/> when unknown.</param>
/// <remarks>
/// The reverse path is what lets a module refuse a recipient depending on who sends: a reverse alias accepts mail
/// only from its owner's verified mailboxes, so Veil is never an open relay. The reverse path is not authenticated
/// by SMTP itself; the module combines it with SPF/DKIM results where it needs more than that.
/// </remarks>
public sealed record RecipientQuery(string Address, string ReversePath, IPAddress? RemoteAddress);

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

    /// <summary>
    /// Decides on one recipient knowing the transaction's reverse path and the client address. The engine calls
    /// this overload; a resolver that only needs the address keeps the default, which asks the address overload.
    /// </summary>
    /// <param name="query">The recipient, the reverse path and the client address.</param>
    /// <param name="cancellationToken">Cancelled when the session ends.</param>
    ValueTask<RecipientDecision> ResolveAsync(RecipientQuery query, CancellationToken cancellationToken)
        => ResolveAsync((query ?? throw new ArgumentNullException(nameof(query))).Address, cancellationToken);
}
