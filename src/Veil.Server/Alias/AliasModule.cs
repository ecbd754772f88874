// Alias: disposable addresses that forward to a user's verified mailboxes, replies through per-contact
// reverse addresses, trackers stripped, bounces counted, no content stored. HTTP contract:
// spec/alias-api.md; SMTP: AliasRecipientResolver (RCPT) and AliasMessageSink (after the spool).
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Mail;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.RateLimiting;

namespace Veil.Server.Alias;

internal static class AliasModule
{
    public const string RecipientPolicy = "alias-recipient";
    public const string VerifyPolicy = "alias-verify";

    public static IServiceCollection AddAliasModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<AliasOptions>().BindConfiguration(AliasOptions.Section).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<AliasOptions>, AliasOptionsValidator>();
        services.AddHttpContextAccessor();
        services.TryAddScoped<AliasDirectory>();
        services.TryAddScoped<AliasCreator>();
        services.TryAddScoped<RecipientMail>();
        services.TryAddSingleton<AliasSrs>();
        services.TryAddSingleton<AliasRoutingCache>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInterceptor, AliasRoutingInterceptor>());
        services.TryAddSingleton<OutgoingDkim>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IAccountDataDeleter, AliasAccountDataDeleter>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IAccountDataExporter, AliasAccountDataExporter>());
        services.AddPeriodicJob<AliasPurgeJob>();
        services.AddVeilRateLimitPolicy(RecipientPolicy, RateLimitKey.Account, permitLimit: 20, TimeSpan.FromHours(1));
        services.AddVeilRateLimitPolicy(VerifyPolicy, RateLimitKey.Ip, permitLimit: 30, TimeSpan.FromHours(1));

        // SMTP only when alias domains are configured: without them Alias must not answer for any address
        // (and the development sink may take the spool).
        var aliases = configuration.GetSection(AliasOptions.Section).Get<AliasOptions>() ?? new AliasOptions();
        if (aliases.Enabled)
        {
            services.TryAddEnumerable(ServiceDescriptor.Scoped<IRecipientResolver, AliasRecipientResolver>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IRecipientFastPath, AliasRecipientFastPath>());
            services.TryAddSingleton<IMessageSink, AliasMessageSink>();
            services.TryAddSingleton<IQueuedDeliveryObserver, AliasDeliveryObserver>();
        }

        return services;
    }

    public static IEndpointRouteBuilder MapAliasEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1/alias").WithTags("Alias");
        var group = api.MapGroup("").RequireVeilUser(VeilAccess.User);

        group.MapGet("/domains", AliasEndpoints.Domains).WithName("Alias_Domains");

        group.MapPost("/recipients", RecipientEndpoints.AddAsync).RequireAccountRateLimit(RecipientPolicy).WithName("Alias_AddRecipient");
        group.MapGet("/recipients", RecipientEndpoints.ListAsync).WithName("Alias_Recipients");
        group.MapDelete("/recipients/{id:guid}", RecipientEndpoints.DeleteAsync).WithName("Alias_DeleteRecipient");
        group.MapPut("/recipients/{id:guid}/pgp", RecipientEndpoints.SetPgpAsync).WithName("Alias_SetRecipientPgp");
        group.MapDelete("/recipients/{id:guid}/pgp", RecipientEndpoints.ClearPgpAsync).WithName("Alias_ClearRecipientPgp");
        group.MapPost("/recipients/{id:guid}/resume", RecipientEndpoints.ResumeAsync).WithName("Alias_ResumeRecipient");
        group.MapPost("/recipients/{id:guid}/resend", RecipientEndpoints.ResendAsync).RequireAccountRateLimit(RecipientPolicy).WithName("Alias_ResendRecipient");
        api.MapPost("/recipients/verify", RecipientEndpoints.VerifyApiAsync).RequireRateLimiting(VerifyPolicy).WithName("Alias_VerifyRecipient");

        group.MapPost("/aliases", AliasEndpoints.CreateAsync).WithName("Alias_Create");
        group.MapGet("/aliases", AliasEndpoints.ListAsync).WithName("Alias_List");
        group.MapGet("/aliases/{id:guid}", AliasEndpoints.GetAsync).WithName("Alias_Get");
        group.MapPatch("/aliases/{id:guid}", AliasEndpoints.PatchAsync).WithName("Alias_Patch");
        group.MapDelete("/aliases/{id:guid}", AliasEndpoints.DeleteAsync).WithName("Alias_Delete");
        group.MapGet("/aliases/{id:guid}/contacts", AliasEndpoints.ContactsAsync).WithName("Alias_Contacts");
        group.MapPost("/aliases/{id:guid}/contacts", AliasEndpoints.CreateContactAsync).WithName("Alias_CreateContact");
        group.MapPatch("/contacts/{id:guid}", AliasEndpoints.PatchContactAsync).WithName("Alias_PatchContact");
        group.MapDelete("/contacts/{id:guid}", AliasEndpoints.DeleteContactAsync).WithName("Alias_DeleteContact");
        group.MapGet("/log", AliasEndpoints.LogAsync).WithName("Alias_Log");
        group.MapGet("/usage", AliasEndpoints.UsageAsync).WithName("Alias_Usage");

        // The link in the verification mail: GET opens the app's confirm page (its button calls the API above; without
        // the web client, a bare form), POST verifies (the bare form, and scripts).
        endpoints.MapGet("/alias/verify/{token}", RecipientEndpoints.ConfirmPage)
            .RequireRateLimiting(VerifyPolicy).WithTags("Alias").WithName("Alias_VerifyPage");
        endpoints.MapPost("/alias/verify/{token}", RecipientEndpoints.ConfirmAsync)
            .RequireRateLimiting(VerifyPolicy).DisableAntiforgery().WithTags("Alias").WithName("Alias_VerifyConfirm");
        return endpoints;
    }
}
