// Vault: a zero-knowledge vault with a dead man's switch. The server stores ciphertext it cannot
// open, runs the switch, and relays each recipient's sealed delivery key once the owner stops
// checking in. HTTP contract: spec/vault-api.md; formats: spec/vault.md; threat model:
// docs/THREAT-MODEL.md, Vault.
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.RateLimiting;
using Veil.Server.Platform.Results;

namespace Veil.Server.Vault;

internal static class VaultModule
{
    public const string ClaimPolicy = "vault-claim";
    public const string RehearsePolicy = "vault-rehearse";

    public static IServiceCollection AddVaultModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<VaultOptions>().BindConfiguration(VaultOptions.Section).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<VaultOptions>, VaultOptionsValidator>();
        services.TryAddSingleton<VaultSecrets>();
        services.TryAddSingleton<VaultMail>();
        services.TryAddScoped<CreateVaultCommand>();
        services.TryAddScoped<ReadVaultsCommand>();
        services.TryAddScoped<DeleteVaultCommand>();
        services.TryAddScoped<PutItemCommand>();
        services.TryAddScoped<ReadItemsCommand>();
        services.TryAddScoped<DeleteItemCommand>();
        services.TryAddScoped<VaultFiles>();
        services.TryAddScoped<VaultSwitchCommand>();
        services.TryAddScoped<CheckInPage>();
        services.TryAddScoped<VaultRecipientsCommand>();
        services.TryAddScoped<VaultClaimCommand>();
        services.TryAddScoped<RehearseCommand>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IAccountDataDeleter, VaultAccountDataDeleter>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IAccountDataExporter, VaultAccountDataExporter>());
        services.AddPeriodicJob<VaultScheduler>();
        services.AddVeilRateLimitPolicy(ClaimPolicy, RateLimitKey.Ip, permitLimit: 20, TimeSpan.FromHours(1));
        services.AddVeilRateLimitPolicy(RehearsePolicy, RateLimitKey.Account, permitLimit: 5, TimeSpan.FromHours(1));
        return services;
    }

    public static IEndpointRouteBuilder MapVaultEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Owner routes: a signed-in session or an API key (scripts may check in). Every command looks the
        // vault up by (id, owner): another user's vault answers exactly like a missing one.
        var vaults = endpoints.MapGroup("/api/v1/vault/vaults").WithTags("Vault").RequireVeilUser(VeilAccess.User);

        vaults.MapPost("/", async (CreateVaultRequest body, CreateVaultCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.ExecuteAsync(body, user.UserId(), ct), r => TypedResults.Created($"/api/v1/vault/vaults/{r.Id}", r)))
            .WithName("Vault_Create");
        vaults.MapGet("/", async (ReadVaultsCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => TypedResults.Ok(await cmd.ListAsync(user.UserId(), ct)))
            .WithName("Vault_List");
        vaults.MapGet("/{id}", async (string id, ReadVaultsCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.GetAsync(id, user.UserId(), ct), r => TypedResults.Ok(r)))
            .WithName("Vault_Get");
        vaults.MapDelete("/{id}", async (string id, DeleteVaultCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.ExecuteAsync(id, user.UserId(), ct), _ => TypedResults.NoContent()))
            .WithName("Vault_Delete");

        vaults.MapPut("/{id}/items/{itemId}", async (string id, string itemId, HttpRequest request, PutItemCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.ExecuteAsync(id, itemId, request, user.UserId(), ct),
                r => r.Created ? TypedResults.Created($"/api/v1/vault/vaults/{id}/items/{itemId}", r.Item) : TypedResults.Ok(r.Item)))
            .WithName("Vault_PutItem");
        vaults.MapGet("/{id}/items", async (string id, ReadItemsCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.ListAsync(id, user.UserId(), ct), r => TypedResults.Ok(r)))
            .WithName("Vault_ListItems");
        vaults.MapGet("/{id}/items/{itemId}", async (string id, string itemId, ReadItemsCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.GetAsync(id, itemId, user.UserId(), ct), r => TypedResults.Ok(r)))
            .WithName("Vault_GetItem");
        vaults.MapDelete("/{id}/items/{itemId}", async (string id, string itemId, DeleteItemCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.ExecuteAsync(id, itemId, user.UserId(), ct), _ => TypedResults.NoContent()))
            .WithName("Vault_DeleteItem");

        vaults.MapPut("/{id}/items/{itemId}/files/{fileId}", async (string id, string itemId, string fileId, HttpRequest request, VaultFiles files, ClaimsPrincipal user, CancellationToken ct)
            => Map(await files.UploadAsync(id, itemId, fileId, request, user.UserId(), ct), r => TypedResults.Created($"/api/v1/vault/vaults/{id}/items/{itemId}/files/{fileId}", r)))
            .WithName("Vault_PutFile");
        vaults.MapGet("/{id}/items/{itemId}/files/{fileId}", async (string id, string itemId, string fileId, VaultFiles files, ClaimsPrincipal user, CancellationToken ct)
            => Map(await files.OpenAsync(id, itemId, fileId, user.UserId(), ct), s => TypedResults.Stream(s, "application/octet-stream")))
            .WithName("Vault_GetFile");
        vaults.MapDelete("/{id}/items/{itemId}/files/{fileId}", async (string id, string itemId, string fileId, VaultFiles files, ClaimsPrincipal user, CancellationToken ct)
            => Map(await files.DeleteAsync(id, itemId, fileId, user.UserId(), ct), _ => TypedResults.NoContent()))
            .WithName("Vault_DeleteFile");

        vaults.MapPut("/{id}/switch", async (string id, SetSwitchRequest body, VaultSwitchCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.SetAsync(id, body, user.UserId(), ct), r => TypedResults.Ok(r)))
            .WithName("Vault_SetSwitch");
        vaults.MapGet("/{id}/switch", async (string id, VaultSwitchCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.GetAsync(id, user.UserId(), ct), r => TypedResults.Ok(r)))
            .WithName("Vault_GetSwitch");
        vaults.MapPost("/{id}/switch/checkin", async (string id, VaultSwitchCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.ActAsync(id, SwitchAction.CheckIn, user.UserId(), ct), r => TypedResults.Ok(r)))
            .WithName("Vault_CheckIn");
        vaults.MapPost("/{id}/switch/pause", async (string id, VaultSwitchCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.ActAsync(id, SwitchAction.Pause, user.UserId(), ct), r => TypedResults.Ok(r)))
            .WithName("Vault_Pause");
        vaults.MapPost("/{id}/switch/resume", async (string id, VaultSwitchCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.ActAsync(id, SwitchAction.Resume, user.UserId(), ct), r => TypedResults.Ok(r)))
            .WithName("Vault_Resume");
        vaults.MapDelete("/{id}/switch", async (string id, VaultSwitchCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.CancelAsync(id, user.UserId(), ct), _ => TypedResults.NoContent()))
            .WithName("Vault_CancelSwitch");

        vaults.MapPost("/{id}/recipients", async (string id, AddRecipientRequest body, VaultRecipientsCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.AddAsync(id, body, user.UserId(), ct), r => TypedResults.Created($"/api/v1/vault/vaults/{id}/recipients/{r.Id}", r)))
            .WithName("Vault_AddRecipient");
        vaults.MapGet("/{id}/recipients", async (string id, VaultRecipientsCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.ListAsync(id, user.UserId(), ct), r => TypedResults.Ok(r)))
            .WithName("Vault_ListRecipients");
        vaults.MapDelete("/{id}/recipients/{rid}", async (string id, string rid, VaultRecipientsCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.RemoveAsync(id, rid, user.UserId(), ct), _ => TypedResults.NoContent()))
            .WithName("Vault_RemoveRecipient");

        vaults.MapPost("/{id}/rehearse", async (string id, RehearseCommand cmd, ClaimsPrincipal user, CancellationToken ct)
            => Map(await cmd.ExecuteAsync(id, user.UserId(), ct), r => TypedResults.Accepted((string?)null, r)))
            .RequireAccountRateLimit(RehearsePolicy).WithName("Vault_Rehearse");

        // Anonymous: the mailed check-in link (a GET never checks in), the claim, released files.
        string[] getOrHead = [HttpMethods.Get, HttpMethods.Head];
        endpoints.MapMethods("/vault/checkin/{token}", getOrHead, (string token, HttpContext http, CheckInPage page, CancellationToken ct) => page.ShowAsync(token, http, ct))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Vault_CheckInPage").ExcludeFromDescription();
        endpoints.MapPost("/vault/checkin/{token}", (string token, HttpContext http, CheckInPage page, CancellationToken ct) => page.CheckInAsync(token, http, ct))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Vault_CheckInByLink").ExcludeFromDescription();

        // The claim link /vault/claim/{token} opens the web app's claim page (Web/WebClientEndpoints.AppRoutes): the heir
        // rebuilds the vault key in the browser, so no server page is needed here.

        var claim = endpoints.MapGroup("/api/v1/vault/claim").WithTags("Vault");
        claim.MapPost("/code", async (ClaimCodeRequest body, VaultClaimCommand cmd, CancellationToken ct)
            => Map(await cmd.RequestCodeAsync(body, ct), r => TypedResults.Accepted((string?)null, r)))
            .RequireRateLimiting(ClaimPolicy).WithName("Vault_ClaimCode");
        claim.MapPost("/", async (ClaimRequest body, VaultClaimCommand cmd, CancellationToken ct)
            => Map(await cmd.ClaimAsync(body, ct), r => TypedResults.Ok(r)))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Vault_Claim");
        claim.MapGet("/files/{fileId}", async (string fileId, HttpRequest request, VaultClaimCommand cmd, CancellationToken ct)
            => Map(await cmd.OpenFileAsync(fileId, request.Headers.Authorization, ct), s => TypedResults.Stream(s, "application/octet-stream")))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Vault_ClaimFile");
        return endpoints;
    }

    /// <summary>Maps a result; Vault's errors with extra members (field, attemptsLeft, currentRevision) carry them in the problem.</summary>
    private static IResult Map<T>(Result<T> result, Func<T, IResult> onSuccess) => result.Match(onSuccess, ToProblem);

    private static IResult ToProblem(Error error)
    {
        (string Name, object Value)? extra = error switch
        {
            InvalidCiphertextError e => ("field", e.Field),
            WrongCodeError e => ("attemptsLeft", e.AttemptsLeft),
            RevisionConflictError e => ("currentRevision", e.CurrentRevision),
            _ => null,
        };
        if (extra is not { } member)
        {
            return error.ToProblem();
        }

        var problem = error.ToProblemDetails();
        problem.Extensions[member.Name] = member.Value;
        return TypedResults.Problem(problem);
    }
}
