// The signed-in session, as `veil drop` uses it: only when the session file names the same server as the drop,
// and only on the owner's requests (create, owner stats, delete). Uploading parts, metadata and finalizing keep
// using the owner token, so a long upload never depends on an access token that may expire halfway.
using Veil.Cli.Account;
using Veil.Client;

namespace Veil.Cli.Drop;

internal sealed class DropSession : IDisposable
{
    private readonly VeilClient _client;
    private readonly IDisposable _lock;

    private DropSession(VeilClient client, IDisposable sessionLock, string email)
    {
        _client = client;
        _lock = sessionLock;
        Email = email;
    }

    /// <summary>The account's address, as the session file remembers it (may be empty after a magic-link login).</summary>
    public string Email { get; }

    /// <summary>The session for <paramref name="origin"/>, or null when this machine is not logged in to that server.</summary>
    public static DropSession? Open(string origin, bool required = false)
    {
        var store = SessionStore.Default();
        var stored = store.Load();
        if (stored is null || !AccountCli.TryParseServer(stored.Server, out var server)
            || !AccountCli.TryParseServer(origin.Trim(), out var target) || server != target)
        {
            return required ? throw new VeilApiException(401, Client.Identity.IdentityErrorCodes.NotSignedIn, "Not logged in to this server: run 'veil account login' first") : null;
        }

        IDisposable sessionLock;
        try
        {
            // Every refresh rotates the token: two veil processes must not present the same one (see SessionStore.Lock).
            sessionLock = store.Lock(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException e)
        {
            throw new VeilApiException(0, "session-busy", e.Message);
        }

        var client = AccountCli.NewClient(server);
        client.UseRefreshToken(stored.RefreshToken);
        client.RefreshTokenChanged += (_, token) =>
        {
            if (token is null)
            {
                store.Delete();
            }
            else
            {
                store.Save(stored with { RefreshToken = token });
            }
        };
        return new DropSession(client, sessionLock, stored.Email);
    }

    /// <summary>A handler for the drop HTTP client that signs the owner's requests with this session.</summary>
    public HttpMessageHandler Handler() => new SessionHandler(_client, IsOwnerRequest);

    public void Dispose()
    {
        _client.Dispose();
        _lock.Dispose();
    }

    private static bool IsOwnerRequest(HttpRequestMessage request)
    {
        var path = request.RequestUri?.OriginalString.TrimStart('/') ?? string.Empty;
        var absolute = request.RequestUri is { IsAbsoluteUri: true } uri ? uri.AbsolutePath.TrimStart('/') : path;
        return (request.Method == HttpMethod.Post && absolute == "api/v1/drops")
            || (request.Method == HttpMethod.Delete && absolute.StartsWith("api/v1/drops/", StringComparison.Ordinal) && absolute.Count(c => c == '/') == 3)
            || (request.Method == HttpMethod.Get && absolute.StartsWith("api/v1/drops/", StringComparison.Ordinal) && absolute.EndsWith("/owner", StringComparison.Ordinal));
    }
}
