using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Veil.Server.Platform.Hosting;

/// <summary>
/// The one source of the absolute origin in links Veil mails or renders (magic links, verification links,
/// vault and drop links). It comes from <c>Veil:PublicOrigin</c>, or, in development without it, from the
/// address Kestrel listens on; never from a request. A request's <c>Host</c> header is chosen by whoever sends
/// the request: building a link from it let anyone have Veil mail a real user a genuine token that points at
/// the sender's host (issue 14, finding 1). Production refuses to start without the setting.
/// </summary>
internal sealed class PublicOrigin(IOptions<VeilOptions> veil, IServer server)
{
    /// <summary>Used only before Kestrel has bound (nothing is listening yet), matching <c>veil serve</c>'s default.</summary>
    internal const string Fallback = "http://127.0.0.1:5080";

    /// <summary>The origin without a trailing slash, e.g. <c>https://veil.example.org</c>.</summary>
    public string Value
    {
        get
        {
            if (veil.Value.PublicOrigin is { Length: > 0 } configured)
            {
                return configured.TrimEnd('/');
            }

            var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            return address is null ? Fallback : FromListeningAddress(address);
        }
    }

    /// <summary>
    /// A listening address as a link origin: a wildcard host (<c>0.0.0.0</c>, <c>[::]</c>, <c>+</c>, <c>*</c>) is not
    /// something a browser can open, so it becomes loopback; the port stays.
    /// </summary>
    internal static string FromListeningAddress(string address)
    {
        var trimmed = address.TrimEnd('/');
        var scheme = trimmed.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return Fallback;
        }

        var hostStart = scheme + 3;
        var rest = trimmed[hostStart..];
        string host, port;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            host = close < 0 ? rest : rest[..(close + 1)];
            port = close < 0 ? "" : rest[(close + 1)..];
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            host = colon < 0 ? rest : rest[..colon];
            port = colon < 0 ? "" : rest[colon..];
        }

        if (host is "0.0.0.0" or "[::]" or "+" or "*")
        {
            host = "127.0.0.1";
        }

        return $"{trimmed[..hostStart]}{host}{port}";
    }
}
