// Custom mail domains (issue 17, point 2): a user adds a domain, publishes the records Veil shows, and checks them;
// verified domains carry alias addresses (and mailbox addresses once the mailbox lands, through
// IMailDomainVerification). HTTP contract: spec/mail-domains.md. Also registers IMailDns, the resolver the mail code
// shares (Veil:Dns:Servers).
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Veil.Mail.Authentication;
using Veil.Mail.Dns;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.RateLimiting;
using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox.Domains;

internal sealed record AddCustomDomainRequest(string? Domain);

internal static class DomainsModule
{
    public const string CheckPolicy = "mail-domain-check";

    public static IServiceCollection AddMailDomainsModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var servers = CustomDomainOptions.DnsServers(configuration); // throws (refuses to start) when malformed
        services.TryAddSingleton<IMailDns>(new MailDns(servers, CustomDomainOptions.DnsTimeout(configuration)));
        // Inbound SPF/DKIM/DMARC verdicts for whoever stores inbound mail (the mailbox): Veil.Mail.Authentication.
        services.TryAddSingleton(sp => new InboundAuthenticator(sp.GetRequiredService<IMailDns>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(CustomDomainOptions.From(configuration));
        services.TryAddSingleton<DomainCheck>();
        services.TryAddScoped<CustomDomains>();
        services.TryAddSingleton<VerifiedDomains>();
        services.AddHostedService(sp => sp.GetRequiredService<VerifiedDomains>());
        services.TryAddScoped<IMailDomainVerification>(sp => sp.GetRequiredService<CustomDomains>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IAccountDataDeleter, CustomDomainAccountData>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IAccountDataExporter, CustomDomainAccountData>());
        // Each check costs a handful of DNS queries to servers the user chose.
        services.AddVeilRateLimitPolicy(CheckPolicy, RateLimitKey.Account, permitLimit: 60, TimeSpan.FromHours(1));
        return services;
    }

    public static IEndpointRouteBuilder MapMailDomainEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/mail/domains").WithTags("Mail").RequireVeilUser(VeilAccess.User);
        group.MapPost("/", async (AddCustomDomainRequest? body, System.Security.Claims.ClaimsPrincipal user, CustomDomains domains, CancellationToken ct)
            => (await domains.AddAsync(user.UserId(), body?.Domain, ct)).ToHttpResult(d => TypedResults.Created($"/api/v1/mail/domains/{d.Id}", d)))
            .WithName("MailDomain_Add");
        group.MapGet("/", async (System.Security.Claims.ClaimsPrincipal user, CustomDomains domains, CancellationToken ct)
            => TypedResults.Ok(new CustomDomainsResponse(await domains.ListAsync(user.UserId(), ct))))
            .WithName("MailDomain_List");
        group.MapPost("/{id:guid}/check", async (Guid id, System.Security.Claims.ClaimsPrincipal user, CustomDomains domains, CancellationToken ct)
            => (await domains.CheckAsync(user.UserId(), id, ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .RequireAccountRateLimit(CheckPolicy).WithName("MailDomain_Check");
        group.MapDelete("/{id:guid}", async (Guid id, System.Security.Claims.ClaimsPrincipal user, CustomDomains domains, CancellationToken ct)
            => (await domains.RemoveAsync(user.UserId(), id, ct)).ToHttpResult(_ => TypedResults.NoContent()))
            .WithName("MailDomain_Remove");
        return endpoints;
    }
}
