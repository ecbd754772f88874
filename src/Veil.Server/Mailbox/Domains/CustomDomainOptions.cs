using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;

namespace Veil.Server.Mailbox.Domains;

/// <summary>
/// Custom domains (section <c>Veil:Mail:CustomDomains</c>) and the resolvers mail uses (<c>Veil:Dns:Servers</c>).
/// </summary>
internal sealed class CustomDomainOptions
{
    public const string Section = "Veil:Mail:CustomDomains";

    /// <summary>The host users point their MX at; default <c>Veil:Mail:HostName</c>.</summary>
    public string MxHost { get; set; } = "";

    /// <summary>The SPF mechanism that authorizes Veil's outgoing IPs (e.g. <c>mx</c>, <c>include:_spf.example.net</c>).</summary>
    public string SpfMechanism { get; set; } = "mx";

    /// <summary>Custom domains per account.</summary>
    public int MaxPerAccount { get; set; } = 5;

    public static CustomDomainOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<CustomDomainOptions>() ?? new CustomDomainOptions();
        if (string.IsNullOrWhiteSpace(options.MxHost))
        {
            options.MxHost = configuration["Veil:Mail:HostName"] ?? "localhost";
        }

        options.MxHost = options.MxHost.Trim().TrimEnd('.').ToLowerInvariant();
        return options;
    }

    /// <summary><c>Veil:Dns:Timeout</c>: per-try timeout of a lookup (three tries); default 3 s, 100 ms to 30 s.</summary>
    public static TimeSpan DnsTimeout(IConfiguration configuration)
    {
        var value = configuration["Veil:Dns:Timeout"];
        if (string.IsNullOrWhiteSpace(value))
        {
            return TimeSpan.FromSeconds(3);
        }

        return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var timeout) && timeout >= TimeSpan.FromMilliseconds(100) && timeout <= TimeSpan.FromSeconds(30)
            ? timeout
            : throw new InvalidOperationException("Veil:Dns:Timeout (env Veil__Dns__Timeout) must be a time span from 00:00:00.1 to 00:00:30.");
    }

    /// <summary>
    /// <c>Veil:Dns:Servers</c>: comma-separated <c>IP</c> or <c>IP:PORT</c> (IPv6 as <c>[IP]:PORT</c>); empty: the system's
    /// resolvers. Throws with the setting's name when malformed (the server refuses to start).
    /// </summary>
    public static IReadOnlyList<IPEndPoint> DnsServers(IConfiguration configuration)
    {
        var value = configuration["Veil:Dns:Servers"];
        var servers = new List<IPEndPoint>();
        foreach (var item in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPAddress.TryParse(item, out var address))
            {
                servers.Add(new IPEndPoint(address, 53));
            }
            else if (IPEndPoint.TryParse(item, out var endPoint) && endPoint.Port != 0)
            {
                servers.Add(endPoint);
            }
            else
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Veil:Dns:Servers (env Veil__Dns__Servers): '{item}' is not an IP address or IP:PORT"));
            }
        }

        return servers;
    }
}
