// The log's checkpoint signing key: Ed25519 from a seed derived from the keyring's "transparency" key,
//   seed = HKDF-SHA256(transparency key, info = "veil/v1/transparency/kt/log-ed25519")   (spec/keys.md)
// so it survives restarts and needs no file of its own. Rotating the transparency key makes a new log key:
// clients pinned to the old verifier key then refuse the log's checkpoints, which is the point of pinning
// (spec/kt.md, "Log key").
using System.Security.Cryptography;
using Veil.Crypto.Keys;
using Veil.Crypto.Primitives;
using Veil.Crypto.Transparency;

namespace Veil.Server.Transparency;

internal sealed class KtLogKey : IDisposable
{
    public const string KeyName = "transparency";
    public const string Purpose = "kt/log-ed25519";

    private readonly Ed25519PrivateKey _key;

    public KtLogKey(Keyring keyring)
    {
        Span<byte> seed = stackalloc byte[32];
        try
        {
            keyring.Current(KeyName).DeriveSubkey(Purpose, seed);
            _key = Ed25519PrivateKey.ImportSeed(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    public Ed25519PublicKey PublicKey => _key.PublicKey;

    /// <summary>The signer for a log of this origin (the key name is the origin, as tlog-checkpoint recommends).</summary>
    public Ed25519NoteSigner SignerFor(string origin) => new(origin, _key);

    public void Dispose() => _key.Dispose();
}
