// `veil admin backup keygen|create|verify|restore` (spec/backup.md, OPERATIONS "Backups"). keygen and verify need no
// server: they run where the operator keeps the backup identity, offline. create builds the server's services like the
// other admin verbs and needs only the public recipient. restore refuses a target that is not empty, restores into it
// before migrations run, then migrates (a backup from an older Veil) and records the restore in the audit log.
using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.Backup;
using Veil.Server.Platform.Backup;

namespace Veil.Cli.Admin;

internal static class AdminBackupCommand
{
    public static Command Create(Option<bool> json, Option<string?> data, Option<string?> postgres, Option<bool> production)
    {
        var keyOut = new Option<string>("--out") { Description = "Where to write the private key (mode 0600); keep it offline, never on the server", HelpName = "FILE", Required = true };
        var keygen = new Command("keygen", "Generate an operator backup key: writes the identity to FILE and prints the public recipient for Veil:Backup:Recipients") { keyOut };
        keygen.SetAction(parse => Keygen(parse.GetValue(keyOut)!, new CliOutput(parse.GetValue(json), Console.Out, Console.Error)));

        var to = new Option<string>("--to") { Description = "The backup file to write (must not exist)", HelpName = "FILE", Required = true };
        var recipient = new Option<string[]>("--recipient") { Description = "A recipient (veil-backup1…); repeatable; default Veil:Backup:Recipients", HelpName = "R", AllowMultipleArgumentsPerToken = false };
        var create = new Command("create", "Write an encrypted backup of the database and every blob (never the server keys)") { to, recipient };
        create.SetAction((parse, ct) =>
        {
            var recipients = new List<BackupRecipient>();
            foreach (var text in parse.GetValue(recipient) ?? [])
            {
                if (!BackupRecipient.TryParse(text, out var r))
                {
                    Console.Error.WriteLine("veil: --recipient must be a backup recipient (veil-backup1…, as 'veil admin backup keygen' prints it)");
                    return Task.FromResult(VeilCommand.BadArguments);
                }

                recipients.Add(r);
            }

            return AdminCommand.RunServiceAsync<BackupAdmin>(parse, json, data, postgres, production, async (admin, output) =>
            {
                var outcome = await admin.CreateAsync(parse.GetValue(to)!, recipients, Progress, ct);
                return Report(output, outcome, "backup-created", $"Backup written to {Path.GetFullPath(parse.GetValue(to)!)}");
            }, ct);
        });

        var verifyFile = new Argument<string>("FILE") { Description = "The backup file" };
        var verifyIdentity = IdentityOption();
        var verify = new Command("verify", "Decrypt and check every chunk and entry of a backup, writing nothing") { verifyFile, verifyIdentity };
        verify.SetAction(async (parse, ct) =>
        {
            var output = new CliOutput(parse.GetValue(json), Console.Out, Console.Error);
            using var identity = ReadIdentity(parse.GetValue(verifyIdentity)!, output);
            if (identity is null)
            {
                return VeilCommand.Failed;
            }

            var outcome = await BackupRestore.VerifyAsync(parse.GetValue(verifyFile)!, identity, Progress, ct);
            return Report(output, outcome, "backup-verified", $"Backup {parse.GetValue(verifyFile)} is whole");
        });

        var restoreFile = new Argument<string>("FILE") { Description = "The backup file" };
        var restoreIdentity = IdentityOption();
        var restore = new Command("restore", "Restore a backup into an EMPTY data directory (and an EMPTY PostgreSQL database with --postgres), with the same server keys configured") { restoreFile, restoreIdentity };
        restore.SetAction(async (parse, ct) =>
        {
            var output = new CliOutput(parse.GetValue(json), Console.Out, Console.Error);
            using var identity = ReadIdentity(parse.GetValue(restoreIdentity)!, output);
            if (identity is null)
            {
                return VeilCommand.Failed;
            }

            // Checked before the server is built over the target: building it prepares the data directory.
            var dataDirectory = parse.GetValue(data) ?? Environment.GetEnvironmentVariable("Veil__DataDirectory") ?? "./.data";
            var connection = parse.GetValue(postgres) ?? Environment.GetEnvironmentVariable("ConnectionStrings__Postgres");
            if (await BackupRestore.TargetProblemAsync(dataDirectory, string.IsNullOrWhiteSpace(connection) ? null : connection, ct) is { } problem)
            {
                output.Error(problem);
                return VeilCommand.Failed;
            }

            var file = parse.GetValue(restoreFile)!;
            BackupOutcome? restored = null;
            return await AdminCommand.RunServiceAsync<BackupAdmin>(parse, json, data, postgres, production, async (admin, output) =>
            {
                await admin.RecordRestoreAsync(file, ct);
                return Report(output, restored!, "backup-restored", $"Backup {file} restored; start the server with the same keys and configuration");
            }, ct, beforeMigrate: async (services, output) =>
            {
                await using var scope = services.CreateAsyncScope();
                restored = await scope.ServiceProvider.GetRequiredService<BackupAdmin>().RestoreHereAsync(file, identity, Progress, ct);
                return restored.Error is null ? null : Report(output, restored, "", "");
            });
        });

        return new Command("backup", "Encrypted backups: keygen, create, verify, restore") { keygen, create, verify, restore };
    }

    private static Option<string> IdentityOption() =>
        new("--identity") { Description = "The private key file 'veil admin backup keygen' wrote", HelpName = "KEYFILE", Required = true };

    private static void Progress(string line) => Console.Error.WriteLine("backup: " + line);

    private static int Keygen(string path, CliOutput output)
    {
        using var identity = BackupIdentity.Generate();
        var text = identity.ExportUtf8();
        try
        {
            using var file = new FileStream(Path.GetFullPath(path), new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write }.OwnerOnlyMode());
            file.Write(text);
            file.Flush(flushToDisk: true);
        }
        catch (IOException e) when (File.Exists(path))
        {
            output.Error($"{path} already exists; keygen never overwrites a key ({e.GetType().Name})");
            return VeilCommand.Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            output.Error($"cannot write {path}: {e.Message.ReplaceLineEndings(" ")}");
            return VeilCommand.Failed;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(text);
        }

        var recipient = identity.Recipient.ToString();
        output.Event(string.Join(Environment.NewLine,
            $"Backup identity written to {Path.GetFullPath(path)} (mode 0600). Keep it offline: whoever holds it reads every backup.",
            "Recipient (public; set it as Veil:Backup:Recipients:0 on the server):",
            recipient), new { @event = "backup-key", recipient, file = Path.GetFullPath(path) });
        return VeilCommand.Ok;
    }

    private static BackupIdentity? ReadIdentity(string path, CliOutput output)
    {
        byte[] text;
        try
        {
            text = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            output.Error($"cannot read --identity {path}: {e.Message.ReplaceLineEndings(" ")}");
            return null;
        }

        try
        {
            var identity = BackupIdentity.Parse(text);
            if (identity is null)
            {
                output.Error($"--identity {path} is not a backup identity (VEIL-BACKUP-KEY-1…)");
            }

            return identity;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(text);
        }
    }

    private static int Report(CliOutput output, BackupOutcome outcome, string name, string text)
    {
        if (outcome.Error is { } error)
        {
            output.Error(error);
            return VeilCommand.Failed;
        }

        var s = outcome.Summary!;
        var seconds = Math.Max(s.Duration.TotalSeconds, 0.001);
        output.Event(
            string.Create(CultureInfo.InvariantCulture, $"{text}: {s.Entries} entries, {BackupAdmin.Megabytes(s.ContentBytes)} content, {BackupAdmin.Megabytes(s.FileBytes)} file, {s.Duration.TotalSeconds:0.0} s ({s.ContentBytes / 1048576.0 / seconds:0.0} MiB/s)"),
            new { @event = name, entries = s.Entries, bytes = s.ContentBytes, fileBytes = s.FileBytes, seconds = Math.Round(s.Duration.TotalSeconds, 3), database = s.Database });
        return VeilCommand.Ok;
    }
}

internal static class KeyFileModes
{
    public static FileStreamOptions OwnerOnlyMode(this FileStreamOptions options)
    {
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }
}
