using Microsoft.Extensions.DependencyInjection;
using Veil.Mail.Smtp;

namespace Veil.Server.Mail;

/// <summary>
/// A module's answer to RCPT from memory, consulted before <see cref="ModuleRecipientResolver"/> creates a
/// scope (and with it a DbContext) for the module resolvers. Register as a singleton
/// (<c>services.TryAddEnumerable(ServiceDescriptor.Singleton&lt;IRecipientFastPath, …&gt;())</c>).
/// </summary>
internal interface IRecipientFastPath
{
    /// <summary>
    /// True when the module knows from memory alone that it accepts <paramref name="query"/>; false when it
    /// does not know, or would answer anything else (the scoped resolvers then decide as usual). Since one
    /// Accept wins the composition, answering only Accept here keeps the result what the resolvers would give.
    /// Must not block or do I/O.
    /// </summary>
    bool Accepts(RecipientQuery query);
}

/// <summary>
/// The engine's one <see cref="IRecipientResolver"/>, composed from every resolver the modules register
/// (<c>services.TryAddEnumerable(ServiceDescriptor.Scoped&lt;IRecipientResolver, …&gt;())</c>), in a
/// fresh scope per RCPT so module resolvers can use the database. One Accept wins; otherwise TryLater
/// (a module could not decide, so the sender retries rather than bouncing); otherwise Unknown if any
/// module said so; otherwise RelayDenied if one did. With no module, every recipient is unknown (550 5.1.1).
/// An <see cref="IRecipientFastPath"/> that accepts from memory answers first, without a scope (the hot
/// path: mail to a live alias).
/// </summary>
internal sealed class ModuleRecipientResolver(IServiceScopeFactory scopes, IEnumerable<IRecipientFastPath> fastPaths) : IRecipientResolver
{
    private readonly IRecipientFastPath[] _fastPaths = [.. fastPaths];

    public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken)
        => ResolveAsync(new RecipientQuery(address, string.Empty, null), cancellationToken);

    // The whole query is passed on, so a module (Alias) can decide on the reverse path (reverse aliases accept
    // mail only from their owner's verified mailboxes).
    public async ValueTask<RecipientDecision> ResolveAsync(RecipientQuery query, CancellationToken cancellationToken)
    {
        foreach (var fastPath in _fastPaths)
        {
            if (fastPath.Accepts(query))
            {
                return RecipientDecision.Accept;
            }
        }

        await using var scope = scopes.CreateAsyncScope();
        bool tryLater = false, unknown = false, relayDenied = false;
        foreach (var resolver in scope.ServiceProvider.GetServices<IRecipientResolver>())
        {
            switch (await resolver.ResolveAsync(query, cancellationToken))
            {
                case RecipientDecision.Accept:
                    return RecipientDecision.Accept;
                case RecipientDecision.TryLater:
                    tryLater = true;
                    break;
                case RecipientDecision.Unknown:
                    unknown = true;
                    break;
                case RecipientDecision.RelayDenied:
                    relayDenied = true;
                    break;
            }
        }

        return tryLater ? RecipientDecision.TryLater
            : unknown ? RecipientDecision.Unknown
            : relayDenied ? RecipientDecision.RelayDenied
            : RecipientDecision.Unknown;
    }
}

/// <summary>Development aid (<c>Veil:Mail:Smtp:AcceptDomains</c>, refused in production): accepts every address at the listed domains.</summary>
internal sealed class AcceptDomainsResolver(IReadOnlyCollection<string> domains) : IRecipientResolver
{
    public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken)
    {
        int at = address.LastIndexOf('@');
        var domain = at < 0 ? "" : address[(at + 1)..].TrimEnd('.').ToLowerInvariant();
        return ValueTask.FromResult(domains.Contains(domain) ? RecipientDecision.Accept : RecipientDecision.Unknown);
    }
}
