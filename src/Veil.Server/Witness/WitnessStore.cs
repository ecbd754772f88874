// The witness's own small store, one directory on disk (veil witness serve --data DIR):
//   DIR/witness.key        the 32-byte Ed25519 seed of the witness key, created on first start with mode 0600
//   DIR/witness.vkey       its cosignature verifier key (name+id+key), the line log operators configure
//   DIR/logs/<hex>.note    per log (hex = SHA-256 of the origin): the latest checkpoint this witness cosigned,
//                          with the log's signature and the witness's cosignature (what the monitoring GET serves)
// A log file is replaced atomically (written beside it, flushed to disk, renamed over it), and the whole
// check-then-write of add-checkpoint runs under one lock, so two requests from the same old size cannot both win
// and a crash leaves either the old or the new checkpoint, never a torn file or a rolled-back size.
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Primitives;
using Veil.Crypto.Transparency;

namespace Veil.Server.Witness;

internal sealed class WitnessStore : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _logs;

    private WitnessStore(string directory, Ed25519PrivateKey key, string name)
    {
        _logs = Path.Combine(directory, "logs");
        Key = key;
        Name = name;
        CreateDirectory(_logs);
    }

    /// <summary>The one lock around every compare-and-swap (witnesses see a few requests a second at most).</summary>
    public SemaphoreSlim Lock { get; } = new(1, 1);

    public Ed25519PrivateKey Key { get; }

    public string Name { get; }

    public string VerifierKey => SignedNote.FormatVerifierKey(Name, NoteSignatureType.CosignatureV1, Key.PublicKey.Bytes);

    /// <summary>
    /// Opens the store in <paramref name="directory"/>, creating the key on first start. A later start keeps the name
    /// the key was made with; asking for another one fails (the name is part of what log operators pinned).
    /// </summary>
    public static WitnessStore Open(string directory, string? name)
    {
        CreateDirectory(directory);
        var keyPath = Path.Combine(directory, "witness.key");
        var vkeyPath = Path.Combine(directory, "witness.vkey");
        if (!File.Exists(keyPath))
        {
            var chosen = name ?? Environment.MachineName.ToLowerInvariant() + "/veil-witness";
            if (!SignedNote.IsValidKeyName(chosen))
            {
                throw new InvalidOperationException($"--name '{chosen}' is not a key name: no spaces and no '+'.");
            }

            using var fresh = Ed25519PrivateKey.Generate();
            Span<byte> seed = stackalloc byte[Ed25519PrivateKey.SeedLength];
            try
            {
                fresh.ExportSeed(seed);
                WriteAtomically(keyPath, seed);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(seed);
            }

            WriteAtomically(vkeyPath, Encoding.UTF8.GetBytes(SignedNote.FormatVerifierKey(chosen, NoteSignatureType.CosignatureV1, fresh.PublicKey.Bytes) + "\n"));
        }

        var seedBytes = File.ReadAllBytes(keyPath);
        try
        {
            if (seedBytes.Length != Ed25519PrivateKey.SeedLength)
            {
                throw new InvalidDataException($"{keyPath} is not a 32-byte witness key.");
            }

            var key = Ed25519PrivateKey.ImportSeed(seedBytes);
            if (!SignedNote.TryParseVerifierKey(File.ReadAllText(vkeyPath).Trim(), out var storedName, out _, out var publicKey)
                || !publicKey.AsSpan().SequenceEqual(key.PublicKey.Bytes))
            {
                key.Dispose();
                throw new InvalidDataException($"{vkeyPath} does not match {keyPath}.");
            }

            if (name is not null && name != storedName)
            {
                key.Dispose();
                throw new InvalidOperationException($"This witness is named '{storedName}' (its key was made with that name); --name {name} does not match.");
            }

            return new WitnessStore(directory, key, storedName);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seedBytes);
        }
    }

    /// <summary>The latest cosigned checkpoint note of <paramref name="origin"/>, or null when this witness never cosigned one.</summary>
    public byte[]? Read(string origin)
    {
        var path = PathOf(origin);
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    /// <summary>Replaces the latest cosigned checkpoint of <paramref name="origin"/>; call under <see cref="Lock"/>.</summary>
    public void Write(string origin, byte[] note) => WriteAtomically(PathOf(origin), note);

    public void Dispose()
    {
        Key.Dispose();
        Lock.Dispose();
    }

    private string PathOf(string origin)
        => Path.Combine(_logs, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(origin))) + ".note");

    private static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
