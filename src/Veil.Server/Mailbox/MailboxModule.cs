// Mailbox: an encrypted mailbox at the operator's mail domains (Veil:Mail:Domains). Addresses carry their own
// OpenPGP key pairs, made and wrapped in the client; inbound mail is sealed to the address key on arrival and the
// plaintext leaves the spool; public keys go out through the key directory and WKD. HTTP contract:
// spec/mailbox-api.md; SMTP: MailboxRecipientResolver (RCPT) and MailboxMessageSink (after the spool); threat
// model: docs/THREAT-MODEL.md, Mail.
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.RateLimiting;
using Veil.Server.Platform.Results;

namespace Veil.Server.Mailbox;

internal static class MailboxModule
{
    public const string KeyLookupPolicy = "mail-key-lookup";
    public const string OutsiderFetchPolicy = "mail-outsider-fetch";
    public const string OutsiderReplyPolicy = "mail-outsider-reply";

    /// <summary>Registers Mailbox. Call after every module that registers an <see cref="IMessageSink"/> (Alias): Mailbox wraps it.</summary>
    public static IServiceCollection AddMailboxModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<MailboxOptions>().BindConfiguration(MailboxOptions.Section).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<MailboxOptions>, MailboxOptionsValidator>();
        services.TryAddScoped<MailboxAddressCommands>();
        services.TryAddScoped<MailboxMessageCommands>();
        services.TryAddScoped<KeyDirectory>();
        services.TryAddScoped<SendMailCommand>();
        services.TryAddScoped<OutsiderMailCommands>();
        services.TryAddSingleton<OutsiderNotice>();
        services.TryAddScoped<SearchIndexCommands>();
        services.TryAddScoped<MailAttachmentCommands>();
        services.AddPeriodicJob<ConfidentialMailJob>();
        services.AddPeriodicJob<MailAttachmentJob>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IAccountDataDeleter, MailboxAccountDataDeleter>());
        services.AddVeilRateLimitPolicy(KeyLookupPolicy, RateLimitKey.Ip, permitLimit: 120, TimeSpan.FromMinutes(1));
        // The public password-mail link: a reader fetches once and tries passwords in the page, so a few fetches a
        // minute are plenty; replies are rarer still.
        services.AddVeilRateLimitPolicy(OutsiderFetchPolicy, RateLimitKey.Ip, permitLimit: 20, TimeSpan.FromMinutes(1));
        services.AddVeilRateLimitPolicy(OutsiderReplyPolicy, RateLimitKey.Ip, permitLimit: 10, TimeSpan.FromHours(1));

        var mailbox = configuration.GetSection(MailboxOptions.Section).Get<MailboxOptions>() ?? new MailboxOptions();
        if (mailbox.Enabled)
        {
            services.TryAddEnumerable(ServiceDescriptor.Scoped<IRecipientResolver, MailboxRecipientResolver>());

            // One sink takes the spool. Mailbox becomes it and hands the recipients that are not its own to the sink a
            // module registered before (Alias), so one message to an alias and an address reaches both.
            var before = services.LastOrDefault(d => d.ServiceType == typeof(IMessageSink));
            if (before is not null)
            {
                services.Remove(before);
            }

            services.AddSingleton<IMessageSink>(sp => new MailboxMessageSink(
                sp.GetRequiredService<IServiceScopeFactory>(),
                sp.GetRequiredService<IBlobStore>(),
                sp.GetRequiredService<VeilPaths>(),
                sp.GetRequiredService<IOptions<MailboxOptions>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<MailboxMessageSink>>(),
                before is null ? null : Resolve(sp, before),
                sp.GetService<Veil.Mail.Authentication.InboundAuthenticator>(),
                sp.GetService<Domains.VerifiedDomains>()));
        }

        return services;
    }

    private static IMessageSink Resolve(IServiceProvider services, ServiceDescriptor descriptor) =>
        (IMessageSink)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));

    public static IEndpointRouteBuilder MapMailboxEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1/mail").WithTags("Mailbox");
        var group = api.MapGroup("").RequireVeilUser(VeilAccess.User);

        group.MapGet("/address-domains", async (MailboxAddressCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => TypedResults.Ok(await cmd.DomainsAsync(user.UserId(), ct))).WithName("Mail_AddressDomains");
        group.MapPost("/addresses", async (AddAddressRequest body, MailboxAddressCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => (await cmd.AddAsync(body, user.UserId(), ct)).ToHttpResult(r => TypedResults.Created($"/api/v1/mail/addresses/{r.Id}", r)))
            .WithName("Mail_AddAddress");
        group.MapGet("/addresses", async (MailboxAddressCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => TypedResults.Ok(await cmd.ListAsync(user.UserId(), ct)))
            .WithName("Mail_Addresses");
        group.MapDelete("/addresses/{id:guid}", async (Guid id, MailboxAddressCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => (await cmd.RemoveAsync(id, user.UserId(), ct)).ToHttpResult(_ => TypedResults.NoContent()))
            .WithName("Mail_RemoveAddress");

        group.MapGet("/messages", async (DateTimeOffset? before, int? limit, string? folder, MailboxMessageCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => (await cmd.ListAsync(user.UserId(), before, limit, folder, ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .WithName("Mail_Messages");
        // The body is read by the command (it raises the size limit first), so no body parameter is bound here.
        group.MapPost("/messages", async (HttpRequest request, SendMailCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => (await cmd.ExecuteAsync(request, user.UserId(), ct)).ToHttpResult(r => TypedResults.Created($"/api/v1/mail/messages/{r.SentId}", r)))
            .WithName("Mail_Send");
        group.MapGet("/messages/{id:guid}", async (Guid id, MailboxMessageCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => (await cmd.GetAsync(id, user.UserId(), ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .WithName("Mail_Message");
        group.MapGet("/messages/{id:guid}/sealed", async (Guid id, MailboxMessageCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => (await cmd.OpenSealedAsync(id, user.UserId(), ct)).ToHttpResult(s => TypedResults.Stream(s, "application/pgp-encrypted")))
            .WithName("Mail_SealedMessage");
        group.MapDelete("/messages/{id:guid}", async (Guid id, MailboxMessageCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => (await cmd.DeleteAsync(id, user.UserId(), ct)).ToHttpResult(_ => TypedResults.NoContent()))
            .WithName("Mail_DeleteMessage");

        // Public: password mail for outsiders (OutsiderMail.cs). The link is the page /app/m/{id} of the web app; the
        // page fetches the package here and decrypts it with the password, which never comes to this server.
        var outsider = api.MapGroup("/outsider");
        outsider.MapGet("/{id}", async (string id, HttpResponse response, OutsiderMailCommands cmd, CancellationToken ct) =>
            {
                response.Headers.CacheControl = "no-store";
                return (await cmd.OpenAsync(id, ct)).ToHttpResult(s => TypedResults.Stream(s, "application/octet-stream"));
            })
            .RequireRateLimiting(OutsiderFetchPolicy).WithName("Mail_OutsiderPackage");
        outsider.MapGet("/{id}/info", async (string id, OutsiderMailCommands cmd, CancellationToken ct)
            => (await cmd.InfoAsync(id, ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .RequireRateLimiting(OutsiderFetchPolicy).WithName("Mail_OutsiderPackageInfo");
        outsider.MapPost("/{id}/replies", async (string id, OutsiderReplyRequest body, OutsiderMailCommands cmd, CancellationToken ct)
            => (await cmd.ReplyAsync(id, body, ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .RequireRateLimiting(OutsiderReplyPolicy).WithName("Mail_OutsiderReply");
        // The encrypted search index: one opaque blob per account, replaced by compare-and-set on its version.
        group.MapGet("/search-index", async (HttpResponse response, SearchIndexCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => (await cmd.GetAsync(user.UserId(), ct)).ToHttpResult(r =>
            {
                response.Headers.ETag = SearchIndexCommands.ETagOf(r.Version);
                return TypedResults.Stream(r.Content, "application/octet-stream");
            }))
            .WithName("Mail_SearchIndex");
        // The body is read by the command (it checks the preconditions and raises the size limit first).
        group.MapPut("/search-index", async (HttpRequest request, HttpResponse response, SearchIndexCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => (await cmd.PutAsync(request, user.UserId(), ct)).ToHttpResult(r =>
            {
                response.Headers.ETag = SearchIndexCommands.ETagOf(r.Version);
                return TypedResults.Ok(r);
            }))
            .WithName("Mail_PutSearchIndex");

        // Large attachments: Cobblestone-256 ciphertexts uploaded before the send that references them.
        group.MapPost("/attachments", async (HttpRequest request, MailAttachmentCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => (await cmd.UploadAsync(request, user.UserId(), ct)).ToHttpResult(r => TypedResults.Created($"/api/v1/mail/attachments/{r.Id}", r)))
            .WithName("Mail_UploadAttachment");
        group.MapGet("/attachments/{id:guid}", async (Guid id, MailAttachmentCommands cmd, ClaimsPrincipal user, CancellationToken ct)
            => (await cmd.OpenAsync(id, user.UserId(), ct)).ToHttpResult(s => TypedResults.Stream(s, "application/octet-stream")))
            .WithName("Mail_Attachment");

        // Public: the key directory for Veil clients, and WKD for every OpenPGP client.
        api.MapGet("/keys", async (string? address, long? since, KeyDirectory keys, CancellationToken ct)
            => (await keys.FindAsync(address, ct, since)).ToHttpResult(r => TypedResults.Ok(r)))
            .RequireRateLimiting(KeyLookupPolicy).WithName("Mail_KeyLookup");

        var wkd = endpoints.MapGroup("/.well-known/openpgpkey").WithTags("Mailbox").RequireRateLimiting(KeyLookupPolicy);
        wkd.MapGet("/hu/{hash}", (string hash, HttpRequest request, KeyDirectory keys, CancellationToken ct)
            => WkdKeyAsync(keys, KeyDirectory.DirectDomain(request), hash, request.HttpContext.Response, ct)).WithName("Mail_WkdDirect");
        wkd.MapGet("/policy", (HttpRequest request, KeyDirectory keys)
            => WkdPolicy(keys, KeyDirectory.DirectDomain(request))).WithName("Mail_WkdPolicyDirect");
        wkd.MapGet("/{domain}/hu/{hash}", (string domain, string hash, HttpResponse response, KeyDirectory keys, CancellationToken ct)
            => WkdKeyAsync(keys, domain, hash, response, ct)).WithName("Mail_WkdAdvanced");
        wkd.MapGet("/{domain}/policy", (string domain, KeyDirectory keys)
            => WkdPolicy(keys, domain)).WithName("Mail_WkdPolicyAdvanced");
        return endpoints;
    }

    // WKD answers are plain HTTP resources, not problem details: clients look only at the status and the bytes.
    // A found key names the key transparency log, where Veil clients find the address's key history (spec/kt.md).
    private static async Task<IResult> WkdKeyAsync(KeyDirectory keys, string domain, string hash, HttpResponse response, CancellationToken ct)
    {
        if (await keys.WkdAsync(domain, hash, ct) is not { } key)
        {
            return PlatformErrors.NotFound.ToProblem();
        }

        response.Headers["Veil-Key-Transparency"] = "/kt/checkpoint";
        return TypedResults.Bytes(key, "application/octet-stream");
    }

    private static IResult WkdPolicy(KeyDirectory keys, string domain) =>
        keys.ServesDomain(domain) ? TypedResults.Bytes([], "text/plain") : PlatformErrors.NotFound.ToProblem();
}
