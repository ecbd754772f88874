// The client key derivation with the parameters a server announces at prelogin (spec/keys.md).
//
// The default (and today the only production) cost is ClientKeyDerivation.StretchParameters:
// 64 MiB, t = 3, p = 4. A server may announce other parameters; the client accepts them only if
// they are at least as strong as its configured floor (VeilClientOptions.MinimumKdf), because a
// malicious or compromised server could otherwise announce a trivial cost and brute-force the
// password from the auth token it receives.
using Veil.Crypto.Client;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;

namespace Veil.Client.Crypto;

/// <summary>Derives <see cref="DerivedKeys"/> from a password, an email, a salt and announced Argon2id parameters.</summary>
public static class PasswordKeys
{
    /// <summary>Derives the encryption key and auth token. Takes the Argon2id cost in time and memory.</summary>
    /// <exception cref="ArgumentException">The salt is not 16 bytes, or the password is too long or not valid UTF-16.</exception>
    /// <exception cref="VeilKdfException">The parameters are weaker than <paramref name="minimum"/> or invalid.</exception>
    public static DerivedKeys Derive(ReadOnlySpan<char> password, string email, ReadOnlySpan<byte> salt, Argon2Parameters parameters, Argon2Parameters minimum)
    {
        if (!parameters.IsValid || parameters.MemoryKiB < minimum.MemoryKiB || parameters.Iterations < minimum.Iterations || parameters.Lanes < 1)
        {
            throw new VeilKdfException($"The server asked for Argon2id m={parameters.MemoryKiB} KiB, t={parameters.Iterations}, p={parameters.Lanes}, weaker than this client accepts (m={minimum.MemoryKiB}, t={minimum.Iterations}).");
        }

        // Ownership of both SecretBytes moves to DerivedKeys, which disposes them.
        var keys = ClientKeyDerivation.Derive(password, email, salt, parameters);
        return new DerivedKeys(keys.EncryptionKey, keys.AuthenticationToken);
    }
}

/// <summary>The server announced key-derivation parameters the client refuses.</summary>
public sealed class VeilKdfException(string message) : Exception(message);

/// <summary>The client's two password-derived keys: dispose as soon as they have been used.</summary>
public sealed class DerivedKeys : IDisposable
{
    internal DerivedKeys(SecretBytes encryptionKey, SecretBytes authenticationToken)
    {
        EncryptionKey = encryptionKey;
        AuthenticationToken = authenticationToken;
    }

    /// <summary>The 32-byte key that wraps the user key. Never leaves the client.</summary>
    public SecretBytes EncryptionKey { get; }

    /// <summary>The 32-byte token sent to the server (base64url) in place of the password.</summary>
    public SecretBytes AuthenticationToken { get; }

    /// <summary>The auth token as the base64url text the API takes.</summary>
    internal string AuthenticationTokenText()
    {
        using var lease = AuthenticationToken.Acquire();
        return System.Buffers.Text.Base64Url.EncodeToString(lease.Span);
    }

    /// <summary>Wipes and frees both keys.</summary>
    public void Dispose()
    {
        EncryptionKey.Dispose();
        AuthenticationToken.Dispose();
    }

    /// <summary>Names the type only.</summary>
    public override string ToString() => nameof(DerivedKeys);
}
