using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Keys;
using Veil.Mail.Srs;

namespace Veil.Server.Alias;

/// <summary>
/// SRS for forwarded mail, keyed by subkeys of the keyring's <c>srs</c> key: every version the keyring
/// holds verifies (the newest signs), so rotating the key does not orphan bounces in flight.
/// </summary>
/// <remarks>
/// A plain SRS address only says "this server issued it for this sender today": anyone who mails their own alias
/// learns one, and could then send it a bounce naming anybody's mailbox. So every address Veil issues is also bound
/// to the alias the message was forwarded through: the SRS hash field carries, after the usual hash, a tag
/// <c>HMAC(bind key, alias id ‖ the rest of the address)</c>. A bounce counts only for the alias whose tag it
/// carries (<see cref="IsBoundTo"/>), and only against that alias's own mailboxes; the alias is found from the
/// returned headers and then proven by the tag, so naming another account's reverse address gains nothing.
/// The address stays a well-formed SRS0/SRS1 address (the hash field is just longer).
/// </remarks>
internal sealed class AliasSrs
{
    /// <summary>Characters of the alias tag appended to the SRS hash (base32: 40 bits, case-insensitive).</summary>
    public const int TagLength = 8;

    private const int HashLength = 4; // SrsOptions' default, which the rewriter below uses
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";
    private readonly SrsRewriter _rewriter;
    private readonly List<byte[]> _bindKeys = [];

    public AliasSrs(Keyring keyring, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        var secrets = new List<ReadOnlyMemory<byte>>();
        foreach (var key in keyring.Versions("srs"))
        {
            var subkey = new byte[32];
            key.DeriveSubkey("alias-srs", subkey);
            secrets.Add(subkey);
            var bind = new byte[32];
            key.DeriveSubkey("alias-srs-bind", bind);
            _bindKeys.Add(bind);
        }

        if (secrets.Count == 0)
        {
            // Only reachable with a hand-built keyring: the host refuses to start without every server key.
            secrets.Add(RandomNumberGenerator.GetBytes(32));
            _bindKeys.Add(RandomNumberGenerator.GetBytes(32));
        }

        _rewriter = new SrsRewriter(new SrsOptions { Secrets = secrets }, time);
    }

    /// <summary>
    /// The envelope sender to use when forwarding mail from <paramref name="sender"/> through the alias
    /// <paramref name="aliasId"/> at <paramref name="domain"/>; empty stays empty.
    /// </summary>
    public string Forward(string sender, string domain, Guid aliasId)
    {
        if (sender.Length == 0)
        {
            return "";
        }

        var forwarded = _rewriter.Forward(sender, domain);
        if (forwarded.Status == SrsStatus.Unchanged)
        {
            // A sender in the alias domain itself (another alias's reply) is kept as is, as before: a bounce then
            // goes to that address, not to an SRS address, and counts against no mailbox.
            return forwarded.Address!;
        }

        if (Bound(forwarded, aliasId) is { } bound && LocalLength(bound) <= MaxLocalPart)
        {
            return bound;
        }

        // SRS0 embeds the whole original address, so a long sender makes a local part beyond RFC 5321's 64
        // octets, which strict MTAs (Veil's own SMTP engine among them) refuse as a bounce recipient. Veil never
        // relays a bounce back to the original sender (that would reveal the recipient mailbox), so the original
        // only has to be recognisable, not recoverable: its local part is replaced by a short digest, and the
        // domain too if that is still not enough. The hash, tag and timestamp still authenticate the bounce.
        var at = sender.LastIndexOf('@');
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sender)))[..12];
        string[] candidates = at < 0 ? [digest + "@srs.invalid"] : [digest + sender[at..], digest + "@srs.invalid"];
        foreach (var shorter in candidates)
        {
            if (Bound(_rewriter.Forward(shorter, domain), aliasId) is { } retry && LocalLength(retry) <= MaxLocalPart)
            {
                return retry;
            }
        }

        return "";
    }

    private const int MaxLocalPart = 64;

    private static int LocalLength(string address) => address.LastIndexOf('@') is var at and >= 0 ? at : address.Length;

    /// <summary>Whether <paramref name="address"/> is an SRS address this server issued and that has not expired.</summary>
    public bool IsValid(string address) =>
        Split(address) is var (standard, _) && _rewriter.Reverse(standard).Status == SrsStatus.Rewritten;

    /// <summary>
    /// Whether <paramref name="address"/> is valid (<see cref="IsValid"/>) and was issued for mail forwarded through
    /// the alias <paramref name="aliasId"/>. Addresses issued before tags existed carry none and are bound to nothing.
    /// </summary>
    public bool IsBoundTo(string address, Guid aliasId)
    {
        if (Split(address) is not var (standard, tag) || tag is null || _rewriter.Reverse(standard).Status != SrsStatus.Rewritten)
        {
            return false;
        }

        var given = Encoding.ASCII.GetBytes(tag.ToLowerInvariant());
        var match = false;
        foreach (var key in _bindKeys)
        {
            match |= CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(Tag(key, standard, aliasId)));
        }

        return match;
    }

    /// <summary>The rewriter's address with the alias tag appended to its hash field, or null.</summary>
    private string? Bound(SrsResult result, Guid aliasId)
    {
        if (result.Status != SrsStatus.Rewritten || result.Address is not { } address || !HashField(address, out var start, out var end) || end - start != HashLength)
        {
            return null;
        }

        return string.Concat(address.AsSpan(0, end), Tag(_bindKeys[0], address, aliasId), address.AsSpan(end));
    }

    /// <summary>Splits an issued address into the plain SRS address and its tag (null for an untagged one); null when not SRS.</summary>
    private static (string Standard, string? Tag)? Split(string address)
    {
        if (!HashField(address, out var start, out var end))
        {
            return null;
        }

        return (end - start) switch
        {
            HashLength => (address, null),
            HashLength + TagLength => (string.Concat(address.AsSpan(0, start + HashLength), address.AsSpan(end)), address.Substring(start + HashLength, TagLength)),
            _ => null,
        };
    }

    /// <summary>Where the hash field of "SRS0=hash=…" / "SRS1=hash=…" lies.</summary>
    private static bool HashField(string address, out int start, out int end)
    {
        start = 5;
        end = address.Length >= 5 && AliasAddresses.IsSrsLocalPart(address[..5]) ? address.IndexOf('=', start) : -1;
        return end > start;
    }

    private static string Tag(byte[] key, string standard, Guid aliasId)
    {
        // Lower case in: mail systems may change the case of a local part on the way back.
        var text = Encoding.UTF8.GetBytes(standard.ToLowerInvariant());
        var data = new byte[16 + text.Length];
        aliasId.TryWriteBytes(data);
        text.CopyTo(data, 16);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, data, mac);
        var chars = new char[TagLength];
        for (var i = 0; i < TagLength; i++)
        {
            chars[i] = Base32[mac[i] & 31];
        }

        return new string(chars);
    }
}
