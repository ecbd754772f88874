// `veil account email change` and `veil account recovery-email set|remove` (issue 3, deliverable 1).
// Both only start a change: the server mails a link to the new address and nothing changes until it is
// opened in the browser or consumed with `veil account verify LINK`, the one verb for every
// email-verification link (registration, email change, recovery email).
using System.CommandLine;
using Veil.Client;

namespace Veil.Cli.Account;

/// <summary>The verbs that change the account's addresses.</summary>
internal static class EmailCommands
{
    public static Command Email(AccountOptions options)
    {
        var command = new Command("email", "The account's primary (sign-in) email");
        command.Subcommands.Add(Change(options));
        return command;
    }

    public static Command RecoveryEmail(AccountOptions options)
    {
        var command = new Command("recovery-email", "The recovery email: a second address that can receive sign-in links");
        command.Subcommands.Add(SetRecovery(options));
        command.Subcommands.Add(RemoveRecovery(options));
        return command;
    }

    private static Command Change(AccountOptions options)
    {
        var newEmail = new Argument<string>("NEW-EMAIL") { Description = "The new primary email" };
        var command = new Command(
            "change",
            "Change the primary email: asks for your password (your keys are re-derived for the new address) and mails a confirmation link to it")
        {
            newEmail, options.Code,
        };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var address = cli.Parse(newEmail)!.Trim();
            var (client, session) = cli.OpenSession();
            using (client)
            {
                // The email is an input of the key derivation (spec/keys.md), so the client re-derives the
                // auth token and re-wraps the user key for the new address; that takes the password, which
                // is read once and also serves the step-up the server asks for.
                using var password = cli.Passwords.Read("Password");
                var chars = password.Memory;
                await cli.WithStepUpAsync(
                    client,
                    password,
                    async () =>
                    {
                        await cli.SlowAsync("Deriving keys for the new address (Argon2id, twice)…", () => client.Identity.ChangeEmailAsync(chars, address, ct));
                        return true;
                    },
                    ct);
            }

            cli.Output.Event(
                $"A confirmation link was sent to {address} (valid 24 hours; if that address already has a Veil account, it gets a notice instead). "
                + $"Nothing changes until it is opened: open it, or run: veil account verify LINK. Until then, sign in as {session.Email}.",
                new { @event = "email-change-requested", newEmail = address });
            return VeilCommand.Ok;
        });
    }

    private static Command SetRecovery(AccountOptions options)
    {
        var address = new Argument<string>("EMAIL") { Description = "The recovery email" };
        var command = new Command("set", "Set (or replace) the recovery email; a confirmation link is mailed to it") { address };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var recovery = cli.Parse(address)!.Trim();
            var (client, _) = cli.OpenSession();
            using (client)
            {
                await client.Identity.SetRecoveryEmailAsync(recovery, ct);
            }

            cli.Output.Event(
                $"A confirmation link was sent to {recovery} (valid 24 hours): open it, or run: veil account verify LINK. "
                + "Once confirmed, sign-in links can be sent to it: veil account login --magic-link " + recovery,
                new { @event = "recovery-email-requested", recoveryEmail = recovery });
            return VeilCommand.Ok;
        });
    }

    private static Command RemoveRecovery(AccountOptions options)
    {
        var command = new Command("remove", "Remove the recovery email");
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                await client.Identity.SetRecoveryEmailAsync(null, ct);
            }

            cli.Output.Event("Recovery email removed.", new { @event = "recovery-email-removed" });
            return VeilCommand.Ok;
        });
    }

    /// <summary>
    /// After an email change is confirmed: the session that asked for it is the one the server keeps, and
    /// the session file still names the old address. Re-read it from the server. Best effort: the link may
    /// have been for another account, or this session may be one of those the change signed out.
    /// </summary>
    public static async Task<string?> RefreshStoredEmailAsync(AccountCli cli, CancellationToken ct)
    {
        if (cli.Store.Load() is null)
        {
            return null;
        }

        string reason;
        try
        {
            var (client, session) = cli.OpenSession();
            using (client)
            {
                var account = await client.Identity.WhoAmIAsync(ct);
                cli.RememberEmail(client, session.Server, account.Email);
                return account.Email;
            }
        }
        catch (VeilApiException e)
        {
            // A revoked session has already removed the session file (see AccountCli.Track).
            reason = e.Code;
        }
        catch (UsageException e)
        {
            reason = e.Message; // the session file is for another server
        }

        // The verification itself succeeded (exit 0); only the follow-up did not.
        cli.Output.Error($"note: the session in {cli.Store.FilePath} was not updated ({reason}): log in with the new address if needed");
        return null;
    }
}
