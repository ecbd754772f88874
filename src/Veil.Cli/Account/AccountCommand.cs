// `veil account …`: the Identity verbs of issue 3, deliverable 12. Each verb is a thin shell around one
// SDK flow (Veil.Client.Identity), so the CLI does exactly what the browser does; what the CLI adds is
// input (prompts, --password-stdin), output (text, tables, --json) and the session file.
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Veil.Client;
using Veil.Client.Identity;

namespace Veil.Cli.Account;

internal static class AccountCommand
{
    private const string Deriving = "Deriving keys (Argon2id, 64 MiB)…";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly JsonSerializerOptions Compact = new();

    public static Command Create(Option<bool> json)
    {
        var options = new AccountOptions(json);
        var account = new Command("account", "Your Veil account: register, log in, sessions, two-factor, export, delete");
        options.AddTo(account);
        account.Subcommands.Add(Register(options));
        account.Subcommands.Add(Verify(options));
        account.Subcommands.Add(Login(options));
        account.Subcommands.Add(Logout(options));
        account.Subcommands.Add(WhoAmI(options));
        account.Subcommands.Add(Passwd(options));
        account.Subcommands.Add(Delete(options));
        account.Subcommands.Add(Export(options));
        account.Subcommands.Add(TwoFactor(options));
        account.Subcommands.Add(RecoveryCodes(options));
        account.Subcommands.Add(Sessions(options));
        account.Subcommands.Add(NoticeCommands.Notices(options));
        account.Subcommands.Add(EmailCommands.Email(options));
        account.Subcommands.Add(EmailCommands.RecoveryEmail(options));
        return account;
    }

    internal static string Time(DateTimeOffset? time) =>
        time?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    private static Option<string> EmailOption() => new("--email") { Description = "The account email", HelpName = "EMAIL", Required = true };

    private static Command Register(AccountOptions options)
    {
        var email = EmailOption();
        var recovery = new Option<string?>("--recovery-email") { Description = "An optional recovery email (verified by its own link)", HelpName = "EMAIL" };
        var command = new Command("register", "Create an account (a verification link is mailed to you)") { email, recovery };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var server = cli.AnonymousServer();
            var address = cli.Parse(email)!;
            using var password = cli.Passwords.ReadNew("New password");
            if (password.IsEmpty)
            {
                throw new PasswordInputException("the password is empty");
            }

            using var client = AccountCli.NewClient(server);
            var chars = password.Memory;
            await cli.SlowAsync(Deriving, () => client.Identity.RegisterAsync(address, chars, cli.Parse(recovery), ct));
            cli.Output.Event(
                $"Registration sent. Open the link mailed to {address}, or run: veil account verify LINK",
                new { @event = "verification-sent", email = address, server = server.ToString() });
            return VeilCommand.Ok;
        });
    }

    private static Command Verify(AccountOptions options)
    {
        var link = new Argument<string>("LINK") { Description = "The link from the verification mail (or just its token)" };
        var command = new Command("verify", "Confirm an address with the mailed link: a new account, a primary email change or a recovery email") { link };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            VerifyEmailResult result;
            using (var client = AccountCli.NewClient(cli.AnonymousServer()))
            {
                result = await client.Identity.VerifyEmailAsync(cli.Parse(link)!, ct);
            }

            var stored = result.Purpose == "email-change" ? await EmailCommands.RefreshStoredEmailAsync(cli, ct) : null;
            var text = result.Purpose switch
            {
                "registration" => "Email verified: the account exists. Log in with: veil account login --email EMAIL",
                "email-change" => "Email verified: the account's primary email has changed; every other session was signed out. "
                    + (stored is null ? "Log in with the new address." : $"This session continues as {stored}."),
                _ => "Email verified: the recovery email is confirmed; sign-in links can now be sent to it.",
            };
            cli.Output.Event(text, new { @event = "verified", purpose = result.Purpose, email = stored });
            return VeilCommand.Ok;
        });
    }

    private static Command Login(AccountOptions options)
    {
        var email = new Option<string?>("--email") { Description = "Log in with this address and your password", HelpName = "EMAIL" };
        var magicLink = new Option<string?>("--magic-link")
        {
            Description = "Instead of a password: mail a sign-in link (valid 10 minutes) to EMAIL, then run login --link with it",
            HelpName = "EMAIL",
        };
        var link = new Option<string?>("--link")
        {
            Description = "Log in with a mailed sign-in link (or just its token). Your keys stay locked: commands that need them ask for the password",
            HelpName = "LINK",
        };
        var command = new Command("login", "Log in with a password or a mailed link (keeps only the session's refresh token, in a 0600 file)")
        {
            email, magicLink, link, options.Code,
        };
        command.Validators.Add(result =>
        {
            var given = new[] { email, magicLink, link }.Where(o => result.GetResult(o) is not null).Select(o => o.Name).ToList();
            if (given.Count != 1)
            {
                result.AddError(given.Count == 0
                    ? "login needs one of --email EMAIL (password), --magic-link EMAIL (request a link) or --link LINK (use it)"
                    : $"login takes only one of {string.Join(", ", given)}");
            }
        });

        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            if (cli.Parse(magicLink) is { } linkAddress)
            {
                return await RequestMagicLinkAsync(cli, linkAddress.Trim(), ct);
            }

            if (cli.Parse(link) is { } linkText)
            {
                return await LoginWithLinkAsync(cli, linkText, ct);
            }

            var server = cli.AnonymousServer();
            var address = cli.Parse(email)!.Trim();
            using var password = cli.Passwords.Read("Password");
            using var client = AccountCli.NewClient(server);
            cli.Track(client, server.ToString(), address);
            var chars = password.Memory;
            var result = await cli.SlowAsync(Deriving, () => client.Identity.LoginAsync(address, chars, ct));
            var session = result.Session;
            if (result.Challenge is { } challenge)
            {
                var code = cli.ReadCode("Two-factor code");
                session = await client.Identity.CompleteTwoFactorAsync(challenge, AccountCli.MethodOf(code), code, ct);
            }

            cli.Output.Event(
                $"Logged in as {address} (session {session!.SessionId:D}). Session file: {cli.Store.FilePath}",
                new { @event = "logged-in", method = "password", email = address, accountId = session.AccountId, sessionId = session.SessionId, server = server.ToString(), twoFactor = result.TwoFactorRequired, keysUnlocked = true });
            return VeilCommand.Ok;
        });
    }

    private static async Task<int> RequestMagicLinkAsync(AccountCli cli, string address, CancellationToken ct)
    {
        var server = cli.AnonymousServer();
        using var client = AccountCli.NewClient(server);
        await client.Identity.RequestMagicLinkAsync(address, ct);

        // The server answers the same whether or not the address has an account (enumeration), so the
        // CLI cannot say more than this either.
        cli.Output.Event(
            $"If an account exists for {address}, a sign-in link was sent to it (valid 10 minutes). Then run: veil account login --link LINK",
            new { @event = "magic-link-requested", email = address, server = server.ToString() });
        return VeilCommand.Ok;
    }

    private static async Task<int> LoginWithLinkAsync(AccountCli cli, string linkText, CancellationToken ct)
    {
        var server = cli.AnonymousServer();
        using var client = AccountCli.NewClient(server);

        // The link names no address: the refresh token is saved the moment it arrives, the address once
        // the server has told it (whoami), so the file never lacks the token of a live session.
        cli.Track(client, server.ToString(), email: null);
        var result = await client.Identity.ConsumeMagicLinkAsync(linkText, ct);
        var session = result.Session;
        if (result.Challenge is { } challenge)
        {
            var code = cli.ReadCode("Two-factor code");
            session = await client.Identity.CompleteTwoFactorAsync(challenge, AccountCli.MethodOf(code), code, ct);
        }

        var account = await client.Identity.WhoAmIAsync(ct);
        cli.RememberEmail(client, server.ToString(), account.Email);

        // No password was typed, so the user key (what opens vault items and other client-side encrypted
        // data) was not unwrapped; the CLI keeps no key between runs anyway, so any verb that needs it
        // asks for the password, as after a password login.
        cli.Output.Event(
            $"Logged in as {account.Email} by sign-in link (session {session!.SessionId:D}). Session file: {cli.Store.FilePath}{Environment.NewLine}"
            + "No password was given, so your keys stay locked: commands that need them will ask for your password.",
            new { @event = "logged-in", method = "magic-link", email = account.Email, accountId = session.AccountId, sessionId = session.SessionId, server = server.ToString(), twoFactor = result.TwoFactorRequired, keysUnlocked = false });
        return VeilCommand.Ok;
    }

    private static Command Logout(AccountOptions options)
    {
        var command = new Command("logout", "Log out: revoke this session and delete the session file");
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            if (cli.Store.Load() is null)
            {
                cli.Output.Event("Not logged in.", new { @event = "logged-out", wasLoggedIn = false });
                return VeilCommand.Ok;
            }

            var (client, session) = cli.OpenSession();
            using (client)
            {
                try
                {
                    await client.Identity.LogoutAsync(ct);
                }
                finally
                {
                    cli.Store.Delete();
                }
            }

            cli.Output.Event($"Logged out of {session.Email}.", new { @event = "logged-out", wasLoggedIn = true, email = session.Email });
            return VeilCommand.Ok;
        });
    }

    private static Command WhoAmI(AccountOptions options)
    {
        var command = new Command("whoami", "Show the logged-in account");
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, session) = cli.OpenSession();
            using (client)
            {
                var account = await client.Identity.WhoAmIAsync(ct);
                cli.Output.Table(
                    ["Account", "Value"],
                    [
                        ["Email", account.Email],
                        ["Recovery email", account.RecoveryEmail is null ? "-" : account.RecoveryEmail + (account.RecoveryEmailVerified ? "" : " (not verified)")],
                        ["Two-factor", account.TwoFactorEnabled ? "on" : "off"],
                        ["Account id", account.AccountId.ToString("D")],
                        ["Session id", account.SessionId?.ToString("D") ?? "-"],
                        ["Created", Time(account.CreatedAt)],
                        ["Last sign-in", Time(account.AuthTime)],
                        ["Server", session.Server],
                    ],
                    string.Empty,
                    account);
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Passwd(AccountOptions options)
    {
        var command = new Command("passwd", "Change the password (re-wraps your keys; signs out every other session)");
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                using var current = cli.Passwords.Read("Current password");
                using var next = cli.Passwords.ReadNew("New password");
                if (next.IsEmpty)
                {
                    throw new PasswordInputException("the new password is empty");
                }

                var currentChars = current.Memory;
                var nextChars = next.Memory;
                await cli.SlowAsync(Deriving, () => client.Identity.ChangePasswordAsync(currentChars, nextChars, ct));
            }

            cli.Output.Event("Password changed. Every other session was signed out.", new { @event = "password-changed" });
            return VeilCommand.Ok;
        });
    }

    private static Command Delete(AccountOptions options)
    {
        var yes = new Option<bool>("--yes") { Description = "Do not ask for confirmation (required without a terminal)" };
        var command = new Command("delete", "Delete the account and everything it owns, for good") { yes, options.Code };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, session) = cli.OpenSession();
            using (client)
            {
                if (!cli.Parse(yes))
                {
                    if (Console.IsInputRedirected)
                    {
                        throw new UsageException("deleting the account needs --yes when there is no terminal to confirm on");
                    }

                    Console.Error.Write($"This deletes {session.Email} and all its data for good. Type the email to confirm: ");
                    if (!string.Equals(Console.ReadLine()?.Trim(), session.Email, StringComparison.OrdinalIgnoreCase))
                    {
                        cli.Output.Error("not confirmed; nothing was deleted");
                        return VeilCommand.Failed;
                    }
                }

                await cli.WithStepUpAsync(client, () => client.Identity.DeleteAccountAsync(ct), ct);
                cli.Store.Delete();
            }

            cli.Output.Event($"Account {session.Email} deleted.", new { @event = "account-deleted", email = session.Email });
            return VeilCommand.Ok;
        });
    }

    private static Command Export(AccountOptions options)
    {
        var output = new Option<string?>("--output", "-o") { Description = "Write the export to FILE (created with mode 0600) instead of stdout", HelpName = "FILE" };
        var command = new Command("export", "Export the account's data as JSON") { output };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var export = await client.Identity.ExportAsync(ct);
                if (cli.Parse(output) is { } path)
                {
                    var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                    if (!OperatingSystem.IsWindows())
                    {
                        fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                    }

                    try
                    {
                        await using var file = new FileStream(path, fileOptions);
                        await JsonSerializer.SerializeAsync(file, export.Document, Indented, ct);
                    }
                    catch (IOException e) when (File.Exists(path))
                    {
                        throw new UsageException($"{path} exists; not overwriting it ({e.GetType().Name})");
                    }

                    cli.Output.Event($"Exported to {path} ({export.Format}).", new { @event = "exported", file = Path.GetFullPath(path), format = export.Format });
                }
                else
                {
                    var text = JsonSerializer.Serialize(export.Document, cli.Json ? Compact : Indented);
                    Console.Out.WriteLine(text);
                }
            }

            return VeilCommand.Ok;
        });
    }

    private static Command TwoFactor(AccountOptions options)
    {
        var command = new Command("2fa", "Two-factor authentication (TOTP) and its backup codes");
        command.Subcommands.Add(TwoFactorCommands.Enable(options));
        command.Subcommands.Add(TwoFactorCommands.Disable(options));
        command.Subcommands.Add(TwoFactorCommands.BackupCodes(options));
        return command;
    }

    private static Command RecoveryCodes(AccountOptions options)
    {
        var command = new Command("recovery-codes", "Make a new set of 10 recovery codes (the old set stops working)") { options.Code };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var codes = await cli.WithStepUpAsync(client, () => client.Identity.RegenerateRecoveryCodesAsync(ct), ct);
                TwoFactorCommands.PrintCodes(cli, "Recovery codes (each works once; store them offline — they are not shown again):", "recovery-codes", codes.Codes);
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Sessions(AccountOptions options)
    {
        var others = new Option<bool>("--others") { Description = "Revoke every session except this one" };
        var command = new Command("sessions", "List your sessions; revoke one, or all others") { others };
        AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                if (cli.Parse(others))
                {
                    var revoked = await client.Identity.RevokeOtherSessionsAsync(ct);
                    cli.Output.Event($"Revoked {revoked} other session(s).", new { @event = "sessions-revoked", revoked });
                    return VeilCommand.Ok;
                }

                var sessions = await client.Identity.ListSessionsAsync(ct);
                cli.Output.Table(
                    ["Id", "Client", "Created", "Last used", ""],
                    sessions.Select(s => new[] { s.Id.ToString("D"), s.Label ?? "-", Time(s.CreatedAt), Time(s.LastUsedAt), s.Current ? "this one" : "" }),
                    "No sessions.",
                    sessions);
            }

            return VeilCommand.Ok;
        });

        var id = new Argument<Guid>("ID") { Description = "The session id (from 'veil account sessions')" };
        var revoke = new Command("revoke", "Revoke one session") { id };
        command.Subcommands.Add(AccountCli.Verb(revoke, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var sessionId = cli.Parse(id);
                await client.Identity.RevokeSessionAsync(sessionId, ct);
                cli.Output.Event($"Session {sessionId:D} revoked.", new { @event = "session-revoked", id = sessionId });
            }

            return VeilCommand.Ok;
        }));
        return command;
    }
}
