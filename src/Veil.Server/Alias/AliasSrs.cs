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
        return result.Succeeded ? result.Address! : "";
    }

    /// <summary>Whether <paramref name="address"/> is an SRS address this server issued and that has not expired.</summary>
    public bool IsValid(string address) => _rewriter.Reverse(address).Status == SrsStatus.Rewritten;
}
