using Microsoft.Extensions.DependencyInjection;
using Veil.Mail.Smtp;

namespace Veil.Server.Mail;

/// <summary>
/// The engine's one <see cref="IRecipientResolver"/>, composed from every resolver the modules register
/// (<c>services.TryAddEnumerable(ServiceDescriptor.Scoped&lt;IRecipientResolver, …&gt;())</c>), in a
/// fresh scope per RCPT so module resolvers can use the database. One Accept wins; otherwise TryLater
/// (a module could not decide, so the sender retries rather than bouncing); otherwise Unknown if any
/// module said so; otherwise RelayDenied if one did. With no module, every recipient is unknown (550 5.1.1).
/// </summary>
internal sealed class ModuleRecipientResolver(IServiceScopeFactory scopes) : IRecipientResolver
{
    public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken)
        => ResolveAsync(new RecipientQuery(address, string.Empty, null), cancellationToken);

    // The whole query is passed on, so a module (Alias) can decide on the reverse path (reverse aliases accept
    // mail only from their owner's verified mailboxes).
    public async ValueTask<RecipientDecision> ResolveAsync(RecipientQuery query, CancellationToken cancellationToken)
    {
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
