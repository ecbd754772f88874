// Chat relay: device registration and prekeys over HTTP, and a WebSocket relay that stores ciphertext
// envelopes in per-device mailboxes until acked. The relay never holds a chat key; it sees who sends
// to whom for non-sealed messages (forgotten after 24 h idle) and the IP of every socket, sealed
// senders included. HTTP and socket contract: spec/chat-api.md.
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.RateLimiting;
using Veil.Server.Platform.Wakeups;

namespace Veil.Server.Chat;

/// <summary>Chat settings (section <c>Veil:Chat</c>).</summary>
internal sealed class ChatOptions
{
    public const string Section = "Veil:Chat";

    /// <summary>How often the metadata job runs. Default 1 hour.</summary>
    public TimeSpan MetadataJobInterval { get; set; } = TimeSpan.FromHours(1);
}

internal sealed class ChatOptionsValidator : IValidateOptions<ChatOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatOptions options) =>
        options.MetadataJobInterval <= TimeSpan.Zero || options.MetadataJobInterval > ChatLimits.IdleBeforeHashing
            ? ValidateOptionsResult.Fail("Veil:Chat:MetadataJobInterval must be more than zero and at most 24 hours, or metadata outlives its promise.")
            : ValidateOptionsResult.Success;
}

internal sealed record AccessKeyRequest(byte[]? AccessKey);

internal static class ChatModule
{
    /// <summary>Finding a chat account by email tells whether one exists: counted per account, so one account cannot walk the server's address book.</summary>
    public const string LookupPolicy = "chat-account-lookup";

    public static IServiceCollection AddChatModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ChatOptions>().BindConfiguration(ChatOptions.Section).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<ChatOptions>, ChatOptionsValidator>();
        services.AddVeilRateLimitPolicy(LookupPolicy, RateLimitKey.Account, permitLimit: 200, TimeSpan.FromHours(1));
        services.AddWakeupHandler<ChatConnections>(); // sockets of this node, woken from any node
        services.TryAddSingleton<ChatRelay>();
        services.TryAddScoped<ChatMailbox>();
        services.TryAddScoped<ChatAudit>();
        services.TryAddScoped<RegisterDeviceCommand>();
        services.TryAddScoped<ListDevicesCommand>();
        services.TryAddScoped<RemoveDeviceCommand>();
        services.TryAddScoped<UploadPreKeysCommand>();
        services.TryAddScoped<CountPreKeysCommand>();
        services.TryAddScoped<ClaimBundlesCommand>();
        services.TryAddScoped<ListAccountDevicesCommand>();
        services.TryAddScoped<SetAccessKeyCommand>();
        services.TryAddScoped<FindChatAccountCommand>();
        services.TryAddSingleton<ChatSenderCertificateIssuer>();
        services.TryAddScoped<IssueSenderCertificateCommand>();
        services.AddPeriodicJob<ChatMetadataJob>();
        return services;
    }

    public static IEndpointRouteBuilder MapChatEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Chat keys belong to a signed-in person's devices: sessions only, not API keys.
        var group = endpoints.MapGroup("/api/v1/chat").WithTags("Chat").RequireVeilUser(VeilAccess.Session)
            .RequireRateLimiting(VeilRateLimiting.PerIp);

        group.MapPost("/devices", async (RegisterDeviceRequest body, RegisterDeviceCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(body, http.User.UserId(), ct)).ToHttpResult(r => TypedResults.Created($"/api/v1/chat/devices/{r.DeviceId}", r)))
            .WithName("Chat_RegisterDevice");

        group.MapGet("/devices", async (ListDevicesCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(http.User.UserId(), ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .WithName("Chat_ListDevices");

        group.MapDelete("/devices/{deviceId:int}", async (int deviceId, RemoveDeviceCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(http.User.UserId(), deviceId, ct)).ToHttpResult(_ => TypedResults.NoContent()))
            .WithName("Chat_RemoveDevice");

        group.MapPut("/devices/{deviceId:int}/prekeys", async (int deviceId, UploadPreKeysRequest body, UploadPreKeysCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(http.User.UserId(), deviceId, body, ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .WithName("Chat_UploadPreKeys");

        group.MapGet("/devices/{deviceId:int}/prekeys", async (int deviceId, CountPreKeysCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(http.User.UserId(), deviceId, ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .WithName("Chat_CountPreKeys");

        group.MapPost("/accounts/{accountId:guid}/bundles", async (Guid accountId, long? since, ClaimBundlesCommand cmd, CancellationToken ct)
            => (await cmd.ExecuteAsync(accountId, ct, since)).ToHttpResult(r => TypedResults.Ok(r)))
            .WithName("Chat_ClaimBundles");

        group.MapGet("/accounts/{accountId:guid}/devices", async (Guid accountId, ListAccountDevicesCommand cmd, CancellationToken ct)
            => (await cmd.ExecuteAsync(accountId, ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .WithName("Chat_AccountDevices");

        group.MapGet("/accounts", async (string? email, FindChatAccountCommand cmd, CancellationToken ct)
            => (await cmd.ExecuteAsync(email, ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .RequireAccountRateLimit(LookupPolicy).WithName("Chat_FindAccount");

        group.MapPut("/access-key", async (AccessKeyRequest body, SetAccessKeyCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(http.User.UserId(), body, ct)).ToHttpResult(_ => TypedResults.NoContent()))
            .WithName("Chat_SetAccessKey");

        // Sealed sender (spec/chat-api.md): a 24-hour certificate for one of the caller's devices, and the trust root
        // that every certificate chains to (clients pin it on first use).
        group.MapGet("/sender-certificate", async (int? deviceId, IssueSenderCertificateCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(http.User.UserId(), deviceId, ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .WithName("Chat_SenderCertificate");

        group.MapGet("/trust-root", (ChatSenderCertificateIssuer issuer)
            => TypedResults.Ok(new TrustRootDto(issuer.TrustRoot.ToArray(), issuer.ServerCertificateId)))
            .WithName("Chat_TrustRoot");

        endpoints.Map("/chat/ws", (HttpContext http, ChatRelay relay) => relay.HandleAsync(http, anonymous: false));
        endpoints.Map("/chat/ws/anon", (HttpContext http, ChatRelay relay) => relay.HandleAsync(http, anonymous: true));
        return endpoints;
    }
}
