// Which blob store the server uses (issue 22): files under <data>/blobs (the default, one node), or one S3-compatible
// bucket that several nodes share. The choice and its secrets are checked when the server is built, so a node with a
// half-configured store refuses to start with one line per missing setting, never showing a value.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Platform.Blobs;

/// <summary><c>Veil:Blobs:S3</c>: where the bucket is and how to sign requests to it.</summary>
internal sealed class S3BlobOptions
{
    public const string Section = "Veil:Blobs:S3";

    /// <summary>The S3 endpoint, e.g. <c>https://s3.eu-central-1.amazonaws.com</c> or <c>http://127.0.0.1:9000</c>.</summary>
    public string? Endpoint { get; set; }

    public string? Bucket { get; set; }

    /// <summary>The signing region; most self-hosted servers accept the default.</summary>
    public string Region { get; set; } = "us-east-1";

    public string? AccessKey { get; set; }

    /// <summary>The secret key (env <c>Veil__Blobs__S3__SecretKey</c>); required, never logged.</summary>
    public string? SecretKey { get; set; }

    /// <summary>A blob up to this size is sent with one PUT; larger ones as a multipart upload. Also the most a write buffers. Default 16 MiB.</summary>
    public int MultipartThresholdBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>The part size of multipart uploads (S3's minimum is 5 MiB for all parts but the last). Default 8 MiB.</summary>
    public int PartSizeBytes { get; set; } = 8 * 1024 * 1024;
}

internal static class BlobStoreRegistration
{
    public const string StoreSetting = "Veil:Blobs:Store";

    /// <summary>Registers the configured <see cref="IBlobStore"/> (call after <see cref="Problems"/> found none).</summary>
    public static IServiceCollection AddVeilBlobs(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        if (IsS3(configuration))
        {
            var options = configuration.GetSection(S3BlobOptions.Section).Get<S3BlobOptions>() ?? new S3BlobOptions();
            services.TryAddSingleton<IBlobStore>(sp => new S3BlobStore(options, sp.GetRequiredService<ILogger<S3BlobStore>>()));
        }
        else
        {
            services.TryAddSingleton<IBlobStore>(_ => new FileSystemBlobStore(Path.Combine(dataDirectory, "blobs")));
        }

        return services;
    }

    /// <summary>"files" or "s3".</summary>
    public static string StoreOf(IConfiguration configuration) => IsS3(configuration) ? "s3" : "files";

    /// <summary>One line per problem, naming the setting and never its value.</summary>
    public static IEnumerable<string> Problems(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var store = configuration[StoreSetting];
        if (!string.IsNullOrEmpty(store) && !IsS3(configuration) && !string.Equals(store, "files", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{StoreSetting} (env Veil__Blobs__Store): must be 'files' or 's3'";
            yield break;
        }

        if (!IsS3(configuration))
        {
            yield break;
        }

        var options = configuration.GetSection(S3BlobOptions.Section).Get<S3BlobOptions>() ?? new S3BlobOptions();
        foreach (var (name, value) in new[] { ("Endpoint", options.Endpoint), ("Bucket", options.Bucket), ("AccessKey", options.AccessKey), ("SecretKey", options.SecretKey) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                yield return $"{Setting(name)}: is required when {StoreSetting} is s3";
            }
        }

        if (!string.IsNullOrWhiteSpace(options.Endpoint))
        {
            if (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            {
                yield return $"{Setting("Endpoint")}: must be an absolute http:// or https:// address";
            }
            else if (endpoint.Scheme == "http" && configuration.GetValue<bool>("Veil:Production") && !DatabaseTls.StaysOnThisMachine(endpoint.Host))
            {
                // The blobs are ciphertext, but the request signatures, object names and sizes are not, and a
                // man in the middle could serve old objects: as for PostgreSQL, TLS whenever the network is crossed.
                yield return $"{Setting("Endpoint")}: in production an object store reached over the network must use https (loopback may use http)";
            }
        }

        if (options.PartSizeBytes is < 5 * 1024 * 1024 or > 512 * 1024 * 1024)
        {
            yield return $"{Setting("PartSizeBytes")}: must be between 5 MiB (S3's smallest part) and 512 MiB";
        }

        if (options.MultipartThresholdBytes < options.PartSizeBytes || options.MultipartThresholdBytes > 512 * 1024 * 1024)
        {
            yield return $"{Setting("MultipartThresholdBytes")}: must be at least PartSizeBytes and at most 512 MiB";
        }
    }

    private static bool IsS3(IConfiguration configuration) => string.Equals(configuration[StoreSetting], "s3", StringComparison.OrdinalIgnoreCase);

    private static string Setting(string name) => $"{S3BlobOptions.Section}:{name} (env Veil__Blobs__S3__{name})";
}
