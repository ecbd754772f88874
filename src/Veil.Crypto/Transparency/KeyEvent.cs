// A leaf of Veil's key transparency log: one key event, written by the server in the same transaction as the
// change it records, and read by every client that verifies or monitors keys (spec/kt.md, "Entries").
//
//   veil-kt/v1\n
//   kind <chat-account-key | chat-device-added | chat-device-removed | mail-key-added | mail-key-revoked>\n
//   subject <chat:<account uuid> | mail:<hex SHA-256 of "veil-kt/mail\n" || normalised address>>\n
//   [device <decimal id>\n]                  chat device events only
//   [key <base64>\n]...                      the public keys the event binds (raw chat keys; an OpenPGP fingerprint)
//   by <who authorised it, e.g. session:<account uuid>>\n
//   time <POSIX seconds>\n
//
// The form is canonical: a leaf is accepted only if writing it back gives the same bytes, so two parties that
// agree on the event agree on the leaf hash. Mail subjects are a hash, not the address, so the public log does
// not list the server's addresses in clear (a guessed address can still be checked: see THREAT-MODEL).
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Veil.Crypto.Transparency;

/// <summary>One key event as logged.</summary>
/// <param name="Kind">What happened (see <see cref="KeyEventKinds"/>).</param>
/// <param name="Subject">Whose keys: <c>chat:&lt;uuid&gt;</c> or <c>mail:&lt;hex&gt;</c>.</param>
/// <param name="Device">The chat device id, for device events.</param>
/// <param name="Keys">The public keys (or fingerprints) the event binds.</param>
/// <param name="AuthorisedBy">Who authorised the change, e.g. <c>session:&lt;uuid&gt;</c>.</param>
/// <param name="Time">When, in POSIX seconds.</param>
public sealed record KeyEvent(string Kind, string Subject, int? Device, IReadOnlyList<byte[]> Keys, string AuthorisedBy, long Time)
{
    /// <summary>The largest leaf Veil writes (tlog-tiles entry bundles allow 65,535 bytes).</summary>
    public const int MaxLength = 16 * 1024;

    private const string Header = "veil-kt/v1";

    /// <summary>The subject of a chat account's keys.</summary>
    public static string ChatSubject(Guid accountId) => "chat:" + accountId.ToString("D", CultureInfo.InvariantCulture);

    /// <summary>The subject of a mail address's keys: a hash of the normalised address.</summary>
    public static string MailSubject(string normalizedAddress)
    {
        ArgumentNullException.ThrowIfNull(normalizedAddress);
        return "mail:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("veil-kt/mail\n" + normalizedAddress)));
    }

    /// <summary>The leaf bytes.</summary>
    /// <exception cref="ArgumentException">A field holds a newline or a space where none may be, or the leaf is too long.</exception>
    public byte[] ToBytes()
    {
        if (!IsToken(Kind) || !IsToken(Subject) || !IsToken(AuthorisedBy) || Device is < 0 || Time < 0)
        {
            throw new ArgumentException("Key event fields are single tokens without spaces or control characters.");
        }

        var builder = new StringBuilder(256);
        builder.Append(Header).Append('\n')
            .Append("kind ").Append(Kind).Append('\n')
            .Append("subject ").Append(Subject).Append('\n');
        if (Device is { } device)
        {
            builder.Append("device ").Append(device.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        foreach (var key in Keys)
        {
            builder.Append("key ").Append(Convert.ToBase64String(key)).Append('\n');
        }

        builder.Append("by ").Append(AuthorisedBy).Append('\n')
            .Append("time ").Append(Time.ToString(CultureInfo.InvariantCulture)).Append('\n');
        var bytes = Encoding.UTF8.GetBytes(builder.ToString());
        return bytes.Length <= MaxLength ? bytes : throw new ArgumentException("A key event is at most 16 KiB.");
    }

    /// <summary>Reads a leaf; anything not in the canonical form returns <see langword="null"/>.</summary>
    public static KeyEvent? TryParse(ReadOnlySpan<byte> leaf)
    {
        if (leaf.Length == 0 || leaf.Length > MaxLength || leaf[^1] != (byte)'\n')
        {
            return null;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(leaf);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length < 5 || lines[0] != Header)
        {
            return null;
        }

        var at = 1;
        string? Field(string name) => at < lines.Length && lines[at].StartsWith(name + " ", StringComparison.Ordinal) ? lines[at++][(name.Length + 1)..] : null;

        var kind = Field("kind");
        var subject = Field("subject");
        var deviceText = Field("device");
        var keys = new List<byte[]>();
        while (Field("key") is { } encoded)
        {
            try
            {
                keys.Add(Convert.FromBase64String(encoded));
            }
            catch (FormatException)
            {
                return null;
            }
        }

        var by = Field("by");
        var timeText = Field("time");
        if (kind is null || subject is null || by is null || timeText is null || at != lines.Length
            || !long.TryParse(timeText, NumberStyles.None, CultureInfo.InvariantCulture, out var time))
        {
            return null;
        }

        int? device = null;
        if (deviceText is not null)
        {
            if (!int.TryParse(deviceText, NumberStyles.None, CultureInfo.InvariantCulture, out var d))
            {
                return null;
            }

            device = d;
        }

        KeyEvent parsed;
        try
        {
            parsed = new KeyEvent(kind, subject, device, keys, by, time);
            return parsed.ToBytes().AsSpan().SequenceEqual(leaf) ? parsed : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool IsToken(string value) => value.Length > 0 && !value.Any(c => c <= ' ');
}

/// <summary>The kinds of key event Veil logs.</summary>
public static class KeyEventKinds
{
    /// <summary>A chat account's signing key was set (first device) — the key that certifies its devices.</summary>
    public const string ChatAccountKey = "chat-account-key";

    /// <summary>A chat device was added: its signing key and identity key.</summary>
    public const string ChatDeviceAdded = "chat-device-added";

    /// <summary>A chat device was removed.</summary>
    public const string ChatDeviceRemoved = "chat-device-removed";

    /// <summary>A mail address got an OpenPGP key: its fingerprint.</summary>
    public const string MailKeyAdded = "mail-key-added";

    /// <summary>A mail address and its key were removed.</summary>
    public const string MailKeyRevoked = "mail-key-revoked";
}
