// Keyring: the server's named, versioned secret keys.
//
// Each key has a name ("field", "index", "session", ...) and one or more versions. The highest
// version is current and is the only one used to seal or sign; older versions remain so that data
// written under them still opens, which lets an operator rotate a key without re-encrypting
// everything at once (DESIGN.md principle 3). Key material is configured by the operator; each use
// derives its own subkey with HKDF-SHA256 so that one configured key never serves two algorithms.
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Memory;

namespace Veil.Crypto.Keys;

/// <summary>An immutable set of named, versioned secret keys. Build one with <see cref="KeyringBuilder"/>.</summary>
public sealed class Keyring : IDisposable
{
    /// <summary>The minimum length of configured key material, in bytes.</summary>
    public const int MinimumKeyLength = 32;

    private readonly FrozenDictionary<string, VersionedKey[]> _keys;

    internal Keyring(Dictionary<string, List<VersionedKey>> keys)
    {
        _keys = keys.ToFrozenDictionary(
            pair => pair.Key,
            pair => pair.Value.OrderByDescending(k => k.Version).ToArray(),
            StringComparer.Ordinal);
    }

    /// <summary>The names of the keys this keyring holds.</summary>
    public IEnumerable<string> Names => _keys.Keys;

    /// <summary>Whether a key of this name exists in any version.</summary>
    public bool Contains(string name) => _keys.ContainsKey(name);

    /// <summary>The current (highest) version of the named key: the one that seals and signs.</summary>
    /// <exception cref="KeyNotFoundException">The keyring has no key of that name.</exception>
    public VersionedKey Current(string name) =>
        _keys.TryGetValue(name, out var versions)
            ? versions[0]
            : throw new KeyNotFoundException($"The keyring has no key named '{name}'.");

    /// <summary>Finds one version of a key, for opening data sealed under it.</summary>
    public bool TryGet(string name, ushort version, [NotNullWhen(true)] out VersionedKey? key)
    {
        key = null;
        if (!_keys.TryGetValue(name, out var versions))
        {
            return false;
        }

        foreach (var candidate in versions)
        {
            if (candidate.Version == version)
            {
                key = candidate;
                return true;
            }
        }

        return false;
    }

    /// <summary>Every version of the named key, newest first (empty if there is none).</summary>
    public IReadOnlyList<VersionedKey> Versions(string name) =>
        _keys.TryGetValue(name, out var versions) ? versions : [];

    /// <summary>Wipes every key.</summary>
    public void Dispose()
    {
        foreach (var versions in _keys.Values)
        {
            foreach (var key in versions)
            {
                key.Dispose();
            }
        }
    }

    /// <summary>Lists names and versions only.</summary>
    public override string ToString() =>
        "Keyring(" + string.Join(", ", _keys.Select(p => $"{p.Key}: v{string.Join(",v", p.Value.Select(k => k.Version))}")) + ")";
}

/// <summary>One version of a named key. Its material is only reachable through derived subkeys.</summary>
public sealed class VersionedKey : IDisposable
{
    private readonly SecretBytes _material;

    internal VersionedKey(string name, ushort version, SecretBytes material)
    {
        Name = name;
        Version = version;
        _material = material;
    }

    /// <summary>The key's name, such as <c>field</c>.</summary>
    public string Name { get; }

    /// <summary>The key's version; the highest one is current.</summary>
    public ushort Version { get; }

    /// <summary>
    /// Derives a 32-byte subkey for one purpose: <c>HKDF-SHA256(ikm = material, salt = empty,
    /// info = "veil/v1/" || name || "/" || purpose)</c>. The caller wipes <paramref name="subkey"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="subkey"/> is not 32 bytes or the purpose is empty.</exception>
    public void DeriveSubkey(string purpose, Span<byte> subkey)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        if (subkey.Length != 32)
        {
            throw new ArgumentException("A subkey is 32 bytes.", nameof(subkey));
        }

        if (_subkeys.TryGetValue(purpose, out var cached))
        {
            using var held = cached.Acquire();
            held.Span.CopyTo(subkey);
            return;
        }

        var info = Encoding.UTF8.GetBytes($"veil/v1/{Name}/{purpose}");
        using (var lease = _material.Acquire())
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, lease.Span, subkey, salt: [], info);
        }

        // Kept, in secret memory like the material, for the next call: field encryption and blind indexes derive a
        // subkey for every value, and the derivation cost as much as the encryption. Purposes are a fixed set of
        // constants in the code; the bound only guards against a caller that would make them up.
        if (_subkeys.Count < MaxCachedSubkeys)
        {
            var copy = SecretBytes.Copy(subkey);
            if (!_subkeys.TryAdd(purpose, copy))
            {
                copy.Dispose();
            }
        }
    }

    private const int MaxCachedSubkeys = 64;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SecretBytes> _subkeys = new(StringComparer.Ordinal);

    /// <summary>Wipes the key material and every subkey derived from it.</summary>
    public void Dispose()
    {
        _material.Dispose();
        foreach (var subkey in _subkeys.Values)
        {
            subkey.Dispose();
        }
    }

    /// <summary>Shows the name and version only.</summary>
    public override string ToString() => $"{Name} v{Version}";
}

/// <summary>Collects key versions and builds a <see cref="Keyring"/>.</summary>
public sealed class KeyringBuilder
{
    private readonly Dictionary<string, List<VersionedKey>> _keys = new(StringComparer.Ordinal);

    /// <summary>Adds one version of a named key; the material is copied into secret memory.</summary>
    /// <exception cref="ArgumentException">
    /// The name is not lowercase ASCII letters, digits or '-', the material is shorter than
    /// <see cref="Keyring.MinimumKeyLength"/>, or this name and version were already added.
    /// </exception>
    public KeyringBuilder Add(string name, ushort version, ReadOnlySpan<byte> material)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException("A key name is 1-32 lowercase ASCII letters, digits or '-'.", nameof(name));
        }

        if (material.Length < Keyring.MinimumKeyLength)
        {
            throw new ArgumentException($"Key '{name}' v{version} is shorter than {Keyring.MinimumKeyLength} bytes.", nameof(material));
        }

        if (!_keys.TryGetValue(name, out var versions))
        {
            versions = [];
            _keys.Add(name, versions);
        }

        if (versions.Exists(k => k.Version == version))
        {
            throw new ArgumentException($"Key '{name}' v{version} was added twice.", nameof(version));
        }

        versions.Add(new VersionedKey(name, version, SecretBytes.Copy(material)));
        return this;
    }

    /// <summary>Builds the keyring; the builder must not be used afterwards.</summary>
    public Keyring Build() => new(_keys);

    private static bool IsValidName(string name) =>
        name is { Length: > 0 and <= 32 } && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}
