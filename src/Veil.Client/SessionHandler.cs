using System.Net.Http.Headers;

namespace Veil.Client;

/// <summary>
/// Lets another <see cref="HttpClient"/> (the Drop client, which streams its own requests) speak as the signed-in
/// session of a <see cref="VeilClient"/>: requests that <paramref name="applies"/> selects get the session's bearer
/// token (refreshed first when the client holds none yet); the access token itself never leaves the SDK.
/// </summary>
/// <remarks>
/// No retry on 401 here: a request body may be a stream that cannot be sent twice. Callers pick requests that are
/// small and sent right after sign-in (creating a drop); later requests authenticate with the owner token.
/// </remarks>
public sealed class SessionHandler(VeilClient client, Func<HttpRequestMessage, bool> applies) : DelegatingHandler(new HttpClientHandler())
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (applies(request))
        {
            var bearer = await client.BearerAsync(cancellationToken).ConfigureAwait(false);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
