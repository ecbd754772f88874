// The development keyring: <data>/keyring.dev.json, generated on a first run without production
// mode so `veil serve` works with no configuration. It holds 32 random bytes per key name, v1.
//
// The file is created with mode 0600 in the open(2) call itself (never chmod after writing: there
// would be a moment when the keys are readable), written to a temporary name and renamed into
// place, so a crash leaves either no keyring or a complete one. An existing file whose mode lets
// the group or others read it is refused: those keys must be presumed leaked.
using System.Security.Cryptography;
using System.Text.Json;

namespace Veil.Server.Platform.Keys;

internal static class DevelopmentKeyring
{
    public const string FileName = "keyring.dev.json";
    private const string Format = "veil-dev-keyring/1";
    private const int GeneratedKeyLength = 32;
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static DevelopmentKeyringUse? LoadOrCreate(
        string dataDirectory, IReadOnlyList<string> names, List<string> problems, List<(string, ushort, byte[])> materials)
    {
        var path = Path.Combine(dataDirectory, FileName);
        var stored = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            var existed = File.Exists(path);
            if (existed && !TryRead(path, stored, problems))
            {
                return null;
            }

            var generated = false;
            foreach (var name in ServerKeys.Names.Where(n => !stored.ContainsKey(n)))
            {
                stored[name] = RandomNumberGenerator.GetBytes(GeneratedKeyLength);
                generated = true;
            }

            if (generated)
            {
                Write(path, stored);
            }

            foreach (var name in names)
            {
                materials.Add((name, 1, stored[name].ToArray()));
            }

            return new DevelopmentKeyringUse(path, generated, names);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"Veil:DataDirectory: cannot write the development keyring {path} ({e.GetType().Name})");
            return null;
        }
        finally
        {
            foreach (var material in stored.Values)
            {
                CryptographicOperations.ZeroMemory(material);
            }
        }
    }

    private static bool TryRead(string path, Dictionary<string, byte[]> stored, List<string> problems)
    {
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & ~(OwnerOnly | UnixFileMode.UserExecute)) != 0)
            {
                problems.Add($"Development keyring {path} has mode {Octal(mode)}; it must be 0600 (its keys may have been read: delete it, or chmod 600 if you are sure)");
                return false;
            }
        }

        var bytes = File.ReadAllBytes(path);
        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("format", out var format) || format.GetString() != Format
                || !document.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"Development keyring {path} is not a {Format} file");
                return false;
            }

            foreach (var property in keys.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.String
                    || !property.Value.TryGetBytesFromBase64(out var material)
                    || material.Length < GeneratedKeyLength)
                {
                    problems.Add($"Development keyring {path}: key '{property.Name}' is not base64 of at least {GeneratedKeyLength} bytes");
                    return false;
                }

                stored[property.Name] = material;
            }

            return true;
        }
        catch (JsonException)
        {
            problems.Add($"Development keyring {path} is not valid JSON");
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static void Write(string path, Dictionary<string, byte[]> keys)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("format", Format);
            writer.WriteString("warning", "Development keys. Never use in production; see docs/OPERATIONS.md.");
            writer.WriteStartObject("keys");
            foreach (var (name, material) in keys.OrderBy(k => k.Key, StringComparer.Ordinal))
            {
                writer.WriteBase64String(name, material);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        var temporary = Path.Combine(Path.GetDirectoryName(path)!, $".{FileName}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        try
        {
            using (var file = new FileStream(temporary, options))
            {
                file.Write(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer.GetBuffer());
            File.Delete(temporary);
        }
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8);
}
