// Key transparency (spec/kt.md): every public key Veil serves — chat account and device keys, mail address
// keys — is logged as an entry in an append-only RFC 6962 Merkle tree, with C2SP checkpoints signed by the
// log key and the tree published as C2SP tlog-tiles:
//   GET /kt/checkpoint      the latest signed checkpoint (text/plain)
//   GET /kt/vkey            the log's verifier key (for operators to publish; clients must pin it out of band)
//   GET /kt/tile/…          hash tiles and entry bundles (immutable; public, like the keys they log)
// Lookups (chat bundles, the mail key directory) carry the subject's entries with proofs (KtProofs).
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Veil.Crypto.Transparency;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.RateLimiting;

namespace Veil.Server.Transparency;

/// <summary>Key transparency settings (section <c>Veil:KeyTransparency</c>).</summary>
internal sealed class KtOptions
{
    public const string Section = "Veil:KeyTransparency";

    /// <summary>How often the sequencer runs. Default 1 second: a new key is provable about a second after it is set.</summary>
    public TimeSpan SequencerInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Entries per sequencer transaction. Default 4,096.</summary>
    public int BatchSize { get; set; } = 4096;

    /// <summary>Batches per tick at most. Default 64.</summary>
    public int MaxBatchesPerTick { get; set; } = 64;

    /// <summary>The checkpoint origin of a new log; default "&lt;public host&gt;/kt". Fixed once the log exists.</summary>
    public string? Origin { get; set; }

    /// <summary>
    /// The witnesses the log submits each new checkpoint to (URL = submission prefix, VerifierKey = its cosignature vkey).
    /// Empty: checkpoints are published with the log's signature alone (doctor and production start warn).
    /// </summary>
    public List<KtWitnessOptions> Witnesses { get; set; } = [];

    /// <summary>How many of <see cref="Witnesses"/> must cosign before a checkpoint is published; default a majority.</summary>
    public int? WitnessQuorum { get; set; }

    /// <summary>A C2SP tlog-policy file naming the witnesses (with URLs) and the quorum, instead of Witnesses/WitnessQuorum.</summary>
    public string? WitnessPolicyFile { get; set; }

    /// <summary>How long the log waits for one witness's answer. Default 5 seconds.</summary>
    public TimeSpan WitnessTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public string OriginOr(string publicOrigin)
        => Origin is { Length: > 0 } configured ? configured : new Uri(publicOrigin).Authority + "/kt";
}

/// <summary>One witness of <c>Veil:KeyTransparency:Witnesses</c>.</summary>
internal sealed class KtWitnessOptions
{
    /// <summary>The witness's submission prefix (it answers POST &lt;Url&gt;/add-checkpoint).</summary>
    public string? Url { get; set; }

    /// <summary>The witness's cosignature verifier key (type 0x04), as <c>veil witness serve</c> prints it.</summary>
    public string? VerifierKey { get; set; }
}

internal sealed class KtOptionsValidator : IValidateOptions<KtOptions>
{
    public ValidateOptionsResult Validate(string? name, KtOptions options)
    {
        if (options.WitnessPolicyFile is { Length: > 0 } && options.Witnesses.Count > 0)
        {
            return ValidateOptionsResult.Fail("Set either Veil:KeyTransparency:WitnessPolicyFile or Veil:KeyTransparency:Witnesses, not both.");
        }

        if (KtWitnessPolicy.ProblemWith(options) is { } problem)
        {
            return ValidateOptionsResult.Fail(problem);
        }

        if (options.WitnessTimeout <= TimeSpan.Zero || options.WitnessTimeout > TimeSpan.FromMinutes(1))
        {
            return ValidateOptionsResult.Fail("Veil:KeyTransparency:WitnessTimeout must be more than zero and at most 1 minute.");
        }

        if (options.SequencerInterval <= TimeSpan.Zero || options.SequencerInterval > TimeSpan.FromMinutes(10))
        {
            return ValidateOptionsResult.Fail("Veil:KeyTransparency:SequencerInterval must be more than zero and at most 10 minutes.");
        }

        if (options.BatchSize is < 1 or > 100_000 || options.MaxBatchesPerTick is < 1 or > 10_000)
        {
            return ValidateOptionsResult.Fail("Veil:KeyTransparency:BatchSize must be 1-100000 and MaxBatchesPerTick 1-10000.");
        }

        return options.Origin is { Length: > 0 } origin && (!SignedNote.IsValidKeyName(origin) || origin.Length > KtLogHead.MaxOriginLength)
            ? ValidateOptionsResult.Fail("Veil:KeyTransparency:Origin must be a key name: no spaces, no '+', at most 200 characters.")
            : ValidateOptionsResult.Success;
    }
}

internal static class KtModule
{
    public static IServiceCollection AddKeyTransparencyModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<KtOptions>().BindConfiguration(KtOptions.Section).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<KtOptions>, KtOptionsValidator>();
        services.TryAddSingleton<KtLogKey>();
        services.TryAddSingleton<KtWitnessPolicy>();
        services.TryAddSingleton<KtWitnessing>();
        services.TryAddScoped<KtTiles>();
        services.TryAddScoped<KtProofs>();
        services.TryAddScoped<KeyTransparencyLog>();
        services.AddPeriodicJob<KtSequencer>();
        return services;
    }

    public static IEndpointRouteBuilder MapKeyTransparencyEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/kt").WithTags("KeyTransparency").RequireRateLimiting(VeilRateLimiting.PerIp);

        group.MapGet("/checkpoint", async (VeilDbContext db, HttpContext http, CancellationToken ct) =>
        {
            // The published checkpoint: the latest one a quorum of witnesses cosigned (or, with no witnesses, the latest).
            var published = await db.Set<KtLogHead>().AsNoTracking().Where(h => h.Id == KtLogHead.SingleId).Select(h => h.PublishedCheckpoint).FirstOrDefaultAsync(ct);
            if (published is null)
            {
                return Results.NotFound();
            }

            http.Response.Headers.CacheControl = "no-store"; // the latest one; tiles are the cacheable part
            return Results.Text(published, "text/plain; charset=utf-8");
        }).WithName("Kt_Checkpoint");

        group.MapGet("/policy", async (VeilDbContext db, KtLogKey key, KtWitnessPolicy policy, CancellationToken ct) =>
        {
            var origin = await db.Set<KtLogHead>().AsNoTracking().Where(h => h.Id == KtLogHead.SingleId).Select(h => h.Origin).FirstOrDefaultAsync(ct);
            return origin is null
                ? Results.NotFound()
                : Results.Text(policy.For(new Ed25519NoteVerifier(origin, key.PublicKey)).Text, "text/plain; charset=utf-8");
        }).WithName("Kt_Policy");

        group.MapGet("/vkey", async (VeilDbContext db, KtLogKey key, CancellationToken ct) =>
        {
            var head = await db.Set<KtLogHead>().AsNoTracking().FirstOrDefaultAsync(h => h.Id == KtLogHead.SingleId, ct);
            return head is null
                ? Results.NotFound()
                : Results.Text(SignedNote.FormatVerifierKey(head.Origin, NoteSignatureType.Ed25519, key.PublicKey.Bytes) + "\n", "text/plain; charset=utf-8");
        }).WithName("Kt_VerifierKey");

        group.MapGet("/tile/{**path}", async (string path, VeilDbContext db, KtTiles tiles, HttpContext http, CancellationToken ct) =>
        {
            if (!TlogTiles.TryParsePath("tile/" + path, out var tile))
            {
                return Results.NotFound();
            }

            // Only tiles of the committed tree: one written by a run that did not commit may still change.
            var size = await db.Set<KtLogHead>().AsNoTracking().Where(h => h.Id == KtLogHead.SingleId).Select(h => (long?)h.Size).FirstOrDefaultAsync(ct) ?? 0;
            var count = tile.IsEntries ? size : size >> (TlogTiles.Height * tile.Level);
            if (tile.Index * TlogTiles.Width + tile.Width > count || await tiles.ReadAsync(tile, ct) is not { } content)
            {
                return Results.NotFound();
            }

            http.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
            return Results.Bytes(content, "application/octet-stream");
        }).WithName("Kt_Tile");

        return endpoints;
    }
}
