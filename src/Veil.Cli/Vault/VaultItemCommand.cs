// `veil vault item add|list|show|edit|rm`: items of a vault. Values given as arguments land in shell history, so a
// secret value has its own way in: `--secret LABEL` reads the value from a no-echo prompt, or from the next line of
// standard input (after the password line with --password-stdin). Files are encrypted while they stream up.
using System.CommandLine;
using Veil.Cli.Account;
using Veil.Client.Vault;
using Veil.Crypto.Streams;

namespace Veil.Cli.Vault;

internal static class VaultItemCommand
{
    public static Command Create(AccountOptions options)
    {
        var command = new Command("item", "Items of a vault: a title, fields, notes, tags and files, all encrypted here");
        command.Subcommands.Add(Add(options));
        command.Subcommands.Add(List(options));
        command.Subcommands.Add(Show(options));
        command.Subcommands.Add(Edit(options));
        command.Subcommands.Add(Remove(options));
        return command;
    }

    private sealed class ContentOptions
    {
        public Option<string[]> Fields { get; } = new("--field") { Description = "A field as LABEL=VALUE (repeatable; the value shows in shell history: use --secret for secrets)", HelpName = "LABEL=VALUE", AllowMultipleArgumentsPerToken = false };

        public Option<string[]> Secrets { get; } = new("--secret") { Description = "A field whose value is asked for without echo (or read from the next stdin line) (repeatable)", HelpName = "LABEL" };

        public Option<string?> Note { get; } = new("--note") { Description = "The item's notes", HelpName = "TEXT" };

        public Option<string[]> Tags { get; } = new("--tag") { Description = "A tag (repeatable)", HelpName = "TAG" };

        public Option<string[]> Files { get; } = new("--file") { Description = "Attach a file, encrypted as it uploads (repeatable)", HelpName = "PATH" };

        public void AddTo(Command command)
        {
            command.Options.Add(Fields);
            command.Options.Add(Secrets);
            command.Options.Add(Note);
            command.Options.Add(Tags);
            command.Options.Add(Files);
        }

        /// <summary>The --field and --secret pairs, in the order given (fields first).</summary>
        public List<VaultField> ReadFields(AccountCli cli, PasswordReader secrets)
        {
            var fields = new List<VaultField>();
            foreach (string pair in cli.Parse(Fields) ?? [])
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new UsageException($"--field takes LABEL=VALUE, got '{pair}'");
                }

                fields.Add(new VaultField(pair[..eq], pair[(eq + 1)..]));
            }

            foreach (string label in cli.Parse(Secrets) ?? [])
            {
                using Password value = secrets.Read($"Value of '{label}'");
                fields.Add(new VaultField(label, new string(value.Span)));
            }

            return fields;
        }

        public List<string> CheckedFiles(AccountCli cli)
        {
            var paths = (cli.Parse(Files) ?? []).ToList();
            foreach (string path in paths.Where(p => !File.Exists(p)))
            {
                throw new UsageException($"no such file: {path}");
            }

            return paths;
        }
    }

    /// <summary>Secrets come from the terminal, or from stdin when it is not one (or with --password-stdin).</summary>
    private static PasswordReader SecretReader(AccountCli cli, AccountOptions options) =>
        new(cli.Parse(options.PasswordStdin) || Console.IsInputRedirected, Console.In, Console.Error);

    private static Command Add(AccountOptions options)
    {
        var vault = VaultCommand.VaultArgument();
        var title = new Option<string>("--title") { Description = "The item's title", HelpName = "TITLE", Required = true };
        var content = new ContentOptions();
        var command = new Command("add", "Add an item") { vault, title };
        content.AddTo(command);
        return VaultCli.Verb(command, options, async (cli, ct) =>
        {
            var files = content.CheckedFiles(cli);
            using var run = await VaultCli.OpenAsync(cli, keys: true, ct);
            var fields = content.ReadFields(cli, SecretReader(cli, options));
            string vaultId = await VaultCli.ResolveVaultAsync(run, cli.Parse(vault)!, ct);
            var draft = new VaultItemDraft(cli.Parse(title)!, cli.Parse(content.Note), cli.Parse(content.Tags) ?? [], fields);
            VaultItem item = await run.Vaults.AddItemAsync(vaultId, draft, ct);
            try
            {
                await UploadAsync(run, vaultId, item.Id, files, ct);
            }
            catch
            {
                // All or nothing: an item whose file did not make it is removed again (with the files already attached),
                // so a retry does not leave a duplicate behind. The upload's own error is what the user sees.
                await run.Api.DeleteItemAsync(vaultId, item.Id, CancellationToken.None);
                throw;
            }

            item = files.Count == 0 ? item : await run.Vaults.GetItemAsync(vaultId, item.Id, ct);
            cli.Output.Event($"Added item '{VaultCli.Printable(item.Title)}' ({item.Id}){FilesNote(item)}.", new { @event = "item-added", vaultId, item });
            return VeilCommand.Ok;
        });
    }

    private static Command List(AccountOptions options)
    {
        var vault = VaultCommand.VaultArgument();
        var command = new Command("list", "List a vault's items (titles and tags; values stay hidden)") { vault };
        return VaultCli.Verb(command, options, async (cli, ct) =>
        {
            using var run = await VaultCli.OpenAsync(cli, keys: true, ct);
            string vaultId = await VaultCli.ResolveVaultAsync(run, cli.Parse(vault)!, ct);
            var items = await run.Vaults.ListItemsAsync(vaultId, ct);
            cli.Output.Table(
                ["Id", "Title", "Tags", "Fields", "Files", "Updated"],
                items.Select(i => new[]
                {
                    i.Id, VaultCli.Printable(i.Title), VaultCli.Printable(string.Join(", ", i.Tags)),
                    i.Fields.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    i.Files.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), AccountCommand.Time(i.UpdatedAt),
                }),
                "No items. Add one with: veil vault item add VAULT --title TITLE --field LABEL=VALUE",
                new { @event = "items", vaultId, items });
            return VeilCommand.Ok;
        });
    }

    private static Command Show(AccountOptions options)
    {
        var vault = VaultCommand.VaultArgument();
        var item = ItemArgument();
        var saveTo = new Option<string?>("--save-files") { Description = "Also decrypt the item's files into this directory", HelpName = "DIR" };
        var command = new Command("show", "Show an item with its values (decrypted here)") { vault, item, saveTo };
        return VaultCli.Verb(command, options, async (cli, ct) =>
        {
            using var run = await VaultCli.OpenAsync(cli, keys: true, ct);
            string vaultId = await VaultCli.ResolveVaultAsync(run, cli.Parse(vault)!, ct);
            VaultItem found = await VaultCli.ResolveItemAsync(run, vaultId, cli.Parse(item)!, ct);
            var saved = new List<string>();
            if (cli.Parse(saveTo) is { } directory)
            {
                Directory.CreateDirectory(directory);
                foreach (VaultFile file in found.Files)
                {
                    string destination = Client.Drop.DropFileNames.AvailablePath(directory, Client.Drop.DropFileNames.Sanitize(file.Name, "file-" + file.Id));
                    await VaultCli.TransferAsync(cli.Json, "receiving", file.Size, async progress =>
                    {
                        await run.Vaults.DownloadFileAsync(vaultId, found.Id, file, destination, progress, ct);
                        return true;
                    });
                    saved.Add(destination);
                }
            }

            cli.Output.Event(Describe(found, saved), new { @event = "item", vaultId, item = found, saved });
            return VeilCommand.Ok;
        });
    }

    private static Command Edit(AccountOptions options)
    {
        var vault = VaultCommand.VaultArgument();
        var item = ItemArgument();
        var title = new Option<string?>("--title") { Description = "A new title", HelpName = "TITLE" };
        var removeFields = new Option<string[]>("--remove-field") { Description = "Remove the field with this label (repeatable)", HelpName = "LABEL" };
        var clearTags = new Option<bool>("--clear-tags") { Description = "Remove every tag (then --tag adds new ones)" };
        var removeFiles = new Option<string[]>("--remove-file") { Description = "Remove a file, by id or name (repeatable)", HelpName = "FILE" };
        var content = new ContentOptions();
        var command = new Command("edit", "Change an item: --field sets a field by label (adds it if new), --tag adds a tag, --note replaces the notes")
        {
            vault, item, title, removeFields, clearTags, removeFiles,
        };
        content.AddTo(command);
        return VaultCli.Verb(command, options, async (cli, ct) =>
        {
            var files = content.CheckedFiles(cli);
            using var run = await VaultCli.OpenAsync(cli, keys: true, ct);
            var changes = content.ReadFields(cli, SecretReader(cli, options));
            string vaultId = await VaultCli.ResolveVaultAsync(run, cli.Parse(vault)!, ct);
            VaultItem current = await VaultCli.ResolveItemAsync(run, vaultId, cli.Parse(item)!, ct);

            var fields = current.Fields.ToList();
            var removed = (cli.Parse(removeFields) ?? []).ToHashSet(StringComparer.Ordinal);
            fields.RemoveAll(f => removed.Contains(f.Label));
            foreach (VaultField change in changes)
            {
                int at = fields.FindIndex(f => f.Label == change.Label);
                if (at >= 0)
                {
                    fields[at] = change;
                }
                else
                {
                    fields.Add(change);
                }
            }

            var tags = cli.Parse(clearTags) ? [] : current.Tags.ToList();
            tags.AddRange((cli.Parse(content.Tags) ?? []).Where(t => !tags.Contains(t)));
            var draft = new VaultItemDraft(cli.Parse(title) ?? current.Title, cli.Parse(content.Note) ?? current.Notes, tags, fields);

            // The revision makes a concurrent edit elsewhere fail (revision-conflict) instead of being overwritten.
            VaultItem updated = await run.Vaults.UpdateItemAsync(vaultId, current.Id, draft, current.Revision, ct);
            foreach (string target in cli.Parse(removeFiles) ?? [])
            {
                var match = current.Files.Where(f => f.Id == target || f.Name == target).ToList();
                if (match.Count != 1)
                {
                    throw new UsageException(match.Count == 0 ? $"the item has no file '{VaultCli.Printable(target)}'" : $"several files are named '{VaultCli.Printable(target)}': give the id");
                }

                await run.Vaults.DeleteFileAsync(vaultId, current.Id, match[0].Id, ct);
            }

            await UploadAsync(run, vaultId, current.Id, files, ct);
            if (files.Count > 0 || (cli.Parse(removeFiles) ?? []).Length > 0)
            {
                updated = await run.Vaults.GetItemAsync(vaultId, current.Id, ct);
            }

            cli.Output.Event($"Updated item '{VaultCli.Printable(updated.Title)}' (revision {updated.Revision}){FilesNote(updated)}.", new { @event = "item-updated", vaultId, item = updated });
            return VeilCommand.Ok;
        });
    }

    private static Command Remove(AccountOptions options)
    {
        var vault = VaultCommand.VaultArgument();
        var item = ItemArgument();
        var command = new Command("rm", "Delete an item and its files") { vault, item };
        return VaultCli.Verb(command, options, async (cli, ct) =>
        {
            string given = cli.Parse(item)!;
            string vaultGiven = cli.Parse(vault)!;
            bool keys = VaultCli.NeedsKeys(vaultGiven) || VaultCli.NeedsKeys(given);
            using var run = await VaultCli.OpenAsync(cli, keys, ct);
            string vaultId = keys ? await VaultCli.ResolveVaultAsync(run, vaultGiven, ct) : vaultGiven;
            string itemId = keys ? (await VaultCli.ResolveItemAsync(run, vaultId, given, ct)).Id : given;
            await run.Api.DeleteItemAsync(vaultId, itemId, ct);
            cli.Output.Event($"Deleted item {itemId}.", new { @event = "item-deleted", vaultId, id = itemId });
            return VeilCommand.Ok;
        });
    }

    private static Argument<string> ItemArgument() => new("ITEM") { Description = "The item's id, or its exact title" };

    private static async Task UploadAsync(VaultRun run, string vaultId, string itemId, List<string> files, CancellationToken ct)
    {
        foreach (string path in files)
        {
            long total = Cobblestone256.GetCiphertextLength(new FileInfo(path).Length);
            VaultFile file = await VaultCli.TransferAsync(run.Cli.Json, "uploading", total, progress => run.Vaults.AddFileAsync(vaultId, itemId, path, progress: progress, cancellationToken: ct));
            run.Cli.Output.Event($"Attached {VaultCli.Printable(file.Name)} ({Drop.DropCliEnvironment.FormatBytes(file.PlaintextSize)}).", new { @event = "file-added", vaultId, itemId, file });
        }
    }

    private static string FilesNote(VaultItem item) => item.Files.Count == 0 ? string.Empty : $", {item.Files.Count} file(s)";

    private static string Describe(VaultItem item, List<string> saved)
    {
        var lines = new List<string> { $"{VaultCli.Printable(item.Title)}  ({item.Id}, revision {item.Revision}, updated {AccountCommand.Time(item.UpdatedAt)})" };
        foreach (VaultField field in item.Fields)
        {
            lines.Add($"  {VaultCli.Printable(field.Label)}: {VaultCli.Printable(field.Value)}");
        }

        if (item.Tags.Count > 0)
        {
            lines.Add($"  tags: {VaultCli.Printable(string.Join(", ", item.Tags))}");
        }

        if (item.Notes is { Length: > 0 } notes)
        {
            lines.Add("  notes:");
            lines.AddRange(notes.Split('\n').Select(line => "    " + VaultCli.Printable(line)));
        }

        foreach (VaultFile file in item.Files)
        {
            lines.Add($"  file: {VaultCli.Printable(file.Name)} ({Drop.DropCliEnvironment.FormatBytes(file.PlaintextSize)}, {file.Id})");
        }

        lines.AddRange(saved.Select(path => $"  saved: {path}"));
        return string.Join(Environment.NewLine, lines);
    }
}
