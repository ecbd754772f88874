// `veil recipient add|list|remove|verify|resume|pgp set|pgp clear`: the real mailboxes aliases forward to. A recipient
// is used only once the link mailed to it has been opened (or passed to `veil recipient verify`). With an OpenPGP key
// set, the copies forwarded to it are PGP/MIME encrypted.
using System.CommandLine;
using Veil.Cli.Account;
using Veil.Client;
using Veil.Client.Alias;

namespace Veil.Cli.Alias;

internal static class RecipientCommand
{
    public static Command Create(AccountOptions options)
    {
        var recipient = new Command("recipient", "Your real mailboxes that aliases forward to");
        options.AddTo(recipient);
        recipient.Subcommands.Add(Add(options));
        recipient.Subcommands.Add(List(options));
        recipient.Subcommands.Add(Remove(options));
        recipient.Subcommands.Add(Verify(options));
        recipient.Subcommands.Add(Resume(options));
        recipient.Subcommands.Add(Pgp(options));
        return recipient;
    }

    private static Argument<string> RecipientArgument() => new("RECIPIENT") { Description = "The recipient's email or id" };

    private static Command Add(AccountOptions options)
    {
        var email = new Argument<string>("EMAIL") { Description = "The mailbox address" };
        var command = new Command("add", "Add a mailbox; a verification link is mailed to it") { email };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var added = await new AliasClient(client).AddRecipientAsync(cli.Parse(email)!, ct);
                cli.Output.Event(
                    $"A verification link was sent to {added.Email} (valid 24 hours): open it, or run: veil recipient verify LINK.",
                    new { @event = "recipient-added", recipient = added });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command List(AccountOptions options)
    {
        var command = new Command("list", "List your recipient mailboxes");
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var recipients = await new AliasClient(client).ListRecipientsAsync(ct);
                cli.Output.Table(
                    ["Email", "State", "Added", "Id"],
                    recipients.Select(r => new[] { r.Email, State(r), AccountCommand.Time(r.CreatedAt), r.Id.ToString("D") }),
                    "No recipients yet: veil recipient add EMAIL",
                    new { recipients });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Remove(AccountOptions options)
    {
        var argument = RecipientArgument();
        var command = new Command("remove", "Remove a mailbox (from every alias too)") { argument };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var recipient = await FindAsync(aliases, cli.Parse(argument)!, ct);
                await aliases.DeleteRecipientAsync(recipient.Id, ct);
                cli.Output.Event($"Recipient {recipient.Email} removed.", new { @event = "recipient-removed", id = recipient.Id, email = recipient.Email });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Verify(AccountOptions options)
    {
        var link = new Argument<string>("LINK") { Description = "The verification link from the email (or its token)" };
        var command = new Command("verify", "Verify a mailbox with the link mailed to it (needs no login)") { link };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            // The link names its server; --server / VEIL_SERVER win, as for `veil account verify`.
            var value = cli.Parse(link)!.Trim();
            var server = Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                && !ServerAddress.Named(cli.Parse(options.Server))
                ? new Uri(uri.GetLeftPart(UriPartial.Authority) + "/")
                : cli.AnonymousServer();
            using var client = AccountCli.NewClient(server);
            await new AliasClient(client).VerifyRecipientAsync(value, ct);
            cli.Output.Event("Mailbox verified: aliases can forward to it now.", new { @event = "recipient-verified" });
            return VeilCommand.Ok;
        });
    }

    private static Command Resume(AccountOptions options)
    {
        var argument = RecipientArgument();
        var command = new Command("resume", "Resume forwarding to a mailbox paused after hard bounces") { argument };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var recipient = await FindAsync(aliases, cli.Parse(argument)!, ct);
                var resumed = await aliases.ResumeRecipientAsync(recipient.Id, ct);
                cli.Output.Event($"Forwarding to {resumed.Email} resumed.", new { @event = "recipient-resumed", recipient = resumed });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Pgp(AccountOptions options)
    {
        var pgp = new Command("pgp", "Encrypt the mail forwarded to a mailbox with its OpenPGP key");
        var setRecipient = RecipientArgument();
        var keyFile = new Argument<string>("KEY-FILE") { Description = "The public key (gpg --export --armor), or - for standard input" };
        var set = new Command("set", "Set the mailbox's OpenPGP public key: forwarded copies become PGP/MIME") { setRecipient, keyFile };
        pgp.Subcommands.Add(AccountCli.Verb(set, options, async (cli, ct) =>
        {
            var path = cli.Parse(keyFile)!;
            var key = path == "-" ? await Console.In.ReadToEndAsync(ct) : await File.ReadAllTextAsync(path, ct);
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var recipient = await FindAsync(aliases, cli.Parse(setRecipient)!, ct);
                var updated = await aliases.SetRecipientPgpKeyAsync(recipient.Id, key, ct);
                cli.Output.Event(
                    $"Mail forwarded to {updated.Email} is now encrypted to the key with SHA-256 fingerprint {updated.PgpFingerprint}.",
                    new { @event = "recipient-pgp-set", recipient = updated });
            }

            return VeilCommand.Ok;
        }));

        var clearRecipient = RecipientArgument();
        var clear = new Command("clear", "Remove the mailbox's OpenPGP key: forwarded copies go out unencrypted again") { clearRecipient };
        pgp.Subcommands.Add(AccountCli.Verb(clear, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var aliases = new AliasClient(client);
                var recipient = await FindAsync(aliases, cli.Parse(clearRecipient)!, ct);
                var updated = await aliases.ClearRecipientPgpKeyAsync(recipient.Id, ct);
                cli.Output.Event($"Mail forwarded to {updated.Email} is no longer encrypted.", new { @event = "recipient-pgp-cleared", recipient = updated });
            }

            return VeilCommand.Ok;
        }));
        return pgp;
    }

    private static async Task<AliasRecipient> FindAsync(AliasClient aliases, string value, CancellationToken ct)
    {
        var wanted = value.Trim();
        var all = await aliases.ListRecipientsAsync(ct);
        return all.FirstOrDefault(r => r.Id.ToString("D").Equals(wanted, StringComparison.OrdinalIgnoreCase) || r.Email.Equals(wanted, StringComparison.OrdinalIgnoreCase))
            ?? throw new VeilApiException(404, "not-found", "No such recipient", $"{wanted} is not one of your recipients");
    }

    private static string State(AliasRecipient r) =>
        (r.Paused ? "paused (" + (r.PausedReason ?? "?") + ")" : r.Verified ? "verified" : "waiting for verification")
        + (r.PgpFingerprint is null ? "" : ", PGP");
}
