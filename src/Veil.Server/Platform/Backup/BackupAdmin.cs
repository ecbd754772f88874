// `veil admin backup create` and the scheduled job (spec/backup.md): one consistent snapshot of the database (SQLite's
// online backup API, or pg_dump --format=custom) and every blob, written as an archive inside a backup envelope sealed
// to the operator's recipients. The file is written as FILE.partial, flushed to disk and renamed only when complete, so
// FILE is either absent or a whole backup. Server keys are never in it: only each key's name, version and a check value
// (a subkey that proves, on restore, that the configured keys are the same — it reveals nothing about the key).
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Veil.Crypto.Backup;
using Veil.Crypto.Keys;
using Veil.Server.Platform.Audit;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Platform.Backup;

/// <summary>What a create, verify or restore did: entries, content bytes, file bytes, time taken.</summary>
public sealed record BackupSummary(int Entries, long ContentBytes, long FileBytes, TimeSpan Duration, string Database);

/// <summary>A summary, or one line saying why nothing was done (or why the file is not a good backup).</summary>
public sealed record BackupOutcome(BackupSummary? Summary, string? Error)
{
    public static BackupOutcome Failed(string error) => new(null, error);
}

/// <summary>The last good backup as the doctor reports it.</summary>
public sealed record BackupRecord(DateTimeOffset CompletedAt, long FileBytes, int Entries, bool Scheduled);

public sealed class BackupAdmin
{
    internal const string MetaEntry = "meta/backup.json";
    internal const string KeysEntry = "meta/keys.json";
    internal const string SqliteEntry = "database/veil.db";
    internal const string PostgresEntry = "database/veil.pgdump";
    internal const string BlobPrefix = "blobs/";
    internal const string KeyCheckPurpose = "backup-key-check";

    private readonly VeilDbContext _db;
    private readonly IDatabaseInfo _database;
    private readonly IConfiguration _configuration;
    private readonly VeilPaths _paths;
    private readonly Keyring _keyring;
    private readonly AdminAudit _audit;
    private readonly BackupOptions _options;
    private readonly TimeProvider _time;

    internal BackupAdmin(VeilDbContext db, IDatabaseInfo database, IConfiguration configuration, VeilPaths paths, Keyring keyring, AdminAudit audit, BackupOptions options, TimeProvider time)
    {
        _db = db;
        _database = database;
        _configuration = configuration;
        _paths = paths;
        _keyring = keyring;
        _audit = audit;
        _options = options;
        _time = time;
    }

    /// <summary>The configured recipients (<c>Veil:Backup:Recipients</c>).</summary>
    public IReadOnlyList<BackupRecipient> ConfiguredRecipients => _options.Recipients;

    /// <summary>
    /// Writes a backup to <paramref name="path"/> for <paramref name="recipients"/> (the configured ones when empty), records
    /// it as the last good backup and in the audit log. <paramref name="progress"/> gets a line now and then (for stderr).
    /// </summary>
    public async Task<BackupOutcome> CreateAsync(string path, IReadOnlyList<BackupRecipient> recipients, Action<string>? progress, CancellationToken cancellationToken) =>
        await CreateAsync(path, recipients, progress, scheduled: false, cancellationToken);

    internal async Task<BackupOutcome> CreateAsync(string path, IReadOnlyList<BackupRecipient> recipients, Action<string>? progress, bool scheduled, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        recipients = recipients.Count > 0 ? recipients : _options.Recipients;
        if (recipients.Count == 0)
        {
            return BackupOutcome.Failed("no recipient: pass --recipient veil-backup1… or set Veil:Backup:Recipients (the public key 'veil admin backup keygen' printed)");
        }

        if (recipients.Count > BackupEnvelope.MaxRecipients)
        {
            return BackupOutcome.Failed($"at most {BackupEnvelope.MaxRecipients} recipients");
        }

        // A backup without the blobs would restore rows whose drops, vault files and mail bodies are gone: refused,
        // not written as if whole. A bucket is backed up with its own tools beside pg_dump (OPERATIONS "Scaling").
        if (Blobs.BlobStoreRegistration.StoreOf(_configuration) == "s3")
        {
            return BackupOutcome.Failed("the blob store is an S3 bucket (Veil:Blobs:Store=s3), which this command cannot copy: back up the bucket "
                + "with its own tools and the database with pg_dump (OPERATIONS \"Scaling\"); veil admin backup covers a file blob store only");
        }

        var target = Path.GetFullPath(path);
        if (File.Exists(target) || Directory.Exists(target))
        {
            return BackupOutcome.Failed($"{target} already exists; choose a new file name");
        }

        var partial = target + ".partial";
        var workDirectory = Path.Combine(_paths.DataDirectory, "backup-tmp", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        var clock = Stopwatch.StartNew();
        var complete = false;
        try
        {
            Hosting.DataDirectory.CreateOwnerOnly(workDirectory);
            BackupArchiveWriter archive;
            long fileBytes;
            await using (var file = new FileStream(partial, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 1 << 20,
            }.OwnerOnly()))
            {
                await using var payload = await BackupEnvelope.CreateAsync(file, recipients, cancellationToken);
                archive = new BackupArchiveWriter(payload);
                var createdAt = _time.GetUtcNow();
                await archive.AddAsync(MetaEntry, JsonSerializer.SerializeToUtf8Bytes(new BackupMeta(1, createdAt, _database.ProviderName)), cancellationToken);
                await archive.AddAsync(KeysEntry, JsonSerializer.SerializeToUtf8Bytes(KeyChecks(_keyring)), cancellationToken);

                var snapshot = await SnapshotDatabaseAsync(workDirectory, cancellationToken);
                if (snapshot.Error is { } error)
                {
                    return BackupOutcome.Failed(error);
                }

                await using (var database = File.OpenRead(snapshot.Path!))
                {
                    await archive.AddAsync(snapshot.Entry!, database, database.Length, cancellationToken);
                }

                File.Delete(snapshot.Path!);
                progress?.Invoke($"database ({_database.ProviderName}): {Megabytes(archive.ContentBytes)}");
                await AddBlobsAsync(archive, progress, cancellationToken);
                await archive.FinishAsync(cancellationToken);
                await payload.CompleteAsync(cancellationToken);
                file.Flush(flushToDisk: true);
                fileBytes = file.Length;
            }

            File.Move(partial, target, overwrite: false);
            complete = true;
            var summary = new BackupSummary(archive.Entries, archive.ContentBytes, fileBytes, clock.Elapsed, _database.ProviderName);
            _db.Add(BackupRun.Create(_time.GetUtcNow(), fileBytes, archive.Entries, scheduled));
            _audit.Add(scheduled ? "backup.create.scheduled" : "backup.create", Path.GetFileName(target));
            await _db.SaveChangesAsync(cancellationToken);
            return new BackupOutcome(summary, null);
        }
        finally
        {
            if (!complete)
            {
                File.Delete(partial);
            }

            if (Directory.Exists(workDirectory))
            {
                Directory.Delete(workDirectory, recursive: true);
            }
        }
    }

    /// <summary>The newest good backup, or null when none was recorded.</summary>
    public async Task<BackupRecord?> LastGoodAsync(CancellationToken cancellationToken) =>
        await _db.Set<BackupRun>().AsNoTracking().OrderByDescending(r => r.CompletedAt).ThenByDescending(r => r.Id)
            .Select(r => new BackupRecord(r.CompletedAt, r.FileBytes, r.Entries, r.Scheduled)).FirstOrDefaultAsync(cancellationToken);

    /// <summary>
    /// Restores into this installation's data directory and database, which must be empty (<see cref="BackupRestore.TargetProblemAsync"/>);
    /// call before migrating. The configured keys must be the backup's.
    /// </summary>
    public Task<BackupOutcome> RestoreHereAsync(string file, BackupIdentity identity, Action<string>? progress, CancellationToken cancellationToken) =>
        BackupRestore.RestoreAsync(file, identity, _paths.DataDirectory, _database.ProviderName == "postgres" ? _configuration["ConnectionStrings:Postgres"] : null,
            _keyring, _options.PostgresBin, progress, cancellationToken);

    /// <summary>Records a finished restore in the (restored, migrated) database's audit log.</summary>
    public Task RecordRestoreAsync(string file, CancellationToken cancellationToken) => _audit.AppendAsync("backup.restore", Path.GetFileName(file), cancellationToken);

    /// <summary>Bytes as MiB with one decimal, for progress lines.</summary>
    public static string Megabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB");

    /// <summary>Each key version's name, version and check value: the first 16 bytes of a subkey derived for this purpose alone.</summary>
    internal static List<BackupKeyCheck> KeyChecks(Keyring keyring)
    {
        var checks = new List<BackupKeyCheck>();
        Span<byte> subkey = stackalloc byte[32];
        foreach (var name in keyring.Names.Order(StringComparer.Ordinal))
        {
            foreach (var key in keyring.Versions(name))
            {
                key.DeriveSubkey(KeyCheckPurpose, subkey);
                checks.Add(new BackupKeyCheck(name, key.Version, Convert.ToBase64String(subkey[..16])));
            }
        }

        CryptographicOperations.ZeroMemory(subkey);
        return checks;
    }

    private async Task<(string? Path, string? Entry, string? Error)> SnapshotDatabaseAsync(string workDirectory, CancellationToken cancellationToken)
    {
        if (_database.ProviderName == "postgres")
        {
            var dump = Path.Combine(workDirectory, "veil.pgdump");
            var error = await PostgresTools.RunAsync("pg_dump", _options.PostgresBin, _configuration["ConnectionStrings:Postgres"]!,
                ["--format=custom", "--no-owner", "--no-privileges", "--file", dump], cancellationToken);
            return error is null ? (dump, PostgresEntry, null) : (null, null, error);
        }

        // SQLite's online backup copies a consistent snapshot page by page while the server keeps writing.
        var copy = Path.Combine(workDirectory, "veil.db");
        await using (File.Create(copy))
        {
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(copy, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await using (var source = new SqliteConnection(VeilDatabase.SqliteConnectionString(_paths.DataDirectory)))
        await using (var destination = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Pooling = false }.ToString()))
        {
            await source.OpenAsync(cancellationToken);
            await destination.OpenAsync(cancellationToken);
            source.BackupDatabase(destination);
            await using var command = destination.CreateCommand();
            // WAL like the live database (the server's connections set it, and a read-only open of a non-WAL file cannot);
            // closing the last connection checkpoints and removes the -wal, so the snapshot is one self-contained file.
            command.CommandText = "PRAGMA journal_mode=WAL;";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return (copy, SqliteEntry, null);
    }

    private async Task AddBlobsAsync(BackupArchiveWriter archive, Action<string>? progress, CancellationToken cancellationToken)
    {
        var root = Path.Combine(_paths.DataDirectory, "blobs");
        if (!Directory.Exists(root))
        {
            return;
        }

        var count = 0;
        long bytes = 0;
        var lastReport = Stopwatch.StartNew();
        var files = Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => !f.StartsWith(".tmp/", StringComparison.Ordinal)) // interrupted writes, never referenced
            .Order(StringComparer.Ordinal);
        foreach (var relative in files)
        {
            FileStream stream;
            try
            {
                stream = new FileStream(Path.Combine(root, relative), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.SequentialScan);
            }
            catch (FileNotFoundException)
            {
                continue; // purged (an expired drop) after the listing; the database snapshot may still name it, as the live server would
            }

            await using (stream)
            {
                await archive.AddAsync(BlobPrefix + relative, stream, stream.Length, cancellationToken);
                count++;
                bytes += stream.Length;
            }

            if (lastReport.Elapsed > TimeSpan.FromSeconds(2))
            {
                progress?.Invoke($"blobs: {count} files, {Megabytes(bytes)}");
                lastReport.Restart();
            }
        }

        progress?.Invoke($"blobs: {count} files, {Megabytes(bytes)}");
    }
}

internal sealed record BackupMeta(int Format, DateTimeOffset CreatedAt, string Database);

internal sealed record BackupKeyCheck(string Name, int Version, string Check);
