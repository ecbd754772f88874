using System.Security.Cryptography;
using Veil.Crypto.Keys;

namespace Veil.Crypto.Tests.Keys;

internal static class TestKeyrings
{
    /// <summary>A keyring with field and index keys at the given versions, each with fresh random material.</summary>
    public static Keyring Create(params ushort[] versions)
    {
        var builder = new KeyringBuilder();
        foreach (var version in versions)
        {
            builder.Add(FieldEnvelope.KeyName, version, RandomNumberGenerator.GetBytes(32));
            builder.Add(BlindIndex.KeyName, version, RandomNumberGenerator.GetBytes(32));
        }

        return builder.Build();
    }

    /// <summary>A keyring with fixed material for the named keys, so two keyrings can share versions.</summary>
    public static Keyring FromMaterial(params (string Name, ushort Version, byte[] Material)[] keys)
    {
        var builder = new KeyringBuilder();
        foreach (var (name, version, material) in keys)
        {
            builder.Add(name, version, material);
        }

        return builder.Build();
    }
}
