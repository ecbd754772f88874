using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Platform.Plans;

internal static class PlansSetup
{
    /// <summary>Plans (<c>Veil:Plans</c>, validated at start), <see cref="AccountPlans"/> and the admin service.</summary>
    public static IServiceCollection AddVeilPlans(this IServiceCollection services)
    {
        services.AddOptions<PlansOptions>().Configure<IConfiguration>((o, configuration) => o.Read(configuration)).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<PlansOptions>, PlansOptionsValidator>();
        services.TryAddSingleton<AccountPlans>();
        services.TryAddScoped(sp => new PlanAdmin(sp.GetRequiredService<VeilDbContext>(), sp.GetRequiredService<AccountPlans>(), sp.GetRequiredService<Audit.AdminAudit>()));
        return services;
    }
}
