// `veil alias …` and `veil recipient …` (issue 6, deliverable 9) over spec/alias-api.md. They use the logged-in
// session like the account verbs (AccountCli: --server, session file, one error line, exit codes 0/1/2).
// ALIAS arguments accept the alias's id or its address; CONTACT accepts the contact's id, its reverse address,
// or the sender's address when only one alias has that sender.
using System.CommandLine;
using System.Globalization;
using Veil.Cli.Account;
using Veil.Client;
using Veil.Client.Alias;

namespace Veil.Cli.Alias;

internal static class AliasCommand
{
    /// <summary>Adds <c>alias</c> and <c>recipient</c> to the root command.</summary>
    public static void AddTo(RootCommand root, Option<bool> json)
    {
        root.Subcommands.Add(Alias(new AccountOptions(json)));
        root.Subcommands.Add(RecipientCommand.Create(new AccountOptions(json)));
    }

    private static Command Alias(AccountOptions options)
    {
        var alias = new Command("alias", "Private email aliases: addresses that forward to your real mailboxes");
        options.AddTo(alias);
        alias.Subcommands.Add(Create(options));
        alias.Subcommands.Add(List(options));
        alias.Subcommands.Add(Show(options));
        alias.Subcommands.Add(Enable(options));
        alias.Subcommands.Add(Disable(options));
        alias.Subcommands.Add(Delete(options));
        alias.Subcommands.Add(Contacts(options));
        alias.Subcommands.Add(Contact(options));
        alias.Subcommands.Add(Block(options, "block", blocked: true, "Block a contact: its mail is counted and dropped"));
        alias.Subcommands.Add(Block(options, "unblock", blocked: false, "Unblock a contact"));
        alias.Subcommands.Add(Log(options));
        alias.Subcommands.Add(Domains(options));
        alias.Subcommands.Add(Usage(options));
        return alias;
    }

    private static Argument<string> AliasArgument() => new("ALIAS") { Description = "The alias address or id" };

    private static Command Create(AccountOptions options)
    {
        var prefix = new Option<string?>("--prefix") { Description = "A readable prefix: shop → shop.x7k2q@domain (random words when absent)", HelpName = "P" };
        var domain = new Option<string?>("--domain") { Description = "The alias domain (the server's first when absent; see 'veil alias domains')", HelpName = "D" };
        var note = new Option<string?>("--note") { Description = "A private note (encrypted at rest)", HelpName = "N" };
        var label = new Option<string?>("--label") { Description = "A short label (encrypted at rest)", HelpName = "L" };
        var command = new Command("create", "Create an alias forwarding to all your verified recipients") { prefix, domain, note, label };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var created = await new AliasClient(client).CreateAliasAsync(
                    new NewAlias(cli.Parse(prefix), cli.Parse(domain), cli.Parse(note), cli.Parse(label)), ct);
                cli.Output.Event($"Alias {created.Address} created ({created.Id:D}).", new { @event = "alias-created", alias = created });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command List(AccountOptions options)
    {
        var command = new Command("list", "List your aliases (newest first)");
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = await new AliasClient(client).ListAliasesAsync(ct);
                cli.Output.Table(
                    ["Address", "State", "Label", "Forwarded", "Blocked", "Replied", "Bounced", "Last email", "Id"],
                    aliases.Select(a => new[]
                    {
                        a.Address, State(a), a.Label ?? "", Count(a.Counters.Forwarded), Count(a.Counters.Blocked), Count(a.Counters.Replied),
                        Count(a.Counters.Bounced), AccountCommand.Time(a.Counters.LastEmailAt), a.Id.ToString("D"),
                    }),
                    "No aliases yet: veil alias create",
                    new { aliases });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Show(AccountOptions options)
    {
        var argument = AliasArgument();
        var command = new Command("show", "Show one alias with its counters") { argument };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var alias = await FindAsync(aliases, cli.Parse(argument)!, ct);
                cli.Output.Event(Describe(alias), new { @event = "alias", alias });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Enable(AccountOptions options)
    {
        var argument = AliasArgument();
        var command = new Command("enable", "Forward mail for the alias again") { argument };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var alias = await FindAsync(aliases, cli.Parse(argument)!, ct);
                var updated = await aliases.UpdateAliasAsync(alias.Id, new AliasChanges { Enabled = true }, ct);
                cli.Output.Event($"Alias {updated.Address} enabled.", new { @event = "alias-enabled", alias = updated });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Disable(AccountOptions options)
    {
        var argument = AliasArgument();
        var discard = new Option<bool>("--discard") { Description = "Accept and silently drop its mail instead of refusing it (550)" };
        var command = new Command("disable", "Stop forwarding: refuse the alias's mail (550), or with --discard drop it silently") { argument, discard };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var alias = await FindAsync(aliases, cli.Parse(argument)!, ct);
                var action = cli.Parse(discard) ? AliasDisabledAction.Discard : AliasDisabledAction.Reject;
                var updated = await aliases.UpdateAliasAsync(alias.Id, new AliasChanges { Enabled = false, DisabledAction = action }, ct);
                var what = action == AliasDisabledAction.Discard ? "its mail is accepted and dropped" : "its mail is refused (550)";
                cli.Output.Event($"Alias {updated.Address} disabled: {what}.", new { @event = "alias-disabled", alias = updated });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Delete(AccountOptions options)
    {
        var argument = AliasArgument();
        var command = new Command("delete", "Delete an alias and its contacts; the address is never issued again") { argument };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var alias = await FindAsync(aliases, cli.Parse(argument)!, ct);
                await aliases.DeleteAliasAsync(alias.Id, ct);
                cli.Output.Event($"Alias {alias.Address} deleted.", new { @event = "alias-deleted", id = alias.Id, address = alias.Address });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Contacts(AccountOptions options)
    {
        var argument = AliasArgument();
        var command = new Command("contacts", "List the senders of an alias and their reverse addresses") { argument };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var alias = await FindAsync(aliases, cli.Parse(argument)!, ct);
                var contacts = await aliases.ListContactsAsync(alias.Id, ct);
                cli.Output.Table(
                    ["Contact", "Reverse address", "Blocked", "Forwarded", "Replied", "Last email", "Id"],
                    contacts.Select(c => new[]
                    {
                        c.Address, c.ReverseAddress, c.Blocked ? "yes" : "no", Count(c.Forwarded), Count(c.Replied), AccountCommand.Time(c.LastEmailAt), c.Id.ToString("D"),
                    }),
                    $"No contacts for {alias.Address} yet.",
                    new { aliasId = alias.Id, contacts });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Contact(AccountOptions options)
    {
        var aliasArgument = AliasArgument();
        var address = new Argument<string>("ADDRESS") { Description = "The address to write to" };
        var add = new Command("add", "Start a conversation from the alias: prints the reverse address to write to") { aliasArgument, address };
        AccountCli.Verb(add, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var alias = await FindAsync(aliases, cli.Parse(aliasArgument)!, ct);
                var contact = await aliases.AddContactAsync(alias.Id, cli.Parse(address)!, ct);
                cli.Output.Event(
                    $"Write to {contact.ReverseAddress} from one of your verified recipient mailboxes: it reaches {contact.Address} from {alias.Address}.",
                    new { @event = "contact-added", contact });
            }

            return VeilCommand.Ok;
        });
        var contactCommand = new Command("contact", "Contacts of an alias");
        contactCommand.Subcommands.Add(add);
        return contactCommand;
    }

    private static Command Block(AccountOptions options, string name, bool blocked, string description)
    {
        var argument = new Argument<string>("CONTACT") { Description = "The contact's id, reverse address, or sender address" };
        var command = new Command(name, description) { argument };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var contact = await FindContactAsync(aliases, cli.Parse(argument)!, ct);
                var updated = await aliases.SetContactBlockedAsync(contact.Id, blocked, ct);
                cli.Output.Event(
                    $"Contact {updated.Address} {(blocked ? "blocked" : "unblocked")}.",
                    new { @event = blocked ? "contact-blocked" : "contact-unblocked", contact = updated });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Log(AccountOptions options)
    {
        var limit = new Option<int>("--limit") { Description = "Entries to show (1–500)", DefaultValueFactory = _ => 100, HelpName = "N" };
        var only = new Option<string?>("--alias") { Description = "Only this alias (address or id)", HelpName = "ALIAS" };
        var command = new Command("log", "The routing log of the last 7 days: what was forwarded, blocked, refused or failed (never content)") { limit, only };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var count = cli.Parse(limit);
            if (count is < 1 or > 500)
            {
                throw new UsageException("--limit must be between 1 and 500");
            }

            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var known = (await aliases.ListAliasesAsync(ct)).ToDictionary(a => a.Id, a => a.Address);
                Guid? aliasId = cli.Parse(only) is { } a ? (await FindAsync(aliases, a, ct)).Id : null;
                var entries = await aliases.GetLogAsync(count, aliasId, ct);
                cli.Output.Table(
                    ["Time", "Alias", "Event", "Reason"],
                    entries.Select(e => new[]
                    {
                        AccountCommand.Time(e.At), e.AliasId is { } id ? known.GetValueOrDefault(id, id.ToString("D")) : "-", e.Event, e.Reason ?? "",
                    }),
                    "No routing events in the last 7 days.",
                    new { entries });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Usage(AccountOptions options)
    {
        var command = new Command("usage", "Your plan, its daily limits and today's usage (UTC day)");
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var usage = await new AliasClient(client).GetUsageAsync(ct);
                cli.Output.Event(
                    string.Join(Environment.NewLine,
                        $"Plan: {usage.Plan}",
                        string.Create(CultureInfo.InvariantCulture, $"Forwarded today ({usage.Day} UTC): {usage.ForwardsToday} of {usage.ForwardsLimit}"),
                        string.Create(CultureInfo.InvariantCulture, $"Aliases created today: {usage.CreatedToday} of {usage.CreatesLimit}")),
                    new { @event = "alias-usage", usage });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Domains(AccountOptions options)
    {
        var command = new Command("domains", "The alias domains this server offers");
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var domains = await new AliasClient(client).GetDomainsAsync(ct);
                cli.Output.Table(
                    ["Domain", "Catch-all"],
                    domains.Select(d => new[] { d.Name, d.CatchAll ? "yes" : "no" }),
                    "This server offers no alias domain.",
                    new { domains });
            }

            return VeilCommand.Ok;
        });
    }

    internal static async Task<AliasInfo> FindAsync(AliasClient aliases, string idOrAddress, CancellationToken ct) =>
        await aliases.FindAliasAsync(idOrAddress, ct)
        ?? throw new VeilApiException(404, "not-found", "No such alias", $"{idOrAddress.Trim()} is not one of your aliases");

    private static async Task<AliasContact> FindContactAsync(AliasClient aliases, string value, CancellationToken ct)
    {
        var wanted = value.Trim();
        var matches = new List<AliasContact>();
        foreach (var alias in await aliases.ListAliasesAsync(ct))
        {
            foreach (var contact in await aliases.ListContactsAsync(alias.Id, ct))
            {
                if (contact.Id.ToString("D").Equals(wanted, StringComparison.OrdinalIgnoreCase)
                    || contact.ReverseAddress.Equals(wanted, StringComparison.OrdinalIgnoreCase)
                    || contact.Address.Equals(wanted, StringComparison.OrdinalIgnoreCase))
                {
                    matches.Add(contact);
                }
            }
        }

        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new VeilApiException(404, "not-found", "No such contact", $"{wanted} is not a contact of your aliases"),
            _ => throw new UsageException($"{wanted} writes to several of your aliases: name the contact by its id or reverse address (veil alias contacts ALIAS)"),
        };
    }

    private static string State(AliasInfo alias) =>
        alias.Enabled ? "enabled" : alias.DisabledAction == AliasDisabledAction.Discard ? "disabled (discard)" : "disabled (reject)";

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Describe(AliasInfo a)
    {
        var c = a.Counters;
        return string.Join(
            Environment.NewLine,
            $"Alias:      {a.Address}",
            $"Id:         {a.Id:D}",
            $"State:      {State(a)}",
            $"Label:      {a.Label ?? "-"}",
            $"Note:       {a.Note ?? "-"}",
            $"Recipients: {(a.RecipientIds.Count == 0 ? "-" : string.Join(", ", a.RecipientIds.Select(r => r.ToString("D"))))}",
            $"Received:   {Count(c.Received)}   Forwarded: {Count(c.Forwarded)}   Blocked: {Count(c.Blocked)}   Replied: {Count(c.Replied)}   Bounced: {Count(c.Bounced)}",
            $"Last email: {AccountCommand.Time(c.LastEmailAt)}",
            $"Created:    {AccountCommand.Time(a.CreatedAt)}");
    }
}
