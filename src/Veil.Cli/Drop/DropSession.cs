// The signed-in session, as `veil drop` uses it: only when the session file names the same server as the drop,
// and only on the owner's requests (create, the account's list, owner stats, delete). Uploading parts, metadata and finalizing keep
// using the owner token, so a long upload never depends on an access token that may expire halfway.
using Veil.Cli.Account;
using Veil.Cli.Vault;
using Veil.Client;
using Veil.Crypto.Memory;

namespace Veil.Cli.Drop;

internal sealed class DropSession : IDisposable
{
    private readonly VeilClient _client;
    private readonly IDisposable _lock;

    private readonly string _server;

    private DropSession(VeilClient client, IDisposable sessionLock, string server, string email)
    {
        _client = client;
        _lock = sessionLock;
        _server = server;
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
        return new DropSession(client, sessionLock, stored.Server, stored.Email);
    }

    /// <summary>
    /// The user key, for the drop's name key (spec/drop.md §8): from `veil vault unlock`'s session ($VEIL_SESSION)
    /// when there is one, else — only with a password — opened for this run. Null when neither is at hand (the
    /// warning says why); the caller then sends or lists without names.
    /// </summary>
    public async Task<SecretBytes?> UserKeyAsync(Func<string?>? password, CancellationToken cancellationToken)
    {
        try
        {
            var unlocked = VaultUnlockSession.TryOpen(SessionStore.Default().Directory, _server, Email, DateTimeOffset.UtcNow);
            if (unlocked is not null)
            {
                return unlocked;
            }
        }
        catch (VaultSessionException e)
        {
            Console.Error.WriteLine($"veil: {e.Message}");
        }

        var text = password?.Invoke();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        await _client.Identity.UnlockAsync(text.AsMemory(), cancellationToken);
        if (_client.Identity.UserKey is not { } key)
        {
            return null;
        }

        using var lease = key.Acquire();
        return SecretBytes.Copy(lease.Span);
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
            || (request.Method == HttpMethod.Get && absolute == "api/v1/drops")
            || (request.Method == HttpMethod.Delete && absolute.StartsWith("api/v1/drops/", StringComparison.Ordinal) && absolute.Count(c => c == '/') == 3)
            || (request.Method == HttpMethod.Get && absolute.StartsWith("api/v1/drops/", StringComparison.Ordinal) && absolute.EndsWith("/owner", StringComparison.Ordinal));
    }
}
