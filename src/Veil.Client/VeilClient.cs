// The SDK's HTTP core. Token handling follows spec/identity-api.md for non-browser clients:
//   - the access token lives in memory only, inside this object; it is never exposed or persisted;
//   - refresh tokens travel in JSON bodies ("tokenTransport": "body"), and every refresh rotates the
//     token: the client always keeps the newest and raises RefreshTokenChanged at once, so a caller
//     that persists it (the CLI) can store it before doing anything else — presenting an older one
//     would revoke the whole session family;
//   - every failure reaches the caller as a VeilApiException (problem details, or code "network").
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Veil.Client.Identity;

namespace Veil.Client;

/// <summary>Options of a <see cref="VeilClient"/>.</summary>
public sealed class VeilClientOptions
{
    /// <summary>Names this client's sessions in the sessions list (≤ 100 characters).</summary>
    public string ClientLabel { get; set; } = "veil-sdk";

    /// <summary>The clock used to compute token expiry times.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

/// <summary>The C# SDK entry point: an HTTP client for a Veil server plus the client-side crypto flows.</summary>
public sealed class VeilClient : IDisposable
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly bool _ownsHttp;
    private string? _accessToken;
    private string? _apiKey;

    /// <summary>Uses <paramref name="http"/>, whose base address is the server's origin.</summary>
    public VeilClient(HttpClient http, VeilClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        Http = http;
        Options = options ?? new VeilClientOptions();
        Identity = new IdentityClient(this);
    }

    /// <summary>Creates its own HTTP client for <paramref name="server"/>.</summary>
    public VeilClient(Uri server, VeilClientOptions? options = null)
        : this(new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(60) }, options)
    {
        _ownsHttp = true;
    }

    /// <summary>Raised with the newest refresh token whenever it changes (null after logout or revocation).</summary>
    public event EventHandler<string?>? RefreshTokenChanged;

    /// <summary>The underlying HTTP client, whose base address is the server's origin.</summary>
    public HttpClient Http { get; }

    public VeilClientOptions Options { get; }

    /// <summary>Accounts, sign-in, sessions, 2FA and API keys (spec/identity-api.md).</summary>
    public IdentityClient Identity { get; }

    /// <summary>The newest refresh token of the current session, for a caller that keeps sessions across runs.</summary>
    public string? RefreshToken { get; private set; }

    /// <summary>True when the client holds an access token, an API key or a refresh token.</summary>
    public bool HasCredentials => _accessToken is not null || _apiKey is not null || RefreshToken is not null;

    /// <summary>Resumes a session from a stored refresh token (the next call refreshes it).</summary>
    public void UseRefreshToken(string refreshToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(refreshToken);
        _accessToken = null;
        _apiKey = null;
        SetRefreshToken(refreshToken);
    }

    /// <summary>Authenticates with an API key (<c>ak_…</c>) instead of a session.</summary>
    public void UseApiKey(string apiKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        _accessToken = null;
        _apiKey = apiKey;
        SetRefreshToken(null);
    }

    public void Dispose()
    {
        Identity.ForgetKeys();
        if (_ownsHttp)
        {
            Http.Dispose();
        }
    }

    internal void SetAccessToken(string? accessToken) => _accessToken = accessToken;

    /// <summary>The bearer credential for the next request (refreshing the session when no access token is held yet).</summary>
    internal async Task<string> BearerAsync(CancellationToken cancellationToken)
    {
        if (_apiKey is not null)
        {
            return _apiKey;
        }

        if (_accessToken is null)
        {
            if (RefreshToken is null)
            {
                throw new VeilApiException(401, IdentityErrorCodes.NotSignedIn, "Not signed in");
            }

            await Identity.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        return _accessToken ?? throw new VeilApiException(401, IdentityErrorCodes.NotSignedIn, "Not signed in");
    }

    internal void SetRefreshToken(string? refreshToken)
    {
        if (refreshToken == RefreshToken)
        {
            return;
        }

        RefreshToken = refreshToken;
        RefreshTokenChanged?.Invoke(this, refreshToken);
    }

    internal void ClearSession()
    {
        _accessToken = null;
        SetRefreshToken(null);
    }

    /// <summary>An anonymous request.</summary>
    internal Task<T> AnonymousAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken) =>
        SendAsync<T>(method, path, body, bearer: null, cancellationToken);

    /// <summary>
    /// A request with the session's access token (or the API key). Without an access token, or when it
    /// has expired (401 unauthorized), the client refreshes once with its refresh token and retries.
    /// </summary>
    internal async Task<T> AuthenticatedAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        if (_apiKey is not null)
        {
            return await SendAsync<T>(method, path, body, _apiKey, cancellationToken).ConfigureAwait(false);
        }

        if (_accessToken is null)
        {
            if (RefreshToken is null)
            {
                throw new VeilApiException(401, IdentityErrorCodes.NotSignedIn, "Not signed in");
            }

            await Identity.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await SendAsync<T>(method, path, body, _accessToken, cancellationToken).ConfigureAwait(false);
        }
        catch (VeilApiException e) when (e.Code == IdentityErrorCodes.Unauthorized && RefreshToken is not null)
        {
            await Identity.RefreshAsync(cancellationToken).ConfigureAwait(false);
            return await SendAsync<T>(method, path, body, _accessToken, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A non-JSON authenticated request (binary uploads and downloads): <paramref name="build"/> makes a fresh message
    /// for each attempt (one refresh-and-retry on 401, as <see cref="AuthenticatedAsync{T}"/>). The caller disposes the
    /// response, which is always a success; failures arrive as <see cref="VeilApiException"/>.
    /// </summary>
    internal async Task<HttpResponseMessage> AuthenticatedSendAsync(Func<HttpRequestMessage> build, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        if (_apiKey is null && _accessToken is null)
        {
            if (RefreshToken is null)
            {
                throw new VeilApiException(401, IdentityErrorCodes.NotSignedIn, "Not signed in");
            }

            await Identity.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await SendRawAsync(build, _apiKey ?? _accessToken, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (VeilApiException e) when (e.Code == IdentityErrorCodes.Unauthorized && _apiKey is null && RefreshToken is not null)
        {
            await Identity.RefreshAsync(cancellationToken).ConfigureAwait(false);
            return await SendRawAsync(build, _accessToken, completion, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(Func<HttpRequestMessage> build, string? bearer, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        using var request = build();
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new VeilApiException(0, VeilApiException.NetworkCode, ServerUnreachable.Message(Http.BaseAddress), e.HttpRequestError.ToString(), inner: e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new VeilApiException(0, VeilApiException.NetworkCode, ServerUnreachable.TimeoutMessage(Http.BaseAddress), inner: e);
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await VeilApiException.FromResponseAsync(response, cancellationToken).ConfigureAwait(false);
            }
        }

        return response;
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, string? bearer, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path.TrimStart('/'), UriKind.Relative));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            // The raw message can name internal hosts or be unhelpful; the category is what a user needs.
            throw new VeilApiException(0, VeilApiException.NetworkCode, ServerUnreachable.Message(Http.BaseAddress), e.HttpRequestError.ToString(), inner: e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new VeilApiException(0, VeilApiException.NetworkCode, ServerUnreachable.TimeoutMessage(Http.BaseAddress), inner: e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await VeilApiException.FromResponseAsync(response, cancellationToken).ConfigureAwait(false);
            }

            if (typeof(T) == typeof(NoContent))
            {
                return default!;
            }

            if (response.StatusCode == HttpStatusCode.NoContent)
            {
                throw new VeilApiException((int)response.StatusCode, VeilApiException.ProtocolCode, "The server sent no body where the contract promises one");
            }

            try
            {
                return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false)
                    ?? throw new VeilApiException((int)response.StatusCode, VeilApiException.ProtocolCode, "The server sent an empty answer");
            }
            catch (JsonException e)
            {
                throw new VeilApiException((int)response.StatusCode, VeilApiException.ProtocolCode, "The server's answer is not the shape the contract promises", inner: e);
            }
        }
    }
}

/// <summary>The result type of requests answered with 204 (or whose body is ignored).</summary>
internal readonly record struct NoContent;
