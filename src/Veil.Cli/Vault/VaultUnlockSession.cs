// `veil vault unlock`: the user key kept between runs, as `bw unlock` does, so later vault commands do not ask for
// the master password again until `veil vault lock` or the session's expiry.
//
//   file   <config>/vault-session.json, mode 0600 (written to a 0600 temporary file and renamed):
//          { version: 1, server, email, expiresAt (unix seconds), nonce, ciphertext }   (base64url)
//   secret 32 random bytes, printed ONCE as `export VEIL_SESSION=<base64url>` and never stored by veil
//   seal   AES-256-GCM(key = secret, nonce 12, plaintext = the 32-byte user key,
//                      AAD = "veil/cli/vault-session/v1" 0x00 server 0x00 email 0x00 expiresAt)
//
// Why two halves: the file alone (a backup, another user reading a mistakenly shared home) opens nothing, and the
// variable alone (a leaked environment) has nothing to open; both together are worth the master password until
// the expiry, which is inside the AAD so editing it breaks the seal. `veil vault lock` deletes the file, so a
// leaked variable is dead from then on. The server is not involved: it never sees the user key either way.
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Veil.Crypto.Memory;

namespace Veil.Cli.Vault;

internal sealed record VaultSessionFile(int Version, string Server, string Email, long ExpiresAt, string Nonce, string Ciphertext);

internal static class VaultUnlockSession
{
    public const string Variable = "VEIL_SESSION";
    public const string FileName = "vault-session.json";

    private const int SecretLength = 32;
    private const int NonceLength = 12;
    private const int TagLength = 16;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string FilePath(string configDirectory) => Path.Combine(configDirectory, FileName);

    /// <summary>Seals <paramref name="userKey"/> into the session file; returns the secret's text for VEIL_SESSION.</summary>
    public static async Task<string> CreateAsync(string configDirectory, string server, string email, DateTimeOffset expiresAt, SecretBytes userKey, CancellationToken ct)
    {
        var (secret, file) = Seal(server, email, expiresAt.ToUnixTimeSeconds(), userKey);
        await WritePrivateAsync(configDirectory, JsonSerializer.SerializeToUtf8Bytes(file, Json), ct);
        return secret;
    }

    private static (string Secret, VaultSessionFile File) Seal(string server, string email, long expires, SecretBytes userKey)
    {
        ArgumentNullException.ThrowIfNull(userKey);
        Span<byte> secret = stackalloc byte[SecretLength];
        var nonce = RandomNumberGenerator.GetBytes(NonceLength);
        var ciphertext = new byte[userKey.Length + TagLength];
        try
        {
            RandomNumberGenerator.Fill(secret);
            using (var aes = new AesGcm(secret, TagLength))
            using (var lease = userKey.Acquire())
            {
                aes.Encrypt(nonce, lease.Span, ciphertext.AsSpan(0, userKey.Length), ciphertext.AsSpan(userKey.Length), Aad(server, email, expires));
            }

            // The secret must become text to be printed for the shell; it is never written anywhere by veil.
            return (Base64Url.EncodeToString(secret), new VaultSessionFile(1, server, email, expires, Base64Url.EncodeToString(nonce), Base64Url.EncodeToString(ciphertext)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>
    /// The user key of a live session for <paramref name="server"/>/<paramref name="email"/>, or null when there is
    /// none to use (no VEIL_SESSION, no file, another account, expired — an expired file is deleted). A variable that
    /// does not open the file is an error: the user believes they are unlocked.
    /// </summary>
    public static SecretBytes? TryOpen(string configDirectory, string server, string email, DateTimeOffset now)
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        var path = FilePath(configDirectory);
        if (string.IsNullOrWhiteSpace(text) || !File.Exists(path))
        {
            return null;
        }

        VaultSessionFile? file;
        try
        {
            file = JsonSerializer.Deserialize<VaultSessionFile>(File.ReadAllBytes(path), Json);
        }
        catch (JsonException)
        {
            file = null;
        }

        if (file is not { Version: 1, Server: not null, Email: not null, Nonce: not null, Ciphertext: not null }
            || !string.Equals(file.Server, server, StringComparison.Ordinal) || !string.Equals(file.Email, email, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (DateTimeOffset.FromUnixTimeSeconds(file.ExpiresAt) <= now)
        {
            File.Delete(path);
            throw new VaultSessionException("the vault session has expired: run 'veil vault unlock' again");
        }

        Span<byte> secret = stackalloc byte[SecretLength];
        Span<byte> key = stackalloc byte[SecretLength];
        try
        {
            var ciphertext = Base64Url.DecodeFromChars(file.Ciphertext);
            if (!Base64Url.TryDecodeFromChars(text.Trim(), secret, out var written) || written != SecretLength || ciphertext.Length != SecretLength + TagLength)
            {
                throw new VaultSessionException($"{Variable} does not open the vault session (it is from another unlock, or damaged): run 'veil vault unlock' again");
            }

            using var aes = new AesGcm(secret, TagLength);
            try
            {
                aes.Decrypt(Base64Url.DecodeFromChars(file.Nonce), ciphertext.AsSpan(0, SecretLength), ciphertext.AsSpan(SecretLength), key, Aad(file.Server, file.Email, file.ExpiresAt));
            }
            catch (AuthenticationTagMismatchException)
            {
                throw new VaultSessionException($"{Variable} does not open the vault session (it is from another unlock, or the file was changed): run 'veil vault unlock' again");
            }

            return SecretBytes.Copy(key);
        }
        catch (FormatException)
        {
            throw new VaultSessionException($"the vault session file {path} is damaged: run 'veil vault lock', then 'veil vault unlock'");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Deletes the session file; true when there was one.</summary>
    public static bool Delete(string configDirectory)
    {
        var path = FilePath(configDirectory);
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        return true;
    }

    /// <summary>Writes the file 0600 from its creation (a temporary file renamed over the old one) in a 0700 directory.</summary>
    private static async Task WritePrivateAsync(string directory, byte[] bytes, CancellationToken ct)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var temporary = Path.Combine(directory, $".{FileName}.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            await using (var stream = new FileStream(temporary, options))
            {
                await stream.WriteAsync(bytes, ct);
                await stream.FlushAsync(ct);
            }

            File.Move(temporary, FilePath(directory), overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static byte[] Aad(string server, string email, long expiresAt) =>
        Encoding.UTF8.GetBytes($"veil/cli/vault-session/v1\0{server}\0{email}\0{expiresAt.ToString(CultureInfo.InvariantCulture)}");
}

/// <summary>The vault session cannot be used; the message says what to run.</summary>
internal sealed class VaultSessionException(string message) : Exception(message);
