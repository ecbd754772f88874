// Access tokens: RFC 7519 JWTs, HS256, signed with HKDF subkey "access-token" of the `session` key
// (one per key version, named by `kid`, so a rotation keeps earlier tokens valid until they expire).
// Lifetime is checked against the injected TimeProvider, with no clock skew: the server is the only
// issuer and validator.
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Veil.Crypto.Keys;
using Veil.Server.Platform.Auth;

namespace Veil.Server.Identity.Services;

internal sealed class AccessTokens
{
    public const string Issuer = "veil";
    public const string Audience = "veil-api";
    private const string KeyName = "session";
    private const string Purpose = "access-token";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SymmetricSecurityKey _signingKey;
    private readonly SymmetricSecurityKey[] _validationKeys;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _lifetime;

    public AccessTokens(Keyring keyring, TimeProvider clock, IOptions<IdentityOptions> options)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        ArgumentNullException.ThrowIfNull(options);
        _clock = clock;
        _lifetime = options.Value.AccessTokenLifetime;
        // The JWT library needs the key as a managed array; it lives as long as the process.
        _validationKeys = [.. keyring.Versions(KeyName).Select(Subkey)];
        var current = keyring.Current(KeyName);
        _signingKey = _validationKeys.Single(k => k.KeyId == KeyId(current.Version));
    }

    public TimeSpan Lifetime => _lifetime;

    public string Issue(Guid accountId, Guid sessionId, DateTimeOffset authTime)
    {
        var now = _clock.GetUtcNow();
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + _lifetime).UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                [VeilClaims.Subject] = accountId.ToString("D"),
                [VeilClaims.SessionId] = sessionId.ToString("D"),
                [VeilClaims.AuthTime] = authTime.ToUnixTimeSeconds(),
                ["jti"] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = new SigningCredentials(_signingKey, SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>The token's account, session and auth time, or null when it is not valid now.</summary>
    public async Task<AccessTokenClaims?> ValidateAsync(string token)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Audience,
            IssuerSigningKeys = _validationKeys,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = TimeSpan.Zero,
            LifetimeValidator = (notBefore, expires, _, _) => notBefore is { } nbf && expires is { } exp && nbf <= now && now < exp,
        };
        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return null;
        }

        return jwt.TryGetPayloadValue<string>(VeilClaims.Subject, out var sub) && Guid.TryParse(sub, out var accountId)
            && jwt.TryGetPayloadValue<string>(VeilClaims.SessionId, out var sid) && Guid.TryParse(sid, out var sessionId)
            && jwt.TryGetPayloadValue<long>(VeilClaims.AuthTime, out var authTime)
                ? new AccessTokenClaims(accountId, sessionId, DateTimeOffset.FromUnixTimeSeconds(authTime))
                : null;
    }

    private static string KeyId(ushort version) => "session-v" + version.ToString(CultureInfo.InvariantCulture);

    private static SymmetricSecurityKey Subkey(VersionedKey key)
    {
        var material = new byte[32];
        key.DeriveSubkey(Purpose, material);
        return new SymmetricSecurityKey(material) { KeyId = KeyId(key.Version) };
    }
}

internal sealed record AccessTokenClaims(Guid AccountId, Guid SessionId, DateTimeOffset AuthTime)
{
    public ClaimsPrincipal ToPrincipal() => new(new ClaimsIdentity(
        [
            new Claim(VeilClaims.Subject, AccountId.ToString("D")),
            new Claim(VeilClaims.SessionId, SessionId.ToString("D")),
            new Claim(VeilClaims.AuthTime, AuthTime.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            new Claim(VeilClaims.Credential, VeilClaims.SessionCredential),
        ],
        VeilClaims.AuthenticationType));
}

/// <summary>Keyed values derived from server keys for Identity (prelogin fake salts, recovery-code fingerprints).</summary>
internal sealed class IdentityKeys(Keyring keyring)
{
    /// <summary>
    /// The salt shown for an unknown address: first 16 bytes of HMAC-SHA256(subkey "prelogin" of the
    /// current index key, "prelogin" || 0x00 || normalised email). Deterministic, so asking twice gives
    /// the same answer, as it would for a real account.
    /// </summary>
    public byte[] FakeSalt(string normalizedEmail)
    {
        Span<byte> key = stackalloc byte[32];
        try
        {
            keyring.Current("index").DeriveSubkey("prelogin", key);
            var mac = HMACSHA256.HashData(key, System.Text.Encoding.UTF8.GetBytes("prelogin\0" + normalizedEmail));
            return mac[..16];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// The server's half of a "trust this browser" capsule (ADR 0007): HMAC-SHA256(subkey "unlock-share" of the
    /// current index key, "unlock-share" || 0x00 || account id || 0x00 || session id). Only that session's access
    /// token is answered with it, so ending the session (the sessions page) ends every capsule made under it; a new
    /// sign-in is a new session id and a different share.
    /// </summary>
    public byte[] UnlockShare(Guid accountId, Guid sessionId)
    {
        Span<byte> key = stackalloc byte[32];
        try
        {
            keyring.Current("index").DeriveSubkey("unlock-share", key);
            return HMACSHA256.HashData(key, System.Text.Encoding.UTF8.GetBytes($"unlock-share\0{accountId:D}\0{sessionId:D}"));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Recovery-code fingerprints: with the current key first (for storing), then older versions (for matching).</summary>
    public IReadOnlyList<byte[]> RecoveryFingerprints(string code)
    {
        var result = new List<byte[]>();
        Span<byte> key = stackalloc byte[32];
        foreach (var version in keyring.Versions("recovery").OrderByDescending(v => v.Version))
        {
            try
            {
                version.DeriveSubkey("recovery-code", key);
                if (Veil.Crypto.Otp.OneTimeCodes.FingerprintRecoveryCode(key, code) is { } fingerprint)
                {
                    result.Add(fingerprint);
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }

        return result;
    }
}
