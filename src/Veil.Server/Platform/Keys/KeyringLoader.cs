// Builds the server keyring from configuration (and, outside production, a generated development
// keyring file).
//
// Configuration shape (docs/OPERATIONS.md, "Server keys"):
//   Veil:Keys:<name>             = "<base64>" or "v<N>:<base64>"   the current version (default v1)
//   Veil:RetiredKeys:<name>:<N>  = "<base64>"                       older versions, open-only
// The current version must be the highest, so a version number, once written into a ciphertext,
// always names the same key material. Every problem is collected and reported at once, each on its
// own line naming the setting; no message ever includes a value.
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Veil.Crypto.Keys;

namespace Veil.Server.Platform.Keys;

internal sealed record KeyringLoad(Keyring? Keyring, IReadOnlyList<string> Problems, DevelopmentKeyringUse? Development);

internal sealed record DevelopmentKeyringUse(string Path, bool Generated, IReadOnlyList<string> Names);

internal static class KeyringLoader
{
    /// <param name="configuration">The host's configuration.</param>
    /// <param name="dataDirectory">The usable data directory, or null when it could not be prepared.</param>
    /// <param name="production">Whether every key must be configured.</param>
    public static KeyringLoad Load(IConfiguration configuration, string? dataDirectory, bool production)
    {
        var problems = new List<string>();
        var materials = new List<(string Name, ushort Version, byte[] Material)>();
        try
        {
            var missing = new List<string>();
            foreach (var name in ServerKeys.Names)
            {
                var current = ReadCurrent(configuration, name, problems, materials);
                if (current is null)
                {
                    missing.Add(name);
                }

                ReadRetired(configuration, name, current, problems, materials);
            }

            ReportUnknownNames(configuration, problems);

            DevelopmentKeyringUse? development = null;
            if (missing.Count > 0)
            {
                if (production)
                {
                    problems.AddRange(missing.Select(name =>
                        $"{ServerKeys.Describe(ServerKeys.CurrentPath(name))}: missing (required in production: base64, at least {Keyring.MinimumKeyLength} bytes decoded)"));
                }
                else if (dataDirectory is not null)
                {
                    development = DevelopmentKeyring.LoadOrCreate(dataDirectory, missing, problems, materials);
                }
            }

            if (problems.Count > 0)
            {
                return new KeyringLoad(null, problems, null);
            }

            var builder = new KeyringBuilder();
            foreach (var (name, version, material) in materials)
            {
                builder.Add(name, version, material);
            }

            return new KeyringLoad(builder.Build(), problems, development);
        }
        finally
        {
            foreach (var (_, _, material) in materials)
            {
                CryptographicOperations.ZeroMemory(material);
            }
        }
    }

    private static ushort? ReadCurrent(IConfiguration configuration, string name, List<string> problems, List<(string, ushort, byte[])> materials)
    {
        var path = ServerKeys.CurrentPath(name);
        var raw = configuration[path];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        ushort version = 1;
        var encoded = raw.AsSpan().Trim();
        if (encoded.Length > 1 && encoded[0] == 'v' && encoded.IndexOf(':') is > 1 and var colon)
        {
            if (!ushort.TryParse(encoded[1..colon], NumberStyles.None, CultureInfo.InvariantCulture, out version) || version == 0)
            {
                problems.Add($"{ServerKeys.Describe(path)}: the version prefix must be v1 to v65535");
                return 0;
            }

            encoded = encoded[(colon + 1)..];
        }

        if (Decode(path, encoded, problems) is { } material)
        {
            materials.Add((name, version, material));
        }

        // Even when the material was rejected the key counts as configured: it is reported as
        // invalid, not also as missing, and the development keyring never silently replaces it.
        return version;
    }

    private static void ReadRetired(IConfiguration configuration, string name, ushort? current, List<string> problems, List<(string, ushort, byte[])> materials)
    {
        foreach (var child in configuration.GetSection($"Veil:RetiredKeys:{name}").GetChildren())
        {
            var path = ServerKeys.RetiredPath(name, child.Key);
            if (!ushort.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version == 0)
            {
                problems.Add($"{ServerKeys.Describe(path)}: the last segment must be a version number from 1 to 65535");
                continue;
            }

            if (current is null)
            {
                problems.Add($"{ServerKeys.Describe(path)}: a retired version needs a current key at {ServerKeys.CurrentPath(name)}");
                continue;
            }

            if (version >= current)
            {
                problems.Add($"{ServerKeys.Describe(path)}: a retired version must be lower than the current version (v{current})");
                continue;
            }

            if (Decode(path, (child.Value ?? string.Empty).AsSpan().Trim(), problems) is { } material)
            {
                materials.Add((name, version, material));
            }
        }
    }

    private static void ReportUnknownNames(IConfiguration configuration, List<string> problems)
    {
        foreach (var section in new[] { "Veil:Keys", "Veil:RetiredKeys" })
        {
            foreach (var child in configuration.GetSection(section).GetChildren())
            {
                if (!ServerKeys.Names.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                {
                    problems.Add($"{section}:{child.Key}: unknown key name (known: {string.Join(", ", ServerKeys.Names)})");
                }
            }
        }
    }

    private static byte[]? Decode(string path, ReadOnlySpan<char> encoded, List<string> problems)
    {
        var buffer = new byte[encoded.Length];
        if (encoded.IsEmpty || !Convert.TryFromBase64Chars(encoded, buffer, out var written))
        {
            CryptographicOperations.ZeroMemory(buffer);
            problems.Add($"{ServerKeys.Describe(path)}: not valid base64");
            return null;
        }

        var material = buffer.AsSpan(0, written).ToArray();
        CryptographicOperations.ZeroMemory(buffer);
        if (material.Length < Keyring.MinimumKeyLength)
        {
            CryptographicOperations.ZeroMemory(material);
            problems.Add($"{ServerKeys.Describe(path)}: too short ({written} bytes decoded; at least {Keyring.MinimumKeyLength} required)");
            return null;
        }

        return material;
    }
}
