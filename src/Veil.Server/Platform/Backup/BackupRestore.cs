// `veil admin backup verify` and `restore` (spec/backup.md). Both read the whole file through the envelope (every chunk
// authenticated) and the archive (every entry's SHA-256, the end record). Verify writes nothing. Restore refuses a
// target that is not empty, naming what is there; it extracts everything into a staging directory inside the target
// data directory and only once the whole file has verified moves the files into place and, on PostgreSQL, runs
// pg_restore in one transaction. A bad file therefore changes nothing: the staging directory is deleted and the
// target is as empty as it was.
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using Veil.Crypto.Backup;
using Veil.Crypto.Keys;
using Veil.Crypto.Streams;

namespace Veil.Server.Platform.Backup;

public static class BackupRestore
{
    private const int CopyBufferSize = 256 * 1024;

    /// <summary>Decrypts and checks the whole file without writing anything.</summary>
    public static async Task<BackupOutcome> VerifyAsync(string file, BackupIdentity identity, Action<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var clock = Stopwatch.StartNew();
        string database = "";
        var result = await ReadAsync(file, identity, async (name, length, content, ct) =>
        {
            if (name == BackupAdmin.MetaEntry)
            {
                database = (await JsonSerializer.DeserializeAsync<BackupMeta>(content, cancellationToken: ct))?.Database ?? "";
            }
        }, progress, cancellationToken);
        return result.Error is { } error
            ? BackupOutcome.Failed(error)
            : new BackupOutcome(new BackupSummary(result.Entries, result.ContentBytes, new FileInfo(file).Length, clock.Elapsed, database), null);
    }

    /// <summary>
    /// What is not empty in the target, or null when the restore may go ahead: the data directory must be absent or empty
    /// (the development keyring alone is tolerated: <c>veil admin</c> creates it when keys are not configured), and the
    /// PostgreSQL database, when given, must hold no table, view or sequence outside the system schemas.
    /// </summary>
    public static async Task<string?> TargetProblemAsync(string dataDirectory, string? postgres, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(dataDirectory);
        if (Directory.Exists(full))
        {
            var present = Directory.EnumerateFileSystemEntries(full).Select(Path.GetFileName).Where(n => n != Keys.DevelopmentKeyring.FileName).Order(StringComparer.Ordinal).ToList();
            if (present.Count > 0)
            {
                return $"the data directory {full} is not empty ({string.Join(", ", present.Take(5))}{(present.Count > 5 ? ", …" : "")}); restore into an empty one";
            }
        }
        else if (File.Exists(full))
        {
            return $"{full} is a file, not a data directory";
        }

        if (postgres is null)
        {
            return null;
        }

        try
        {
            await using var connection = new NpgsqlConnection(postgres);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE c.relkind IN ('r','v','m','S','p','f') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
                + "ORDER BY 1 LIMIT 6", connection);
            var names = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    names.Add(reader.GetString(0));
                }
            }

            return names.Count == 0 ? null
                : $"the PostgreSQL database {connection.Database} is not empty ({string.Join(", ", names.Take(5))}{(names.Count > 5 ? ", …" : "")}); restore into an empty database";
        }
        catch (NpgsqlException e)
        {
            return $"cannot open the PostgreSQL database ({Persistence.VeilDatabase.Redact(postgres)}): {e.Message.ReplaceLineEndings(" ")}";
        }
    }

    /// <summary>
    /// Restores <paramref name="file"/> into the empty <paramref name="dataDirectory"/> and, when given, the empty PostgreSQL
    /// database <paramref name="postgres"/> (else SQLite in the data directory). <paramref name="keyring"/> is the target's
    /// configured server keys: they must be the ones the backup was written with, or nothing could be read after the restore.
    /// Call <see cref="TargetProblemAsync"/> first. The caller migrates the database afterwards (a backup from an older Veil).
    /// </summary>
    public static async Task<BackupOutcome> RestoreAsync(string file, BackupIdentity identity, string dataDirectory, string? postgres, Keyring keyring, string? postgresBin,
        Action<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(keyring);
        var clock = Stopwatch.StartNew();
        var target = Path.GetFullPath(dataDirectory);
        var createdTarget = !Directory.Exists(target);
        Hosting.DataDirectory.CreateOwnerOnly(target);
        var staging = Path.Combine(target, ".restore-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        Hosting.DataDirectory.CreateOwnerOnly(staging);
        var placed = false;
        try
        {
            string? backupDatabase = null;
            string? keyProblem = null;
            var read = await ReadAsync(file, identity, async (name, length, content, ct) =>
            {
                if (name == BackupAdmin.MetaEntry)
                {
                    backupDatabase = (await JsonSerializer.DeserializeAsync<BackupMeta>(content, cancellationToken: ct))?.Database;
                    return;
                }

                if (name == BackupAdmin.KeysEntry)
                {
                    keyProblem = KeyProblem(await JsonSerializer.DeserializeAsync<List<BackupKeyCheck>>(content, cancellationToken: ct) ?? [], keyring);
                    return;
                }

                var path = Path.Combine(staging, name.Replace('/', Path.DirectorySeparatorChar));
                Hosting.DataDirectory.CreateOwnerOnly(Path.GetDirectoryName(path)!);
                await using var output = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    BufferSize = 0,
                }.OwnerOnly());
                await content.CopyToAsync(output, CopyBufferSize, ct);
            }, progress, cancellationToken);
            if (read.Error is { } error)
            {
                return BackupOutcome.Failed(error);
            }

            if (keyProblem is not null)
            {
                return BackupOutcome.Failed(keyProblem);
            }

            var expected = postgres is null ? "sqlite" : "postgres";
            if (backupDatabase != expected)
            {
                return BackupOutcome.Failed($"the backup holds a {backupDatabase ?? "unknown"} database and the target is {expected}; restore into the same kind of database");
            }

            // Everything verified: move into place.
            if (postgres is not null)
            {
                progress?.Invoke("pg_restore into the empty database");
                var failure = await PostgresTools.RunAsync("pg_restore", postgresBin, postgres,
                    ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", "--dbname", new NpgsqlConnectionStringBuilder(postgres).Database ?? "", Path.Combine(staging, "database", "veil.pgdump")],
                    cancellationToken);
                if (failure is not null)
                {
                    return BackupOutcome.Failed(failure);
                }
            }
            else
            {
                File.Move(Path.Combine(staging, "database", "veil.db"), Path.Combine(target, "veil.db"));
            }

            var blobs = Path.Combine(staging, "blobs");
            if (Directory.Exists(blobs))
            {
                Directory.Move(blobs, Path.Combine(target, "blobs"));
            }

            placed = true;
            return new BackupOutcome(new BackupSummary(read.Entries, read.ContentBytes, new FileInfo(file).Length, clock.Elapsed, expected), null);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
            if (!placed)
            {
                // The target was empty (TargetProblemAsync): leave it as it was.
                foreach (var moved in new[] { Path.Combine(target, "veil.db"), Path.Combine(target, "blobs") })
                {
                    if (File.Exists(moved))
                    {
                        File.Delete(moved);
                    }
                    else if (Directory.Exists(moved))
                    {
                        Directory.Delete(moved, recursive: true);
                    }
                }

                if (createdTarget && !Directory.EnumerateFileSystemEntries(target).Any())
                {
                    Directory.Delete(target);
                }
            }
        }
    }

    private static string? KeyProblem(List<BackupKeyCheck> checks, Keyring keyring)
    {
        var problems = new List<string>();
        Span<byte> subkey = stackalloc byte[32];
        foreach (var check in checks)
        {
            if (!keyring.TryGet(check.Name, (ushort)check.Version, out var key))
            {
                problems.Add($"{check.Name} v{check.Version} missing");
                continue;
            }

            key.DeriveSubkey(BackupAdmin.KeyCheckPurpose, subkey);
            var stored = Convert.FromBase64String(check.Check);
            if (!CryptographicOperations.FixedTimeEquals(stored, subkey[..stored.Length]))
            {
                problems.Add($"{check.Name} v{check.Version} different");
            }
        }

        CryptographicOperations.ZeroMemory(subkey);
        return problems.Count == 0 ? null
            : $"the configured server keys are not the ones this backup was written with ({string.Join(", ", problems)}): configure the same Veil:Keys:* and Veil:RetiredKeys:* as the server that wrote it";
    }

    private sealed record ReadResult(int Entries, long ContentBytes, string? Error);

    private static async Task<ReadResult> ReadAsync(string file, BackupIdentity identity, Func<string, long, Stream, CancellationToken, Task> onEntry, Action<string>? progress, CancellationToken cancellationToken)
    {
        FileStream input;
        try
        {
            input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new(0, 0, $"cannot read {file}: {e.Message.ReplaceLineEndings(" ")}");
        }

        await using (input)
        {
            var opened = await BackupEnvelope.OpenAsync(input, identity, cancellationToken);
            switch (opened.Status)
            {
                case BackupOpenStatus.NotABackup: return new(0, 0, $"{file} is not a Veil backup (or its header is cut short)");
                case BackupOpenStatus.UnsupportedVersion: return new(0, 0, $"{file} is a Veil backup of a newer format; use a newer veil");
                case BackupOpenStatus.NotForThisIdentity: return new(0, 0, $"{file} was not written for this identity ({identity.Recipient}), or its header was altered");
                case BackupOpenStatus.Damaged: return new(0, 0, $"{file} is damaged: its header or first bytes do not authenticate");
            }

            await using var payload = opened.Payload!;
            var entries = 0;
            long bytes = 0;
            var lastReport = Stopwatch.StartNew();
            try
            {
                var error = await BackupArchive.ReadAsync(payload, async (name, length, content, ct) =>
                {
                    await onEntry(name, length, content, ct);
                    entries++;
                    bytes += length;
                    if (lastReport.Elapsed > TimeSpan.FromSeconds(2))
                    {
                        progress?.Invoke($"{entries} entries, {BackupAdmin.Megabytes(bytes)}");
                        lastReport.Restart();
                    }
                }, cancellationToken);
                if (error is null && !payload.IsCompleted)
                {
                    error = "the archive ended before the encrypted payload did";
                }

                return new(entries, bytes, error is null ? null : $"{file} is damaged: {error}");
            }
            catch (CobblestoneAuthenticationException)
            {
                return new(entries, bytes, $"{file} is damaged: truncated, reordered or altered after {BackupAdmin.Megabytes(bytes)} (authentication failed)");
            }
            catch (JsonException)
            {
                return new(entries, bytes, $"{file} is damaged: its metadata is not valid");
            }
        }
    }
}
