using System.Security.Cryptography;
using Veil.Crypto.Keys;
using Veil.Mail.Srs;

namespace Veil.Server.Alias;

/// <summary>
/// SRS for forwarded mail, keyed by subkeys of the keyring's <c>srs</c> key: every version the keyring
/// holds verifies (the newest signs), so rotating the key does not orphan bounces in flight.
/// </summary>
internal sealed class AliasSrs
{
    private readonly SrsRewriter _rewriter;

    public AliasSrs(Keyring keyring, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        var secrets = new List<ReadOnlyMemory<byte>>();
        foreach (var key in keyring.Versions("srs"))
        {
            var subkey = new byte[32];
            key.DeriveSubkey("alias-srs", subkey);
            secrets.Add(subkey);
        }

        if (secrets.Count == 0)
        {
            // Only reachable with a hand-built keyring: the host refuses to start without every server key.
            secrets.Add(RandomNumberGenerator.GetBytes(32));
        }

        _rewriter = new SrsRewriter(new SrsOptions { Secrets = secrets }, time);
    }

    /// <summary>The envelope sender to use when forwarding mail from <paramref name="sender"/> through <paramref name="domain"/>; empty stays empty.</summary>
    public string Forward(string sender, string domain)
    {
        if (sender.Length == 0)
        {
            return "";
        }

        var result = _rewriter.Forward(sender, domain);
        if (!result.Succeeded)
        {
            return "";
        }

        if (LocalLength(result.Address!) <= MaxLocalPart)
        {
            return result.Address!;
        }

        // SRS0 embeds the whole original address, so a long sender makes a local part beyond RFC 5321's 64
        // octets, which strict MTAs (Veil's own SMTP engine among them) refuse as a bounce recipient. Veil never
        // relays a bounce back to the original sender (that would reveal the recipient mailbox), so the original
        // only has to be recognisable, not recoverable: its local part is replaced by a short digest, and the
        // domain too if that is still not enough. The hash and timestamp still authenticate the bounce.
        var at = sender.LastIndexOf('@');
        var digest = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sender)))[..12];
        string[] candidates = at < 0 ? [digest + "@srs.invalid"] : [digest + sender[at..], digest + "@srs.invalid"];
        foreach (var shorter in candidates)
        {
            var retry = _rewriter.Forward(shorter, domain);
            if (retry.Succeeded && LocalLength(retry.Address!) <= MaxLocalPart)
            {
                return retry.Address!;
            }
        }

        return "";
    }

    private const int MaxLocalPart = 64;

    private static int LocalLength(string address) => address.LastIndexOf('@') is var at and >= 0 ? at : address.Length;

    /// <summary>Whether <paramref name="address"/> is an SRS address this server issued and that has not expired.</summary>
    public bool IsValid(string address) => _rewriter.Reverse(address).Status == SrsStatus.Rewritten;
}
