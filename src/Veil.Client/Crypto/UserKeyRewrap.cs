using Veil.Crypto.Primitives;

namespace Veil.Client.Crypto;

/// <summary>The password (or the stored wrap) does not open the account's user key.</summary>
public sealed class VeilWrongPasswordException()
    : Exception("The password does not open this account's user key.");

/// <summary>The client side of a password change (spec/keys.md, "Protected user key").</summary>
public static class UserKeyRewrap
{
    /// <summary>
    /// Opens <paramref name="storedProtectedKey"/> with the current keys and wraps the SAME user key
    /// under the keys derived from <paramref name="newPassword"/> and <paramref name="newSalt"/>.
    /// Returns the new protected key; <paramref name="newAuthToken"/> receives the new auth token (base64url).
    /// </summary>
    /// <exception cref="VeilWrongPasswordException">The current keys do not open the stored user key.</exception>
    public static string Rewrap(
        string storedProtectedKey,
        DerivedKeys current,
        ReadOnlySpan<char> newPassword,
        string email,
        ReadOnlySpan<byte> newSalt,
        Argon2Parameters parameters,
        Argon2Parameters minimum,
        out string newAuthToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        using var userKey = ProtectedUserKey.TryUnwrap(current.EncryptionKey, storedProtectedKey) ?? throw new VeilWrongPasswordException();
        using var next = PasswordKeys.Derive(newPassword, email, newSalt, parameters, minimum);
        newAuthToken = next.AuthenticationTokenText();
        return ProtectedUserKey.Wrap(next.EncryptionKey, userKey);
    }
}
