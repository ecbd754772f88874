// Drop: end-to-end encrypted file sharing by link. The server is an untrusted relay: it stores and
// serves ciphertext, counts downloads, enforces expiry, limits and quotas, and never receives the
// drop key, the file name or a plaintext byte. HTTP contract: spec/drop-api.md.
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.RateLimiting;
using Veil.Server.Platform.Results;

namespace Veil.Server.Drop;

internal static class DropModule
{
    public const string CreatePolicy = "drop-create";
    public const string ReportPolicy = "drop-report";
    public const string TicketHeader = "X-Download-Ticket";

    public static IServiceCollection AddDropModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<DropOptions>().BindConfiguration(DropOptions.Section).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<DropOptions>, DropOptionsValidator>();
        services.TryAddSingleton<DropSecrets>();
        services.TryAddScoped<CreateDropCommand>();
        services.TryAddScoped<UploadPartCommand>();
        services.TryAddScoped<UploadStatusCommand>();
        services.TryAddScoped<UploadMetadataCommand>();
        services.TryAddScoped<FinalizeDropCommand>();
        services.TryAddScoped<DropInfoCommand>();
        services.TryAddScoped<CountDownloadCommand>();
        services.TryAddScoped<OpenContentCommand>();
        services.TryAddScoped<OwnerStatsCommand>();
        services.TryAddScoped<ListOwnedDropsCommand>();
        services.TryAddScoped<ChangeDropCommand>();
        services.TryAddScoped<DeleteDropCommand>();
        services.TryAddScoped<ReportDropCommand>();
        services.TryAddScoped<ReportStatusCommand>();
        services.TryAddScoped(sp => new DropReportAdmin(
            sp.GetRequiredService<VeilDbContext>(), sp.GetRequiredService<IBlobStore>(), sp.GetRequiredService<DropSecrets>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<DropOptions>>(), sp.GetRequiredService<IOptions<VeilOptions>>(),
            sp.GetRequiredService<ILogger<DropReportAdmin>>(), sp.GetRequiredService<Platform.Audit.AdminAudit>()));
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IAccountDataDeleter, DropAccountDataDeleter>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IAccountDataExporter, DropAccountDataExporter>());
        services.AddPeriodicJob<DropPurgeJob>();
        services.AddVeilRateLimitPolicy(CreatePolicy, RateLimitKey.Ip, permitLimit: 100, TimeSpan.FromHours(1));
        services.AddVeilRateLimitPolicy(ReportPolicy, RateLimitKey.Ip, permitLimit: 10, TimeSpan.FromHours(1));
        return services;
    }

    public static IEndpointRouteBuilder MapDropEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var drops = endpoints.MapGroup("/api/v1/drops").WithTags("Drop");

        // Endpoints that read DropCaller: anyone may call them, but a bearer session or API key, when
        // sent, must be valid and makes the caller the signed-in owner (spec/drop-api.md, Owner). API
        // keys are accepted on purpose, so scripts can share files; only account management refuses them.
        // Info, download counting and content never look at the caller, so they take no credentials.
        var group = drops.MapGroup("").AllowVeilUser(VeilAccess.User);

        group.MapPost("/", async (CreateDropRequest body, CreateDropCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(body, DropCaller.From(http), ct)).ToHttpResult(r => TypedResults.Created($"/api/v1/drops/{r.Id}", r)))
            .RequireRateLimiting(CreatePolicy).WithName("Drop_Create");

        // Parts and content are not under the per-IP request limit: parts need the owner token and are
        // bounded by the drop's part count; content needs a counted download.
        group.MapPut("/{id}/parts/{n:int}", async (string id, int n, UploadPartCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(id, n, http.Request, DropCaller.From(http), ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .WithName("Drop_UploadPart");

        group.MapGet("/{id}/parts", async (string id, UploadStatusCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(id, DropCaller.From(http), ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Drop_UploadStatus");

        group.MapPut("/{id}/metadata", async (string id, UploadMetadataCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(id, http.Request, DropCaller.From(http), ct)).ToHttpResult(_ => TypedResults.NoContent()))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Drop_UploadMetadata");

        group.MapPost("/{id}/finalize", async (string id, FinalizeDropCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(id, DropCaller.From(http), ct)).ToHttpResult(r => TypedResults.Ok(r), IncompleteProblem))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Drop_Finalize");

        drops.MapGet("/{id}", async (string id, DropInfoCommand cmd, CancellationToken ct)
            => (await cmd.ExecuteAsync(id, ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Drop_Info");

        drops.MapPost("/{id}/downloads", async (string id, CountDownloadCommand cmd, CancellationToken ct)
            => (await cmd.ExecuteAsync(id, ct)).ToHttpResult(r => TypedResults.Created((string?)null, r)))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Drop_CountDownload");

        drops.MapGet("/{id}/content", DownloadContentAsync).WithName("Drop_Content");

        group.MapGet("/", async (ListOwnedDropsCommand cmd, HttpContext http, CancellationToken ct) =>
        {
            var caller = DropCaller.From(http);
            if (caller.UserId is null)
            {
                // Only a signed-in owner has a list; anonymous drops are each known by their owner token alone.
                http.Response.Headers.WWWAuthenticate = "Bearer";
            }

            return (await cmd.ExecuteAsync(caller, ct)).ToHttpResult(r => TypedResults.Ok(r));
        })
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Drop_ListOwned");

        group.MapGet("/{id}/owner", async (string id, OwnerStatsCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(id, DropCaller.From(http), ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Drop_OwnerStats");

        group.MapPatch("/{id}", async (string id, [FromBody] JsonElement body, ChangeDropCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(id, body, DropCaller.From(http), ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Drop_Change");

        group.MapDelete("/{id}", async (string id, DeleteDropCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(id, DropCaller.From(http), ct)).ToHttpResult(_ => TypedResults.NoContent()))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Drop_Delete");

        group.MapPost("/{id}/reports", async (string id, ReportDropRequest body, ReportDropCommand cmd, HttpContext http, CancellationToken ct)
            => (await cmd.ExecuteAsync(id, body, DropCaller.From(http), ct)).ToHttpResult(r => TypedResults.Accepted((string?)null, r)))
            .RequireRateLimiting(ReportPolicy).WithName("Drop_Report");

        endpoints.MapGet("/api/v1/drop-reports/status", async (HttpContext http, ReportStatusCommand cmd, CancellationToken ct)
            => (await cmd.ExecuteAsync(http.Request.Headers[ReportStatusCommand.TokenHeader], ct)).ToHttpResult(r => TypedResults.Ok(r)))
            .RequireRateLimiting(VeilRateLimiting.PerIp).WithTags("Drop").WithName("Drop_ReportStatus");
        return endpoints;
    }

    // GET content: with a ticket, stream under it; without, count one download first and hand the
    // ticket back in a header so the client can resume with Range without counting again.
    private static async Task<IResult> DownloadContentAsync(string id, HttpContext http, CountDownloadCommand count, OpenContentCommand open, CancellationToken ct)
    {
        string? ticket = http.Request.Headers[TicketHeader];
        if (string.IsNullOrEmpty(ticket))
        {
            ticket = http.Request.Query["ticket"];
        }

        if (string.IsNullOrEmpty(ticket))
        {
            var counted = await count.ExecuteAsync(id, ct);
            if (!counted.IsSuccess)
            {
                return counted.Error.ToProblem();
            }

            ticket = counted.Value.Ticket;
            http.Response.Headers[TicketHeader] = ticket;
        }

        return (await open.ExecuteAsync(id, ticket, ct))
            .ToHttpResult(stream => TypedResults.Stream(stream, "application/octet-stream", enableRangeProcessing: true));
    }

    private static IResult IncompleteProblem(Error error)
    {
        if (error is not IncompleteUploadError incomplete)
        {
            return error.ToProblem();
        }

        var problem = error.ToProblemDetails();
        problem.Extensions["missing"] = incomplete.Missing;
        problem.Extensions["metadataMissing"] = incomplete.MetadataMissing;
        return TypedResults.Problem(problem);
    }

    private static IResult ToHttpResult<T>(this Result<T> result, Func<T, IResult> onSuccess, Func<Error, IResult> onFailure) =>
        result.Match(onSuccess, onFailure);
}
