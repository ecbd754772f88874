using Microsoft.Extensions.Options;

namespace Veil.Server.Platform.Hosting;

/// <summary>The host's own settings (section <c>Veil</c>).</summary>
internal sealed class VeilOptions
{
    public const string Section = "Veil";

    /// <summary>Where the SQLite database, development keyring, outbox and blobs live.</summary>
    public string DataDirectory { get; set; } = "./.data";

    /// <summary>The origin users reach the server at (e.g. <c>https://veil.example.org</c>); used in links sent by mail.</summary>
    public string? PublicOrigin { get; set; }

    /// <summary>Production mode: every server key must be configured; no development keyring.</summary>
    public bool Production { get; set; }
}

internal sealed class VeilOptionsValidator : IValidateOptions<VeilOptions>
{
    public ValidateOptionsResult Validate(string? name, VeilOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("Veil:DataDirectory (env Veil__DataDirectory): must not be empty");
        }

        if (!string.IsNullOrEmpty(options.PublicOrigin)
            && (!Uri.TryCreate(options.PublicOrigin, UriKind.Absolute, out var origin)
                || origin.Scheme is not ("https" or "http")
                || origin.AbsolutePath != "/" || origin.Query.Length > 0 || origin.Fragment.Length > 0 || origin.UserInfo.Length > 0))
        {
            failures.Add("Veil:PublicOrigin (env Veil__PublicOrigin): must be an http(s) origin such as https://veil.example.org (no path, query or credentials)");
        }
        else if (options.Production && options.PublicOrigin is { Length: > 0 } https && !https.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add("Veil:PublicOrigin (env Veil__PublicOrigin): must use https in production");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
