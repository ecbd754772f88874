// Every Identity flow of spec/identity-api.md, done as the browser does it:
//   prelogin -> Argon2id stretch -> HKDF enc + auth (spec/keys.md) -> only `auth` is sent.
// The `enc` key and the unwrapped user key never leave this process; the user key is held in
// secure memory (SecretBytes) while signed in and wiped on logout/dispose. Passwords are taken as
// ReadOnlyMemory<char> so callers can pass a char array they wipe afterwards.
using System.Buffers.Text;
using Veil.Client.Crypto;
using Veil.Crypto.Client;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;

namespace Veil.Client.Identity;

/// <summary>Accounts, sign-in, sessions, two-factor, recovery codes and API keys.</summary>
public sealed class IdentityClient
{
    /// <summary>The only KDF name of v1.</summary>
    public const string Argon2idName = "argon2id";

    /// <summary>The strongest parameters the client accepts from a server (the contract's upper bounds): memory.</summary>
    public const int MaxMemoryKiB = 1024 * 1024;

    /// <summary>Upper bound on Argon2id passes a client accepts.</summary>
    public const int MaxIterations = 10;

    /// <summary>Upper bound on Argon2id lanes a client accepts.</summary>
    public const int MaxParallelism = 16;

    private readonly VeilClient _client;
    private readonly Lock _lock = new();
    private SecretBytes? _userKey;
    private PendingSignIn? _pending;

    internal IdentityClient(VeilClient client) => _client = client;

    /// <summary>The weakest Argon2id cost the client derives with: spec/keys.md's defaults (64 MiB, t=3, p=4).</summary>
    public static Argon2Parameters MinimumKdf => ClientKeyDerivation.StretchParameters;

    /// <summary>
    /// The account's 32-byte user key, available after a password sign-in (or <see cref="UnlockAsync"/>);
    /// null otherwise (e.g. after a magic-link sign-in). Owned by this client: do not dispose.
    /// </summary>
    public SecretBytes? UserKey
    {
        get
        {
            lock (_lock)
            {
                return _userKey;
            }
        }
    }

    // ---------------------------------------------------------------- registration

    /// <summary>
    /// Registers: a random salt and user key, the keys derived from the password, the user key
    /// wrapped under <c>enc</c>. The server answers the same whether or not the address is taken; the
    /// account exists once the emailed link is consumed with <see cref="VerifyEmailAsync"/>.
    /// </summary>
    /// <exception cref="WeakPasswordException">The password breaks the master-password rule (nothing was derived or sent).</exception>
    public async Task RegisterAsync(string email, ReadOnlyMemory<char> password, string? recoveryEmail = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        // Before any key is derived: a weak master password is refused here, in every client (spec/keys.md).
        PasswordStrength.Require(password.Span, email);
        var salt = CryptoRandom.Bytes(ClientKeyDerivation.SaltLength);
        var kdf = new KdfParameters(Argon2idName, MinimumKdf.MemoryKiB, MinimumKdf.Iterations, MinimumKdf.Lanes, Base64Url.EncodeToString(salt));
        string authToken, protectedUserKey;
        using (var keys = await DeriveAsync(password, email, kdf, cancellationToken).ConfigureAwait(false))
        using (var userKey = ProtectedUserKey.NewUserKey())
        {
            authToken = keys.AuthenticationTokenText();
            protectedUserKey = ProtectedUserKey.Wrap(keys.EncryptionKey, userKey);
        }

        await _client.AnonymousAsync<StatusResponse>(HttpMethod.Post, "api/v1/accounts", new RegisterRequest(email, authToken, kdf, protectedUserKey, recoveryEmail), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Consumes an email-verification link: the token itself, or the whole link (<c>…/verify-email#token</c>).</summary>
    public Task<VerifyEmailResult> VerifyEmailAsync(string tokenOrLink, CancellationToken cancellationToken = default) =>
        _client.AnonymousAsync<VerifyEmailResult>(HttpMethod.Post, "api/v1/accounts/verify-email", new TokenRequest(TokenFromLink(tokenOrLink)), cancellationToken);

    // ---------------------------------------------------------------- sign-in

    /// <summary>The account's KDF parameters and salt (a stable fake for an unknown address).</summary>
    public Task<KdfParameters> PreloginAsync(string email, CancellationToken cancellationToken = default) =>
        _client.AnonymousAsync<KdfParameters>(HttpMethod.Post, "api/v1/auth/prelogin", new EmailRequest(email), cancellationToken);

    /// <summary>
    /// Signs in with a password: prelogin, derivation, login. When the account has 2FA, the result
    /// carries a challenge for <see cref="CompleteTwoFactorAsync"/>; the derived keys wait in memory
    /// until then so the user key can be opened afterwards.
    /// </summary>
    public async Task<SignInResult> LoginAsync(string email, ReadOnlyMemory<char> password, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        var kdf = await PreloginAsync(email, cancellationToken).ConfigureAwait(false);
        var keys = await DeriveAsync(password, email, kdf, cancellationToken).ConfigureAwait(false);
        try
        {
            var response = await _client.AnonymousAsync<SignInResponse>(
                HttpMethod.Post,
                "api/v1/auth/login",
                new LoginRequest(email, keys.AuthenticationTokenText(), _client.Options.ClientLabel, TokenTransport.Body),
                cancellationToken).ConfigureAwait(false);
            var result = await FinishSignInAsync(response, keys, cancellationToken).ConfigureAwait(false);
            keys = null; // owned by the pending challenge or disposed by FinishSignInAsync
            return result;
        }
        finally
        {
            keys?.Dispose();
        }
    }

    /// <summary>Answers a 2FA challenge with a TOTP, backup or recovery code.</summary>
    public async Task<SignedIn> CompleteTwoFactorAsync(TwoFactorChallenge challenge, TwoFactorMethod method, string code, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        var wireMethod = method switch
        {
            TwoFactorMethod.Totp => "totp",
            TwoFactorMethod.Backup => "backup",
            TwoFactorMethod.Recovery => "recovery",
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
        var response = await _client.AnonymousAsync<SignInResponse>(
            HttpMethod.Post, "api/v1/auth/login/2fa", new TwoFactorRequest(challenge.ChallengeToken, wireMethod, code.Trim()), cancellationToken).ConfigureAwait(false);
        DerivedKeys? keys = null;
        lock (_lock)
        {
            if (_pending is not null && _pending.ChallengeToken == challenge.ChallengeToken)
            {
                keys = _pending.Keys;
                _pending = null;
            }
        }

        var result = await FinishSignInAsync(response, keys, cancellationToken).ConfigureAwait(false);
        return result.Session ?? throw new VeilApiException(200, VeilApiException.ProtocolCode, "The server asked for a second factor twice");
    }

    /// <summary>Asks for a sign-in link by mail. The answer is the same whether or not the address has an account.</summary>
    public Task RequestMagicLinkAsync(string email, CancellationToken cancellationToken = default) =>
        _client.AnonymousAsync<StatusResponse>(HttpMethod.Post, "api/v1/auth/magic-link", new EmailRequest(email), cancellationToken);

    /// <summary>
    /// Signs in with a magic link (token or whole link). No password is involved, so the user key
    /// stays locked until <see cref="UnlockAsync"/>.
    /// </summary>
    public async Task<SignInResult> ConsumeMagicLinkAsync(string tokenOrLink, CancellationToken cancellationToken = default)
    {
        var response = await _client.AnonymousAsync<SignInResponse>(
            HttpMethod.Post,
            "api/v1/auth/magic-link/consume",
            new MagicLinkConsumeRequest(TokenFromLink(tokenOrLink), _client.Options.ClientLabel, TokenTransport.Body),
            cancellationToken).ConfigureAwait(false);
        return await FinishSignInAsync(response, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Rotates the refresh token (the newest replaces the old at once) and gets a new access token.</summary>
    public async Task<SignedIn> RefreshAsync(CancellationToken cancellationToken = default)
    {
        var refreshToken = _client.RefreshToken ?? throw new VeilApiException(401, IdentityErrorCodes.NotSignedIn, "Not signed in");
        SignInResponse response;
        try
        {
            response = await _client.AnonymousAsync<SignInResponse>(HttpMethod.Post, "api/v1/auth/refresh", new RefreshRequest(refreshToken), cancellationToken).ConfigureAwait(false);
        }
        catch (VeilApiException e) when (e.Code is IdentityErrorCodes.InvalidRefreshToken or IdentityErrorCodes.RefreshTokenReused)
        {
            _client.ClearSession();
            ForgetKeys();
            throw;
        }

        return ApplyTokens(response);
    }

    /// <summary>Revokes this session on the server and forgets every token and key held.</summary>
    public async Task LogoutAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            if (_client.RefreshToken is { } refreshToken)
            {
                await _client.AnonymousAsync<NoContent>(HttpMethod.Post, "api/v1/auth/logout", new RefreshRequest(refreshToken), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _client.ClearSession();
            ForgetKeys();
        }
    }

    /// <summary>
    /// Re-authenticates the session (password, and a TOTP or backup code when 2FA is on), so that
    /// step-up endpoints accept it for the next few minutes.
    /// </summary>
    public async Task StepUpAsync(ReadOnlyMemory<char> password, string? totpCode = null, CancellationToken cancellationToken = default)
    {
        var account = await WhoAmIAsync(cancellationToken).ConfigureAwait(false);
        var accountKeys = await GetKeysAsync(cancellationToken).ConfigureAwait(false);
        using var keys = await DeriveAsync(password, account.Email, accountKeys.Parameters, cancellationToken).ConfigureAwait(false);
        var response = await _client.AuthenticatedAsync<StepUpResponse>(
            HttpMethod.Post, "api/v1/auth/step-up", new StepUpRequest(keys.AuthenticationTokenText(), string.IsNullOrWhiteSpace(totpCode) ? null : totpCode.Trim()), cancellationToken).ConfigureAwait(false);
        _client.SetAccessToken(response.AccessToken);
        KeepUserKey(keys, accountKeys.ProtectedUserKey);
    }

    /// <summary>Opens the user key with the password (after a magic-link sign-in, say).</summary>
    /// <exception cref="VeilApiException">Code <c>wrong-password</c> when the password does not open it.</exception>
    public async Task UnlockAsync(ReadOnlyMemory<char> password, CancellationToken cancellationToken = default)
    {
        var account = await WhoAmIAsync(cancellationToken).ConfigureAwait(false);
        var accountKeys = await GetKeysAsync(cancellationToken).ConfigureAwait(false);
        using var keys = await DeriveAsync(password, account.Email, accountKeys.Parameters, cancellationToken).ConfigureAwait(false);
        if (!KeepUserKey(keys, accountKeys.ProtectedUserKey))
        {
            throw WrongPassword();
        }
    }

    // ---------------------------------------------------------------- account

    /// <summary>The signed-in account (works with a session or an API key).</summary>
    public Task<AccountInfo> WhoAmIAsync(CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<AccountInfo>(HttpMethod.Get, "api/v1/account", null, cancellationToken);

    /// <summary>The account's KDF parameters, salt and protected user key.</summary>
    public Task<AccountKeys> GetKeysAsync(CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<AccountKeys>(HttpMethod.Get, "api/v1/account/keys", null, cancellationToken);

    /// <summary>
    /// Changes the password: derives the current keys (opening the user key proves the password
    /// locally), derives new keys under a NEW random salt, and re-wraps the SAME user key. The server
    /// revokes every other session.
    /// </summary>
    /// <exception cref="VeilApiException"><c>wrong-password</c> when the current password does not open the user key; <c>invalid-credentials</c> from the server.</exception>
    /// <exception cref="WeakPasswordException">The new password breaks the master-password rule (nothing was sent).</exception>
    public async Task ChangePasswordAsync(ReadOnlyMemory<char> currentPassword, ReadOnlyMemory<char> newPassword, CancellationToken cancellationToken = default)
    {
        var account = await WhoAmIAsync(cancellationToken).ConfigureAwait(false);
        PasswordStrength.Require(newPassword.Span, account.Email);
        var accountKeys = await GetKeysAsync(cancellationToken).ConfigureAwait(false);
        var (currentAuth, newAuth, newKdf, newProtected) = await RewrapAsync(currentPassword, account.Email, accountKeys, newPassword, account.Email, cancellationToken).ConfigureAwait(false);
        await _client.AuthenticatedAsync<NoContent>(
            HttpMethod.Post, "api/v1/account/password", new ChangePasswordRequest(currentAuth, newAuth, newKdf, newProtected), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts a change of the primary email (step-up): the email is part of the KDF input, so the
    /// keys are re-derived for the new address and the same user key re-wrapped. Takes effect when
    /// the link sent to the new address is consumed.
    /// </summary>
    public async Task ChangeEmailAsync(ReadOnlyMemory<char> password, string newEmail, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(newEmail);
        var account = await WhoAmIAsync(cancellationToken).ConfigureAwait(false);
        var accountKeys = await GetKeysAsync(cancellationToken).ConfigureAwait(false);
        var (_, newAuth, newKdf, newProtected) = await RewrapAsync(password, account.Email, accountKeys, password, newEmail, cancellationToken).ConfigureAwait(false);
        await _client.AuthenticatedAsync<StatusResponse>(
            HttpMethod.Post, "api/v1/account/email", new ChangeEmailRequest(newEmail, newAuth, newKdf, newProtected), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets (a link is sent to confirm it) or removes (<see langword="null"/>) the recovery email.</summary>
    public Task SetRecoveryEmailAsync(string? recoveryEmail, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Put, "api/v1/account/recovery-email", new RecoveryEmailRequest(recoveryEmail), cancellationToken);

    /// <summary>Deletes the account and everything it owns (step-up), then forgets the session.</summary>
    public async Task DeleteAccountAsync(CancellationToken cancellationToken = default)
    {
        await _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, "api/v1/account", null, cancellationToken).ConfigureAwait(false);
        _client.ClearSession();
        ForgetKeys();
    }

    /// <summary>The account's data as JSON (<c>veil-account-export/v1</c>).</summary>
    public async Task<AccountExport> ExportAsync(CancellationToken cancellationToken = default)
    {
        var document = await _client.AuthenticatedAsync<System.Text.Json.JsonElement>(HttpMethod.Get, "api/v1/account/export", null, cancellationToken).ConfigureAwait(false);
        var format = document.ValueKind == System.Text.Json.JsonValueKind.Object && document.TryGetProperty("format", out var f) ? f.GetString() : null;
        return new AccountExport(format ?? string.Empty, document);
    }

    // ---------------------------------------------------------------- two-factor and recovery

    /// <summary>Whether TOTP is on and how many backup and recovery codes remain.</summary>
    public Task<TwoFactorStatus> GetTwoFactorStatusAsync(CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<TwoFactorStatus>(HttpMethod.Get, "api/v1/account/2fa", null, cancellationToken);

    /// <summary>Starts (or restarts) TOTP enrolment: show the otpauth URI, then <see cref="ConfirmTotpAsync"/>.</summary>
    public Task<TotpEnrolment> BeginTotpEnrolmentAsync(CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<TotpEnrolment>(HttpMethod.Post, "api/v1/account/2fa/totp", null, cancellationToken);

    /// <summary>Turns TOTP on with a code from the authenticator; returns the 8 backup codes (shown once).</summary>
    public async Task<BackupCodes> ConfirmTotpAsync(string code, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        var response = await _client.AuthenticatedAsync<BackupCodesResponse>(HttpMethod.Post, "api/v1/account/2fa/totp/confirm", new CodeRequest(code.Trim()), cancellationToken).ConfigureAwait(false);
        return new BackupCodes(response.BackupCodes);
    }

    /// <summary>Turns TOTP off (step-up); the backup codes go too.</summary>
    public Task DisableTotpAsync(CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, "api/v1/account/2fa/totp", null, cancellationToken);

    /// <summary>A new set of 8 backup codes (step-up); the old set stops working.</summary>
    public async Task<BackupCodes> RegenerateBackupCodesAsync(CancellationToken cancellationToken = default)
    {
        var response = await _client.AuthenticatedAsync<BackupCodesResponse>(HttpMethod.Post, "api/v1/account/2fa/backup-codes", null, cancellationToken).ConfigureAwait(false);
        return new BackupCodes(response.BackupCodes);
    }

    /// <summary>A new set of 10 recovery codes (step-up); the old set stops working.</summary>
    public async Task<RecoveryCodes> RegenerateRecoveryCodesAsync(CancellationToken cancellationToken = default)
    {
        var response = await _client.AuthenticatedAsync<RecoveryCodesResponse>(HttpMethod.Post, "api/v1/account/recovery-codes", null, cancellationToken).ConfigureAwait(false);
        return new RecoveryCodes(response.RecoveryCodes);
    }

    // ---------------------------------------------------------------- sessions

    /// <summary>The account's sessions, the current one marked.</summary>
    public Task<IReadOnlyList<SessionInfo>> ListSessionsAsync(CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<IReadOnlyList<SessionInfo>>(HttpMethod.Get, "api/v1/account/sessions", null, cancellationToken);

    /// <summary>Revokes one session of the account.</summary>
    public Task RevokeSessionAsync(Guid sessionId, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, $"api/v1/account/sessions/{sessionId:D}", null, cancellationToken);

    /// <summary>Revokes every session but the current one; returns how many were revoked.</summary>
    public async Task<int> RevokeOtherSessionsAsync(CancellationToken cancellationToken = default) =>
        (await _client.AuthenticatedAsync<RevokedResponse>(HttpMethod.Post, "api/v1/account/sessions/revoke-others", null, cancellationToken).ConfigureAwait(false)).Revoked;

    // ---------------------------------------------------------------- API keys

    /// <summary>Creates a named API key (step-up); its <c>ak_…</c> value is in the result only.</summary>
    public Task<CreatedApiKey> CreateApiKeyAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _client.AuthenticatedAsync<CreatedApiKey>(HttpMethod.Post, "api/v1/account/api-keys", new ApiKeyCreateRequest(name), cancellationToken);
    }

    /// <summary>The account's API keys (names and times; never the keys).</summary>
    public Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<IReadOnlyList<ApiKeyInfo>>(HttpMethod.Get, "api/v1/account/api-keys", null, cancellationToken);

    /// <summary>Revokes an API key; it stops working on the next request.</summary>
    public Task RevokeApiKeyAsync(Guid id, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, $"api/v1/account/api-keys/{id:D}", null, cancellationToken);

    // ---------------------------------------------------------------- internals

    internal void ForgetKeys()
    {
        lock (_lock)
        {
            _userKey?.Dispose();
            _userKey = null;
            _pending?.Keys.Dispose();
            _pending = null;
        }
    }

    /// <summary>The token of a link (the fragment after '#', or the last path segment) or the token itself.</summary>
    internal static string TokenFromLink(string tokenOrLink)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenOrLink);
        var text = tokenOrLink.Trim();
        var hash = text.LastIndexOf('#');
        if (hash >= 0)
        {
            return text[(hash + 1)..];
        }

        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            var query = System.Web.HttpUtility.ParseQueryString(uri.Query)["token"];
            return query ?? uri.Segments[^1];
        }

        return text;
    }

    /// <summary>Derives with the announced parameters after checking them against the contract's bounds (off the caller's thread).</summary>
    internal static Task<DerivedKeys> DeriveAsync(ReadOnlyMemory<char> password, string email, KdfParameters kdf, CancellationToken cancellationToken)
    {
        if (!string.Equals(kdf.Kdf, Argon2idName, StringComparison.Ordinal)
            || kdf.MemoryKiB > MaxMemoryKiB || kdf.Iterations > MaxIterations || kdf.Parallelism is < 1 or > MaxParallelism)
        {
            throw new VeilApiException(200, VeilApiException.ProtocolCode, "The server announced key-derivation parameters outside the contract's bounds");
        }

        var salt = Base64Url.IsValid(kdf.Salt) ? Base64Url.DecodeFromChars(kdf.Salt) : [];
        if (salt.Length != ClientKeyDerivation.SaltLength)
        {
            throw new VeilApiException(200, VeilApiException.ProtocolCode, "The server announced a salt that is not 16 bytes");
        }

        var parameters = new Argon2Parameters(kdf.MemoryKiB, kdf.Iterations, kdf.Parallelism);
        return Task.Run(
            () =>
            {
                try
                {
                    return PasswordKeys.Derive(password.Span, email, salt, parameters, MinimumKdf);
                }
                catch (VeilKdfException e)
                {
                    throw new VeilApiException(200, VeilApiException.ProtocolCode, "The server announced a key-derivation cost below this client's minimum", e.Message, inner: e);
                }
            },
            cancellationToken);
    }

    private static VeilApiException WrongPassword() =>
        new(0, IdentityErrorCodes.WrongPassword, "The password does not open this account's keys");

    private static async Task<(string CurrentAuth, string NewAuth, KdfParameters NewKdf, string NewProtected)> RewrapAsync(
        ReadOnlyMemory<char> currentPassword, string currentEmail, AccountKeys accountKeys, ReadOnlyMemory<char> newPassword, string newEmail, CancellationToken cancellationToken)
    {
        using var current = await DeriveAsync(currentPassword, currentEmail, accountKeys.Parameters, cancellationToken).ConfigureAwait(false);
        var newSalt = CryptoRandom.Bytes(ClientKeyDerivation.SaltLength);
        var newKdf = accountKeys.Parameters with { Salt = Base64Url.EncodeToString(newSalt) };
        var parameters = new Argon2Parameters(newKdf.MemoryKiB, newKdf.Iterations, newKdf.Parallelism);
        try
        {
            var (newProtected, newAuth) = await Task.Run(
                () =>
                {
                    var wrapped = UserKeyRewrap.Rewrap(accountKeys.ProtectedUserKey, current, newPassword.Span, newEmail, newSalt, parameters, MinimumKdf, out var auth);
                    return (wrapped, auth);
                },
                cancellationToken).ConfigureAwait(false);
            return (current.AuthenticationTokenText(), newAuth, newKdf, newProtected);
        }
        catch (VeilWrongPasswordException)
        {
            throw WrongPassword();
        }
    }

    private async Task<SignInResult> FinishSignInAsync(SignInResponse response, DerivedKeys? keys, CancellationToken cancellationToken)
    {
        if (response.TwoFactorRequired)
        {
            var challenge = new TwoFactorChallenge(
                response.ChallengeToken ?? throw new VeilApiException(200, VeilApiException.ProtocolCode, "A two-factor challenge without a token"),
                response.Methods ?? [],
                _client.Options.TimeProvider.GetUtcNow().AddSeconds(response.ExpiresIn));
            lock (_lock)
            {
                _pending?.Keys.Dispose();
                _pending = keys is null ? null : new PendingSignIn(challenge.ChallengeToken, keys);
            }

            return new SignInResult(null, challenge);
        }

        try
        {
            var session = ApplyTokens(response);
            if (keys is not null)
            {
                var accountKeys = await GetKeysAsync(cancellationToken).ConfigureAwait(false);
                if (!KeepUserKey(keys, accountKeys.ProtectedUserKey))
                {
                    // The server accepted the auth token, yet enc does not open the user key: the stored
                    // wrap is damaged or was replaced. Signed in, but with no user key.
                    throw WrongPassword();
                }
            }

            return new SignInResult(session, null);
        }
        finally
        {
            keys?.Dispose();
        }
    }

    private SignedIn ApplyTokens(SignInResponse response)
    {
        if (response.AccessToken is null || response.RefreshToken is null || response.SessionId is null || response.AccountId is null)
        {
            throw new VeilApiException(200, VeilApiException.ProtocolCode, "The server's token response lacks a token");
        }

        _client.SetAccessToken(response.AccessToken);
        _client.SetRefreshToken(response.RefreshToken);
        return new SignedIn(response.AccountId.Value, response.SessionId.Value, _client.Options.TimeProvider.GetUtcNow().AddSeconds(response.ExpiresIn));
    }

    /// <summary>Opens the protected user key with <paramref name="keys"/> and keeps it; false when it does not open.</summary>
    private bool KeepUserKey(DerivedKeys keys, string protectedUserKey)
    {
        var userKey = ProtectedUserKey.TryUnwrap(keys.EncryptionKey, protectedUserKey);
        if (userKey is null)
        {
            return false;
        }

        lock (_lock)
        {
            _userKey?.Dispose();
            _userKey = userKey;
        }

        return true;
    }

    private sealed record PendingSignIn(string ChallengeToken, DerivedKeys Keys);
}
