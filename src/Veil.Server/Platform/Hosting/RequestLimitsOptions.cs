using Microsoft.Extensions.Options;

namespace Veil.Server.Platform.Hosting;

/// <summary>Request limits (section <c>Veil:Limits</c>); endpoints that stream uploads raise their own.</summary>
internal sealed class RequestLimitsOptions
{
    public const string Section = "Veil:Limits";

    /// <summary>The largest request body Kestrel accepts, in bytes (default 1 MiB).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}

internal sealed class RequestLimitsOptionsValidator : IValidateOptions<RequestLimitsOptions>
{
    private const long Minimum = 1024;
    private const long Maximum = 4L * 1024 * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, RequestLimitsOptions options) =>
        options.MaxRequestBodyBytes is < Minimum or > Maximum
            ? ValidateOptionsResult.Fail($"Veil:Limits:MaxRequestBodyBytes (env Veil__Limits__MaxRequestBodyBytes): must be between {Minimum} and {Maximum}")
            : ValidateOptionsResult.Success;
}
