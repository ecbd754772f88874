// Mail: hosts the Veil.Mail engine in the server. SMTP in (SmtpHostService, off unless
// Veil:Mail:Smtp:Listen is set), the durable spool under <data>/spool and its dispatcher, the
// recipient resolver composed from the modules' resolvers, and the DKIM key store. Modules plug in with
//   services.TryAddEnumerable(ServiceDescriptor.Scoped<IRecipientResolver, MyResolver>());
//   services.TryAddSingleton<IMessageSink, MySink>();   // one sink (Alias)
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Mail;

internal static class MailModule
{
    public static IServiceCollection AddMailModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<SmtpHostOptions>().BindConfiguration(SmtpHostOptions.Section).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<SmtpHostOptions>, SmtpHostOptionsValidator>();
        services.TryAddSingleton(sp => new FileSpool(sp.GetRequiredService<VeilPaths>().DataDirectory, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Veil.Mail.Spool")));
        services.TryAddSingleton<ModuleRecipientResolver>();
        services.TryAddSingleton<SmtpHostService>();
        services.AddHostedService(sp => sp.GetRequiredService<SmtpHostService>());
        services.AddHostedService<SpoolDispatchService>();
        services.TryAddScoped(sp => new DkimKeyAdmin(sp.GetRequiredService<VeilDbContext>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Platform.Audit.AdminAudit>()));
        services.TryAddSingleton<AliasDkimKeys>();

        // The development aids are read here because they change what is registered; the validator
        // refuses them in production before anything starts.
        var smtp = configuration.GetSection(SmtpHostOptions.Section).Get<SmtpHostOptions>() ?? new SmtpHostOptions();
        if (smtp.AcceptedDomains is { Length: > 0 } domains)
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IRecipientResolver>(new AcceptDomainsResolver(new HashSet<string>(domains, StringComparer.Ordinal))));
        }

        return services;
    }

    /// <summary>Registered after every module, so a module's sink wins over the development one.</summary>
    public static IServiceCollection AddMailDevelopmentSink(this IServiceCollection services, IConfiguration configuration)
    {
        var smtp = configuration.GetSection(SmtpHostOptions.Section).Get<SmtpHostOptions>() ?? new SmtpHostOptions();
        if (smtp.DevelopmentSinkDirectory is { Length: > 0 } directory)
        {
            services.TryAddSingleton<IMessageSink>(new DevelopmentDirectorySink(Path.GetFullPath(directory)));
        }

        return services;
    }
}
