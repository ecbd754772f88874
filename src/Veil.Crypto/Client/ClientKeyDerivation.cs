// ClientKeyDerivation: Veil's client key hierarchy, version 1 (spec/keys.md).
//
//   input     = UTF-8(password) || UTF-8(NormalizeEmail(email))      (no Unicode normalisation)
//   stretched = Argon2id(input, salt16; m = 65536 KiB, t = 3, p = 4, 32 bytes)
//   enc       = HKDF-SHA256(ikm = stretched, salt = empty, info = "veil/v1/client/enc",  32 bytes)
//   auth      = HKDF-SHA256(ikm = stretched, salt = empty, info = "veil/v1/client/auth", 32 bytes)
//
// The zero-knowledge property rests on this split: the client sends only `auth` to the server, and
// HKDF's outputs for different info labels are independent, so the server learns nothing about
// `enc`, which wraps the user's data keys. The server stores only an Argon2id PHC hash of `auth`
// (ServerVerifierParameters), so a database leak yields neither key. The salt is 16 random bytes
// chosen at registration and returned by the server before login. The stretched key is wiped as
// soon as both outputs are derived. Test vectors: spec/vectors/keys-v1.json.
//
// No Unicode normalisation is applied: Veil's .NET hosts run with InvariantGlobalization, where
// String.Normalize leaves non-ASCII text unchanged, so NFC could not be computed identically on
// every client. The password's UTF-8 bytes are used exactly as entered (spec/keys.md explains).
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Client;

/// <summary>Derives a user's encryption key and authentication token from password and email (spec/keys.md, v1).</summary>
public static class ClientKeyDerivation
{
    /// <summary>The HKDF info label of the encryption key, as UTF-8 bytes.</summary>
    public const string EncryptionInfo = "veil/v1/client/enc";

    /// <summary>The HKDF info label of the authentication token, as UTF-8 bytes.</summary>
    public const string AuthenticationInfo = "veil/v1/client/auth";

    /// <summary>The account salt length: 16 bytes.</summary>
    public const int SaltLength = 16;

    /// <summary>The length of the stretched key and of both derived keys: 32 bytes.</summary>
    public const int KeyLength = 32;

    /// <summary>The longest password accepted, in UTF-16 code units.</summary>
    public const int MaxPasswordLength = 1024;

    /// <summary>Argon2id cost of the client stretch: 64 MiB, 3 passes, 4 lanes.</summary>
    public static Argon2Parameters StretchParameters { get; } = new(64 * 1024, 3, 4);

    /// <summary>
    /// Argon2id cost of the server's hash of the auth token: 19 MiB, 2 passes, 1 lane. The token is
    /// 256 random-looking bits, so this hash guards against a database leak, not a dictionary attack.
    /// </summary>
    public static Argon2Parameters ServerVerifierParameters { get; } = new(19 * 1024, 2, 1);

    /// <summary>
    /// Normalises an email address for key derivation: trims ASCII whitespace (space, tab, CR, LF)
    /// at both ends and lowercases ASCII A–Z only; every other character is kept as is.
    /// </summary>
    /// <exception cref="ArgumentException">The email is empty after trimming.</exception>
    public static string NormalizeEmail(string email)
    {
        ArgumentNullException.ThrowIfNull(email);
        var trimmed = email.AsSpan().Trim(" \t\r\n");
        if (trimmed.IsEmpty)
        {
            throw new ArgumentException("The email address is empty.", nameof(email));
        }

        return string.Create(trimmed.Length, trimmed.ToString(), static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;
            }
        });
    }

    /// <summary>Derives the user's keys. Takes about 0.2–0.5 s and 64 MiB of memory.</summary>
    /// <param name="password">The password, used exactly as entered (no trimming, no Unicode normalisation).</param>
    /// <param name="email">The account email; see <see cref="NormalizeEmail"/>.</param>
    /// <param name="salt">The account's 16-byte salt.</param>
    /// <exception cref="ArgumentException">The salt is not 16 bytes, the email is empty, or the password is too long or not valid UTF-16.</exception>
    /// <exception cref="Native.NativeLibraryMissingException">libargon2 is not installed.</exception>
    public static ClientKeys Derive(ReadOnlySpan<char> password, string email, ReadOnlySpan<byte> salt) =>
        Derive(password, email, salt, StretchParameters);

    /// <summary>
    /// The same pipeline with other Argon2id parameters, for accounts whose server announces a higher
    /// cost. The caller decides which parameters it accepts (a client must refuse weaker ones).
    /// </summary>
    /// <exception cref="ArgumentException">The salt is not 16 bytes, the email is empty, the password is too long or not valid UTF-16, or the parameters are invalid.</exception>
    /// <exception cref="Native.NativeLibraryMissingException">libargon2 is not installed.</exception>
    public static ClientKeys Derive(ReadOnlySpan<char> password, string email, ReadOnlySpan<byte> salt, Argon2Parameters parameters)
    {
        if (salt.Length != SaltLength)
        {
            throw new ArgumentException($"The account salt is {SaltLength} bytes.", nameof(salt));
        }

        if (password.Length > MaxPasswordLength)
        {
            throw new ArgumentException($"The password is longer than {MaxPasswordLength} characters.", nameof(password));
        }

        var input = BuildInput(password, email);
        Span<byte> stretched = stackalloc byte[KeyLength];
        Span<byte> derived = stackalloc byte[KeyLength];
        try
        {
            Argon2id.DeriveBytes(input, salt, parameters, stretched);

            Hkdf.DeriveSha256(stretched, default, Encoding.UTF8.GetBytes(EncryptionInfo), derived);
            var encryptionKey = SecretBytes.Copy(derived);
            Hkdf.DeriveSha256(stretched, default, Encoding.UTF8.GetBytes(AuthenticationInfo), derived);
            var authenticationToken = SecretBytes.Copy(derived);
            return new ClientKeys(encryptionKey, authenticationToken);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
            CryptographicOperations.ZeroMemory(stretched);
            CryptographicOperations.ZeroMemory(derived);
        }
    }

    /// <summary>
    /// The Argon2id password input: UTF-8(password) || UTF-8(normalised email). The caller wipes it.
    /// </summary>
    internal static byte[] BuildInput(ReadOnlySpan<char> password, string email)
    {
        var normalizedEmail = NormalizeEmail(email);
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        try
        {
            var passwordBytes = strict.GetByteCount(password);
            var input = new byte[passwordBytes + strict.GetByteCount(normalizedEmail)];
            strict.GetBytes(password, input);
            strict.GetBytes(normalizedEmail, input.AsSpan(passwordBytes));
            return input;
        }
        catch (EncoderFallbackException exception)
        {
            // A lone surrogate has no UTF-8 form; refusing it beats silently substituting U+FFFD.
            throw new ArgumentException("The password or email is not valid UTF-16.", nameof(password), exception);
        }
    }
}

/// <summary>The two keys derived from a user's password: dispose as soon as they have been used.</summary>
public sealed class ClientKeys : IDisposable
{
    internal ClientKeys(SecretBytes encryptionKey, SecretBytes authenticationToken)
    {
        EncryptionKey = encryptionKey;
        AuthenticationToken = authenticationToken;
    }

    /// <summary>The 32-byte key that wraps the user's data keys. Never leaves the client.</summary>
    public SecretBytes EncryptionKey { get; }

    /// <summary>The 32-byte token the client presents to the server; the server stores only its Argon2id hash.</summary>
    public SecretBytes AuthenticationToken { get; }

    /// <summary>Wipes and frees both keys.</summary>
    public void Dispose()
    {
        EncryptionKey.Dispose();
        AuthenticationToken.Dispose();
    }

    /// <summary>Names the type only.</summary>
    public override string ToString() => nameof(ClientKeys);
}
