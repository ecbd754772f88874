using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Alias;
using Veil.Server.Chat;
using Veil.Server.Drop;
using Veil.Server.Identity;
using Veil.Server.Mail;
using Veil.Server.Mailbox;
using Veil.Server.Mailbox.Domains;
using Veil.Server.Notices;
using Veil.Server.Transparency;
using Veil.Server.Vault;

namespace Veil.Server;

/// <summary>
/// THE seam where modules plug in. Each module folder (Identity/, Drop/, Alias/, Vault/, Mail/,
/// Chat/) exposes <c>Add&lt;Module&gt;Module</c> and <c>Map&lt;Module&gt;Endpoints</c>; add one line to each
/// method below. Platform services (keyring, TimeProvider, IMailOutbox, rate limiting, problems) are
/// registered before AddModules runs, so modules can depend on them.
/// </summary>
internal static class VeilModules
{
    public static IServiceCollection AddModules(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddIdentityModule(configuration);
        services.AddDropModule(configuration);
        services.AddMailModule(configuration);
        services.AddVaultModule(configuration);
        services.AddAliasModule(configuration);
        services.AddMailboxModule(configuration); // after Alias: it wraps Alias's message sink
        services.AddChatModule(configuration);
        services.AddKeyTransparencyModule(configuration); // the log every module's key changes are written to
        services.AddMailDomainsModule(configuration);
        services.AddNoticesModule(configuration);
        services.AddMailDevelopmentSink(configuration); // last: a module's IMessageSink wins over it
        return services;
    }

    public static IEndpointRouteBuilder MapModuleEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapIdentityEndpoints();
        Web.WebClientEndpoints.MapWebClient(endpoints); // the browser pages /drop and /d/{id} (Web/)
        endpoints.MapDropEndpoints();
        endpoints.MapVaultEndpoints();
        endpoints.MapAliasEndpoints();
        endpoints.MapMailboxEndpoints();
        endpoints.MapChatEndpoints();
        endpoints.MapKeyTransparencyEndpoints();
        endpoints.MapMailDomainEndpoints();
        endpoints.MapNoticesEndpoints();
        return endpoints;
    }
}
