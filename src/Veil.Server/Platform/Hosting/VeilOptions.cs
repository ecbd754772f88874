using Microsoft.Extensions.Options;

namespace Veil.Server.Platform.Hosting;

/// <summary>The host's own settings (section <c>Veil</c>).</summary>
internal sealed class VeilOptions
{
    public const string Section = "Veil";

    /// <summary>Where the SQLite database, development keyring, outbox and blobs live.</summary>
    public string DataDirectory { get; set; } = "./.data";

    /// <summary>
    /// The origin users reach the server at (e.g. <c>https://veil.example.org</c>); every link Veil mails or renders is built
    /// from it (see <see cref="Hosting.PublicOrigin"/>). Required in production; in development the listening address is used.
    /// </summary>
    public string? PublicOrigin { get; set; }

    /// <summary>Production mode: every server key must be configured; no development keyring.</summary>
    public bool Production { get; set; }

    /// <summary>
    /// Reverse proxies (IP addresses or CIDR networks, <c>Veil:TrustedProxies:0</c>…) whose <c>X-Forwarded-For</c> and
    /// <c>X-Forwarded-Proto</c> are believed: a request arriving from one of them is treated as coming from the last
    /// address the proxy appended. Empty (default): forwarding headers are ignored and every client is its socket address.
    /// </summary>
    public List<string> TrustedProxies { get; } = [];

    /// <summary>The parsed <see cref="TrustedProxies"/>; call after validation.</summary>
    public IReadOnlyList<System.Net.IPNetwork> TrustedProxyNetworks =>
        [.. TrustedProxies.Select(p => TryParseNetwork(p, out var network) ? network : throw new InvalidOperationException("Veil:TrustedProxies is not valid."))];

    /// <summary>An address (a /32 or /128 network) or a CIDR network such as <c>10.0.0.0/8</c>.</summary>
    public static bool TryParseNetwork(string? value, out System.Net.IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        if (System.Net.IPAddress.TryParse(value, out var address))
        {
            network = new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return System.Net.IPNetwork.TryParse(value, out network);
    }
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
        else if (options.Production && string.IsNullOrEmpty(options.PublicOrigin))
        {
            // Links in mail carry tokens; without a configured origin they could only come from the request (Host header).
            failures.Add("Veil:PublicOrigin (env Veil__PublicOrigin): required in production: the https origin users reach Veil at (e.g. https://veil.example.org); every link Veil mails is built from it");
        }
        else if (options.Production && options.PublicOrigin is { Length: > 0 } https && !https.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add("Veil:PublicOrigin (env Veil__PublicOrigin): must use https in production");
        }

        for (var i = 0; i < options.TrustedProxies.Count; i++)
        {
            if (!VeilOptions.TryParseNetwork(options.TrustedProxies[i], out _))
            {
                failures.Add($"Veil:TrustedProxies:{i} (env Veil__TrustedProxies__{i}): must be an IP address or a CIDR network such as 10.0.0.0/8");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
