// `veil vault …`: the zero-knowledge vault with a dead man's switch (spec/vault.md, spec/vault-api.md). Every verb is a
// thin shell over Veil.Client.Vault: values are sealed and opened in this process, the server sees ciphertext only.
// The owner's verbs need the signed-in session; those that read or write vault contents also need the password for
// this run, unless `veil vault unlock` started a session (VaultUnlockSession: `export VEIL_SESSION=…`, until
// `veil vault lock` or its expiry). `claim` is for a recipient and needs no account.
using System.CommandLine;
using Veil.Cli.Account;
using Veil.Client;
using Veil.Client.Vault;

namespace Veil.Cli.Vault;

internal static class VaultCommand
{
    public static Command Create(Option<bool> json)
    {
        var options = new AccountOptions(json);
        var vault = new Command("vault", "Zero-knowledge vaults with a dead man's switch that delivers them to chosen recipients");
        options.AddTo(vault);
        vault.Subcommands.Add(Unlock(options));
        vault.Subcommands.Add(LockVaults(options));
        vault.Subcommands.Add(CreateVault(options));
        vault.Subcommands.Add(ListVaults(options));
        vault.Subcommands.Add(DeleteVault(options));
        vault.Subcommands.Add(VaultItemCommand.Create(options));
        vault.Subcommands.Add(Switch(options));
        vault.Subcommands.Add(Recipients(options));
        vault.Subcommands.Add(Rehearse(options));
        vault.Subcommands.Add(VaultClaimCommand.Create(options));
        return vault;
    }

    private static Command Unlock(AccountOptions options)
    {
        var lifetime = new Option<string>("--for")
        {
            Description = "How long the session lasts: 1m to 30d (e.g. 30m, 8h, 7d)",
            HelpName = "DURATION",
            DefaultValueFactory = _ => "8h",
        };
        var command = new Command("unlock", "Ask for the password once: later vault commands use $VEIL_SESSION instead, until 'veil vault lock' or expiry") { lifetime };
        return VaultCli.Verb(command, options, async (cli, ct) =>
        {
            var span = VaultCli.ParseDuration(cli.Parse(lifetime)!, "--for");
            if (span < TimeSpan.FromMinutes(1) || span > TimeSpan.FromDays(30))
            {
                throw new UsageException("--for must be from 1 minute to 30 days, e.g. 8h");
            }

            using var run = await VaultCli.OpenAsync(cli, keys: true, ct, useUnlockSession: false);
            var session = cli.Store.Load()!;
            var userKey = run.Client.Identity.UserKey
                ?? throw new VaultSessionException("the password did not open the user key");
            var expires = DateTimeOffset.UtcNow + span;
            var secret = await VaultUnlockSession.CreateAsync(cli.Store.Directory, session.Server, session.Email, expires, userKey, ct);
            // The secret goes to stdout once (for `eval "$(veil vault unlock)"`); the explanation to stderr.
            if (!cli.Json)
            {
                Console.Error.WriteLine($"Vault unlocked until {expires:u}. Set this in your shell (shown once); 'veil vault lock' ends it:");
            }

            cli.Output.Event($"export {VaultUnlockSession.Variable}={secret}", new { @event = "unlocked", session = secret, variable = VaultUnlockSession.Variable, expiresAt = expires });
            return VeilCommand.Ok;
        });
    }

    private static Command LockVaults(AccountOptions options)
    {
        var command = new Command("lock", "End the session 'veil vault unlock' started: the next vault command asks for the password again");
        return VaultCli.Verb(command, options, (cli, _) =>
        {
            var existed = VaultUnlockSession.Delete(SessionStore.Default().Directory);
            cli.Output.Event(
                existed ? $"Vault locked. You may also run: unset {VaultUnlockSession.Variable}" : "No vault session was open.",
                new { @event = "locked", existed });
            return Task.FromResult(VeilCommand.Ok);
        });
    }

    internal static Argument<string> VaultArgument() => new("VAULT") { Description = "The vault's id, or its exact name" };

    private static Command CreateVault(AccountOptions options)
    {
        var name = new Argument<string>("NAME") { Description = "The vault's name (encrypted before it leaves this machine)" };
        var command = new Command("create", "Create a vault with a new random key") { name };
        return VaultCli.Verb(command, options, async (cli, ct) =>
        {
            using var run = await VaultCli.OpenAsync(cli, keys: true, ct);
            var created = await run.Vaults.CreateVaultAsync(cli.Parse(name)!, ct);
            cli.Output.Event($"Created vault '{VaultCli.Printable(created.Name)}' ({created.Id}).", new { @event = "vault-created", vault = created });
            return VeilCommand.Ok;
        });
    }

    private static Command ListVaults(AccountOptions options)
    {
        var command = new Command("list", "List your vaults (names decrypted here)");
        return VaultCli.Verb(command, options, async (cli, ct) =>
        {
            using var run = await VaultCli.OpenAsync(cli, keys: true, ct);
            var vaults = await run.Vaults.ListVaultsAsync(ct);
            cli.Output.Table(
                ["Id", "Name", "Items", "Recipients", "Switch", "Used"],
                vaults.Select(v => new[]
                {
                    v.Id, VaultCli.Printable(v.Name), v.ItemCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    v.RecipientCount.ToString(System.Globalization.CultureInfo.InvariantCulture), v.Switch is null ? "off" : v.Switch.State,
                    Drop.DropCliEnvironment.FormatBytes(v.UsedBytes),
                }),
                "No vaults. Create one with: veil vault create NAME",
                new { @event = "vaults", vaults });
            return VeilCommand.Ok;
        });
    }

    private static Command DeleteVault(AccountOptions options)
    {
        var vault = VaultArgument();
        var yes = new Option<bool>("--yes") { Description = "Confirm: the vault, its items, files, switch and recipients are deleted for good" };
        var command = new Command("delete", "Delete a vault and everything in it") { vault, yes };
        return VaultCli.Verb(command, options, async (cli, ct) =>
        {
            if (!cli.Parse(yes))
            {
                throw new UsageException("deleting a vault cannot be undone: add --yes to confirm");
            }

            string given = cli.Parse(vault)!;
            using var run = await VaultCli.OpenAsync(cli, VaultCli.NeedsKeys(given), ct);
            string id = await ResolveAsync(run, given, ct);
            await Keyless(run).DeleteVaultAsync(id, ct);
            cli.Output.Event($"Deleted vault {id}.", new { @event = "vault-deleted", id });
            return VeilCommand.Ok;
        });
    }

    // ---------------------------------------------------------------- switch

    private static Command Switch(AccountOptions options)
    {
        var command = new Command("switch", "The dead man's switch: check in before the deadline, or the vault goes to its recipients");

        var interval = new Option<string>("--interval") { Description = "How long you may go without checking in: 1d to 365d (e.g. 30d)", HelpName = "DURATION", Required = true };
        var grace = new Option<string>("--grace") { Description = "Reminders after the deadline, then release: 1h to 90d (e.g. 7d)", HelpName = "DURATION", Required = true };
        var setVault = VaultArgument();
        var set = new Command("set", "Arm (or re-arm) the switch: the deadline is now + interval") { setVault, interval, grace };
        command.Subcommands.Add(VaultCli.Verb(set, options, async (cli, ct) =>
        {
            TimeSpan every = VaultCli.ParseDuration(cli.Parse(interval)!, "--interval"), after = VaultCli.ParseDuration(cli.Parse(grace)!, "--grace");
            // Checked here in the units the user typed; the server checks again (its detail says the same in days).
            if (every < TimeSpan.FromDays(1) || every > TimeSpan.FromDays(365))
            {
                throw new UsageException("--interval must be at least 1 day and at most 365 days, e.g. 30d");
            }

            if (after < TimeSpan.FromHours(1) || after > TimeSpan.FromDays(90))
            {
                throw new UsageException("--grace must be at least 1 hour and at most 90 days, e.g. 7d");
            }

            return await SwitchVerbAsync(cli, cli.Parse(setVault)!, "switch-set", (vaults, id) => vaults.SetSwitchAsync(id, every, after, ct), ct);
        }));

        foreach (var (name, description, @event) in new[]
        {
            ("checkin", "Check in: the deadline restarts from now", "checked-in"),
            ("status", "Show the switch: state, next deadline, release time, stage", "switch"),
            ("pause", "Pause the switch (no reminders, no release) until resumed", "switch-paused"),
            ("resume", "Resume a paused switch, re-armed from now", "switch-resumed"),
        })
        {
            var vault = VaultArgument();
            var verb = new Command(name, description) { vault };
            command.Subcommands.Add(VaultCli.Verb(verb, options, (cli, ct) => SwitchVerbAsync(cli, cli.Parse(vault)!, @event, (vaults, id) => name switch
            {
                "checkin" => vaults.CheckInAsync(id, ct),
                "status" => vaults.GetSwitchAsync(id, ct),
                "pause" => vaults.PauseSwitchAsync(id, ct),
                _ => vaults.ResumeSwitchAsync(id, ct),
            }, ct)));
        }

        var cancelVault = VaultArgument();
        var cancel = new Command("cancel", "Switch off the dead man's switch (recipients stay)") { cancelVault };
        command.Subcommands.Add(VaultCli.Verb(cancel, options, async (cli, ct) =>
        {
            string given = cli.Parse(cancelVault)!;
            using var run = await VaultCli.OpenAsync(cli, VaultCli.NeedsKeys(given), ct);
            string id = await ResolveAsync(run, given, ct);
            await Keyless(run).CancelSwitchAsync(id, ct);
            cli.Output.Event($"Switch of vault {id} cancelled: nothing will be released.", new { @event = "switch-cancelled", vaultId = id });
            return VeilCommand.Ok;
        }));
        return command;
    }

    private static async Task<int> SwitchVerbAsync(AccountCli cli, string given, string @event, Func<VaultClient, string, Task<VaultSwitch>> action, CancellationToken ct)
    {
        using var run = await VaultCli.OpenAsync(cli, VaultCli.NeedsKeys(given), ct);
        string id = await ResolveAsync(run, given, ct);
        VaultSwitch state = await action(Keyless(run), id);
        cli.Output.Event(Describe(id, state), new { @event, vaultId = id, @switch = state });
        return VeilCommand.Ok;
    }

    internal static string Describe(string vaultId, VaultSwitch s)
    {
        var lines = new List<string>
        {
            $"Switch of vault {vaultId}: {s.State} ({s.Stage})",
            $"  check in every {Duration(s.IntervalSeconds)}, grace {Duration(s.GraceSeconds)}",
            $"  last check-in:  {AccountCommand.Time(s.LastCheckInAt)}",
        };
        if (s.Deadline is { } deadline)
        {
            lines.Add($"  next deadline:  {AccountCommand.Time(deadline)}");
        }

        if (s.ReleaseAt is { } release)
        {
            lines.Add($"  release at:     {AccountCommand.Time(release)}");
        }

        if (s.NextReminderAt is { } reminder)
        {
            lines.Add($"  next reminder:  {AccountCommand.Time(reminder)}");
        }

        if (s.ReleasedAt is { } released)
        {
            lines.Add($"  released at:    {AccountCommand.Time(released)}");
        }

        return string.Join(Environment.NewLine, lines);
    }

    private static string Duration(long seconds) => seconds switch
    {
        _ when seconds % 86400 == 0 => $"{seconds / 86400}d",
        _ when seconds % 3600 == 0 => $"{seconds / 3600}h",
        _ => $"{seconds}s",
    };

    // ---------------------------------------------------------------- recipients

    private static Command Recipients(AccountOptions options)
    {
        var command = new Command("recipient", "Who receives the vault when the switch releases it");

        var addVault = VaultArgument();
        var email = new Argument<string>("EMAIL") { Description = "The recipient's address (they get the link and the code there)" };
        var notify = new Option<bool>("--notify") { Description = "Mail the recipient now that you added them (it names your address; off by default: they otherwise hear of it only on release)" };
        var add = new Command("add", "Add a recipient: a fresh delivery key and an escrow of the vault key, made here") { addVault, email, notify };
        command.Subcommands.Add(VaultCli.Verb(add, options, async (cli, ct) =>
        {
            using var run = await VaultCli.OpenAsync(cli, keys: true, ct);
            string id = await VaultCli.ResolveVaultAsync(run, cli.Parse(addVault)!, ct);
            bool told = cli.Parse(notify);
            var recipient = await run.Vaults.AddRecipientAsync(id, cli.Parse(email)!, told, ct);
            cli.Output.Event(
                $"Added recipient {VaultCli.Printable(recipient.Email)} ({recipient.Id}).{(told ? " They were told by mail." : string.Empty)}",
                new { @event = "recipient-added", vaultId = id, recipient, notified = told });
            return VeilCommand.Ok;
        }));

        var listVault = VaultArgument();
        var list = new Command("list", "List a vault's recipients") { listVault };
        command.Subcommands.Add(VaultCli.Verb(list, options, async (cli, ct) =>
        {
            string given = cli.Parse(listVault)!;
            using var run = await VaultCli.OpenAsync(cli, VaultCli.NeedsKeys(given), ct);
            string id = await ResolveAsync(run, given, ct);
            var recipients = await Keyless(run).ListRecipientsAsync(id, ct);
            cli.Output.Table(
                ["Id", "Email", "State", "Added"],
                recipients.Select(r => new[] { r.Id, VaultCli.Printable(r.Email), r.State, AccountCommand.Time(r.CreatedAt) }),
                "No recipients: nobody would receive this vault.",
                new { @event = "recipients", vaultId = id, recipients });
            return VeilCommand.Ok;
        }));

        var removeVault = VaultArgument();
        var who = new Argument<string>("RECIPIENT") { Description = "The recipient's id or address" };
        var remove = new Command("remove", "Remove a recipient (their escrow and sealed key are deleted; others are unaffected)") { removeVault, who };
        command.Subcommands.Add(VaultCli.Verb(remove, options, async (cli, ct) =>
        {
            string given = cli.Parse(removeVault)!;
            using var run = await VaultCli.OpenAsync(cli, VaultCli.NeedsKeys(given), ct);
            string id = await ResolveAsync(run, given, ct);
            var vaults = Keyless(run);
            string target = cli.Parse(who)!.Trim();
            var match = (await vaults.ListRecipientsAsync(id, ct))
                .Where(r => r.Id == target || string.Equals(r.Email, target, StringComparison.OrdinalIgnoreCase)).ToList();
            if (match.Count != 1)
            {
                throw new UsageException(match.Count == 0 ? "no such recipient (see 'veil vault recipient list')" : "several recipients match: give the id");
            }

            await vaults.RemoveRecipientAsync(id, match[0].Id, ct);
            cli.Output.Event($"Removed recipient {VaultCli.Printable(match[0].Email)}.", new { @event = "recipient-removed", vaultId = id, recipientId = match[0].Id });
            return VeilCommand.Ok;
        }));
        return command;
    }

    private static Command Rehearse(AccountOptions options)
    {
        var vault = VaultArgument();
        var command = new Command("rehearse", "Test the delivery: a rehearsal link and code go to YOUR address; nothing is released") { vault };
        return VaultCli.Verb(command, options, async (cli, ct) =>
        {
            string given = cli.Parse(vault)!;
            using var run = await VaultCli.OpenAsync(cli, VaultCli.NeedsKeys(given), ct);
            string id = await ResolveAsync(run, given, ct);
            DateTimeOffset expires = await Keyless(run).RehearseAsync(id, ct);
            cli.Output.Event(
                $"Rehearsal sent to your address: open the link (valid until {AccountCommand.Time(expires)}) or run: veil vault claim LINK",
                new { @event = "rehearsal-sent", vaultId = id, expiresAt = expires });
            return VeilCommand.Ok;
        });
    }

    /// <summary>A vault client for verbs that send no ciphertext (switch, recipients list/remove, delete, rehearse).</summary>
    private static VaultClient Keyless(VaultRun run) => run.Api;

    private static Task<string> ResolveAsync(VaultRun run, string given, CancellationToken ct) =>
        VaultCli.NeedsKeys(given) ? VaultCli.ResolveVaultAsync(run, given, ct) : Task.FromResult(given);
}
