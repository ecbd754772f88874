// The one place the server touches OpenPGP (through Veil.Crypto.OpenPgp, spec/openpgp.md): it checks a public key an
// owner publishes, and seals (encrypts, never signs: it holds no private key) a message to an address's public key.
// Profile: AES-256, SEIPD v1 with MDC, no compression, a literal packet with no file name and a zero date (the
// arrival time is in the row; the packet need not repeat it). Streaming: memory stays flat for any size.
using Veil.Crypto.OpenPgp;

namespace Veil.Server.Mailbox;

internal static class MailSealer
{
    /// <summary>Null when <paramref name="armored"/> is a usable key for <paramref name="address"/>; otherwise why not.</summary>
    public static string? CheckPublicKey(string? armored, string address, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(armored) || armored.Length > MailboxAddresses.MaxPublicKeyLength)
        {
            return "publicKey must be an ASCII-armoured OpenPGP public key of at most 64 KiB.";
        }

        var parsed = OpenPgpPublicKey.Parse(armored, now);
        if (parsed.Key is not { } key)
        {
            return parsed.Error!.Message;
        }

        return key.UserIds.Any(u => u.Contains("<" + address + ">", StringComparison.OrdinalIgnoreCase) || string.Equals(u.Trim(), address, StringComparison.OrdinalIgnoreCase))
            ? null
            : "The key's user ID must name the address (as <local@domain>), so that WKD clients accept it.";
    }

    /// <summary>The stored key, parsed (it was checked when stored; null only if it has expired since).</summary>
    public static OpenPgpPublicKey? Read(string armored, DateTimeOffset now) => OpenPgpPublicKey.Parse(armored, now).Key;

    /// <summary>Encrypts <paramref name="plaintext"/> to the key, writing a binary OpenPGP message to <paramref name="output"/>.</summary>
    public static void Seal(OpenPgpPublicKey key, Stream plaintext, Stream output) =>
        OpenPgpMessage.Encrypt(plaintext, output, [key], new OpenPgpEncryptOptions(DateTimeOffset.UnixEpoch));

    /// <summary>Seals a small value and returns the OpenPGP message's bytes.</summary>
    public static byte[] SealSmall(OpenPgpPublicKey key, byte[] plaintext)
    {
        using var input = new MemoryStream(plaintext, writable: false);
        using var output = new MemoryStream();
        Seal(key, input, output);
        return output.ToArray();
    }
}
